// The option objects of fit / fitDataset / evaluate / predict, checked before any work: a
// plain object (or nothing), only keys tfjs or Keras define, each of the right type with no
// coercion. tfjs options this package does not implement (classWeight, sampleWeight,
// stepsPerEpoch, ...) are refused by name rather than silently ignored, since ignoring them
// would train a different model; yieldEvery is accepted and has nothing to do here (every
// step already runs off the event loop).
import { InvalidArgumentError, NotSupportedError, check, describe } from '../errors.js';
import { checkBoolean, checkInt, checkNumber } from '../validate.js';

type Checker = (v: unknown, op: string, key: string) => void;

const int0: Checker = (v, op, key) => void checkInt(v, op, key, 0);
const int1: Checker = (v, op, key) => void checkInt(v, op, key, 1);
const bool: Checker = (v, op, key) => void checkBoolean(v, op, key);
const num: Checker = (v, op, key) => void checkNumber(v, op, key);
const verbose: Checker = (v, op, key) => check(v === 0 || v === 1 || v === 2, op, `${key} 0, 1 or 2`, v);
const any: Checker = () => undefined; // checked where it is used (callbacks, validationData)
const yieldEvery: Checker = (v, op, key) =>
  check(v === 'auto' || v === 'batch' || v === 'epoch' || v === 'never' || typeof v === 'number', op, `${key} 'auto', 'batch', 'epoch', 'never' or a number of ms`, v);

const FIT: Record<string, Checker> = {
  epochs: int0, batchSize: int1, verbose, callbacks: any, validationData: any, validationSplit: num,
  shuffle: bool, seed: num, initialEpoch: int0, yieldEvery,
};
const FIT_DATASET: Record<string, Checker> = {
  epochs: int0, batchesPerEpoch: int1, verbose, callbacks: any, validationData: any, validationBatches: int1,
  validationBatchSize: int1, initialEpoch: int0, yieldEvery,
};
const EVALUATE: Record<string, Checker> = { batchSize: int1, verbose: num };
const EVALUATE_DATASET: Record<string, Checker> = { batches: int1, verbose: num };
const PREDICT: Record<string, Checker> = { batchSize: int1, verbose: num };
/** tfjs / Keras options that exist there but not here. */
const NOT_IMPLEMENTED = ['classWeight', 'sampleWeight', 'stepsPerEpoch', 'validationSteps', 'validationFreq', 'steps'];

const TABLES = { fit: FIT, fitDataset: FIT_DATASET, evaluate: EVALUATE, evaluateDataset: EVALUATE_DATASET, predict: PREDICT };

/** Checks `args` of `op` (undefined is the defaults) and returns it as an object. */
export function checkTrainingOptions<T extends object>(args: T | undefined, op: keyof typeof TABLES): T {
  if (args === undefined || args === null) return {} as T;
  if (typeof args !== 'object' || Array.isArray(args))
    throw new InvalidArgumentError(`${op}: expected options as an object ({ ${Object.keys(TABLES[op]).slice(0, 3).join(', ')}, ... }) but received ${describe(args)}`);
  const table = TABLES[op];
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    if (NOT_IMPLEMENTED.includes(key)) throw new NotSupportedError(`${op}: option '${key}' is not supported (it would change training, so it is refused rather than ignored)`);
    const checker = table[key];
    if (!checker) throw new InvalidArgumentError(`${op}: expected options among ${Object.keys(table).join(', ')} but received unknown option '${key}'`);
    checker(value, op, key);
  }
  return args;
}
