// compile / fit / fitDataset / evaluate / predict. Each kind of step (train, eval,
// predict) is traced once per input shape by compile() into a native plan: forward pass,
// loss, backprop over the trainable weights, optimizer updates and batch-norm moving-stat
// assignments, metrics. fit() runs one plan call per batch on a worker thread, so a step
// crosses into native code once and the event loop stays free for the progress bar.
import { CompiledFunction, compile as compilePlan } from '../compiler/compile.js';
import { dispose } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { backprop, recordTape } from '../gradients.js';
import type { Layer } from '../layers/base.js';
import { Activation, Dense } from '../layers/core.js';
import { Conv2D, DepthwiseConv2D, SeparableConv2D } from '../layers/convolutional.js';
import { getActivation } from '../layers/activations.js';
import { Random, nextSeed } from '../layers/initializers.js';
import { getLoss } from '../losses/index.js';
import type { Loss, LossFn } from '../losses/index.js';
import { getMetric } from '../metrics/index.js';
import type { Metric, MetricFn } from '../metrics/index.js';
import * as ops from '../ops/index.js';
import { getOptimizer, Optimizer } from '../optimizers/index.js';
import type { GradientPair } from '../optimizers/index.js';
import { DType, Tensor, Variable } from '../tensor.js';
import { Callback, CallbackList, History, Logs, toCallbacks } from './callbacks.js';
import type { CustomCallbackArgs } from './callbacks.js';
import type { LayersModel } from './functional.js';
import { ProgressLogger } from './progress.js';

/** One tensor, a list (in model.inputs / outputs order), or a record by input / output name. */
export type TensorInputs = Tensor | Tensor[] | Record<string, Tensor>;

type LossIdentifier = string | LossFn;
type MetricIdentifier = string | MetricFn;

/** Arguments of model.compile() (tfjs' ModelCompileArgs). */
export interface CompileArgs {
  /** 'sgd', 'adam', 'nadam', 'rmsprop' (Keras defaults) or an Optimizer. */
  optimizer: string | Optimizer;
  /** A loss name or function, or one per output (array or record by output name). */
  loss: LossIdentifier | LossIdentifier[] | Record<string, LossIdentifier>;
  /** Weights of the outputs' losses in the total loss. */
  lossWeights?: number[] | Record<string, number>;
  /** Metrics for every output, or per output (record by output name, or array of arrays). */
  metrics?: MetricIdentifier[] | MetricIdentifier[][] | Record<string, MetricIdentifier | MetricIdentifier[]>;
}

/** @internal the compiled training configuration. */
export interface CompiledState {
  optimizer: Optimizer;
  /** Whether compile() created the optimizer (from a name), so the model disposes it. */
  ownsOptimizer: boolean;
  losses: Loss[];
  lossWeights: number[];
  metricIds: MetricIdentifier[][];
  /** Trainable weights snapshotted at compile() (or at the first fit of an unbuilt model). */
  trainableVars: Variable[] | null;
  /** Per output: compute the loss from logits (the output's softmax/sigmoid fused into it). */
  logits: boolean[] | null;
  /** The arguments, for model.json. */
  config: { loss: unknown; metrics: unknown; lossWeights?: unknown; optimizer: unknown };
}

/** Arguments of model.fit(x, y, args) (tfjs' ModelFitArgs). */
export interface FitArgs {
  /** Train until this epoch index (Keras: epochs initialEpoch .. epochs - 1 run); default 1. */
  epochs?: number;
  /** Samples per step (default 32). */
  batchSize?: number;
  /** 0 silent, 1 (default) a progress bar on a terminal, 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Callback instances, or objects of hook functions (onEpochEnd, ...). */
  callbacks?: Callback | Callback[] | CustomCallbackArgs | Array<Callback | CustomCallbackArgs>;
  /** Held-out data evaluated after each epoch ([x, y]). */
  validationData?: [TensorInputs, TensorInputs];
  /** Fraction of the data (taken from the end, before shuffling) to hold out. */
  validationSplit?: number;
  /** Shuffle the training samples each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the per-epoch shuffles (default: from setRandomSeed / random). */
  seed?: number;
  /** Epoch to start from, to resume training (default 0). */
  initialEpoch?: number;
}

/** Arguments of model.fitDataset(dataset, args) (tfjs' ModelFitDatasetArgs). */
export interface FitDatasetArgs {
  /** Train until this epoch index (Keras: epochs initialEpoch .. epochs - 1 run); default 1. */
  epochs?: number;
  /** Batches per epoch (default: one pass over the dataset). */
  batchesPerEpoch?: number;
  /** 0 silent, 1 (default) a progress bar on a terminal, 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Callback instances, or objects of hook functions (onEpochEnd, ...). */
  callbacks?: Callback | Callback[] | CustomCallbackArgs | Array<Callback | CustomCallbackArgs>;
  /** A dataset, or [x, y] tensors, evaluated after each epoch. */
  validationData?: DatasetLike | [TensorInputs, TensorInputs];
  /** Batches of a validation dataset to evaluate (default: all of them). */
  validationBatches?: number;
  /** Batch size for [x, y] validation tensors (default 32). */
  validationBatchSize?: number;
  /** Epoch to start from, to resume training (default 0). */
  initialEpoch?: number;
}

/** Arguments of model.evaluate() (tfjs' ModelEvaluateArgs). */
export interface EvaluateArgs {
  /** Samples per step (default 32). */
  batchSize?: number;
  /** Accepted for tfjs compatibility; evaluate prints nothing. */
  verbose?: number;
}
/** Arguments of model.predict() (tfjs' ModelPredictArgs). */
export interface PredictArgs {
  /** Samples per step (default 32). */
  batchSize?: number;
  /** Accepted for tfjs compatibility; predict prints nothing. */
  verbose?: number;
}

/** An async iterable of {xs, ys} (or [xs, ys]) batches, such as data.Dataset. */
export type DatasetLike = AsyncIterable<unknown> & { size?: number | null };

// ---- compile

function perOutput<T>(v: T | T[] | Record<string, T>, names: string[], what: string, isLeaf: (x: unknown) => boolean): T[] {
  if (isLeaf(v)) return names.map(() => v as T);
  if (Array.isArray(v)) {
    check(v.length === names.length, 'compile', `${what} for each of the ${names.length} outputs`, `${v.length}`);
    return v;
  }
  if (v && typeof v === 'object') {
    const rec = v as Record<string, T>;
    for (const k of Object.keys(rec)) if (!names.includes(k)) throw new InvalidArgumentError(`compile: expected ${what} keyed by output names (${names.join(', ')}) but received key '${k}'`);
    return names.map((n) => {
      if (!(n in rec)) throw new InvalidArgumentError(`compile: expected ${what} for output '${n}' but received none`);
      return rec[n];
    });
  }
  throw new InvalidArgumentError(`compile: expected ${what} but received ${describe(v)}`);
}

/** Sets up training; see LayersModel.compile. */
export function compile(model: LayersModel, args: CompileArgs): void {
  check(args && typeof args === 'object', 'compile', '{optimizer, loss, metrics?}', args);
  check(args.loss !== undefined, 'compile', 'a loss', args.loss);
  const names = model.outputs.length ? model.outputNames : ['output'];
  const optimizer = getOptimizer(args.optimizer ?? 'rmsprop');
  const lossIds = perOutput<LossIdentifier>(args.loss, names, 'a loss', (x) => typeof x === 'string' || typeof x === 'function');
  const losses = lossIds.map((l) => getLoss(l));
  const lossWeights = args.lossWeights === undefined ? names.map(() => 1) : perOutput<number>(args.lossWeights, names, 'a loss weight', (x) => typeof x === 'number');
  lossWeights.forEach((w) => check(typeof w === 'number' && Number.isFinite(w), 'compile', 'finite loss weights', lossWeights));
  let metricIds: MetricIdentifier[][];
  const m = args.metrics;
  if (m === undefined || m === null) metricIds = names.map(() => []);
  else if (Array.isArray(m) && m.every((x) => typeof x === 'string' || typeof x === 'function')) metricIds = names.map(() => m as MetricIdentifier[]);
  else if (Array.isArray(m)) metricIds = perOutput(m as MetricIdentifier[][], names, 'metrics', () => false);
  else if (typeof m === 'object') {
    const rec = m as Record<string, MetricIdentifier | MetricIdentifier[]>;
    for (const k of Object.keys(rec)) if (!names.includes(k)) throw new InvalidArgumentError(`compile: expected metrics keyed by output names (${names.join(', ')}) but received key '${k}'`);
    metricIds = names.map((n) => (rec[n] === undefined ? [] : Array.isArray(rec[n]) ? (rec[n] as MetricIdentifier[]) : [rec[n] as MetricIdentifier]));
  } else throw new InvalidArgumentError(`compile: expected metrics as an array or a record by output name but received ${describe(m)}`);
  // Validate metric names now (resolution against shapes happens when tracing).
  metricIds.forEach((ids, k) => ids.forEach((id) => getMetric(id, losses[k], { yTrue: [1], yPred: [1, 2] })));

  const prev = model.compiled;
  disposePlans(model);
  if (prev && prev.ownsOptimizer && prev.optimizer !== optimizer) prev.optimizer.dispose();
  model.compiled = {
    optimizer,
    ownsOptimizer: !(args.optimizer instanceof Optimizer),
    losses,
    lossWeights,
    metricIds,
    trainableVars: null,
    logits: null,
    config: {
      loss: lossIds.map((l) => (typeof l === 'string' ? l : getLoss(l).lossName)),
      metrics: metricIds.map((ids) => ids.map((id) => (typeof id === 'string' ? id : getMetric(id).metricName))),
      lossWeights,
      optimizer: optimizer.toSpec(),
    },
  };
  if (model.inputs.length) prepare(model, model.compiled);
}

/** Snapshots trainable weights, builds optimizer slots (before any trace), picks fused outputs. */
function prepare(model: LayersModel, st: CompiledState): void {
  if (st.trainableVars) return;
  check(st.losses.length === model.outputs.length, 'compile', `one loss per output (${model.outputs.length})`, `${st.losses.length}`);
  st.trainableVars = model.trainableWeights;
  st.optimizer.build(st.trainableVars);
  st.logits = model.outputs.map((_, k) => fusedLogits(model, k, st.losses[k]));
}

const SKIPPABLE = [Dense, Conv2D, DepthwiseConv2D, SeparableConv2D, Activation];

/**
 * Note [fused logits]: when an output comes from a softmax (sigmoid) layer and the loss has
 * a from-logits form, the train and eval steps stop before the activation and use the fused
 * loss: faster and stable, and equal to Keras' value up to Keras' probability clipping.
 */
function fusedLogits(model: LayersModel, k: number, loss: Loss): boolean {
  if (!loss.fromLogits || !loss.logitsActivation) return false;
  const t = model.outputs[k];
  const layer = t.sourceLayer as Layer & { activation?: string };
  if (!SKIPPABLE.some((c) => layer instanceof c) || layer.activation !== loss.logitsActivation) return false;
  if (model.outputs.filter((o) => o === t).length > 1) return false;
  return !model.nodes.some((n) => n.inputTensors.includes(t));
}

function requireCompiled(model: LayersModel, op: string): CompiledState {
  if (!model.compiled) throw new InvalidArgumentError(`${op}: expected a compiled model but received '${model.name}' (call model.compile({optimizer, loss}) first)`);
  return model.compiled;
}

// ---- plans

const PLAN_CACHE_SIZE = 8;
const planCaches = new WeakMap<LayersModel, Map<string, CompiledFunction>>();

/** Frees every cached plan of a model. */
export function disposePlans(model: LayersModel): void {
  const cache = planCaches.get(model);
  if (!cache) return;
  for (const p of cache.values()) p.dispose();
  cache.clear();
}

/** @internal frees the optimizer state too when compile() created the optimizer. */
export function disposeCompiled(st: CompiledState): void {
  if (st.ownsOptimizer) st.optimizer.dispose();
}

interface Spec {
  shape: number[];
  dtype: DType;
}

/** The plan for a step kind and feed shapes: traced at first use, then cached (LRU). */
function getPlan(model: LayersModel, kind: 'train' | 'eval' | 'predict', feeds: Spec[], nIn: number): CompiledFunction {
  let cache = planCaches.get(model);
  if (!cache) planCaches.set(model, (cache = new Map()));
  const key = `${kind}|${feeds.map((f) => `${f.shape.join('x')}:${f.dtype}`).join('|')}`;
  let plan = cache.get(key);
  if (plan) {
    cache.delete(key);
    cache.set(key, plan);
    return plan;
  }
  const fn = kind === 'train' ? trainStep(model, nIn) : kind === 'eval' ? evalStep(model, nIn) : predictStep(model);
  plan = compilePlan(fn, feeds.map((f) => ({ shape: f.shape, dtype: f.dtype })));
  cache.set(key, plan);
  if (cache.size > PLAN_CACHE_SIZE) {
    const [oldKey, old] = cache.entries().next().value as [string, CompiledFunction];
    cache.delete(oldKey);
    old.dispose();
  }
  return plan;
}

interface Forward {
  total: Tensor;
  perOutput: Tensor[];
  outs: Tensor[];
}

function forwardLoss(model: LayersModel, st: CompiledState, xs: Tensor[], ys: Tensor[], training: boolean): Forward {
  const outs = model.execute(xs, { training, logits: st.logits ?? undefined });
  const perOutput = outs.map((o, k) => {
    const l = st.logits?.[k] ? st.losses[k].fromLogits!(ys[k], o) : st.losses[k](ys[k], o);
    return l.size === 1 ? (l.rank ? ops.reshape(l, []) : l) : ops.mean(l);
  });
  let total = perOutput[0];
  if (perOutput.length > 1 || st.lossWeights[0] !== 1)
    total = perOutput.map((l, k) => (st.lossWeights[k] === 1 ? l : ops.mul(l, st.lossWeights[k]))).reduce((a, b) => ops.add(a, b));
  return { total, perOutput, outs };
}

function metricValues(model: LayersModel, st: CompiledState, ys: Tensor[], outs: Tensor[]): Tensor[] {
  const vals: Tensor[] = [];
  outs.forEach((o, k) => {
    if (!st.metricIds[k].length) return;
    const layer = model.outputs[k].sourceLayer as unknown as { activation: string };
    const pred = st.logits?.[k] ? getActivation(layer.activation)(o) : o;
    for (const id of st.metricIds[k]) {
      const m: Metric = getMetric(id, st.losses[k], { yTrue: ys[k].shape, yPred: pred.shape });
      const v = m(ys[k], pred);
      vals.push(v.size === 1 ? (v.rank ? ops.reshape(v, []) : v) : ops.mean(v));
    }
  });
  return vals;
}

/** Names of the values a train / eval step returns, in order (History keys). */
export function logNames(model: LayersModel, st: CompiledState): string[] {
  const names = ['loss'];
  const outs = model.outputNames;
  const multi = outs.length > 1;
  if (multi) outs.forEach((n) => names.push(`${n}_loss`));
  st.metricIds.forEach((ids, k) =>
    ids.forEach((id) => names.push(`${multi ? `${outs[k]}_` : ''}${typeof id === 'string' ? id : getMetric(id).metricName}`)),
  );
  return names;
}

function stepOutputs(f: Forward, mets: Tensor[]): Tensor[] {
  return [f.total, ...(f.perOutput.length > 1 ? f.perOutput : []), ...mets];
}

function trainStep(model: LayersModel, nIn: number) {
  const st = model.compiled!;
  return (...inputs: Tensor[]): Tensor[] => {
    const xs = inputs.slice(0, nIn);
    const ys = inputs.slice(nIn);
    const { value: f, tape } = recordTape(() => forwardLoss(model, st, xs, ys, true));
    const vars = st.trainableVars!;
    const grads = backprop(tape, vars, f.total, ops.onesLike(f.total));
    const mets = metricValues(model, st, ys, f.outs);
    const pairs = vars.map((v, i) => ({ variable: v, grad: grads[i] })).filter((p): p is GradientPair => p.grad !== null);
    if (pairs.length) st.optimizer.applyGradients(pairs);
    return stepOutputs(f, mets);
  };
}

function evalStep(model: LayersModel, nIn: number) {
  const st = model.compiled!;
  return (...inputs: Tensor[]): Tensor[] => {
    const ys = inputs.slice(nIn);
    const f = forwardLoss(model, st, inputs.slice(0, nIn), ys, false);
    return stepOutputs(f, metricValues(model, st, ys, f.outs));
  };
}

function predictStep(model: LayersModel) {
  return (...xs: Tensor[]): Tensor[] => model.execute(xs, { training: false });
}

// ---- host-side data

type HostTyped = Float32Array | Int32Array | Uint8Array;

/** A dataset array on the host, from which batches (shuffled rows) are cut. */
class HostArray {
  readonly n: number;
  readonly row: number;
  constructor(
    readonly data: HostTyped,
    readonly shape: number[],
    readonly dtype: DType,
  ) {
    this.n = shape[0];
    this.row = shape.slice(1).reduce((a, b) => a * b, 1);
  }
  static from(t: Tensor): HostArray {
    check(t.rank >= 1, 'fit', 'tensors with a batch dimension', t.shape);
    return new HostArray(t.dataSync() as HostTyped, t.shape.slice(), t.dtype);
  }
  /** Rows [start, end) (a view). */
  slice(start: number, end: number): HostArray {
    return new HostArray(this.data.subarray(start * this.row, end * this.row), [end - start, ...this.shape.slice(1)], this.dtype);
  }
  /** Rows order[start..end) (or start..end when order is null) as a new tensor. */
  batch(order: Int32Array | null, start: number, end: number): Tensor {
    const b = end - start;
    const shape = [b, ...this.shape.slice(1)];
    if (!order) return ops.tensor(this.data.subarray(start * this.row, end * this.row), shape, this.dtype);
    const Ctor = this.data.constructor as { new (n: number): HostTyped };
    const out = new Ctor(b * this.row);
    const r = this.row;
    for (let i = 0; i < b; i++) {
      const s = order[start + i] * r;
      out.set(this.data.subarray(s, s + r), i * r);
    }
    return ops.tensor(out, shape, this.dtype);
  }
}

/** Tensors in model input/output order from a tensor, list or record. */
function toList(v: TensorInputs, names: string[], what: string, op: string): Tensor[] {
  let list: Tensor[];
  if (v instanceof Tensor) list = [v];
  else if (Array.isArray(v)) list = v;
  else if (v && typeof v === 'object') {
    const rec = v as Record<string, Tensor>;
    list = names.map((n) => {
      if (!(rec[n] instanceof Tensor)) throw new InvalidArgumentError(`${op}: expected ${what} for '${n}' but received ${describe(rec[n])}`);
      return rec[n];
    });
  } else throw new InvalidArgumentError(`${op}: expected ${what} as a Tensor, an array or a record by name but received ${describe(v)}`);
  check(list.length === names.length, op, `${names.length} ${what} tensor(s) (${names.join(', ')})`, `${list.length}`);
  list.forEach((t, i) => {
    check(t instanceof Tensor, op, `${what} tensors`, t);
    t.liveHandle(op);
    check(t.rank >= 1, op, `${what} ${i} with a batch dimension`, t.shape);
  });
  return list;
}

function sampleCount(lists: Tensor[][], op: string): number {
  const n = lists[0][0].shape[0];
  for (const l of lists)
    for (const t of l)
      if (t.shape[0] !== n) throw new InvalidArgumentError(`${op}: expected every x and y to have the same number of samples (${n}) but received shape [${t.shape}]`);
  return n;
}

/** Running means weighted by batch size (Keras' metric trackers). */
class Accumulator {
  private sums: number[];
  private count = 0;
  constructor(readonly names: string[]) {
    this.sums = names.map(() => 0);
  }
  add(vals: number[], n: number): void {
    vals.forEach((v, i) => (this.sums[i] += v * n));
    this.count += n;
  }
  means(): number[] {
    return this.sums.map((s) => s / Math.max(1, this.count));
  }
  logs(prefix = ''): Logs {
    const out: Logs = {};
    const m = this.means();
    this.names.forEach((k, i) => (out[prefix + k] = m[i]));
    return out;
  }
}

function readScalars(outs: Tensor[]): number[] {
  try {
    return outs.map((o) => o.dataSync()[0]);
  } finally {
    dispose(outs);
  }
}

// A loop body yields (plan, feeds) and receives the outputs; driven sync or async.
type Loop<R> = Generator<[CompiledFunction, Tensor[]], R, Tensor[]>;

function driveSync<R>(g: Loop<R>): R {
  let r = g.next(undefined as never);
  while (!r.done) {
    const [plan, feeds] = r.value;
    let outs: Tensor[];
    try {
      outs = plan.runSync(feeds);
    } catch (e) {
      dispose(feeds);
      g.return(undefined as never);
      throw e;
    }
    dispose(feeds);
    r = g.next(outs);
  }
  return r.value;
}

async function driveAsync<R>(g: Loop<R>): Promise<R> {
  let r = g.next(undefined as never);
  while (!r.done) {
    const [plan, feeds] = r.value;
    let outs: Tensor[];
    try {
      outs = await plan.run(feeds);
    } catch (e) {
      dispose(feeds);
      g.return(undefined as never);
      throw e;
    }
    dispose(feeds);
    r = g.next(outs);
  }
  return r.value;
}

function* evalLoop(model: LayersModel, hx: HostArray[], hy: HostArray[], batchSize: number): Loop<number[]> {
  const st = model.compiled!;
  const n = hx[0].n;
  check(n > 0, 'evaluate', 'at least one sample', n);
  const acc = new Accumulator(logNames(model, st));
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const feeds = [...hx, ...hy].map((h) => h.batch(null, start, end));
    const plan = getPlan(model, 'eval', feeds, hx.length);
    const outs = yield [plan, feeds];
    acc.add(readScalars(outs), end - start);
  }
  return acc.means();
}

function* predictLoop(model: LayersModel, hx: HostArray[], batchSize: number): Loop<Tensor[]> {
  const n = hx[0].n;
  check(n > 0, 'predict', 'at least one sample', n);
  let results: { data: HostTyped; shape: number[]; dtype: DType }[] | null = null;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const feeds = hx.map((h) => h.batch(null, start, end));
    const plan = getPlan(model, 'predict', feeds, hx.length);
    const outs = yield [plan, feeds];
    try {
      results ??= outs.map((o) => {
        const row = o.shape.slice(1).reduce((a, b) => a * b, 1);
        const Ctor = o.dtype === 'int32' ? Int32Array : o.dtype === 'bool' ? Uint8Array : Float32Array;
        return { data: new Ctor(n * row), shape: [n, ...o.shape.slice(1)], dtype: o.dtype };
      });
      outs.forEach((o, k) => results![k].data.set(o.dataSync() as HostTyped, start * (results![k].data.length / n)));
    } finally {
      dispose(outs);
    }
  }
  return results!.map((r) => ops.tensor(r.data, r.shape, r.dtype));
}

function checkBatchSize(b: unknown, op: string): number {
  check(typeof b === 'number' && Number.isInteger(b) && b >= 1, op, 'batchSize as a positive integer', b);
  return b as number;
}

// ---- public entry points

function prepareData(model: LayersModel, op: string, x: TensorInputs, y?: TensorInputs): { xs: Tensor[]; ys: Tensor[] } {
  if (!model.inputs.length) {
    const probe = x instanceof Tensor ? [x] : Array.isArray(x) ? x : [];
    model.autoBuild(probe.map((t) => t.shape));
  }
  model.ensureGraph(op);
  const xs = toList(x, model.inputNames, 'x', op);
  const ys = y === undefined ? [] : toList(y, model.outputNames, 'y', op);
  sampleCount(ys.length ? [xs, ys] : [xs], op);
  return { xs, ys };
}

/** See LayersModel.fit. */
export async function fit(model: LayersModel, x: TensorInputs, y: TensorInputs, args: FitArgs = {}): Promise<History> {
  const op = 'fit';
  const st = requireCompiled(model, op);
  const { xs, ys } = prepareData(model, op, x, y);
  prepare(model, st);
  const epochs = args.epochs ?? 1;
  const batchSize = checkBatchSize(args.batchSize ?? 32, op);
  const verbose = args.verbose ?? 1;
  check(Number.isInteger(epochs) && epochs >= 0, op, 'epochs as an integer >= 0', args.epochs);
  const split = args.validationSplit ?? 0;
  check(typeof split === 'number' && split >= 0 && split < 1, op, 'validationSplit in [0, 1)', args.validationSplit);

  let hx = xs.map(HostArray.from);
  let hy = ys.map(HostArray.from);
  let vx: HostArray[] | null = null;
  let vy: HostArray[] | null = null;
  if (args.validationData) {
    check(Array.isArray(args.validationData) && args.validationData.length === 2, op, 'validationData as [x, y]', args.validationData);
    const v = prepareData(model, op, args.validationData[0], args.validationData[1]);
    vx = v.xs.map(HostArray.from);
    vy = v.ys.map(HostArray.from);
  } else if (split > 0) {
    const n = hx[0].n;
    const at = Math.floor(n * (1 - split));
    check(at > 0 && at < n, op, `a validationSplit that leaves samples on both sides (${n} samples)`, split);
    vx = hx.map((h) => h.slice(at, n));
    vy = hy.map((h) => h.slice(at, n));
    hx = hx.map((h) => h.slice(0, at));
    hy = hy.map((h) => h.slice(0, at));
  }
  const n = hx[0].n;
  check(n > 0, op, 'at least one training sample', n);
  const steps = Math.ceil(n / batchSize);
  const rng = new Random(args.seed ?? nextSeed());
  const names = logNames(model, st);

  const history = new History();
  // Keras' order: user callbacks, then History, then the progress output.
  const list: Callback[] = [...toCallbacks(args.callbacks), history];
  if (verbose) list.push(new ProgressLogger(verbose));
  const cbs = new CallbackList(list);
  cbs.setModel(model);
  cbs.setParams({ epochs, steps, samples: n, batchSize, verbose, doValidation: !!vx, metrics: names });
  model.stopTraining = false;
  await cbs.onTrainBegin();
  for (let epoch = args.initialEpoch ?? 0; epoch < epochs; epoch++) {
    await cbs.onEpochBegin(epoch);
    const order = args.shuffle === false ? null : rng.permutation(n);
    const acc = new Accumulator(names);
    const makeFeeds = (s: number) => [...hx, ...hy].map((h) => h.batch(order, s * batchSize, Math.min(n, (s + 1) * batchSize)));
    let next: Tensor[] | null = makeFeeds(0);
    for (let s = 0; s < steps; s++) {
      const feeds: Tensor[] = next!;
      next = null;
      const size = feeds[0].shape[0];
      let outs: Tensor[];
      try {
        await cbs.onBatchBegin(s, { batch: s, size });
        const run = getPlan(model, 'train', feeds, hx.length).run(feeds);
        // Cut the next batch while this step runs on the worker thread.
        if (s + 1 < steps) next = makeFeeds(s + 1);
        outs = await run;
      } catch (e) {
        dispose(next);
        throw e;
      } finally {
        dispose(feeds);
      }
      acc.add(readScalars(outs), size);
      await cbs.onBatchEnd(s, acc.logs());
      if (model.stopTraining) break;
    }
    dispose(next);
    const logs = acc.logs();
    if (vx && vy) {
      const v = await driveAsync(evalLoop(model, vx, vy, batchSize));
      names.forEach((k, i) => (logs[`val_${k}`] = v[i]));
    }
    await cbs.onEpochEnd(epoch, logs);
    if (model.stopTraining) break;
  }
  await cbs.onTrainEnd();
  model.history = history;
  return history;
}

function elementParts(el: unknown, op: string): { x: TensorInputs; y: TensorInputs } {
  if (Array.isArray(el) && el.length === 2) return { x: el[0] as TensorInputs, y: el[1] as TensorInputs };
  if (el && typeof el === 'object' && 'xs' in el && 'ys' in el) return { x: (el as { xs: TensorInputs }).xs, y: (el as { ys: TensorInputs }).ys };
  throw new InvalidArgumentError(`${op}: expected dataset elements {xs, ys} (or [xs, ys]) but received ${describe(el)}`);
}

async function runDatasetBatch(model: LayersModel, kind: 'train' | 'eval', el: unknown, op: string): Promise<{ vals: number[]; size: number }> {
  const { x, y } = elementParts(el, op);
  try {
    const { xs, ys } = prepareData(model, op, x, y);
    const feeds = [...xs, ...ys];
    const plan = getPlan(model, kind, feeds, xs.length);
    const outs = await plan.run(feeds);
    return { vals: readScalars(outs), size: xs[0].shape[0] };
  } finally {
    dispose(el);
  }
}

/** See LayersModel.fitDataset. */
export async function fitDataset(model: LayersModel, dataset: DatasetLike, args: FitDatasetArgs = {}): Promise<History> {
  const op = 'fitDataset';
  const st = requireCompiled(model, op);
  check(dataset && typeof (dataset as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function', op, 'an async iterable dataset', dataset);
  const epochs = args.epochs ?? 1;
  const verbose = args.verbose ?? 1;
  const perEpoch = args.batchesPerEpoch;
  check(perEpoch === undefined || (Number.isInteger(perEpoch) && perEpoch > 0), op, 'batchesPerEpoch as a positive integer', perEpoch);
  const size = dataset.size;
  const steps = perEpoch ?? (typeof size === 'number' && Number.isFinite(size) ? size : null);
  const history = new History();
  // Keras' order: user callbacks, then History, then the progress output.
  const list: Callback[] = [...toCallbacks(args.callbacks), history];
  if (verbose) list.push(new ProgressLogger(verbose));
  const cbs = new CallbackList(list);
  cbs.setModel(model);
  model.stopTraining = false;
  let names: string[] | null = null;
  let iterator: AsyncIterator<unknown> | null = null;
  cbs.setParams({ epochs, steps, verbose, doValidation: !!args.validationData });
  await cbs.onTrainBegin();
  for (let epoch = args.initialEpoch ?? 0; epoch < epochs; epoch++) {
    await cbs.onEpochBegin(epoch);
    // Each epoch is a new pass, unless batchesPerEpoch splits one long stream into epochs.
    if (!iterator || perEpoch === undefined) iterator = dataset[Symbol.asyncIterator]();
    let acc: Accumulator | null = null;
    let b = 0;
    let exhausted = false;
    while (perEpoch === undefined || b < perEpoch) {
      const r = await iterator.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      await cbs.onBatchBegin(b, { batch: b });
      if (!names) {
        const { x } = elementParts(r.value, op);
        const probe = x instanceof Tensor ? [x] : Array.isArray(x) ? x : [];
        if (!model.inputs.length) model.autoBuild(probe.map((t) => t.shape));
        model.ensureGraph(op);
        prepare(model, st);
        names = logNames(model, st);
      }
      const { vals, size: n } = await runDatasetBatch(model, 'train', r.value, op);
      acc ??= new Accumulator(names);
      acc.add(vals, n);
      await cbs.onBatchEnd(b, acc.logs());
      b++;
      if (model.stopTraining) break;
    }
    if (exhausted && perEpoch !== undefined) {
      console.warn(`fitDataset: the dataset ran out after ${b} batches of epoch ${epoch + 1} (batchesPerEpoch ${perEpoch}); stopping`);
      iterator = null;
      model.stopTraining = true;
    }
    check(acc, op, 'a dataset with at least one batch', 'an empty one');
    const logs = acc.logs();
    if (args.validationData) {
      const v = Array.isArray(args.validationData)
        ? await evaluateValues(model, args.validationData[0], args.validationData[1], args.validationBatchSize ?? 32)
        : await evaluateDatasetValues(model, args.validationData, args.validationBatches);
      names!.forEach((k, i) => (logs[`val_${k}`] = v[i]));
    }
    await cbs.onEpochEnd(epoch, logs);
    if (model.stopTraining) break;
  }
  await cbs.onTrainEnd();
  model.history = history;
  return history;
}

async function evaluateValues(model: LayersModel, x: TensorInputs, y: TensorInputs, batchSize: number): Promise<number[]> {
  const st = requireCompiled(model, 'evaluate');
  const { xs, ys } = prepareData(model, 'evaluate', x, y);
  prepare(model, st);
  return driveAsync(evalLoop(model, xs.map(HostArray.from), ys.map(HostArray.from), batchSize));
}

async function evaluateDatasetValues(model: LayersModel, dataset: DatasetLike, batches?: number): Promise<number[]> {
  const op = 'evaluateDataset';
  const st = requireCompiled(model, op);
  let acc: Accumulator | null = null;
  let b = 0;
  for await (const el of dataset) {
    if (!acc) {
      const { x } = elementParts(el, op);
      const probe = x instanceof Tensor ? [x] : Array.isArray(x) ? x : [];
      if (!model.inputs.length) model.autoBuild(probe.map((t) => t.shape));
      model.ensureGraph(op);
      prepare(model, st);
      acc = new Accumulator(logNames(model, st));
    }
    const { vals, size } = await runDatasetBatch(model, 'eval', el, op);
    acc.add(vals, size);
    if (batches !== undefined && ++b >= batches) break;
  }
  check(acc, op, 'a dataset with at least one batch', 'an empty one');
  return acc.means();
}

function asScalars(vals: number[]): Tensor | Tensor[] {
  const ts = vals.map((v) => ops.scalar(v));
  return ts.length === 1 ? ts[0] : ts;
}

/** See LayersModel.evaluate. */
export function evaluate(model: LayersModel, x: TensorInputs, y: TensorInputs, args: EvaluateArgs = {}): Tensor | Tensor[] {
  const st = requireCompiled(model, 'evaluate');
  const { xs, ys } = prepareData(model, 'evaluate', x, y);
  prepare(model, st);
  const b = checkBatchSize(args.batchSize ?? 32, 'evaluate');
  return asScalars(driveSync(evalLoop(model, xs.map(HostArray.from), ys.map(HostArray.from), b)));
}

export async function evaluateAsync(model: LayersModel, x: TensorInputs, y: TensorInputs, args: EvaluateArgs = {}): Promise<Tensor | Tensor[]> {
  return asScalars(await evaluateValues(model, x, y, checkBatchSize(args.batchSize ?? 32, 'evaluate')));
}

export async function evaluateDataset(model: LayersModel, dataset: DatasetLike, args: { batches?: number } = {}): Promise<Tensor | Tensor[]> {
  return asScalars(await evaluateDatasetValues(model, dataset, args.batches));
}

/** See LayersModel.predict. */
export function predict(model: LayersModel, x: TensorInputs, args: PredictArgs = {}): Tensor | Tensor[] {
  const { xs } = prepareData(model, 'predict', x);
  const b = checkBatchSize(args.batchSize ?? 32, 'predict');
  const outs = driveSync(predictLoop(model, xs.map(HostArray.from), Math.min(b, xs[0].shape[0])));
  return outs.length === 1 ? outs[0] : outs;
}

export async function predictAsync(model: LayersModel, x: TensorInputs, args: PredictArgs = {}): Promise<Tensor | Tensor[]> {
  const { xs } = prepareData(model, 'predict', x);
  const b = checkBatchSize(args.batchSize ?? 32, 'predict');
  const outs = await driveAsync(predictLoop(model, xs.map(HostArray.from), Math.min(b, xs[0].shape[0])));
  return outs.length === 1 ? outs[0] : outs;
}

/** See LayersModel.trainOnBatch. */
export async function trainOnBatch(model: LayersModel, x: TensorInputs, y: TensorInputs): Promise<number | number[]> {
  const st = requireCompiled(model, 'trainOnBatch');
  const { xs, ys } = prepareData(model, 'trainOnBatch', x, y);
  prepare(model, st);
  const feeds = [...xs, ...ys];
  const plan = getPlan(model, 'train', feeds, xs.length);
  const vals = readScalars(await plan.run(feeds));
  return vals.length === 1 ? vals[0] : vals;
}
