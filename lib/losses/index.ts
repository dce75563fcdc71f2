// Losses (exported as `losses`), Keras 3 semantics with its default TensorFlow backend:
// each returns the mean over the batch (Keras' 'sum_over_batch_size' reduction) as a
// scalar. Probability inputs are clipped to [1e-7, 1 - 1e-7] before the log; the
// fromLogits variants use fused, unclipped kernels, and the model calls them when the last
// layer's activation is the loss's logitsActivation (as Keras does with a softmax output).
import { InvalidArgumentError, check, describe } from '../errors.js';
import {
  abs,
  add,
  cast,
  clipByValue,
  div,
  exp,
  expandDims,
  log,
  log1p,
  logSoftmax,
  mean,
  mul,
  neg,
  relu,
  reshape,
  sparseSoftmaxCrossEntropy,
  squaredDifference,
  sub,
  sum,
} from '../ops/index.js';
import { Tensor } from '../tensor.js';

/** Keras' backend epsilon, used to clip probabilities. */
export const EPSILON = 1e-7;

/** A loss function: (yTrue, yPred) -> scalar loss (the mean over the batch). */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** A loss as returned by getLoss(). */
export interface Loss extends LossFn {
  /** Canonical name: 'sparseCategoricalCrossentropy', 'meanSquaredError', ... (or the function's name). */
  readonly lossName: string;
  /** The same loss computed from pre-activation logits, when a fused form exists. */
  readonly fromLogits?: LossFn;
  /** The output activation fromLogits replaces ('softmax' or 'sigmoid'). */
  readonly logitsActivation?: 'softmax' | 'sigmoid';
}

function checkTensor(t: unknown, arg: string, op: string): asserts t is Tensor {
  check(t instanceof Tensor, op, `${arg} to be a Tensor`, t);
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Class ids of shape yPred.shape[:-1] (accepting a trailing 1), as int32. */
export function sparseLabels(yTrue: Tensor, yPred: Tensor, op: string): Tensor {
  checkTensor(yTrue, 'yTrue', op);
  checkTensor(yPred, 'yPred', op);
  check(yPred.rank >= 1, op, 'yPred of rank >= 1 (classes on the last axis)', yPred.shape);
  const lead = yPred.shape.slice(0, -1);
  let t = yTrue;
  if (t.rank === yPred.rank && t.shape[t.rank - 1] === 1) t = reshape(t, t.shape.slice(0, -1));
  if (!sameShape(t.shape, lead))
    throw new InvalidArgumentError(`${op}: expected yTrue of shape ${describe(lead)} or ${describe([...lead, 1])} (class ids for yPred ${describe(yPred.shape)}) but received ${describe(yTrue.shape)}`);
  return t.dtype === 'int32' ? t : cast(t, 'int32');
}

/** Keras' squeeze_or_expand_to_same_rank, then an exact shape check; yTrue as float32. */
function matchShapes(yTrue: Tensor, yPred: Tensor, op: string): Tensor {
  checkTensor(yTrue, 'yTrue', op);
  checkTensor(yPred, 'yPred', op);
  let t = yTrue;
  if (t.rank === yPred.rank - 1 && yPred.shape[yPred.rank - 1] === 1) t = expandDims(t, -1);
  else if (t.rank === yPred.rank + 1 && t.shape[t.rank - 1] === 1) t = reshape(t, t.shape.slice(0, -1));
  if (!sameShape(t.shape, yPred.shape))
    throw new InvalidArgumentError(`${op}: expected yTrue of shape ${describe(yPred.shape)} (the shape of yPred) but received ${describe(yTrue.shape)}`);
  return t.dtype === 'float32' ? t : cast(t, 'float32');
}

function clipProbs(p: Tensor): Tensor {
  return clipByValue(p, EPSILON, 1 - EPSILON);
}

/**
 * Cross-entropy of integer class ids yTrue ([N] or [N, 1]) against probabilities yPred
 * ([N, C]); with fromLogits, yPred holds logits. Keras (TF backend): the fused
 * softmax cross-entropy over log(clip(probs)).
 */
export function sparseCategoricalCrossentropy(yTrue: Tensor, yPred: Tensor, fromLogits = false): Tensor {
  const op = 'sparseCategoricalCrossentropy';
  const labels = sparseLabels(yTrue, yPred, op);
  const logits = fromLogits ? yPred : log(clipProbs(yPred));
  return mean(sparseSoftmaxCrossEntropy(labels, logits));
}

/** Cross-entropy of one-hot (or soft) targets against probabilities (or logits). */
export function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor, fromLogits = false): Tensor {
  const op = 'categoricalCrossentropy';
  const t = matchShapes(yTrue, yPred, op);
  check(yPred.rank >= 1, op, 'yPred of rank >= 1 (classes on the last axis)', yPred.shape);
  const logp = fromLogits ? logSoftmax(yPred) : log(clipProbs(div(yPred, sum(yPred, -1, true))));
  return mean(neg(sum(mul(t, logp), -1)));
}

/**
 * Binary cross-entropy of 0/1 targets against probabilities (Keras TF backend:
 * -(z log(p + eps) + (1 - z) log(1 - p + eps)) with p clipped), or against logits
 * (max(x, 0) - x z + log(1 + exp(-|x|))). Mean over every element.
 */
export function binaryCrossentropy(yTrue: Tensor, yPred: Tensor, fromLogits = false): Tensor {
  const op = 'binaryCrossentropy';
  const z = matchShapes(yTrue, yPred, op);
  if (fromLogits) return mean(add(sub(relu(yPred), mul(yPred, z)), log1p(exp(neg(abs(yPred))))));
  const p = clipProbs(yPred);
  const pos = mul(z, log(add(p, EPSILON)));
  const negTerm = mul(sub(1, z), log(add(sub(1, p), EPSILON)));
  return mean(neg(add(pos, negTerm)));
}

/** Mean of (yPred - yTrue)^2 over every element. */
export function meanSquaredError(yTrue: Tensor, yPred: Tensor): Tensor {
  return mean(squaredDifference(yPred, matchShapes(yTrue, yPred, 'meanSquaredError')));
}

/** Mean of |yPred - yTrue| over every element. */
export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor): Tensor {
  return mean(abs(sub(yPred, matchShapes(yTrue, yPred, 'meanAbsoluteError'))));
}

/** The fromLogits forms, for the model's fused output path. */
export const sparseCategoricalCrossentropyFromLogits: LossFn = (yTrue, logits) => sparseCategoricalCrossentropy(yTrue, logits, true);
/** categoricalCrossentropy(yTrue, logits, true): one-hot targets against logits (fused log-softmax). */
export const categoricalCrossentropyFromLogits: LossFn = (yTrue, logits) => categoricalCrossentropy(yTrue, logits, true);
/** binaryCrossentropy(yTrue, logits, true): 0/1 targets against logits. */
export const binaryCrossentropyFromLogits: LossFn = (yTrue, logits) => binaryCrossentropy(yTrue, logits, true);

/** Alias of meanSquaredError (Keras 'mse'). */
export const mse = meanSquaredError;
/** Alias of meanAbsoluteError (Keras 'mae'). */
export const mae = meanAbsoluteError;

function makeLoss(lossName: string, fn: LossFn, fromLogits?: LossFn, logitsActivation?: 'softmax' | 'sigmoid'): Loss {
  const f = ((yTrue: Tensor, yPred: Tensor) => fn(yTrue, yPred)) as Loss;
  return Object.defineProperties(f, {
    lossName: { value: lossName, enumerable: true },
    fromLogits: { value: fromLogits, enumerable: true },
    logitsActivation: { value: logitsActivation, enumerable: true },
  });
}

const LOSSES: Record<string, () => Loss> = {
  sparsecategoricalcrossentropy: () =>
    makeLoss('sparseCategoricalCrossentropy', (t, p) => sparseCategoricalCrossentropy(t, p), sparseCategoricalCrossentropyFromLogits, 'softmax'),
  categoricalcrossentropy: () => makeLoss('categoricalCrossentropy', (t, p) => categoricalCrossentropy(t, p), categoricalCrossentropyFromLogits, 'softmax'),
  binarycrossentropy: () => makeLoss('binaryCrossentropy', (t, p) => binaryCrossentropy(t, p), binaryCrossentropyFromLogits, 'sigmoid'),
  meansquarederror: () => makeLoss('meanSquaredError', meanSquaredError),
  mse: () => makeLoss('meanSquaredError', meanSquaredError),
  meanabsoluteerror: () => makeLoss('meanAbsoluteError', meanAbsoluteError),
  mae: () => makeLoss('meanAbsoluteError', meanAbsoluteError),
};

/** Normalizes 'sparse_categorical_crossentropy' / 'sparseCategoricalCrossentropy' alike. */
export function normalizeName(name: string): string {
  return name.replace(/[_\s-]/g, '').toLowerCase();
}

/**
 * A loss from a Keras or tfjs name ('sparseCategoricalCrossentropy' or
 * 'sparse_categorical_crossentropy', 'categoricalCrossentropy', 'binaryCrossentropy',
 * 'meanSquaredError' / 'mse', 'meanAbsoluteError' / 'mae') or a function
 * (yTrue, yPred) => scalar, returned as a Loss named after it.
 */
export function getLoss(identifier: string | LossFn | Loss): Loss {
  if (typeof identifier === 'function') {
    if ('lossName' in identifier && typeof identifier.lossName === 'string') return identifier as Loss;
    return makeLoss(identifier.name || 'loss', identifier);
  }
  const make = typeof identifier === 'string' ? LOSSES[normalizeName(identifier)] : undefined;
  if (!make)
    throw new InvalidArgumentError(
      `getLoss: expected 'sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'binaryCrossentropy', 'meanSquaredError', 'meanAbsoluteError' or a function but received ${describe(identifier)}`,
    );
  return make();
}

// ---- tfjs-core's tf.losses names (custom training loops written for tfjs call these)

function noWeights(op: string, weights: unknown): void {
  check(weights === undefined || weights === null, op, 'no weights (per-element loss weights are not supported)', weights);
}

/** tfjs tf.losses.softmaxCrossEntropy(onehotLabels, logits): mean over the batch of the softmax cross-entropy of logits. */
export function softmaxCrossEntropy(onehotLabels: Tensor, logits: Tensor, weights?: Tensor | null): Tensor {
  noWeights('losses.softmaxCrossEntropy', weights);
  return categoricalCrossentropy(onehotLabels, logits, true);
}
/** tfjs tf.losses.sigmoidCrossEntropy(multiClassLabels, logits): mean over every element of the sigmoid cross-entropy of logits. */
export function sigmoidCrossEntropy(multiClassLabels: Tensor, logits: Tensor, weights?: Tensor | null): Tensor {
  noWeights('losses.sigmoidCrossEntropy', weights);
  return binaryCrossentropy(multiClassLabels, logits, true);
}
/** tfjs tf.losses.absoluteDifference(labels, predictions): mean of |labels - predictions|. */
export function absoluteDifference(labels: Tensor, predictions: Tensor, weights?: Tensor | null): Tensor {
  noWeights('losses.absoluteDifference', weights);
  return meanAbsoluteError(labels, predictions);
}
