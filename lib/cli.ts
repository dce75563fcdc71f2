#!/usr/bin/env node
// The command line: `cudnn-node train fashion-mnist [options]` runs the reference pipeline,
// `cudnn-node doctor` reports the backends.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const USAGE = `Usage:
  cudnn-node train fashion-mnist [options]   train the reference CNN, report test accuracy, save model + plot
  cudnn-node doctor                          show which backends can run here, and why not

Options for train fashion-mnist:
  --epochs N          epochs (default 10)
  --batch-size B      batch size (default 32, as Keras)
  --backend NAME      cpu or cuda (default cpu)
  --limit N           train on the first N training images (validation: the last 1/12 of them)
  --test-limit N      evaluate on the first N test images (default all 10000)
  --out DIR           where to save model.json, weights.bin, history.svg (default ./out/fashion-mnist)
  --optimizer NAME    nadam (default, as the notebook), adam, rmsprop or sgd
  --lr-decay MODE     cosine (default: anneal the rate along half a cosine), step (rate / 10 for
                      the last 40% of the epochs) or none (constant, as the notebook)
  --seed S            seed for weights, dropout and shuffling
  --data DIR          directory with the Fashion-MNIST IDX files
  --verbose 0|1|2     0 silent, 1 progress bar on a terminal (default), 2 one line per epoch
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
  seed?: number;
  data?: string;
  verbose?: 0 | 1 | 2;
}
export type Command = TrainCommand | { command: 'doctor' } | { command: 'help' } | { command: 'version' };

const intOption = (name: string, v: string | undefined, min: number): number => {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name}: expected an integer >= ${min} but received ${v === undefined ? 'nothing' : `'${v}'`}`);
  return Number(v);
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
  if (cmd !== 'train') throw new UsageError(`expected a command (train, doctor) but received '${cmd}'`);
  const [dataset, ...opts] = rest;
  if (dataset !== 'fashion-mnist') throw new UsageError(`train: expected a pipeline (fashion-mnist) but received ${dataset === undefined ? 'nothing' : `'${dataset}'`}`);
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
      case '--verbose': {
        const v = intOption(key, take(), 0);
        if (v > 2) throw new UsageError(`--verbose: expected 0, 1 or 2 but received '${v}'`);
        out.verbose = v as 0 | 1 | 2;
        break;
      }
      case '--backend': {
        const v = take();
        if (v !== 'cpu' && v !== 'cuda') throw new UsageError(`--backend: expected 'cpu' or 'cuda' but received ${v === undefined ? 'nothing' : `'${v}'`}`);
        out.backend = v;
        break;
      }
      case '--lr-decay': {
        const v = take();
        if (v !== 'cosine' && v !== 'step' && v !== 'none')
          throw new UsageError(`--lr-decay: expected 'cosine', 'step' or 'none' but received ${v === undefined ? 'nothing' : `'${v}'`}`);
        out.lrDecay = v;
        break;
      }
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
    const res = await cn.trainFashionMnist({
      epochs: cmd.epochs,
      batchSize: cmd.batchSize,
      backend: cmd.backend,
      limit: cmd.limit,
      testLimit: cmd.testLimit,
      out: cmd.out,
      optimizer: cmd.optimizer,
      lrDecay: cmd.lrDecay,
      seed: cmd.seed,
      dataPath: cmd.data,
      verbose: cmd.verbose,
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
