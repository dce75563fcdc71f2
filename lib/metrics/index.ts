// Metrics (exported as `metrics`): each returns the batch mean as a float32 scalar, and
// getMetric() resolves compile({metrics}) names, picking 'accuracy' to match the loss.
import { InvalidArgumentError, check, describe } from '../errors.js';
import { getLoss, meanAbsoluteError, meanSquaredError, normalizeName, sparseLabels } from '../losses/index.js';
import type { Loss } from '../losses/index.js';
import { argMax, cast, equal, expandDims, greater, mean, reshape } from '../ops/index.js';
import { Tensor } from '../tensor.js';

/** A metric function: (yTrue, yPred) -> float32 scalar, the batch mean. */
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** A metric as returned by getMetric(). */
export interface Metric extends MetricFn {
  /** The key under which fit() reports it: the identifier as given (as Keras does), e.g. 'accuracy'. */
  readonly metricName: string;
}

/** Fraction of rows whose argmax over the last axis equals the class id in yTrue ([N] or [N, 1]). */
export function sparseCategoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  const labels = sparseLabels(yTrue, yPred, 'sparseCategoricalAccuracy');
  return mean(equal(argMax(yPred, -1), labels));
}

/** Fraction of rows whose argmax over the last axis matches that of the one-hot yTrue. */
export function categoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  check(yTrue instanceof Tensor && yPred instanceof Tensor, 'categoricalAccuracy', 'yTrue and yPred tensors', yTrue);
  if (yTrue.shape.join() !== yPred.shape.join())
    throw new InvalidArgumentError(`categoricalAccuracy: expected yTrue of shape ${describe(yPred.shape)} (one-hot, like yPred) but received ${describe(yTrue.shape)}`);
  return mean(equal(argMax(yTrue, -1), argMax(yPred, -1)));
}

/** Fraction of elements where (yPred > threshold) equals yTrue (0/1). */
export function binaryAccuracy(yTrue: Tensor, yPred: Tensor, threshold = 0.5): Tensor {
  check(yTrue instanceof Tensor && yPred instanceof Tensor, 'binaryAccuracy', 'yTrue and yPred tensors', yTrue);
  let t = yTrue;
  if (t.rank === yPred.rank - 1 && yPred.shape[yPred.rank - 1] === 1) t = expandDims(t, -1);
  else if (t.rank === yPred.rank + 1 && t.shape[t.rank - 1] === 1) t = reshape(t, t.shape.slice(0, -1));
  if (t.shape.join() !== yPred.shape.join())
    throw new InvalidArgumentError(`binaryAccuracy: expected yTrue of shape ${describe(yPred.shape)} but received ${describe(yTrue.shape)}`);
  const tf = t.dtype === 'float32' ? t : cast(t, 'float32');
  return mean(equal(tf, greater(yPred, threshold)));
}

export { meanSquaredError, meanAbsoluteError };
/** Alias of meanSquaredError (Keras 'mse'). */
export const mse = meanSquaredError;
/** Alias of meanAbsoluteError (Keras 'mae'). */
export const mae = meanAbsoluteError;

const METRICS: Record<string, MetricFn> = {
  sparsecategoricalaccuracy: sparseCategoricalAccuracy,
  categoricalaccuracy: categoricalAccuracy,
  binaryaccuracy: (t, p) => binaryAccuracy(t, p),
  meansquarederror: meanSquaredError,
  mse: meanSquaredError,
  meanabsoluteerror: meanAbsoluteError,
  mae: meanAbsoluteError,
};

function named(metricName: string, fn: MetricFn): Metric {
  const f = ((yTrue: Tensor, yPred: Tensor) => fn(yTrue, yPred)) as Metric;
  return Object.defineProperty(f, 'metricName', { value: metricName, enumerable: true });
}

/**
 * The accuracy Keras would pick: from the loss (sparse categorical cross-entropy ->
 * sparseCategoricalAccuracy, categorical -> categoricalAccuracy, binary -> binaryAccuracy),
 * else from the shapes (Keras 3: yPred's last dimension 1 -> binary; yTrue one rank lower
 * or with a trailing 1 -> sparse; otherwise categorical).
 */
export function chooseAccuracy(loss?: string | Loss, shapes?: { yTrue: number[]; yPred: number[] }): MetricFn {
  const lossName = typeof loss === 'function' ? loss.lossName : loss;
  const key = lossName ? normalizeName(lossName) : '';
  if (key === 'sparsecategoricalcrossentropy') return sparseCategoricalAccuracy;
  if (key === 'categoricalcrossentropy') return categoricalAccuracy;
  if (key === 'binarycrossentropy') return METRICS.binaryaccuracy;
  if (shapes) {
    const { yTrue, yPred } = shapes;
    if (yPred[yPred.length - 1] === 1) return METRICS.binaryaccuracy;
    if (yTrue.length === yPred.length - 1 || (yTrue.length === yPred.length && yTrue[yTrue.length - 1] === 1)) return sparseCategoricalAccuracy;
    return categoricalAccuracy;
  }
  throw new InvalidArgumentError(
    `getMetric: expected a cross-entropy loss (or the output shapes) to pick 'accuracy' but received loss ${describe(lossName)}`,
  );
}

/**
 * A metric from a name or a function. 'accuracy' / 'acc' is resolved with
 * chooseAccuracy(loss, shapes); other names: 'sparseCategoricalAccuracy',
 * 'categoricalAccuracy', 'binaryAccuracy', 'mse' / 'meanSquaredError', 'mae' /
 * 'meanAbsoluteError' (snake_case too), and any loss name getLoss() knows. The returned
 * metric's metricName is the identifier as given (fit()'s History key).
 */
export function getMetric(identifier: string | MetricFn, loss?: string | Loss, shapes?: { yTrue: number[]; yPred: number[] }): Metric {
  if (typeof identifier === 'function') {
    const existing = (identifier as Partial<Metric>).metricName;
    return typeof existing === 'string' ? (identifier as Metric) : named(identifier.name || 'metric', identifier);
  }
  check(typeof identifier === 'string', 'getMetric', 'a metric name or function', identifier);
  const key = normalizeName(identifier);
  if (key === 'accuracy' || key === 'acc') return named(identifier, chooseAccuracy(loss, shapes));
  const fn = METRICS[key];
  if (fn) return named(identifier, fn);
  try {
    return named(identifier, getLoss(identifier));
  } catch {
    throw new InvalidArgumentError(
      `getMetric: expected 'accuracy', 'sparseCategoricalAccuracy', 'categoricalAccuracy', 'binaryAccuracy', 'mse', 'mae', a loss name or a function but received ${describe(identifier)}`,
    );
  }
}
