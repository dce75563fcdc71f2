// Command-line options of `npm run bench` (bench/run.ts), and its --help text.
import { join, resolve } from 'node:path';
import type { Mode, Precision, Workload } from './types.js';
import { precisionOf } from './workloads.js';

/** Every runner, in report order; cudnn-node always runs. */
export const RUNNERS = ['cudnn-node', 'tfjs-node', 'keras', 'torch'] as const;
const ALIASES: Record<string, string> = { tfjs: 'tfjs-node', pytorch: 'torch', tensorflow: 'keras', tf: 'keras' };

export interface Options {
  mode: Mode;
  json: string;
  only: RegExp | null;
  /** The peers to run (cudnn-node always runs). */
  peers: string[];
  readback: boolean;
  python: string;
  waitIdle: number;
  /** Cap on timed samples per workload and runner (0: the workload's own count). */
  samples: number;
  /** Seconds a compiling variant (XLA, torch.compile) may take to set up and run its first call. */
  compileLimitS: number;
  noCompile: boolean;
  /** Skip the fresh-process peak-memory measurement of the bf16 steps. */
  noMemory: boolean;
  /** The precisions whose workloads run (Note [mixed precision variants]); null: fp32, or
   * with --only, whatever it matches. */
  precisions: Precision[] | null;
}

/** --precision names. */
const PRECISIONS: Record<string, Precision> = { fp32: 'fp32', float32: 'fp32', bf16: 'mixed_bf16', mixed_bf16: 'mixed_bf16', mixed_bfloat16: 'mixed_bf16' };

/** Whether a run with these options measures workload w: --precision and --only both filter;
 * without --precision, --only alone decides, and without either the fp32 suite runs. The
 * sgemm ceiling and the self-check's workload always run (bench/run.ts). */
export function selects(o: Pick<Options, 'only' | 'precisions'>, w: Pick<Workload, 'id' | 'spec'>): boolean {
  const p = precisionOf(w);
  if (o.precisions ? !o.precisions.includes(p) : !o.only && p !== 'fp32') return false;
  return !o.only || o.only.test(w.id);
}

export const HELP = `usage: npm run bench -- [options]

Runs cudnn-node and its peers (tfjs-node, Keras on TensorFlow, PyTorch) on the same workloads,
each runner in its own worker process that is stopped while another runner is timed, and writes
bench/results/latest.{json,md,svg}. The report's first line says whether the run passed its
self-check (each runner's Fashion-MNIST step inside the suite within 10% of the same runner
measured alone first); docs/benchmarks.md explains the method and how to read the report.

  --quick               fewer samples and shapes (default; Xception trains at 150x150)
  --full                more samples, every shape, Xception at 299x299
  --peers LIST          peers to run, comma-separated: tfjs (or tfjs-node), keras, torch
                        (default: all three; cudnn-node always runs)
  --only REGEX          workload ids to run; the sgemm ceiling and the self-check's
                        train_fashion_cnn_b128 always run. Ids: sgemm_*, conv_*, maxpool_*,
                        batchnorm_*, dense_*, tiny_add*, train_fashion_cnn_b32|b128,
                        train_resnet34_224_b8, train_xception_<size>_b8_frozen|finetune,
                        infer_fashion_cnn_b128, infer_resnet34_224_b8,
                        startup_fashion_cnn_b128 (fresh processes: time to first step, peak RSS),
                        train_fashion_cnn_b128_bf16, train_resnet34_224_b8_bf16,
                        train_xception_<size>_b8_finetune_bf16 (an --only that matches
                        them runs them without --precision)
  --precision LIST      fp32 (the default suite), bf16 (issue 21's bf16 mixed-precision
                        training steps: the CNN at batch 128, ResNet-34, the Xception
                        fine-tune, each against PyTorch autocast(bfloat16), Keras
                        mixed_bfloat16 and our own fp32 step, with peak memory), or
                        fp32,bf16. With bf16 only, the default peers are keras,torch
                        (tfjs-node has no mixed precision). Ids end in _bf16.
  --samples N           at most N timed samples per workload and runner (for a short run)
  --compile-limit S     seconds a compiling configuration (Keras jit_compile=True, torch.compile)
                        may take to compile and run its first step before it is dropped (180)
  --no-compile          skip the compiling configurations (the report says so)
  --no-memory           skip the bf16 steps' peak memory (a fresh process per runner and
                        step, compiling again where the chosen configuration compiles)
  --readback            include reading results back in every runner's timings
  --json PATH           where to write the JSON report (.md and .svg beside it)
  --python PATH         the Python with TensorFlow/Keras and PyTorch (.venv-peers/bin/python;
                        scripts/setup-python-peers.sh makes it)
  --wait-idle SECONDS   first wait up to SECONDS for the machine's load to drop
  -h, --help            this text`;

export function parseArgs(argv: string[], root: string): Options {
  const o: Options = {
    mode: 'quick',
    json: join(root, 'bench', 'results', 'latest.json'),
    only: null,
    peers: RUNNERS.filter((r) => r !== 'cudnn-node'),
    readback: false,
    python: process.env.PEERS_PYTHON ?? join(root, '.venv-peers', 'bin', 'python'),
    waitIdle: 0,
    samples: 0,
    compileLimitS: 180,
    noCompile: false,
    noMemory: false,
    precisions: null,
  };
  let peersGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} expects a value`);
      return v;
    };
    const num = () => {
      const v = val(), n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`bench: ${a} expects a non-negative number but received '${v}'`);
      return n;
    };
    if (a === '--quick') o.mode = 'quick';
    else if (a === '--full') o.mode = 'full';
    else if (a === '--json') o.json = resolve(val());
    else if (a === '--only') o.only = new RegExp(val());
    else if (a === '--peers') {
      o.peers = val().split(',').map((s) => s.trim()).filter(Boolean).map((s) => ALIASES[s] ?? s);
      const bad = o.peers.filter((p) => !RUNNERS.includes(p as (typeof RUNNERS)[number]));
      if (bad.length) throw new Error(`bench: --peers expects names among tfjs, keras, torch but received '${bad.join(',')}'`);
      o.peers = o.peers.filter((p) => p !== 'cudnn-node');
      peersGiven = true;
    } else if (a === '--precision') {
      const v = val();
      const names = v.split(',').map((x) => x.trim()).filter(Boolean);
      const bad = names.filter((n) => !PRECISIONS[n]);
      if (bad.length || !names.length)
        throw new Error(`bench: --precision expects fp32, bf16 or fp32,bf16 but received '${v}'${bad.some((b) => /16/.test(b)) ? ' (float16 steps are not benchmarked yet)' : ''}`);
      o.precisions = [...new Set(names.map((n) => PRECISIONS[n]))];
    } else if (a === '--readback') o.readback = true;
    else if (a === '--python') o.python = resolve(val());
    else if (a === '--wait-idle') o.waitIdle = num();
    else if (a === '--samples') o.samples = num();
    else if (a === '--compile-limit') o.compileLimitS = num();
    else if (a === '--no-compile') o.noCompile = true;
    else if (a === '--no-memory') o.noMemory = true;
    else if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`bench: unknown flag ${a} (try --help)`);
  }
  // tfjs-node has no mixed precision: a bf16-only run leaves it out unless asked for.
  if (!peersGiven && o.precisions && !o.precisions.includes('fp32')) o.peers = o.peers.filter((p) => p !== 'tfjs-node');
  return o;
}
