#!/usr/bin/env node
// The command line: `cudnn-node train fashion-mnist [options]` runs the reference pipeline,
// `cudnn-node train preprocessing|resnet34|transfer|localization` the notebook's image
// pipelines, `cudnn-node doctor` reports the backends, `cudnn-node zoo` measures the model zoo.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IMAGE_PIPELINES, type ImagePipeline } from './applications/pipeline_names.js';
import type { ImagePipelineOptions } from './applications/pipelines.js';
import { ZOO_NAMES, ZooName } from './applications/zoo_names.js';

export const USAGE = `Usage:
  cudnn-node train fashion-mnist [options]   train the reference CNN, report test accuracy, save model + plot
  cudnn-node train PIPELINE [options]        the notebook's image pipelines on an image folder:
                                             preprocessing (crop, rescale, Conv2D shapes), resnet34
                                             (train ResNet-34), transfer (Xception transfer learning:
                                             frozen base, then unfrozen from layer 56), localization
                                             (class + box heads, weighted losses)
  cudnn-node doctor                          show which backends can run here, and why not
  cudnn-node zoo [options]                   the model zoo: parameters, FLOPs per image and forward
                                             images per second of each architecture

Options for train fashion-mnist:
  --epochs N          epochs (default 10)
  --batch-size B      batch size (default 32, as Keras)
  --backend NAME      cpu or cuda (default cpu)
  --limit N           train on the first N training images (validation: the last 1/12 of them)
  --test-limit N      evaluate on the first N test images (default all 10000)
  --out DIR           where to save model.json, weights.*.bin, history.svg (default ./out/fashion-mnist)
  --optimizer NAME    nadam (default, as the notebook), adam, rmsprop or sgd
  --lr-decay MODE     cosine (default: anneal the rate along half a cosine), step (rate / 10 for
                      the last 40% of the epochs) or none (constant, as the notebook)
  --augment MODE      flip (default: random left-right flips while training) or none (as the notebook)
  --seed S            seed for weights, dropout and shuffling
  --data DIR          directory with the Fashion-MNIST IDX files
  --verbose 0|1|2     0 silent, 1 progress bar on a terminal (default), 2 one line per epoch
  --precision P       fp32 (default), bf16 (mixed_bfloat16: bfloat16 compute, float32 weights)
                      or fp16 (mixed_float16, with loss scaling; needs a backend with float16 kernels)

Options for the image pipelines:
  --data DIR          image folder, one sub-folder per class (default ../shared/data/flower_photos)
  --samples DIR       folder with china.jpg and flower.jpg (preprocessing; default: scikit-learn's)
  --image-size N      images resized to N x N (default 224; smaller is faster)
  --batch-size B      default 32
  --epochs N          epochs (transfer: of the frozen phase)
  --epochs-unfrozen N transfer: epochs after unfreezing
  --weights W         imagenet (Keras' Xception file in ~/.keras/models), none, or a weight file
  --augment           the notebook's random flip, rotation and contrast while training
  --backend NAME      cpu or cuda
  --precision P       fp32 (default), bf16 or fp16, as for fashion-mnist
  --seed S, --verbose 0|1|2

Options for zoo:
  --backend NAME      cpu or cuda (default cpu)
  --batch B           images per timed forward pass (default 2)
  --models A,B,...    only these (default all): ${ZOO_NAMES.join(', ')}
  --repeats N         timed forward passes per model after two warm-up passes (default 1)
`;

export class UsageError extends Error {}

export interface TrainCommand {
  command: 'train';
  dataset: 'fashion-mnist';
  epochs?: number;
  batchSize?: number;
  backend?: 'cpu' | 'cuda';
  limit?: number;
  testLimit?: number;
  out?: string;
  optimizer?: string;
  lrDecay?: 'cosine' | 'step' | 'none';
  augment?: 'flip' | 'none';
  seed?: number;
  data?: string;
  verbose?: 0 | 1 | 2;
  precision?: 'fp32' | 'bf16' | 'fp16';
}
/** `cudnn-node train <image pipeline>` and its options (those of runImagePipeline, plus the backend). */
export interface ImageTrainCommand extends ImagePipelineOptions {
  command: 'train-image';
  pipeline: ImagePipeline;
  backend?: 'cpu' | 'cuda';
}

/** `cudnn-node zoo` and its options. */
export interface ZooCommand {
  command: 'zoo';
  backend?: 'cpu' | 'cuda';
  batch?: number;
  models?: ZooName[];
  repeats?: number;
}
export type Command = TrainCommand | ImageTrainCommand | ZooCommand | { command: 'doctor' } | { command: 'help' } | { command: 'version' };

const intOption = (name: string, v: string | undefined, min: number): number => {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name}: expected an integer >= ${min} but received ${v === undefined ? 'nothing' : `'${v}'`}`);
  return Number(v);
};

/** One of `choices`, or a UsageError naming the option, the choices and what was received. */
function choiceOption<T extends string>(name: string, v: string | undefined, choices: readonly T[]): T {
  if (v === undefined || !(choices as readonly string[]).includes(v))
    throw new UsageError(`${name}: expected ${choices.map((c) => `'${c}'`).join(choices.length > 2 ? ', ' : ' or ').replace(/, ([^,]*)$/, ' or $1')} but received ${v === undefined ? 'nothing' : `'${v}'`}`);
  return v as T;
}
const backendOption = (name: string, v: string | undefined) => choiceOption(name, v, ['cpu', 'cuda'] as const);
const precisionOption = (name: string, v: string | undefined) => choiceOption(name, v, ['fp32', 'bf16', 'fp16'] as const);
const verboseOption = (name: string, v: string | undefined) => {
  const n = intOption(name, v, 0);
  if (n > 2) throw new UsageError(`${name}: expected 0, 1 or 2 but received '${v}'`);
  return n as 0 | 1 | 2;
};

/** Parses argv (without node and the script). */
export function parseArgs(argv: string[]): Command {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') return { command: 'help' };
  if (cmd === '--version' || cmd === 'version') return { command: 'version' };
  if (cmd === 'doctor') {
    if (rest.length) throw new UsageError(`doctor: expected no arguments but received '${rest.join(' ')}'`);
    return { command: 'doctor' };
  }
  if (cmd === 'zoo') return parseZoo(rest);
  if (cmd !== 'train') throw new UsageError(`expected a command (train, zoo, doctor) but received '${cmd}'`);
  const [dataset, ...opts] = rest;
  if ((IMAGE_PIPELINES as readonly string[]).includes(dataset)) return parseImageTrain(dataset as ImagePipeline, opts);
  if (dataset !== 'fashion-mnist')
    throw new UsageError(`train: expected a pipeline (fashion-mnist, ${IMAGE_PIPELINES.join(', ')}) but received ${dataset === undefined ? 'nothing' : `'${dataset}'`}`);
  const out: TrainCommand = { command: 'train', dataset };
  for (let i = 0; i < opts.length; i++) {
    let key = opts[i];
    let value: string | undefined;
    const eq = key.indexOf('=');
    if (key.startsWith('--') && eq > 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else value = opts[i + 1];
    const take = () => {
      if (eq < 0) i++;
      return value;
    };
    switch (key) {
      case '--epochs':
        out.epochs = intOption(key, take(), 1);
        break;
      case '--batch-size':
        out.batchSize = intOption(key, take(), 1);
        break;
      case '--limit':
        out.limit = intOption(key, take(), 12);
        break;
      case '--test-limit':
        out.testLimit = intOption(key, take(), 1);
        break;
      case '--seed':
        out.seed = intOption(key, take(), 0);
        break;
      case '--verbose':
        out.verbose = verboseOption(key, take());
        break;
      case '--backend':
        out.backend = backendOption(key, take());
        break;
      case '--precision':
        out.precision = precisionOption(key, take());
        break;
      case '--augment':
        out.augment = choiceOption(key, take(), ['flip', 'none'] as const);
        break;
      case '--lr-decay':
        out.lrDecay = choiceOption(key, take(), ['cosine', 'step', 'none'] as const);
        break;
      case '--out':
      case '--optimizer':
      case '--data': {
        const v = take();
        if (!v || v.startsWith('--')) throw new UsageError(`${key}: expected a value but received ${v === undefined ? 'nothing' : `'${v}'`}`);
        if (key === '--out') out.out = v;
        else if (key === '--optimizer') out.optimizer = v;
        else out.data = v;
        break;
      }
      default:
        throw new UsageError(`train fashion-mnist: unknown option '${opts[i]}'`);
    }
  }
  return out;
}

/** Parses the options of `train <image pipeline>`. */
function parseImageTrain(pipeline: ImagePipeline, opts: string[]): ImageTrainCommand {
  const out: ImageTrainCommand = { command: 'train-image', pipeline };
  for (let i = 0; i < opts.length; i++) {
    const key = opts[i];
    const take = () => opts[++i];
    switch (key) {
      case '--data': case '--samples': case '--weights': {
        const v = take();
        if (v === undefined || v.startsWith('--')) throw new UsageError(`${key}: expected a value but received ${v === undefined ? 'nothing' : `'${v}'`}`);
        if (key === '--data') out.data = v;
        else if (key === '--samples') out.samples = v;
        else out.weights = v;
        break;
      }
      case '--image-size': out.imageSize = intOption(key, take(), 8); break;
      case '--batch-size': out.batchSize = intOption(key, take(), 1); break;
      case '--epochs': out.epochs = intOption(key, take(), 1); break;
      case '--epochs-unfrozen': out.epochsUnfrozen = intOption(key, take(), 0); break;
      case '--seed': out.seed = intOption(key, take(), 0); break;
      case '--augment': out.augment = true; break;
      case '--verbose': out.verbose = verboseOption(key, take()); break;
      case '--backend': out.backend = backendOption(key, take()); break;
      case '--precision': out.precision = precisionOption(key, take()); break;
      default:
        throw new UsageError(`train ${pipeline}: unknown option '${key}'`);
    }
  }
  return out;
}

/** Parses `zoo` options. */
function parseZoo(opts: string[]): ZooCommand {
  const out: ZooCommand = { command: 'zoo' };
  for (let i = 0; i < opts.length; i++) {
    const eq = opts[i].startsWith('--') ? opts[i].indexOf('=') : -1;
    const key = eq > 0 ? opts[i].slice(0, eq) : opts[i];
    const value = eq > 0 ? opts[i].slice(eq + 1) : opts[++i];
    if (key === '--batch') out.batch = intOption(key, value, 1);
    else if (key === '--repeats') out.repeats = intOption(key, value, 1);
    else if (key === '--backend') out.backend = backendOption(key, value);
    else if (key === '--models') {
      const names = (value ?? '').split(',').filter((n) => n);
      const bad = names.find((n) => !(ZOO_NAMES as readonly string[]).includes(n));
      if (!names.length || bad !== undefined)
        throw new UsageError(`--models: expected names among ${ZOO_NAMES.join(', ')} but received ${value === undefined ? 'nothing' : `'${bad ?? value}'`}`);
      out.models = names as ZooName[];
    } else throw new UsageError(`zoo: unknown option '${opts[eq > 0 ? i : i - 1]}'`);
  }
  return out;
}

/** Runs a command; resolves to the exit code. */
export async function main(argv: string[], io: { log: (s: string) => void; error: (s: string) => void } = { log: console.log, error: console.error }): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.error(`cudnn-node: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (cmd.command === 'help') {
    io.log(USAGE);
    return 0;
  }
  try {
    // Loaded here so that `--help` works even when the addon cannot load.
    const cn = await import('./index.js');
    if (cmd.command === 'version') {
      const { createRequire } = await import('node:module');
      const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
      io.log(pkg.version);
      return 0;
    }
    if (cmd.command === 'doctor') {
      io.log(cn.doctor());
      return 0;
    }
    if (cmd.command === 'zoo') {
      const { formatZooTable, runZoo } = cn.applications;
      const backend = cmd.backend ?? 'cpu';
      io.log(`Model zoo on ${backend}: random weights, batch ${cmd.batch ?? 2}, forward passes in inference mode after two warm-up passes`);
      const rows = await runZoo({ backend, batch: cmd.batch, models: cmd.models, repeats: cmd.repeats, onRow: (r) => io.log(`  ${r.name}: done`) });
      io.log(formatZooTable(rows));
      io.log('FLOPs: 2 per multiply-add of the convolutions and dense layers (the papers quote multiply-adds, half of these).');
      return 0;
    }
    if (cmd.command === 'train-image') {
      const { command: _command, pipeline, backend, ...options } = cmd;
      if (backend) cn.setBackend(backend);
      const lines = await cn.applications.runImagePipeline(pipeline, options);
      for (const l of lines) io.log(l);
      return 0;
    }
    const res = await cn.trainFashionMnist({
      epochs: cmd.epochs,
      batchSize: cmd.batchSize,
      backend: cmd.backend,
      limit: cmd.limit,
      testLimit: cmd.testLimit,
      out: cmd.out,
      optimizer: cmd.optimizer,
      lrDecay: cmd.lrDecay,
      augment: cmd.augment,
      seed: cmd.seed,
      dataPath: cmd.data,
      verbose: cmd.verbose,
      precision: cmd.precision,
      log: io.log,
    });
    const per = res.epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, res.epochSeconds.length);
    io.log(`Time per epoch: ${per.toFixed(1)} s`);
    res.model.dispose();
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    io.error(`cudnn-node: ${err.message}${err.code ? ` (${err.code})` : ''}`);
    return 1;
  }
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
