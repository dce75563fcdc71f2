// Command-line options of `npm run bench` (bench/run.ts), and its --help text.
import { join, resolve } from 'node:path';
import type { Mode, Precision } from './types.js';

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
  /** The arithmetic peers are compared in (Note [mixed precision variants]). */
  precision: Precision;
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
                        startup_fashion_cnn_b128 (fresh processes: time to first step, peak RSS)
  --samples N           at most N timed samples per workload and runner (for a short run)
  --compile-limit S     seconds a compiling configuration (Keras jit_compile=True, torch.compile)
                        may take to compile and run its first step before it is dropped (180)
  --no-compile          skip the compiling configurations (the report says so)
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
    precision: 'fp32',
  };
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
    } else if (a === '--readback') o.readback = true;
    else if (a === '--python') o.python = resolve(val());
    else if (a === '--wait-idle') o.waitIdle = num();
    else if (a === '--samples') o.samples = num();
    else if (a === '--compile-limit') o.compileLimitS = num();
    else if (a === '--no-compile') o.noCompile = true;
    else if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`bench: unknown flag ${a} (try --help)`);
  }
  return o;
}
