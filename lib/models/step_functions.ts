// Step functions (Keras' trainer.make_train_function): the train, eval and predict steps
// that compile() traces into native plans, one plan per step kind and feed shapes, kept in
// a small per-model LRU cache. A train step is the forward pass, the loss, backprop over the
// trainable weights, the optimizer's updates and the batch-norm moving-stat assignments, and
// the metrics; an eval step the loss and metrics; a predict step the outputs.
import { CompiledFunction, compile as compilePlan } from '../compiler/compile.js';
import { backprop, recordTape } from '../gradients.js';
import { getActivation } from '../layers/activations.js';
import { getMetric } from '../metrics/index.js';
import type { Metric } from '../metrics/index.js';
import { isReducedPrecision } from '../dtypes.js';
import * as ops from '../ops/index.js';
import type { GradientPair } from '../optimizers/index.js';
import type { DType, Tensor } from '../tensor.js';
import type { CompiledState } from './compile_args.js';
import type { LayersModel } from './functional.js';

/** What a step computes. */
export type StepKind = 'train' | 'eval' | 'predict';

const PLAN_CACHE_SIZE = 8;
const planCaches = new WeakMap<LayersModel, Map<string, CompiledFunction>>();

/** Frees every cached plan of a model. */
export function disposePlans(model: LayersModel): void {
  const cache = planCaches.get(model);
  if (!cache) return;
  for (const p of cache.values()) p.dispose();
  cache.clear();
}

interface Spec {
  shape: number[];
  dtype: DType;
}

/** The plan for a step kind and feed shapes: traced at first use, then cached (LRU). */
export function getPlan(model: LayersModel, kind: StepKind, feeds: Spec[], nIn: number): CompiledFunction {
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

/**
 * Note [losses in float32]: as Keras, losses and metrics are computed in float32 whatever
 * the policy; a bfloat16 / float16 model output is cast once, here.
 */
function toFloat32(t: Tensor): Tensor {
  return isReducedPrecision(t.dtype) ? ops.cast(t, 'float32') : t;
}

function forwardLoss(model: LayersModel, st: CompiledState, xs: Tensor[], ys: Tensor[], training: boolean): Forward {
  const outs = model.execute(xs, { training, logits: st.logits ?? undefined }).map(toFloat32);
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
    // A fused output's step computed logits; its metrics see the activation's output.
    const pred = st.logits?.[k] ? getActivation(model.outputs[k].sourceLayer.skippableActivation()!)(o) : o;
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
    // Ones, or the loss scale under a LossScaleOptimizer (loss_scale.ts).
    const grads = backprop(tape, vars, f.total, st.optimizer.lossGradientSeed(f.total));
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
