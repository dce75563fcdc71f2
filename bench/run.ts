// The side-by-side benchmark: cudnn-node against the peers a user would pick instead
// (tfjs-node in this process; Keras/TensorFlow and PyTorch in one Python worker each, see
// bench/peers.py), in one run on one machine. Every workload is measured on every available
// runner, alternating turns after a warm-up; we report the median and spread and the ratio
// peer time / our time (> 1: we are faster). Writes bench/results/latest.{json,md,svg} and
// prints the Markdown table last.
//
//   npm run bench                 # --quick (default): under 3 minutes on the 2-core CI box
//   npm run bench -- --full       # more samples, more sizes
//   npm run bench -- --json out.json --only conv --peers tfjs-node,torch
//
// Note [timing without readback]: every runner here executes synchronously on the CPU
// (our native.run, tfjs-node's TFE_Execute, TF eager, torch), so a call has finished when
// it returns. Reading results back (dataSync) would add a 25 MB copy to conv1's 2 ms and
// measure memcpy, not convolution; pass --readback to include it for every runner anyway.
// On a non-cpu backend of ours the readback is always on.
import { spawn, ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream, WriteStream } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { renderSvg } from './svg.js';
import {
  BenchResult, ConvDir, Mode, Report, RunnerInfo, RunStats, Spec, Target, Workload, fmtMs, stats, toMarkdown,
} from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

// ------------------------------------------------------------------ options
interface Options {
  mode: Mode;
  json: string;
  only: RegExp | null;
  peers: Set<string> | null;
  readback: boolean;
  python: string;
  waitIdle: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    mode: 'quick',
    json: join(here, 'results', 'latest.json'),
    only: null,
    peers: null,
    readback: false,
    python: process.env.PEERS_PYTHON ?? join(root, '.venv-peers', 'bin', 'python'),
    waitIdle: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} expects a value`);
      return v;
    };
    if (a === '--quick') o.mode = 'quick';
    else if (a === '--full') o.mode = 'full';
    else if (a === '--json') o.json = resolve(val());
    else if (a === '--only') o.only = new RegExp(val());
    else if (a === '--peers') o.peers = new Set(val().split(',').map((s) => s.trim()));
    else if (a === '--readback') o.readback = true;
    else if (a === '--python') o.python = resolve(val());
    else if (a === '--wait-idle') o.waitIdle = Number(val());
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run bench -- [--quick|--full] [--json PATH] [--only REGEX] [--peers tfjs-node,keras,torch] [--readback] [--python PATH] [--wait-idle SECONDS]',
      );
      process.exit(0);
    } else throw new Error(`bench: unknown flag ${a} (try --help)`);
  }
  return o;
}

const log = (...a: unknown[]) => console.error(...a);

// ------------------------------------------------------------------ workloads
/** The Fashion-MNIST CNN's conv layers at batch 128 (NHWC, SAME, stride 1). */
const CONV_SHAPES: Array<{ x: [number, number, number, number]; k: number; oc: number }> = [
  { x: [128, 28, 28, 1], k: 7, oc: 64 },
  { x: [128, 14, 14, 64], k: 3, oc: 128 },
  { x: [128, 14, 14, 128], k: 3, oc: 128 },
  { x: [128, 7, 7, 128], k: 3, oc: 256 },
  { x: [128, 7, 7, 256], k: 3, oc: 256 },
];
const DIRS: ConvDir[] = ['fwd', 'bwd_data', 'bwd_filter'];
/** A training step of the Fashion-MNIST CNN costs about this many FLOPs per image (issue 4). */
const TRAIN_FLOPS_PER_IMAGE = 532e6;

function workloads(mode: Mode): Workload[] {
  const full = mode === 'full';
  const ws: Workload[] = [];
  const mm = full ? [2048, 4096] : [2048];
  for (const n of mm)
    ws.push({
      id: `sgemm_${n}`, group: 'matmul', label: `sgemm ${n}x${n}x${n}`,
      spec: { kind: 'matmul', m: n, k: n, n },
      flops: 2 * n * n * n, inner: 1, warmup: 2, samples: full ? 15 : 6, perTurn: 1,
    });
  for (const s of CONV_SHAPES)
    for (const dir of DIRS) {
      const [n, h, w, c] = s.x;
      ws.push({
        id: `conv_${h}x${w}x${c}_k${s.k}_${s.oc}_${dir}`,
        group: 'conv',
        label: `[${s.x.join(',')}]->${s.oc} k${s.k} ${dir}`,
        spec: { kind: 'conv', dir, x: s.x, k: s.k, oc: s.oc },
        flops: 2 * n * h * w * s.oc * s.k * s.k * c,
        inner: 1, warmup: 2, samples: full ? 15 : 6, perTurn: 1,
      });
    }
  ws.push({
    id: 'tiny_add', group: 'tiny', label: '1-element add (sync, per op)',
    spec: { kind: 'tiny_add' }, inner: full ? 20000 : 4000, warmup: 1, samples: full ? 11 : 5, perTurn: 1,
  });
  ws.push({
    id: 'tiny_add_read', group: 'tiny', label: '1-element add + read back (per op)',
    spec: { kind: 'tiny_add', read: true }, inner: full ? 10000 : 2000, warmup: 1, samples: full ? 11 : 5, perTurn: 1,
  });
  for (const batch of [32, 128])
    ws.push({
      id: `train_fashion_cnn_b${batch}`, group: 'train', label: `Fashion-MNIST CNN train step, batch ${batch}`,
      spec: { kind: 'train', model: 'fashion_cnn', batch, optimizer: 'adam' },
      flops: TRAIN_FLOPS_PER_IMAGE * batch, images: batch,
      inner: 1, warmup: full ? 3 : 2, samples: full ? 15 : 6, perTurn: 1,
    });
  return ws;
}

/** Per runner and workload, measured time is capped: a runner that is much slower than the
 * rest gets fewer samples (never under 3) rather than stretching the whole run. */
const SAMPLE_BUDGET_S: Record<Mode, number> = { quick: 4, full: 20 };

// ------------------------------------------------------------------ runners
interface Prepared {
  call: () => unknown | Promise<unknown>;
  /** For the in-process cross-check: the result of one call, as floats. */
  output?: () => Float32Array;
  note?: string;
  free: () => void;
}

interface Runner {
  name: string;
  available: boolean;
  note?: string;
  info: RunnerInfo['info'];
  setup(w: Workload): Promise<{ ok: boolean; note?: string }>;
  run(w: Workload, samples: number): Promise<number[]>;
  output?(w: Workload): Float32Array | undefined;
  free(w: Workload): Promise<void>;
  close(): Promise<void>;
}

/** Deterministic normal-ish floats (sum of uniforms), shared by the in-process runners so
 * that their results can be compared. */
function randomData(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() - 1.5) * 2 * scale;
  return out;
}
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface ConvData {
  xShape: number[]; fShape: number[]; yShape: number[];
  x: Float32Array; f: Float32Array; dy: Float32Array;
}
const convDataCache = new Map<string, ConvData>();
function convData(spec: Extract<Spec, { kind: 'conv' }>): ConvData {
  const key = `${spec.x.join('x')}_${spec.k}_${spec.oc}`;
  let d = convDataCache.get(key);
  if (!d) {
    const [n, h, w, c] = spec.x;
    const xShape = [n, h, w, c], fShape = [spec.k, spec.k, c, spec.oc], yShape = [n, h, w, spec.oc];
    d = { xShape, fShape, yShape, x: randomData(prod(xShape), 1), f: randomData(prod(fShape), 2, 0.05), dy: randomData(prod(yShape), 3) };
    convDataCache.clear(); // one shape at a time
    convDataCache.set(key, d);
  }
  return d;
}

async function timeCalls(p: Prepared, samples: number, inner: number): Promise<number[]> {
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) {
      const r = p.call();
      if (r instanceof Promise) await r;
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e9 / inner);
  }
  return times;
}

/** A runner living in this process: prepares closures per workload. */
abstract class InProcessRunner implements Runner {
  abstract name: string;
  available = true;
  note?: string;
  info: RunnerInfo['info'] = {};
  protected prepared = new Map<string, Prepared>();
  abstract prepare(w: Workload): Promise<Prepared>;
  async setup(w: Workload) {
    try {
      const p = await this.prepare(w);
      this.prepared.set(w.id, p);
      return { ok: true, note: p.note };
    } catch (e) {
      return { ok: false, note: firstLine(e) };
    }
  }
  run(w: Workload, samples: number) {
    return timeCalls(this.prepared.get(w.id)!, samples, w.inner);
  }
  output(w: Workload) {
    return this.prepared.get(w.id)?.output?.();
  }
  async free(w: Workload) {
    this.prepared.get(w.id)?.free();
    this.prepared.delete(w.id);
  }
  async close() {}
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 300);
}

// ---- ours
type Ours = typeof import('../lib/index.js');
type Engine = typeof import('../lib/engine.js');

class OursRunner extends InProcessRunner {
  name = 'cudnn-node';
  private constructor(private api: Ours, private engine: Engine, private readback: boolean) {
    super();
  }

  static async create(readback: boolean): Promise<OursRunner> {
    const bin = join(root, 'build', 'Release', 'cudnn_node.node');
    if (!existsSync(bin) && !process.env.CUDNN_NODE_BINARY)
      throw new Error(`the addon is not built (${bin} is missing): run \`npx cmake-js compile\` first`);
    // The public API; while parts of it are still being written (lib/models), fall back to
    // the op layer so that the primitive benchmarks still run.
    let api: Ours;
    let partial: string | undefined;
    try {
      api = await import('../lib/index.js');
    } catch (e) {
      partial = `lib/index.js did not load (${firstLine(e)}); using lib/ops directly`;
      const [ops, eng, tensor] = await Promise.all([import('../lib/ops/index.js'), import('../lib/engine.js'), import('../lib/tensor.js')]);
      api = { ...ops, ...eng, ...tensor } as unknown as Ours;
    }
    const engine = await import('../lib/engine.js');
    const r = new OursRunner(api, engine, readback || engine.ENGINE.backend !== 'cpu');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const { native } = await import('../lib/native.js');
    const cpu = native.backends().find((b) => b.name === 'cpu');
    r.info = {
      library: `cudnn-node ${pkg.version} (${engine.ENGINE.backend} backend, ${cpu?.library ?? 'oneDNN'})`,
      versions: { 'cudnn-node': pkg.version, onednn: cpu?.library ?? '?', compiler: native.buildInfo().compiler, node: process.version },
      threads: { openmp: process.env.OMP_NUM_THREADS ?? `default (${os.cpus().length})` },
      backend: engine.ENGINE.backend,
    };
    if (partial) r.note = partial;
    return r;
  }

  async prepare(w: Workload): Promise<Prepared> {
    const { api, engine } = this;
    const ENGINE = engine.ENGINE;
    const s = w.spec;
    const read = (t: { dataSync(): unknown }) => (this.readback ? t.dataSync() : undefined);
    if (s.kind === 'conv') {
      const d = convData(s);
      const x = api.tensor(d.x, d.xShape), f = api.tensor(d.f, d.fShape), dy = api.tensor(d.dy, d.yShape);
      const attrs = { strides: [1, 1], dilations: [1, 1], pad: 'same' };
      const f32 = 'float32' as const;
      const op =
        s.dir === 'fwd'
          ? () => api.conv2d(x, f, 1, 'same')
          : s.dir === 'bwd_data'
            ? () => ENGINE.runKernel('Conv2DBackpropInput', [dy, f], { ...attrs, inputShape: d.xShape }, [{ shape: d.xShape, dtype: f32 }])[0]
            : () => ENGINE.runKernel('Conv2DBackpropFilter', [x, dy], { ...attrs, filterShape: d.fShape }, [{ shape: d.fShape, dtype: f32 }])[0];
      return {
        call: () => {
          const y = op();
          read(y);
          y.dispose();
        },
        output: () => {
          const y = op();
          const v = y.dataSync() as Float32Array;
          y.dispose();
          return v;
        },
        free: () => api.dispose([x, f, dy]),
      };
    }
    if (s.kind === 'matmul') {
      const a = api.tensor(randomData(s.m * s.k, 4), [s.m, s.k]), b = api.tensor(randomData(s.k * s.n, 5), [s.k, s.n]);
      return {
        call: () => {
          const y = api.matMul(a, b);
          read(y);
          y.dispose();
        },
        free: () => api.dispose([a, b]),
      };
    }
    if (s.kind === 'tiny_add') {
      const a = api.tensor(new Float32Array([1]), [1]), b = api.tensor(new Float32Array([2]), [1]);
      return {
        call: s.read
          ? () => {
              const y = api.add(a, b);
              y.dataSync();
              y.dispose();
            }
          : () => api.add(a, b).dispose(),
        free: () => api.dispose([a, b]),
      };
    }
    return this.prepareTrain(s);
  }

  /** The training step through the model layer (lib/models). Written against the
   * tfjs-layers API (sequential, compile, trainOnBatch / fit), so that it runs as soon as
   * the model layer lands; until then the workload is reported as not available. */
  private async prepareTrain(s: Extract<Spec, { kind: 'train' }>): Promise<Prepared> {
    const api = this.api as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (typeof api.sequential !== 'function') {
      let why = 'lib/models is not available yet';
      try {
        await import(join(root, 'lib', 'models', 'index.js'));
      } catch (e) {
        why = `lib/models did not load: ${firstLine(e)}`;
      }
      throw new Error(why);
    }
    const L = api.layers;
    if (typeof L?.setRandomSeed === 'function') L.setRandomSeed(0);
    const model = api.sequential({ layers: fashionCnnLayers(L) });
    model.compile({ optimizer: s.optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = api.tensor(randomData(s.batch * 28 * 28, 7, 0.5).map((v) => Math.abs(v)), [s.batch, 28, 28, 1]);
    const labels = Int32Array.from({ length: s.batch }, (_, i) => (i * 7) % 10);
    let y = api.tensor(labels, [s.batch], 'int32');
    let how: string;
    let step: () => Promise<unknown>;
    if (typeof model.trainOnBatch === 'function') {
      how = 'model.trainOnBatch';
      step = () => model.trainOnBatch(x, y);
    } else {
      how = 'model.fit (one batch per call)';
      step = () => model.fit(x, y, { batchSize: s.batch, epochs: 1, shuffle: false, verbose: 0 });
    }
    try {
      await step();
    } catch (e) {
      // Labels as float32 (what tfjs-layers accepts) if int32 was refused.
      api.dispose(y);
      y = api.tensor(Float32Array.from(labels), [s.batch]);
      await step().catch(() => {
        throw e;
      });
    }
    const nparams = typeof model.countParams === 'function' ? model.countParams() : undefined;
    return {
      call: step,
      note: `${how}${nparams ? `, params=${nparams}` : ''}`,
      free: () => {
        api.dispose([x, y]);
        model.dispose?.();
      },
    };
  }
}

/** The reference notebook's architecture, in tfjs-layers spelling (ours and tfjs-node). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function fashionCnnLayers(L: any): unknown[] {
  const conv = (filters: number, kernelSize: number, extra: object = {}) =>
    L.conv2d({ filters, kernelSize, activation: 'relu', padding: 'same', ...extra });
  return [
    conv(64, 7, { inputShape: [28, 28, 1] }),
    L.maxPooling2d({ poolSize: 2 }),
    conv(128, 3), conv(128, 3),
    L.maxPooling2d({ poolSize: 2 }),
    conv(256, 3), conv(256, 3),
    L.maxPooling2d({ poolSize: 2 }),
    L.flatten(),
    L.dense({ units: 128, activation: 'relu' }),
    L.dropout({ rate: 0.5 }),
    L.dense({ units: 64, activation: 'relu' }),
    L.dropout({ rate: 0.5 }),
    L.dense({ units: 10, activation: 'softmax' }),
  ];
}

// ---- tfjs-node
type TF = typeof import('@tensorflow/tfjs-node');

class TfjsRunner extends InProcessRunner {
  name = 'tfjs-node';
  private constructor(private tf: TF, private readback: boolean) {
    super();
  }
  static async create(readback: boolean): Promise<TfjsRunner> {
    // Logging only (TensorFlow's allocator warnings on stderr); no effect on the kernels.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    const tf = (await import('@tensorflow/tfjs-node')) as unknown as TF;
    const r = new TfjsRunner(tf, readback);
    const v = tf.version as Record<string, string>;
    r.info = {
      library: `tfjs-node ${v['tfjs-node']} (libtensorflow from tensorflow-cpu 2.21)`,
      versions: { 'tfjs-node': v['tfjs-node'], 'tfjs-core': v['tfjs-core'] },
      threads: { intra_op: `TF default (${os.cpus().length})` },
      TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '(unset: TF default, oneDNN on for x86)',
    };
    return r;
  }
  async prepare(w: Workload): Promise<Prepared> {
    const tf = this.tf;
    const s = w.spec;
    const read = (t: { dataSync(): unknown }) => (this.readback ? t.dataSync() : undefined);
    if (s.kind === 'conv') {
      const d = convData(s);
      type S4 = [number, number, number, number];
      const x = tf.tensor4d(d.x, d.xShape as S4), f = tf.tensor4d(d.f, d.fShape as S4), dy = tf.tensor4d(d.dy, d.yShape as S4);
      const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
      const eng = tf.engine();
      const op =
        s.dir === 'fwd'
          ? () => tf.conv2d(x, f, 1, 'same')
          : s.dir === 'bwd_data'
            ? () => eng.runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: d.xShape } as never) as import('@tensorflow/tfjs-node').Tensor
            : () => eng.runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: d.fShape } as never) as import('@tensorflow/tfjs-node').Tensor;
      return {
        call: () => {
          const y = op();
          read(y);
          y.dispose();
        },
        output: () => {
          const y = op();
          const v = y.dataSync() as Float32Array;
          y.dispose();
          return v;
        },
        free: () => tf.dispose([x, f, dy]),
      };
    }
    if (s.kind === 'matmul') {
      const a = tf.tensor2d(randomData(s.m * s.k, 4), [s.m, s.k]), b = tf.tensor2d(randomData(s.k * s.n, 5), [s.k, s.n]);
      return {
        call: () => {
          const y = tf.matMul(a, b);
          read(y);
          y.dispose();
        },
        free: () => tf.dispose([a, b]),
      };
    }
    if (s.kind === 'tiny_add') {
      const a = tf.tensor1d([1]), b = tf.tensor1d([2]);
      return {
        call: s.read
          ? () => {
              const y = tf.add(a, b);
              y.dataSync();
              y.dispose();
            }
          : () => tf.add(a, b).dispose(),
        free: () => tf.dispose([a, b]),
      };
    }
    // The Fashion-MNIST CNN through tfjs-layers.
    tf.setBackend('tensorflow');
    const model = tf.sequential({ layers: fashionCnnLayers(tf.layers) as never });
    model.compile({ optimizer: s.optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = tf.tensor4d(randomData(s.batch * 28 * 28, 7, 0.5).map((v) => Math.abs(v)), [s.batch, 28, 28, 1]);
    const y = tf.tensor1d(Float32Array.from({ length: s.batch }, (_, i) => (i * 7) % 10));
    return {
      call: () => model.trainOnBatch(x, y),
      note: `model.trainOnBatch, params=${model.countParams()}`,
      free: () => {
        tf.dispose([x, y]);
        model.dispose();
      },
    };
  }
}

// ---- Python peers
class PythonRunner implements Runner {
  available = false;
  note?: string;
  info: RunnerInfo['info'] = {};
  private proc?: ChildProcessWithoutNullStreams;
  private pending: Array<(v: Record<string, unknown>) => void> = [];
  private logStream?: WriteStream;
  private exited = false;

  constructor(public name: string, private python: string, private logPath: string, private readback: boolean) {}

  async start(): Promise<void> {
    if (!existsSync(this.python)) {
      this.note = `skipped: ${this.python} not found (run scripts/setup-python-peers.sh)`;
      return;
    }
    mkdirSync(dirname(this.logPath), { recursive: true });
    this.logStream = createWriteStream(this.logPath);
    this.proc = spawn(this.python, [join(here, 'peers.py'), this.name], {
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2', PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr.pipe(this.logStream);
    const rl = createInterface({ input: this.proc.stdout });
    rl.on('line', (line) => {
      const cb = this.pending.shift();
      try {
        cb?.(JSON.parse(line));
      } catch {
        cb?.({ ok: false, error: `bad reply: ${line.slice(0, 200)}` });
      }
    });
    this.proc.on('exit', (code) => {
      this.exited = true;
      for (const cb of this.pending.splice(0)) cb({ ok: false, error: `worker exited with code ${code}; see ${this.logPath}` });
    });
    const ready = await this.wait(180_000);
    if (!ready.ok) {
      this.note = `skipped: ${this.name} worker failed to start: ${ready.error}`;
      this.proc.kill();
      return;
    }
    const info = await this.request({ cmd: 'info' });
    this.info = (info.info as RunnerInfo['info']) ?? {};
    this.available = true;
  }

  private wait(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((res) => {
      if (this.exited) return res({ ok: false, error: `worker exited; see ${this.logPath}` });
      const timer = setTimeout(() => {
        const i = this.pending.indexOf(done);
        if (i >= 0) this.pending.splice(i, 1);
        res({ ok: false, error: `no answer in ${timeoutMs / 1000} s` });
      }, timeoutMs);
      const done = (v: Record<string, unknown>) => {
        clearTimeout(timer);
        res(v);
      };
      this.pending.push(done);
    });
  }

  private request(req: object, timeoutMs = 600_000): Promise<Record<string, unknown>> {
    const p = this.wait(timeoutMs);
    if (!this.exited) this.proc!.stdin.write(JSON.stringify(req) + '\n');
    return p;
  }

  async setup(w: Workload) {
    const spec = { ...w.spec, readback: this.readback };
    const r = await this.request({ cmd: 'setup', id: w.id, spec });
    return r.ok ? { ok: true, note: (r.note as string) ?? undefined } : { ok: false, note: String(r.error) };
  }
  async run(w: Workload, samples: number) {
    const r = await this.request({ cmd: 'run', id: w.id, samples, inner: w.inner });
    if (!r.ok) throw new Error(String(r.error));
    return r.times as number[];
  }
  async free(w: Workload) {
    if (this.available && !this.exited) await this.request({ cmd: 'free', id: w.id });
  }
  async close() {
    if (this.proc && !this.exited) {
      await this.request({ cmd: 'quit' }, 10_000);
      this.proc.kill();
    }
    this.logStream?.end();
  }
}

// ------------------------------------------------------------------ measurement
async function measure(w: Workload, runners: Runner[], budgetS: number): Promise<BenchResult> {
  const result: BenchResult = { ...w, runs: {} };
  const live: Runner[] = [];
  for (const r of runners) {
    const t0 = performance.now();
    const s = await r.setup(w);
    if (s.ok) live.push(r);
    result.runs[r.name] = { ok: s.ok, note: s.note, times: [], setupS: (performance.now() - t0) / 1e3 };
  }
  // Warm-up (first calls: primitive creation, tracing, plan compilation, allocator growth),
  // then a per-runner sample count that fits the budget.
  const want = new Map<Runner, number>();
  for (const r of live) {
    try {
      const first = await r.run(w, 1);
      result.runs[r.name].firstCallS = first[0] * w.inner;
      const t = w.warmup > 1 ? await r.run(w, w.warmup - 1) : first;
      const per = Math.max(...t.slice(-1)) * w.inner;
      want.set(r, Math.max(3, Math.min(w.samples, Math.floor(budgetS / Math.max(per, 1e-9)))));
    } catch (e) {
      result.runs[r.name] = { ok: false, note: `failed in warm-up: ${firstLine(e)}`, times: [] };
    }
  }
  // Alternate: each turn every runner takes perTurn samples; the order rotates per turn.
  const active = live.filter((r) => want.has(r));
  for (let turn = 0; active.some((r) => result.runs[r.name].times.length < want.get(r)!); turn++) {
    for (let j = 0; j < active.length; j++) {
      const r = active[(j + turn) % active.length];
      const run = result.runs[r.name];
      const left = want.get(r)! - run.times.length;
      if (!run.ok || left <= 0) continue;
      try {
        run.times.push(...(await r.run(w, Math.min(w.perTurn, left))));
      } catch (e) {
        run.ok = false;
        run.note = `failed: ${firstLine(e)}`;
      }
    }
  }
  // Cross-check the in-process conv results (same inputs) against each other.
  if (w.spec.kind === 'conv') {
    const ours = runners.find((r) => r.name === 'cudnn-node');
    const ref = runners.find((r) => r.name === 'tfjs-node');
    if (ours && ref && result.runs[ours.name]?.ok && result.runs[ref.name]?.ok) {
      const a = ours.output?.(w), b = ref.output?.(w);
      if (a && b && a.length === b.length) {
        let maxDiff = 0, maxRef = 0;
        for (let i = 0; i < a.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
          maxRef = Math.max(maxRef, Math.abs(b[i]));
        }
        result.check = { against: 'tfjs-node', maxRelErr: maxDiff / Math.max(maxRef, 1e-30) };
      }
    }
  }
  for (const r of runners) await r.free(w).catch(() => undefined);
  for (const run of Object.values(result.runs)) if (run.ok && run.times.length) run.stats = stats(run.times);
  return result;
}

function derive(results: BenchResult[], ours: string): { ceiling: Report['ceiling'] } {
  // The machine's ceiling: the best sgemm any runner reached in this run.
  let best = 0, bestSrc = '', oursMm = 0;
  for (const r of results.filter((x) => x.group === 'matmul'))
    for (const [name, run] of Object.entries(r.runs)) {
      if (!run.stats || !r.flops) continue;
      const g = r.flops / run.stats.median / 1e9;
      if (name === ours) oursMm = Math.max(oursMm, g);
      if (g > best) [best, bestSrc] = [g, `${name}, ${r.label}`];
    }
  const ceiling = { gflops: best, source: bestSrc, ours: oursMm };
  for (const r of results) {
    const base = r.runs[ours]?.stats?.median;
    for (const [name, run] of Object.entries(r.runs)) {
      if (!run.stats) continue;
      const t = run.stats.median;
      if (r.flops) {
        run.gflops = r.flops / t / 1e9;
        run.gflopsIqr = [r.flops / run.stats.q3 / 1e9, r.flops / run.stats.q1 / 1e9];
        if (best > 0) run.fractionOfCeiling = run.gflops / best;
      }
      if (r.images) run.imagesPerSec = r.images / t;
      if (base && name !== ours) run.ratio = t / base;
    }
  }
  return { ceiling };
}

function targets(results: BenchResult[], ours: string, ceiling: number): Target[] {
  const out: Target[] = [];
  const get = (id: string, who: string) => results.find((r) => r.id === id)?.runs[who];
  const convs = results.filter((r) => r.group === 'conv' && r.runs[ours]?.stats);
  if (convs.length) {
    const fr = convs.map((r) => ({ r, f: r.runs[ours].fractionOfCeiling ?? 0, g: r.runs[ours].gflops ?? 0 }));
    const worst = fr.reduce((a, b) => (b.f < a.f ? b : a));
    const below = fr.filter((x) => x.f < 0.85);
    out.push({
      name: 'conv2d primitives >= 85% of the sgemm ceiling',
      met: below.length === 0,
      detail: `${fr.length - below.length}/${fr.length} reach it; worst ${(worst.f * 100).toFixed(0)}% (${worst.r.label}); ceiling ${ceiling.toFixed(0)} GFLOP/s`,
    });
    const tot = convs.reduce((a, r) => a + r.flops!, 0) / convs.reduce((a, r) => a + r.runs[ours].stats!.median, 0) / 1e9;
    out.push({
      name: 'conv2d fwd+bwd >= 350 GFLOP/s (all 15 conv workloads together)',
      met: tot >= 350,
      detail: `${tot.toFixed(0)} GFLOP/s${tot < 350 ? ` (${(350 - tot).toFixed(0)} short)` : ''}`,
    });
    for (const peer of ['tfjs-node', 'keras']) {
      const withPeer = convs.filter((r) => r.runs[peer]?.ratio !== undefined);
      if (!withPeer.length) continue;
      const slower = withPeer.filter((r) => r.runs[peer].ratio! < 1);
      const peerTot = withPeer.reduce((a, r) => a + r.runs[peer].stats!.median, 0);
      const ourTot = withPeer.reduce((a, r) => a + r.runs[ours].stats!.median, 0);
      out.push({
        name: `conv2d at least as fast as ${peer} (TensorFlow CPU kernels)`,
        met: slower.length === 0,
        detail:
          `total time ratio ${(peerTot / ourTot).toFixed(2)}x; ${withPeer.length - slower.length}/${withPeer.length} workloads at >= 1x` +
          (slower.length ? `; slower on: ${slower.map((r) => `${r.label} (${r.runs[peer].ratio!.toFixed(2)}x)`).join(', ')}` : ''),
      });
    }
  }
  const tiny = get('tiny_add', ours);
  if (tiny?.stats) {
    const us = tiny.stats.median * 1e6;
    out.push({ name: 'tiny op (1-element add, sync) < 5 us', met: us < 5, detail: `${us.toFixed(2)} us${us >= 5 ? ` (${(us / 5).toFixed(1)}x over)` : ''}` });
  }
  const t128 = results.find((r) => r.id === 'train_fashion_cnn_b128');
  if (t128) {
    for (const [peer, want] of [['keras', 1.1], ['tfjs-node', 1.4]] as const) {
      const run = t128.runs[peer];
      const name = `train step batch 128 >= ${want}x faster than ${peer}`;
      if (!t128.runs[ours]?.stats) out.push({ name, met: false, detail: `not measured: ${t128.runs[ours]?.note ?? 'ours unavailable'}` });
      else if (run?.ratio !== undefined)
        out.push({ name, met: run.ratio >= want, detail: `${run.ratio.toFixed(2)}x (${fmtMs(t128.runs[ours].stats!.median)} vs ${fmtMs(run.stats!.median)})` });
    }
  }
  return out;
}

// ------------------------------------------------------------------ machine
function machineInfo(): Report['machine'] {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const field = (k: string) => cpuinfo.match(new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const flags = (field('flags') ?? '').split(/\s+/);
  const simd = ['avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_tile', 'avx2', 'fma'].filter((f) => flags.includes(f));
  return {
    cpu: field('model name') ?? os.cpus()[0]?.model ?? 'unknown',
    cpuFamily: field('cpu family') && `${field('vendor_id')} family ${field('cpu family')} model ${field('model')}`,
    cores: os.cpus().length,
    simd,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    gpu: 'none used (CPU benchmark)',
  };
}

/** 1-minute load average (what else is running on the machine). */
function loadAvg(): number {
  return os.loadavg()[0];
}

/** Waits (up to maxS seconds) until the 1-minute load is below the core count. */
async function waitIdle(maxS: number): Promise<void> {
  const cores = os.cpus().length;
  const until = Date.now() + maxS * 1000;
  while (loadAvg() >= cores * 0.75 && Date.now() < until) {
    log(`waiting for the machine to go idle (load ${loadAvg().toFixed(1)} on ${cores} cores)`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

// ------------------------------------------------------------------ main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.waitIdle > 0) await waitIdle(opts.waitIdle);
  const t0 = Date.now();
  const loadBefore = loadAvg();
  const want = (name: string) => !opts.peers || opts.peers.has(name) || name === 'cudnn-node';
  const notes: string[] = [];
  const runners: Runner[] = [];
  const runnerInfo: RunnerInfo[] = [];

  const ours = await OursRunner.create(opts.readback);
  runners.push(ours);
  if (ours.note) notes.push(`cudnn-node: ${ours.note}`);

  if (want('tfjs-node')) {
    try {
      runners.push(await TfjsRunner.create(opts.readback));
    } catch (e) {
      runnerInfo.push({ name: 'tfjs-node', available: false, note: `skipped: tfjs-node did not load (${firstLine(e)}); install it with scripts/install-tfjs-node.sh`, info: {} });
    }
  }
  const py = ['keras', 'torch'].filter(want).map((n) => new PythonRunner(n, opts.python, join(dirname(opts.json), `peer-${n}.log`), opts.readback));
  log(`starting peers: ${['cudnn-node', ...runners.slice(1).map((r) => r.name), ...py.map((p) => p.name)].join(', ')}`);
  await Promise.all(py.map((p) => p.start()));
  for (const p of py) {
    if (p.available) runners.push(p);
    else runnerInfo.push({ name: p.name, available: false, note: p.note, info: {} });
  }
  for (const r of runners) runnerInfo.unshift({ name: r.name, available: true, note: r.note, info: r.info });
  runnerInfo.sort((a, b) => ['cudnn-node', 'tfjs-node', 'keras', 'torch'].indexOf(a.name) - ['cudnn-node', 'tfjs-node', 'keras', 'torch'].indexOf(b.name));
  for (const r of runnerInfo) if (!r.available) log(`  ${r.name}: ${r.note}`);

  const results: BenchResult[] = [];
  const all = workloads(opts.mode).filter((w) => w.group === 'matmul' || !opts.only || opts.only.test(w.id));
  const show = (label: string, r: BenchResult, ts: number) => {
    const line = Object.entries(r.runs)
      .map(([n, run]) => `${n} ${run.stats ? fmtMs(run.stats.median) : `n/a (${run.note})`}`)
      .join(' | ');
    log(`${label.padEnd(44)} ${line}  [${((Date.now() - ts) / 1000).toFixed(1)} s]`);
  };
  for (const w of all) {
    const ts = Date.now();
    const r = await measure(w, runners, SAMPLE_BUDGET_S[opts.mode]);
    results.push(r);
    show(w.label, r, ts);
  }
  // Note [ceiling at both ends]: the sgemm ceiling is measured first and again last, and
  // its statistics pool both, so that a ceiling taken in a noisy moment cannot make every
  // conv look better (or worse) than it is. Both medians are kept in the JSON.
  for (const r of results.filter((x) => x.group === 'matmul')) {
    const ts = Date.now();
    const again = await measure(r, runners, SAMPLE_BUDGET_S[opts.mode]);
    show(`${r.label} (again, at the end)`, again, ts);
    for (const [name, run] of Object.entries(r.runs)) {
      const end = again.runs[name];
      run.phases = { start: run.stats?.median, end: end?.stats?.median };
      if (end?.ok) run.times.push(...end.times);
      if (run.ok && run.times.length) run.stats = stats(run.times);
    }
  }
  for (const r of runners) await r.close().catch(() => undefined);

  const { ceiling } = derive(results, 'cudnn-node');
  const load = { before: +loadBefore.toFixed(2), after: +loadAvg().toFixed(2) };
  if (Math.max(load.before, load.after) > os.cpus().length * 0.75)
    notes.unshift(
      `**The machine was busy during this run** (1-minute load ${load.before} before, ${load.after} after, on ${os.cpus().length} cores): other processes competed for the CPU, so absolute times are unreliable; ratios are less affected because runners alternate. Rerun on an idle machine (--wait-idle 600 waits for one).`,
    );
  if (!process.env.TF_ENABLE_ONEDNN_OPTS)
    notes.push('TF_ENABLE_ONEDNN_OPTS is unset, so tfjs-node and Keras run with TensorFlow\'s default (oneDNN kernels on x86), as users get them.');
  if (!opts.readback) notes.push('Timings exclude reading results back (every runner executes synchronously on the CPU); --readback includes it.');
  if (!results.some((r) => r.group === 'train' && r.runs['cudnn-node']?.ok))
    notes.push('Training step: cudnn-node not measured yet (the model layer, lib/models, is not available); the workload is wired in bench/run.ts (OursRunner.prepareTrain) and runs once it lands.');
  const report: Report = {
    date: new Date().toISOString(),
    mode: opts.mode,
    durationS: (Date.now() - t0) / 1000,
    machine: { ...machineInfo(), loadAvg1m: load },
    runners: runnerInfo,
    ceiling,
    results,
    targets: targets(results, 'cudnn-node', ceiling.gflops),
    notes,
  };
  report.durationS = (Date.now() - t0) / 1000;
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(opts.json, JSON.stringify(report, null, 1));
  const md = toMarkdown(report);
  const base = opts.json.replace(/\.json$/, '');
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, renderSvg(report));
  log(`\nwrote ${opts.json}, ${base}.md, ${base}.svg in ${report.durationS.toFixed(0)} s\n`);
  console.log(md);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
