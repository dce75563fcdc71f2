// Compile arguments (Keras' compile_utils): model.compile() normalizes the optimizer, the
// losses, their weights and the metrics, per output, into the CompiledState the step
// functions trace; prepare() snapshots the trainable weights and picks the outputs whose
// activation is fused into the loss.
import { InvalidArgumentError, check, describe } from '../errors.js';
import { getLoss } from '../losses/index.js';
import type { Loss, LossFn } from '../losses/index.js';
import { getMetric } from '../metrics/index.js';
import type { MetricFn } from '../metrics/index.js';
import { getOptimizer, LossScaleOptimizer, Optimizer } from '../optimizers/index.js';
import type { Variable } from '../tensor.js';
import type { LayersModel } from './functional.js';
import { disposePlans } from './step_functions.js';

export type LossIdentifier = string | LossFn;
export type MetricIdentifier = string | MetricFn;

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
  // Note [automatic loss scaling]: as Keras, a model with a 'mixed_float16' layer trains
  // with its optimizer wrapped in a LossScaleOptimizer (unless it is one already).
  let optimizer = getOptimizer(args.optimizer ?? 'rmsprop');
  if (model.layers.some((l) => l.dtypePolicy.name === 'mixed_float16') && !(optimizer instanceof LossScaleOptimizer))
    optimizer = new LossScaleOptimizer(optimizer, {}, !(args.optimizer instanceof Optimizer));
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
    ownsOptimizer: optimizer !== args.optimizer,
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
export function prepare(model: LayersModel, st: CompiledState): void {
  if (st.trainableVars) return;
  check(st.losses.length === model.outputs.length, 'compile', `one loss per output (${model.outputs.length})`, `${st.losses.length}`);
  st.trainableVars = model.trainableWeights;
  st.optimizer.build(st.trainableVars);
  st.logits = model.outputs.map((_, k) => fusedLogits(model, k, st.losses[k]));
}

/**
 * Note [fused logits]: when an output comes from a softmax (sigmoid) layer and the loss has
 * a from-logits form, the train and eval steps stop before the activation and use the fused
 * loss: faster and stable, and equal to Keras' value up to Keras' probability clipping.
 * A layer says itself which activation it can leave out (Layer.skippableActivation), so no
 * layer class is named here.
 */
function fusedLogits(model: LayersModel, k: number, loss: Loss): boolean {
  if (!loss.fromLogits || !loss.logitsActivation) return false;
  const t = model.outputs[k];
  if (t.sourceLayer.skippableActivation() !== loss.logitsActivation) return false;
  if (model.outputs.filter((o) => o === t).length > 1) return false;
  return !model.nodes.some((n) => n.inputTensors.includes(t));
}

export function requireCompiled(model: LayersModel, op: string): CompiledState {
  if (!model.compiled) throw new InvalidArgumentError(`${op}: expected a compiled model but received '${model.name}' (call model.compile({optimizer, loss}) first)`);
  return model.compiled;
}

/** @internal frees the optimizer state too when compile() created the optimizer. */
export function disposeCompiled(st: CompiledState): void {
  if (st.ownsOptimizer) st.optimizer.dispose();
}
