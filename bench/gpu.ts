// The GPU benchmark: per-layer conv2d forward / backward-data / backward-filter TFLOP/s on
// the Fashion-MNIST CNN's and ResNet-34's layer shapes at batch 256 (legacy cuDNN API with
// heuristics and autotuned, then the graph API the same two ways), training steps of the
// Fashion-MNIST CNN (also under the mixed-precision policies 'mixed_bfloat16' and
// 'mixed_float16', against PyTorch's torch.autocast bf16 / fp16 + GradScaler) and ResNet-34 (one of each profiled with cn.profile(), and ResNet-34's
// again under the STEP_VARIANTS: autotuned, graph-API convolutions, plan fusion off), on our
// cuda backend and, where python3 has PyTorch with CUDA, on PyTorch in the same run
// (cudnn.benchmark on, channels_last; scripts/gpu/torch_bench.py). Prints a Markdown table with ratios (PyTorch time / our
// time: > 1 means we are faster) and writes JSON. scripts/gpu-check.sh runs it on the GPU
// machine.
//
//   node --import tsx bench/gpu.ts [--batch 256] [--json out.json] [--only REGEX]
//        [--python python3|none] [--fp32] [--no-train] [--budget-s 180] [--backend cuda]
//
// Note [timing]: our ops are queued on one stream and return at once; a sample times
// `iters` back-to-back calls and then waits for the stream (reading a one-element tensor,
// which synchronizes it), so launch and JS overhead are included but the read is one
// 4-byte copy. PyTorch is timed the same way (perf_counter around iters calls, then
// torch.cuda.synchronize()). Each number is the median of 5 samples after warm-up; the
// warm-up includes plan creation and (autotune / cudnn.benchmark) algorithm search.
// Padding is explicit and symmetric (k // 2), as PyTorch's, so both do the same FLOPs.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cn from '../lib/index.js';
import { addRelu, addReluGrad, batchNormGrad, batchNormTrain } from '../lib/kernels/fused.js';
import { convBackpropFilter, convBackpropInput, convForward, poolForward, poolGrad, type ConvWindow, type PoolWindow } from '../lib/kernels/windowed.js';
import { native } from '../lib/native.js';
import { modelFlops, TRAIN_FLOPS_PER_IMAGE } from './flops.js';
import { firstLine as sharedFirstLine, median } from './shared.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

// ------------------------------------------------------------------ options
interface Options {
  batch: number;
  json: string;
  only: RegExp | null;
  python: string;
  fp32: boolean;
  train: boolean;
  budgetS: number;
  backend: string;
  samples: number;
  targetS: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    batch: 256,
    json: join(root, 'bench', 'results', 'gpu.json'),
    only: null,
    python: process.env.PYTHON ?? 'python3',
    fp32: false,
    train: true,
    budgetS: 240,
    backend: 'cuda',
    samples: 5,
    targetS: 0.03,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench/gpu: ${a} expects a value`);
      return v;
    };
    if (a === '--batch') o.batch = Number(val());
    else if (a === '--json') o.json = resolve(val());
    else if (a === '--only') o.only = new RegExp(val());
    else if (a === '--python') o.python = val();
    else if (a === '--fp32') o.fp32 = true;
    else if (a === '--no-train') o.train = false;
    else if (a === '--budget-s') o.budgetS = Number(val());
    else if (a === '--backend') o.backend = val();
    else if (a === '--samples') o.samples = Number(val());
    else if (a === '--target-s') o.targetS = Number(val());
    else if (a === '--help' || a === '-h') {
      console.log('usage: node --import tsx bench/gpu.ts [--batch N] [--json PATH] [--only REGEX] [--python python3|none] [--fp32] [--no-train] [--budget-s S] [--backend cuda|cpu] [--samples N] [--target-s S]');
      process.exit(0);
    } else throw new Error(`bench/gpu: unknown flag ${a} (try --help)`);
  }
  return o;
}

const log = (...a: unknown[]) => console.error('[bench/gpu]', ...a);

// ------------------------------------------------------------------ workloads
type Dir = 'fwd' | 'bwd_data' | 'bwd_filter';
const DIRS: Dir[] = ['fwd', 'bwd_data', 'bwd_filter'];

/** One conv layer: NHWC input [H, W, C] (batch added later), k x k, oc outputs, stride, pad. */
interface Layer {
  net: 'fashion' | 'resnet34';
  name: string;
  h: number;
  w: number;
  c: number;
  k: number;
  oc: number;
  s: number;
  p: number;
  /** How many times the layer occurs in the network (for the whole-net totals). */
  count: number;
}

const LAYERS: Layer[] = [
  // Fashion-MNIST CNN (lib/models/fashion_mnist.ts): 'same' stride-1 convs.
  { net: 'fashion', name: 'conv1 7x7 1->64 @28', h: 28, w: 28, c: 1, k: 7, oc: 64, s: 1, p: 3, count: 1 },
  { net: 'fashion', name: 'conv2 3x3 64->128 @14', h: 14, w: 14, c: 64, k: 3, oc: 128, s: 1, p: 1, count: 1 },
  { net: 'fashion', name: 'conv3 3x3 128->128 @14', h: 14, w: 14, c: 128, k: 3, oc: 128, s: 1, p: 1, count: 1 },
  { net: 'fashion', name: 'conv4 3x3 128->256 @7', h: 7, w: 7, c: 128, k: 3, oc: 256, s: 1, p: 1, count: 1 },
  { net: 'fashion', name: 'conv5 3x3 256->256 @7', h: 7, w: 7, c: 256, k: 3, oc: 256, s: 1, p: 1, count: 1 },
  // ResNet-34 at 224x224 (He et al. 2015, table 1): every distinct conv shape, with counts.
  { net: 'resnet34', name: 'conv1 7x7/2 3->64 @224', h: 224, w: 224, c: 3, k: 7, oc: 64, s: 2, p: 3, count: 1 },
  { net: 'resnet34', name: 'l1 3x3 64->64 @56', h: 56, w: 56, c: 64, k: 3, oc: 64, s: 1, p: 1, count: 6 },
  { net: 'resnet34', name: 'l2 3x3/2 64->128 @56', h: 56, w: 56, c: 64, k: 3, oc: 128, s: 2, p: 1, count: 1 },
  { net: 'resnet34', name: 'l2 1x1/2 64->128 @56 (shortcut)', h: 56, w: 56, c: 64, k: 1, oc: 128, s: 2, p: 0, count: 1 },
  { net: 'resnet34', name: 'l2 3x3 128->128 @28', h: 28, w: 28, c: 128, k: 3, oc: 128, s: 1, p: 1, count: 7 },
  { net: 'resnet34', name: 'l3 3x3/2 128->256 @28', h: 28, w: 28, c: 128, k: 3, oc: 256, s: 2, p: 1, count: 1 },
  { net: 'resnet34', name: 'l3 1x1/2 128->256 @28 (shortcut)', h: 28, w: 28, c: 128, k: 1, oc: 256, s: 2, p: 0, count: 1 },
  { net: 'resnet34', name: 'l3 3x3 256->256 @14', h: 14, w: 14, c: 256, k: 3, oc: 256, s: 1, p: 1, count: 11 },
  { net: 'resnet34', name: 'l4 3x3/2 256->512 @14', h: 14, w: 14, c: 256, k: 3, oc: 512, s: 2, p: 1, count: 1 },
  { net: 'resnet34', name: 'l4 1x1/2 256->512 @14 (shortcut)', h: 14, w: 14, c: 256, k: 1, oc: 512, s: 2, p: 0, count: 1 },
  { net: 'resnet34', name: 'l4 3x3 512->512 @7', h: 7, w: 7, c: 512, k: 3, oc: 512, s: 1, p: 1, count: 5 },
];

const outSize = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;
const convFlops = (l: Layer, batch: number) => 2 * batch * outSize(l.h, l.k, l.s, l.p) * outSize(l.w, l.k, l.s, l.p) * l.oc * l.k * l.k * l.c;

/** Our settings: 'heur' = defaults (TF32, cuDNN heuristics, legacy API), 'tuned' = TF32 +
 * autotune, 'graph' / 'graphTuned' = the same on cuDNN's graph API (convApi: 'graph'),
 * 'fp32' = strict fp32 + autotune. PyTorch runs 'tf32' and 'fp32' (cudnn.benchmark on). */
type OurMode = 'heur' | 'tuned' | 'graph' | 'graphTuned' | 'fp32';
const OUR_OPTS: Record<OurMode, { allowTF32: boolean; autotune: boolean; convApi: 'legacy' | 'graph' }> = {
  heur: { allowTF32: true, autotune: false, convApi: 'legacy' },
  tuned: { allowTF32: true, autotune: true, convApi: 'legacy' },
  graph: { allowTF32: true, autotune: false, convApi: 'graph' },
  graphTuned: { allowTF32: true, autotune: true, convApi: 'graph' },
  fp32: { allowTF32: false, autotune: true, convApi: 'legacy' },
};

interface Timing {
  ms?: number;
  tflops?: number;
  note?: string;
}

interface ConvRow {
  net: string;
  layer: string;
  dir: Dir;
  shape: string;
  flops: number;
  count: number;
  ours: Partial<Record<OurMode, Timing>>;
  torch: Partial<Record<'tf32' | 'fp32', Timing>>;
}

// ------------------------------------------------------------------ timing

class Clock {
  private probe: cn.Tensor;
  constructor() {
    this.probe = cn.keep(cn.zeros([1]));
  }
  /** Waits for everything queued on the stream: a read is stream-ordered and synchronizes. */
  sync(): void {
    this.probe.dataSync();
  }
  /** Median seconds per call over `samples` samples of adaptively many calls. */
  time(call: () => void, warmup: number, samples: number, targetS: number): number {
    for (let i = 0; i < warmup; i++) call();
    this.sync();
    let t0 = performance.now();
    call();
    this.sync();
    const one = (performance.now() - t0) / 1e3;
    const iters = Math.max(1, Math.min(200, Math.ceil(targetS / Math.max(one, 1e-6))));
    const per: number[] = [];
    for (let s = 0; s < samples; s++) {
      t0 = performance.now();
      for (let i = 0; i < iters; i++) call();
      this.sync();
      per.push((performance.now() - t0) / 1e3 / iters);
    }
    return median(per);
  }
  dispose(): void {
    this.probe.dispose();
  }
}

const firstLine = (e: unknown) => sharedFirstLine(e, 160);

/** Times one layer in all three directions under the current options. */
function timeLayer(l: Layer, batch: number, clock: Clock, o: Options): Record<Dir, Timing> {
  const oh = outSize(l.h, l.k, l.s, l.p), ow = outSize(l.w, l.k, l.s, l.p);
  const xShape = [batch, l.h, l.w, l.c], fShape = [l.k, l.k, l.c, l.oc], yShape = [batch, oh, ow, l.oc];
  const window: ConvWindow = { strides: [l.s, l.s], dilations: [1, 1], pad: 'explicit', pads: [l.p, l.p, l.p, l.p] };
  const flops = convFlops(l, batch);
  const out = {} as Record<Dir, Timing>;
  const [x, f, dy] = cn.tidy(() => [
    cn.keep(cn.randomUniform(xShape, -1, 1, 'float32', 1)),
    cn.keep(cn.randomUniform(fShape, -0.05, 0.05, 'float32', 2)),
    cn.keep(cn.randomUniform(yShape, -1, 1, 'float32', 3)),
  ]);
  try {
    const ops: Record<Dir, () => cn.Tensor> = {
      fwd: () => convForward(x, f, window),
      bwd_data: () => convBackpropInput(dy, f, xShape, window),
      bwd_filter: () => convBackpropFilter(x, dy, fShape, window),
    };
    for (const dir of DIRS) {
      try {
        const op = ops[dir];
        const s = clock.time(() => op().dispose(), 3, o.samples, o.targetS);
        out[dir] = { ms: s * 1e3, tflops: flops / s / 1e12 };
      } catch (e) {
        out[dir] = { note: firstLine(e) };
      }
    }
  } finally {
    cn.dispose([x, f, dy]);
  }
  return out;
}

/** Memory-bound ops at ResNet-34's shapes (our own kernels on cuda): where a training step's
 * time goes besides convolutions. GB/s counts one read of the inputs and one write of the
 * outputs (the least traffic the op needs). */
interface OpTiming extends Timing {
  name: string;
  gbps?: number;
}
function timeMemoryOps(batch: number, clock: Clock, o: Options): OpTiming[] {
  const f32 = 'float32' as const;
  const act = [batch, 56, 56, 64], big = [batch, 112, 112, 64], last = [batch, 7, 7, 512];
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const pool: PoolWindow = { poolSize: [3, 3], strides: [2, 2], pad: 'same' };
  const pooled = [batch, 56, 56, 64];
  const out: OpTiming[] = [];
  const t = cn.tidy(() => ({
    x: cn.keep(cn.randomUniform(act, -1, 1, f32, 7)),
    dy: cn.keep(cn.randomUniform(act, -1, 1, f32, 8)),
    xb: cn.keep(cn.randomUniform(big, -1, 1, f32, 9)),
    dyp: cn.keep(cn.randomUniform(pooled, -1, 1, f32, 10)),
    xl: cn.keep(cn.randomUniform(last, -1, 1, f32, 11)),
    g: cn.keep(cn.ones([64])),
    b: cn.keep(cn.zeros([64])),
  }));
  const stats = batchNormTrain(t.x, t.g, t.b);
  stats[0].dispose();
  const [bm, bv] = [cn.keep(stats[1]), cn.keep(stats[2])];
  const ops: Array<[string, number, () => cn.Tensor[]]> = [
    ['batchNorm train fwd [B,56,56,64]', 2 * n(act), () => batchNormTrain(t.x, t.g, t.b)],
    ['batchNorm bwd [B,56,56,64]', 3 * n(act), () => batchNormGrad(t.dy, t.x, t.g, bm, bv)],
    ['maxPool 3x3/2 fwd [B,112,112,64]', n(big) + n(pooled), () => [poolForward('MaxPool', t.xb, pool)]],
    ['maxPool 3x3/2 bwd [B,112,112,64]', 2 * n(big) + n(pooled), () => [poolGrad('MaxPoolGrad', t.dyp, t.xb, pool)]],
    ['batchNorm train fwd + relu (fused) [B,56,56,64]', 2 * n(act), () => batchNormTrain(t.x, t.g, t.b, { relu: true })],
    ['batchNorm bwd + relu (fused) [B,56,56,64]', 3 * n(act), () => batchNormGrad(t.dy, t.x, t.g, bm, bv, { reluBeta: t.b })],
    ['batchNorm train fwd + add + relu (fused) [B,56,56,64]', 3 * n(act), () => batchNormTrain(t.x, t.g, t.b, { relu: true, residual: t.dy })],
    ['relu [B,56,56,64]', 2 * n(act), () => [cn.relu(t.x)]],
    ['add [B,56,56,64]', 3 * n(act), () => [cn.add(t.x, t.dy)]],
    ['add + relu (fused) [B,56,56,64]', 3 * n(act), () => [addRelu(t.x, t.dy)]],
    ['add + relu grad (fused) [B,56,56,64]', 4 * n(act), () => [addReluGrad(t.x, t.dy, t.x)]],
    ['mean over H,W [B,7,7,512]', n(last), () => [cn.mean(t.xl, [1, 2])]],
  ];
  try {
    for (const [name, elems, op] of ops) {
      try {
        const sec = clock.time(() => cn.dispose(op()), 3, o.samples, o.targetS);
        out.push({ name, ms: sec * 1e3, gbps: (elems * 4) / sec / 1e9 });
      } catch (e) {
        out.push({ name, note: firstLine(e) });
      }
    }
  } finally {
    cn.dispose([...Object.values(t), bm, bv]);
  }
  return out;
}

// fashion_bf16 / fashion_fp16: the Fashion-MNIST CNN built and trained under
// cn.mixedPrecision's 'mixed_bfloat16' / 'mixed_float16' (bf16 / fp16 kernels on cuda,
// native/cuda/half_backend.h; float32 variables, loss and optimizer).
type TrainModel = 'fashion' | 'fashion_bf16' | 'fashion_fp16' | 'resnet34';
interface TrainTiming extends Timing {
  imagesPerSec?: number;
  firstStepS?: number;
  /** One more step under cn.profile(): where its time goes. */
  profile?: StepProfile;
}
/** A profiled training step: kernel time by kernel name and the busiest conv calls. */
interface StepProfile {
  wallMs: number;
  /** Summed kernel (device) time; wallMs - kernelMs is time the backend sat idle or the
   * profiler's own cost. */
  kernelMs: number;
  kernels: number;
  top: Array<{ name: string; calls: number; ms: number; share: number }>;
  /** Conv kernels by (name, input shapes), busiest first, with the implementation that ran
   * (the kernel's extraInfo: cuDNN algorithm or engine). */
  convTop: Array<{ name: string; shapes: string; calls: number; ms: number; impl: string }>;
  /** Conv calls, and those whose input was zero-padded into a copy first (SAME at stride 2
   * on the legacy API, or where no graph-API engine took asymmetric padding). */
  convCalls: number;
  convPadded: number;
}

/** Runs one step under cn.profile() and condenses the report. */
async function profileStep(step: () => Promise<unknown>): Promise<StepProfile> {
  const p = await cn.profile(step);
  const byShape = new Map<string, { name: string; shapes: string; calls: number; ms: number; impl: string }>();
  let convCalls = 0, convPadded = 0;
  for (const k of p.kernels) {
    if (!k.name.startsWith('Conv2D') && !k.name.startsWith('DepthwiseConv2D')) continue;
    convCalls++;
    if (k.extraInfo.includes('input padded first')) convPadded++;
    const shapes = k.inputShapes.map((d) => d.join('x')).join(' ');
    const key = `${k.name} ${shapes}`;
    const e = byShape.get(key) ?? { name: k.name, shapes, calls: 0, ms: 0, impl: k.extraInfo };
    e.calls++;
    e.ms += k.kernelTimeMs;
    byShape.set(key, e);
  }
  return {
    wallMs: p.wallMs,
    kernelMs: p.summary.reduce((s, k) => s + k.kernelTimeMs, 0),
    kernels: p.kernels.length + p.dropped,
    top: p.summary.slice(0, 10).map((k) => ({ name: k.name, calls: k.calls, ms: k.kernelTimeMs, share: k.share })),
    convTop: [...byShape.values()].sort((a, b) => b.ms - a.ms).slice(0, 8),
    convCalls,
    convPadded,
  };
}
const TRAIN: Record<TrainModel, { label: string; input: number[]; optimizer: string; flopsPerImage?: number; policy?: string }> = {
  fashion: { label: 'Fashion-MNIST CNN', input: [28, 28, 1], optimizer: 'nadam', flopsPerImage: TRAIN_FLOPS_PER_IMAGE },
  fashion_bf16: { label: 'Fashion-MNIST CNN, mixed_bfloat16 (PyTorch: autocast bf16)', input: [28, 28, 1], optimizer: 'nadam', flopsPerImage: TRAIN_FLOPS_PER_IMAGE, policy: 'mixed_bfloat16' },
  fashion_fp16: { label: 'Fashion-MNIST CNN, mixed_float16 (PyTorch: autocast fp16 + GradScaler)', input: [28, 28, 1], optimizer: 'nadam', flopsPerImage: TRAIN_FLOPS_PER_IMAGE, policy: 'mixed_float16' },
  // 3.66 G multiply-adds forward per 224x224 image (He et al.'s "3.6 GFLOPs"), 21.7 GFLOP a step.
  resnet34: { label: 'ResNet-34 (224x224, 10 classes)', input: [224, 224, 3], optimizer: 'sgd', flopsPerImage: modelFlops('resnet34', { size: 224 }).train },
};

/** ResNet-34's training step again under other settings, in this order while the budget
 * allows. 'tuned' is the like-for-like peer of PyTorch's step (cudnn.benchmark picks its
 * algorithms by timing them, as our autotune does), where the default step runs cuDNN's
 * heuristics; the graph-API rows are the step the default would give if convApi moved to
 * 'graph'; 'unfused' shows what plan fusion wins (Note [fusion per backend] in
 * lib/compiler/fusion.ts). */
interface StepVariant {
  key: string;
  label: string;
  mode: OurMode;
  /** CUDNN_NODE_FUSION for the variant (unset: the default, fusion on cuda). */
  fusion?: '0';
}
const STEP_VARIANTS: StepVariant[] = [
  { key: 'tuned', label: 'autotuned convs (as cudnn.benchmark)', mode: 'tuned' },
  { key: 'graph', label: 'graph API convs', mode: 'graph' },
  { key: 'unfused', label: 'plan fusion off', mode: 'heur', fusion: '0' },
  { key: 'graphTuned', label: 'graph API convs, autotuned', mode: 'graphTuned' },
];

/** Times ResNet-34's step under variant v, restoring the default settings afterwards. */
async function timeStepVariant(v: StepVariant, o: Options): Promise<TrainTiming> {
  const saved = process.env.CUDNN_NODE_FUSION;
  if (v.fusion !== undefined) process.env.CUDNN_NODE_FUSION = v.fusion;
  if (o.backend === 'cuda') native.setCudaOptions(OUR_OPTS[v.mode]);
  try {
    return await timeTrain('resnet34', o.batch, o, 2);
  } finally {
    if (o.backend === 'cuda') native.setCudaOptions(OUR_OPTS.heur);
    if (saved === undefined) delete process.env.CUDNN_NODE_FUSION;
    else process.env.CUDNN_NODE_FUSION = saved;
  }
}

/** Builds the model on the current backend: lib/models and lib/applications are loaded
 * lazily, so that a missing or broken one only costs its row. */
async function makeModel(which: TrainModel): Promise<cn.LayersModel> {
  // Note [untyped imports]: specifiers in variables, so that the benchmark still type-checks
  // (and reports the failure in its row) while these modules are being written or moved.
  const modelsPath = '../lib/models/index.js', applicationsPath = '../lib/applications/index.js';
  if (which.startsWith('fashion')) {
    const m = (await import(modelsPath)) as { fashionMnistCnn?: (o?: { seed?: number }) => cn.LayersModel };
    if (typeof m.fashionMnistCnn !== 'function') throw new Error('lib/models has no fashionMnistCnn');
    return m.fashionMnistCnn({ seed: 1 });
  }
  const a = (await import(applicationsPath)) as { resnet34?: (o?: { inputShape?: number[]; classes?: number }) => cn.LayersModel };
  if (typeof a.resnet34 !== 'function') throw new Error('lib/applications has no resnet34');
  return a.resnet34({ inputShape: [224, 224, 3], classes: 10 });
}

/** A training step through trainOnBatch (one compiled plan per step; it returns the loss,
 * so each step is synchronized). The first step includes tracing and plan compilation. */
async function timeTrain(which: TrainModel, batch: number, o: Options, steps: number): Promise<TrainTiming> {
  const spec = TRAIN[which];
  let model: cn.LayersModel | undefined;
  let x: cn.Tensor | undefined, y: cn.Tensor | undefined;
  try {
    if (spec.policy) setPolicy(spec.policy);
    model = await makeModel(which);
    x = cn.keep(cn.randomUniform([batch, ...spec.input], -1, 1, 'float32', 5));
    y = cn.keep(cn.tensor(Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10), [batch], 'int32'));
    model.compile({ optimizer: spec.optimizer, loss: 'sparseCategoricalCrossentropy' });
    const t0 = performance.now();
    await model.trainOnBatch(x, y);
    const firstStepS = (performance.now() - t0) / 1e3;
    for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
    const per: number[] = [];
    for (let s = 0; s < Math.max(3, Math.min(o.samples, 5)); s++) {
      const t1 = performance.now();
      for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
      per.push((performance.now() - t1) / 1e3 / steps);
    }
    const sec = median(per);
    const m = model;
    let profile: StepProfile | undefined;
    try {
      profile = await profileStep(() => m.trainOnBatch(x!, y!));
    } catch (e) {
      log(`profiled ${which} step failed: ${firstLine(e)}`); // the timing above still counts
    }
    return { ms: sec * 1e3, tflops: spec.flopsPerImage ? (spec.flopsPerImage * batch) / sec / 1e12 : undefined, imagesPerSec: batch / sec, firstStepS, profile };
  } catch (e) {
    return { note: firstLine(e) };
  } finally {
    cn.dispose([x, y]);
    (model as unknown as { dispose?: () => void } | undefined)?.dispose?.();
    if (spec.policy) {
      try {
        setPolicy('float32');
      } catch {
        // no policy API: nothing was set
      }
    }
  }
}

/** cn.mixedPrecision.setGlobalPolicy (Note [untyped imports]: looked up at run time, so that
 * a build without the policy API reports it in the row instead of failing to compile). */
function setPolicy(name: string): void {
  const mp = (cn as unknown as { mixedPrecision?: { setGlobalPolicy?: (p: string) => void } }).mixedPrecision;
  if (typeof mp?.setGlobalPolicy !== 'function') throw new Error('no cn.mixedPrecision.setGlobalPolicy in this build (issue 21 phase 2)');
  mp.setGlobalPolicy(name);
}

// ------------------------------------------------------------------ PyTorch
interface TorchResult {
  ok: boolean;
  note?: string;
  info?: Record<string, unknown>;
  conv?: Record<string, { ms?: number; note?: string }>; // key `${mode}|${layerIndex}|${dir}`
  train?: Record<string, { ms?: number; note?: string }>; // key: model (TF32 allowed)
}

function runTorch(o: Options, layers: Layer[], modes: string[], trainModels: TrainModel[], budgetS: number): TorchResult {
  if (o.python === 'none') return { ok: false, note: 'skipped (--python none)' };
  const dir = join(tmpdir(), `cn-bench-gpu-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const req = join(dir, 'request.json'), res = join(dir, 'result.json');
  writeFileSync(
    req,
    JSON.stringify({
      device: o.backend === 'cuda' ? 'cuda' : 'cpu',
      batch: o.batch,
      modes,
      layers: layers.map((l, i) => ({ id: i, h: l.h, w: l.w, c: l.c, k: l.k, oc: l.oc, s: l.s, p: l.p })),
      dirs: DIRS,
      train: o.train ? { batch: o.batch, models: trainModels } : null,
      samples: o.samples,
      target_s: o.targetS,
      budget_s: budgetS,
    }),
  );
  const script = join(root, 'scripts', 'gpu', 'torch_bench.py');
  log(`PyTorch: ${o.python} ${script} (budget ${budgetS.toFixed(0)} s)`);
  const r = spawnSync(o.python, [script, req, res], { stdio: ['ignore', 'inherit', 'inherit'], timeout: Math.round((budgetS + 30) * 1e3), env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  rmSync(req, { force: true });
  if (r.error) return { ok: false, note: `could not run ${o.python}: ${firstLine(r.error)}` };
  if (!existsSync(res)) return { ok: false, note: `${o.python} exited with ${r.status ?? r.signal} and wrote no result` };
  try {
    return JSON.parse(readFileSync(res, 'utf8')) as TorchResult;
  } catch (e) {
    return { ok: false, note: `unreadable result: ${firstLine(e)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ report
const fmt = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const ratio = (torchMs?: number, ourMs?: number) => (torchMs && ourMs ? torchMs / ourMs : undefined);
const geomean = (v: number[]) => (v.length ? Math.exp(v.reduce((a, b) => a + Math.log(b), 0) / v.length) : undefined);

function table(rows: ConvRow[], modes: OurMode[], torchOk: boolean): string {
  const torchOf = (m: OurMode) => (m === 'fp32' ? 'fp32' : 'tf32');
  const torchModes = [...new Set(modes.map(torchOf))];
  const head = ['net', 'layer', 'dir', 'GFLOP'];
  for (const m of modes) head.push(`ours ${m} TFLOP/s`);
  if (torchOk) {
    for (const tm of torchModes) head.push(`torch ${tm} TFLOP/s`);
    for (const m of modes) head.push(`ratio ${m}`);
  }
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cells = [r.net, r.layer, r.dir, fmt(r.flops / 1e9, 1)];
    for (const m of modes) cells.push(fmt(r.ours[m]?.tflops) + (r.ours[m]?.note ? ` (${r.ours[m]!.note})` : ''));
    if (torchOk) {
      for (const tm of torchModes) cells.push(fmt(r.torch[tm]?.tflops) + (r.torch[tm]?.note ? ` (${r.torch[tm]!.note})` : ''));
      for (const m of modes) cells.push(fmt(ratio(r.torch[torchOf(m)]?.ms, r.ours[m]?.ms)));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Whole-network conv time (each layer times its count), per direction set and mode. */
function totals(rows: ConvRow[], net: string, pick: (r: ConvRow) => Timing | undefined): { ms?: number; tflops?: number } {
  let ms = 0, flops = 0;
  for (const r of rows.filter((x) => x.net === net)) {
    const t = pick(r);
    if (t?.ms === undefined) return {};
    ms += t.ms * r.count;
    flops += r.flops * r.count;
  }
  return ms ? { ms, tflops: flops / (ms / 1e3) / 1e12 } : {};
}

// ------------------------------------------------------------------ main
async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1e3;
  const info = cn.backends().find((b) => b.name === o.backend);
  const result: Record<string, unknown> = { date: new Date().toISOString(), batch: o.batch, backend: o.backend, device: info };
  const write = () => {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, JSON.stringify(result, null, 2));
  };
  if (!info?.available) {
    const why = `${o.backend} backend not available: ${info?.reason ?? 'unknown backend'}`;
    log(why);
    result.error = why;
    write();
    console.log(`bench/gpu: ${why}`);
    process.exit(2);
  }
  cn.setBackend(o.backend);
  const layers = LAYERS.filter((l) => !o.only || o.only.test(`${l.net} ${l.name}`));
  // The graph-API modes run after the legacy ones, the training steps and a first write of
  // the JSON, so that what the default path measures is saved whatever they do; strict fp32
  // (secondary: the targets are TF32 against PyTorch's TF32) gets what time is left after.
  const legacyModes: OurMode[] = o.backend === 'cuda' ? ['heur', 'tuned'] : ['heur'];
  const graphModes: OurMode[] = o.backend === 'cuda' ? ['graph', 'graphTuned'] : [];
  const fp32Modes: OurMode[] = o.backend === 'cuda' && o.fp32 ? ['fp32'] : [];
  const modes: OurMode[] = [...legacyModes, ...graphModes, ...fp32Modes];
  log(`${info.deviceName || o.backend}: ${layers.length} layers x ${DIRS.length} directions, batch ${o.batch}, modes ${modes.join(', ')}, budget ${o.budgetS} s`);

  const rows: ConvRow[] = [];
  for (const l of layers)
    for (const dir of DIRS)
      rows.push({
        net: l.net, layer: l.name, dir, flops: convFlops(l, o.batch), count: l.count, ours: {}, torch: {},
        shape: `[${o.batch},${l.h},${l.w},${l.c}] k${l.k} s${l.s} p${l.p} -> ${l.oc}`,
      });

  // Ours first; PyTorch gets what remains of the budget (at least a third of it). Legacy
  // layer modes until 35% of the budget (50% without PyTorch), graph ones until 62% (80%),
  // strict fp32 until 70% (90%).
  const share = (withTorch: number, alone: number) => o.budgetS * (o.python === 'none' ? alone : withTorch);
  const clock = new Clock();
  let skipped = 0;
  const timeModes = (list: OurMode[], until: number) => {
    for (const mode of list) {
      if (o.backend === 'cuda') native.setCudaOptions(OUR_OPTS[mode]);
      for (const [i, l] of layers.entries()) {
        if (elapsed() > until) {
          skipped++;
          continue;
        }
        const t = timeLayer(l, o.batch, clock, o);
        for (const dir of DIRS) rows[i * DIRS.length + DIRS.indexOf(dir)].ours[mode] = t[dir];
        log(`ours ${mode} ${l.net} ${l.name}: ${DIRS.map((d) => `${d} ${fmt(t[d].tflops)}${t[d].note ? ` (${t[d].note})` : ''}`).join(', ')} TFLOP/s`);
      }
    }
    if (o.backend === 'cuda') native.setCudaOptions(OUR_OPTS.heur);
  };
  timeModes(legacyModes, share(0.35, 0.5));

  // Training steps: the Fashion-MNIST CNN always (when lib/models loads); ResNet-34 while
  // less than 55% of the budget is spent (its first step compiles a large plan).
  const trainModels: TrainModel[] = [];
  const train: Partial<Record<TrainModel, TrainTiming>> = {};
  if (o.train) {
    for (const which of ['fashion', 'fashion_bf16', 'fashion_fp16', 'resnet34'] as TrainModel[]) {
      if (o.only && !o.only.test(`train ${which}`) && !o.only.test(which)) continue;
      if (which === 'resnet34' && elapsed() > o.budgetS * 0.55) {
        train[which] = { note: 'skipped: time budget' };
        continue;
      }
      trainModels.push(which);
      train[which] = await timeTrain(which, o.batch, o, which === 'resnet34' ? 2 : 5);
      log(`ours train step ${which}: ${fmt(train[which]!.ms)} ms${train[which]!.note ? ` (${train[which]!.note})` : ''}`);
    }
  }
  const variants: Record<string, TrainTiming> = {};
  const memOps = o.train && (!o.only || o.only.test('ops')) ? timeMemoryOps(o.batch, clock, o) : [];
  for (const r of memOps) log(`ours ${r.name}: ${fmt(r.ms, 3)} ms, ${fmt(r.gbps, 0)} GB/s${r.note ? ` (${r.note})` : ''}`);

  const torchModes = ['tf32', ...(modes.includes('fp32') ? ['fp32'] : [])];
  // Our numbers are saved before PyTorch runs, so that they survive a kill at the time limit.
  result.modes = modes;
  result.rows = rows;
  const trainReport = (t?: TorchResult) =>
    Object.fromEntries(
      (Object.keys(train) as TrainModel[]).map((k) => [
        k,
        { label: TRAIN[k].label, ours: train[k], torch: t?.train?.[k], ratio: ratio(t?.train?.[k]?.ms, train[k]?.ms), flopsPerImage: TRAIN[k].flopsPerImage },
      ]),
    );
  result.train = trainReport();
  const variantReport = (t?: TorchResult) =>
    Object.fromEntries(
      STEP_VARIANTS.filter((v) => variants[v.key]).map((v) => [
        v.key,
        { label: `${TRAIN.resnet34.label}, ${v.label}`, mode: v.mode, ours: variants[v.key], torch: t?.train?.resnet34, ratio: ratio(t?.train?.resnet34?.ms, variants[v.key].ms), defaultMs: train.resnet34?.ms },
      ]),
    );
  result.trainVariants = variantReport();
  result.memoryOps = memOps;
  result.torch = { ok: false, note: 'PyTorch did not finish' };
  write();

  // The graph API's layer modes, then ResNet-34's step variants, each started while under 70%
  // of the budget (an autotuned first step searches every conv's algorithms: tens of seconds),
  // so that PyTorch still gets its third.
  if (graphModes.length) timeModes(graphModes, share(0.62, 0.8));
  if (o.train && train.resnet34?.ms !== undefined) {
    for (const v of STEP_VARIANTS) {
      if (o.backend !== 'cuda' && v.mode !== 'heur') continue; // the modes are cuda options
      if (elapsed() > o.budgetS * 0.7) {
        log(`ours train step resnet34, ${v.label}: skipped (time budget)`);
        continue;
      }
      variants[v.key] = await timeStepVariant(v, o);
      log(`ours train step resnet34, ${v.label}: ${fmt(variants[v.key].ms)} ms${variants[v.key].note ? ` (${variants[v.key].note})` : ''}`);
      result.trainVariants = variantReport();
      write();
    }
  }
  result.rows = rows;
  write();
  if (fp32Modes.length) {
    timeModes(fp32Modes, share(0.7, 0.9));
    write();
  }
  if (skipped) log(`time budget: ${skipped} layer runs skipped`);
  clock.dispose();
  const torch = runTorch(o, layers, torchModes, trainModels, Math.max(o.budgetS - elapsed(), o.budgetS / 3));
  if (torch.conv && Object.keys(torch.conv).length) {
    for (const [key, v] of Object.entries(torch.conv)) {
      const [mode, li, dir] = key.split('|');
      const row = rows[Number(li) * DIRS.length + DIRS.indexOf(dir as Dir)];
      if (row) row.torch[mode as 'tf32' | 'fp32'] = v.ms ? { ms: v.ms, tflops: row.flops / (v.ms / 1e3) / 1e12 } : { note: v.note };
    }
  }
  if (!torch.ok || torch.note) log(`PyTorch: ${torch.note ?? 'no result'}`);
  const torchOk = rows.some((r) => r.torch.tf32?.ms !== undefined);

  // ---- summary: whole-network conv time (layers x count, fwd + bwd), ratios vs PyTorch
  const nets = [...new Set(layers.map((l) => l.net))];
  interface NetSummary {
    net: string;
    ours: Partial<Record<OurMode, { ms?: number; tflops?: number }>>;
    torch: Partial<Record<'tf32' | 'fp32', { ms?: number; tflops?: number }>>;
    /** PyTorch total time / our total time, per our mode (fp32 against PyTorch fp32). */
    ratio: Partial<Record<OurMode, number>>;
    /** Geometric mean of the per-layer-and-direction ratios. */
    geomeanRatio: Partial<Record<OurMode, number>>;
  }
  const summary: NetSummary[] = nets.map((net) => {
    const s: NetSummary = { net, ours: {}, torch: {}, ratio: {}, geomeanRatio: {} };
    const netRows = rows.filter((r) => r.net === net);
    for (const m of modes) s.ours[m] = totals(rows, net, (r) => r.ours[m]);
    for (const tm of torchModes) s.torch[tm as 'tf32' | 'fp32'] = totals(rows, net, (r) => r.torch[tm as 'tf32' | 'fp32']);
    for (const m of modes) {
      const tm = m === 'fp32' ? 'fp32' : 'tf32';
      const rt = ratio(s.torch[tm]?.ms, s.ours[m]?.ms);
      if (rt !== undefined) s.ratio[m] = rt;
      const g = geomean(netRows.map((r) => ratio(r.torch[tm]?.ms, r.ours[m]?.ms)).filter((x): x is number => !!x));
      if (g !== undefined) s.geomeanRatio[m] = g;
    }
    return s;
  });
  result.modes = modes;
  result.rows = rows;
  result.summary = summary;
  result.train = trainReport(torch);
  result.trainVariants = variantReport(torch);
  result.torch = { ok: torch.ok, note: torch.note, info: torch.info };
  result.elapsedS = elapsed();
  write();

  const md: string[] = [];
  md.push(`## cudnn-node GPU benchmark: ${info.deviceName || o.backend}, batch ${o.batch}`);
  md.push(`cuDNN ${info.cudnnVersion ?? '?'}, cuBLAS ${info.cublasVersion ?? '?'}; PyTorch: ${torch.ok ? JSON.stringify(torch.info) : torch.note}`);
  md.push('ratio = PyTorch time / our time (> 1: cudnn-node faster); heur = defaults (TF32, heuristics), tuned = TF32 + autotune, graph / graphTuned = the same on the cuDNN graph API; PyTorch: cudnn.benchmark, channels_last, TF32 allowed.');
  md.push('');
  md.push(table(rows, modes, torchOk));
  md.push('');
  for (const s of summary) {
    const parts: string[] = [];
    for (const m of modes) parts.push(`ours ${m} ${fmt(s.ours[m]?.tflops)} TFLOP/s`);
    if (torchOk) {
      parts.push(`torch ${fmt(s.torch.tf32?.tflops)} TFLOP/s`);
      parts.push(`ratio ${modes.map((m) => `${m} ${fmt(s.ratio[m])}`).join(' / ')} (geomean per layer ${modes.map((m) => fmt(s.geomeanRatio[m])).join(' / ')})`);
    }
    md.push(`- ${s.net}, all conv layers x count, fwd+bwd: ${parts.join(', ')}`);
  }
  for (const k of Object.keys(train) as TrainModel[]) {
    const ours = train[k]!, theirs = torch.train?.[k];
    md.push(
      `- ${TRAIN[k].label} train step, batch ${o.batch}: ours ${fmt(ours.ms)} ms (${fmt(ours.imagesPerSec, 0)} img/s, first step ${fmt(ours.firstStepS, 1)} s)` +
        (ours.note ? ` [${ours.note}]` : '') +
        (theirs ? `, PyTorch ${fmt(theirs.ms)} ms${theirs.note ? ` [${theirs.note}]` : ''}, ratio ${fmt(ratio(theirs.ms, ours.ms))}` : '') +
        (TRAIN[k].policy && train.fashion?.ms && ours.ms ? `; ${fmt(train.fashion.ms / ours.ms)}x our float32 step` : ''),
    );
    const p = ours.profile;
    if (p) {
      md.push(`  - profiled step: ${fmt(p.wallMs)} ms wall, ${fmt(p.kernelMs)} ms in ${p.kernels} kernels; ${p.top.map((t) => `${t.name} ${fmt(t.ms)} ms/${t.calls}`).join(', ')}`);
      md.push(`  - busiest convs: ${p.convTop.map((c) => `${c.name} ${c.shapes} ${fmt(c.ms)} ms/${c.calls} [${c.impl}]`).join('; ')}`);
    }
  }
  for (const v of STEP_VARIANTS) {
    const t = variants[v.key], theirs = torch.train?.resnet34;
    if (!t) continue;
    md.push(
      `- ${TRAIN.resnet34.label} train step, ${v.label}: ours ${fmt(t.ms)} ms${t.note ? ` [${t.note}]` : ''} (default ${fmt(train.resnet34?.ms)} ms)` +
        (theirs?.ms ? `, ratio ${fmt(ratio(theirs.ms, t.ms))}` : ''),
    );
  }
  if (memOps.length) md.push(`- memory-bound ops, batch ${o.batch}: ${memOps.map((r) => `${r.name} ${fmt(r.ms, 3)} ms (${fmt(r.gbps, 0)} GB/s)${r.note ? ` [${r.note}]` : ''}`).join('; ')}`);
  md.push(`- ${fmt(elapsed(), 0)} s; JSON: ${o.json}`);
  console.log(md.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
