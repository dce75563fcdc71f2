// The training API behind LayersModel (Keras' trainer.py): fit, fitDataset, evaluate,
// evaluateDataset, predict and trainOnBatch check their arguments, pick a data adapter and a
// sink, and run the one epoch loop (epoch_loop.ts). compile() is in compile_args.ts, the
// traced steps and their plan cache in step_functions.ts, batching in data_adapter.ts.
import { CudnnNodeError, check } from '../errors.js';
import { Random, nextSeed } from '../layers/initializers.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { Callback, CallbackList, History, toCallbacks } from './callbacks.js';
import type { CustomCallbackArgs } from './callbacks.js';
import { prepare, requireCompiled } from './compile_args.js';
import { ArrayAdapter, DataAdapter, DatasetAdapter, HostArray, TensorBatchAdapter, prepareData } from './data_adapter.js';
import type { DatasetLike, TensorInputs } from './data_adapter.js';
import { Loop, MeanSink, OutputSink, checkLiveModel, drive, epochLoop } from './epoch_loop.js';
import type { LayersModel } from './functional.js';
import { ProgressLogger } from './progress.js';
import { checkTrainingOptions } from './training_options.js';
import { logNames } from './step_functions.js';

export { compile, disposeCompiled } from './compile_args.js';
export type { CompileArgs, CompiledState } from './compile_args.js';
export type { DatasetLike, TensorInputs } from './data_adapter.js';
export { disposePlans } from './step_functions.js';

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
  /** Accepted for tfjs compatibility: every step already runs off the event loop, so there is nothing to yield. */
  yieldEvery?: 'auto' | 'batch' | 'epoch' | 'never' | number;
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
  /** Accepted for tfjs compatibility: every step already runs off the event loop, so there is nothing to yield. */
  yieldEvery?: 'auto' | 'batch' | 'epoch' | 'never' | number;
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

function checkBatchSize(b: unknown, op: string): number {
  check(typeof b === 'number' && Number.isInteger(b) && b >= 1, op, 'batchSize as a positive integer', b);
  return b as number;
}

/** Keras' order: user callbacks, then History, then the progress output. */
function callbackList(model: LayersModel, callbacks: FitArgs['callbacks'], verbose: number, history: History): CallbackList {
  const list: Callback[] = [...toCallbacks(callbacks), history];
  if (verbose) list.push(new ProgressLogger(verbose));
  const cbs = new CallbackList(list);
  cbs.setModel(model);
  return cbs;
}

// Note [one training call at a time]: the train plan runs on a worker thread and updates
// the model's weights in place, so fit, fitDataset and trainOnBatch on one model do not
// overlap (tfjs refuses the same way). evaluate and predict stay allowed, e.g. in callbacks.
const training = new WeakMap<LayersModel, string>();

async function exclusive<T>(model: LayersModel, op: string, body: () => Promise<T>): Promise<T> {
  checkLiveModel(model, op);
  const running = training.get(model);
  if (running)
    throw new CudnnNodeError(
      `${op}: ${running} is already running on this model ('${model.name}'); expected one fit, fitDataset or trainOnBatch at a time (await the running one first)`,
      'ERR_MODEL_BUSY',
    );
  training.set(model, op);
  try {
    return await body();
  } finally {
    training.delete(model);
  }
}

/** Loss and metric means over the batches of one pass (an eval step per batch). */
function* evalLoop(model: LayersModel, op: string, data: DataAdapter): Loop<number[]> {
  const st = requireCompiled(model, op);
  const sink = yield* epochLoop({ model, op, kind: 'eval', data, sink: () => (prepare(model, st), new MeanSink(logNames(model, st))) });
  return sink!.means();
}

function evalArrays(model: LayersModel, op: string, hx: HostArray[], hy: HostArray[], batchSize: number): Loop<number[]> {
  check(hx[0].n > 0, op, 'at least one sample', hx[0].n);
  return evalLoop(model, op, new ArrayAdapter(hx, hy, batchSize));
}

/** evaluate's checks and loop over x / y. */
function evalTensors(model: LayersModel, op: string, x: TensorInputs, y: TensorInputs, batchSize: unknown): Loop<number[]> {
  checkLiveModel(model, op);
  const st = requireCompiled(model, op);
  const { xs, ys } = prepareData(model, op, x, y);
  prepare(model, st);
  const b = checkBatchSize(batchSize, op);
  return evalArrays(model, op, xs.map(HostArray.from), ys.map(HostArray.from), b);
}

function evalDataset(model: LayersModel, dataset: DatasetLike, batches?: number): Loop<number[]> {
  const op = 'evaluateDataset';
  checkLiveModel(model, op);
  requireCompiled(model, op);
  return evalLoop(model, op, new DatasetAdapter(model, op, dataset, { maxBatches: batches }));
}

/** See LayersModel.fit. */
export function fit(model: LayersModel, x: TensorInputs, y: TensorInputs, args: FitArgs = {}): Promise<History> {
  const op = 'fit';
  return exclusive(model, op, async () => {
    args = checkTrainingOptions(args, op);
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
    const rng = new Random(args.seed ?? nextSeed());
    const data = new ArrayAdapter(hx, hy, batchSize, args.shuffle === false ? () => null : () => rng.permutation(n));
    const names = logNames(model, st);

    const history = new History();
    const cbs = callbackList(model, args.callbacks, verbose, history);
    cbs.setParams({ epochs, steps: data.steps, samples: n, batchSize, verbose, doValidation: !!vx, metrics: names });
    model.stopTraining = false;
    const validate = vx && vy ? () => evalArrays(model, op, vx, vy, batchSize) : undefined;
    await drive(epochLoop({ model, op, kind: 'train', data, first: args.initialEpoch ?? 0, end: epochs, callbacks: cbs, sink: () => new MeanSink(names), validate }), 'async');
    model.history = history;
    return history;
  });
}

/** See LayersModel.fitDataset. */
export function fitDataset(model: LayersModel, dataset: DatasetLike, args: FitDatasetArgs = {}): Promise<History> {
  const op = 'fitDataset';
  return exclusive(model, op, async () => {
    args = checkTrainingOptions(args, op);
    const st = requireCompiled(model, op);
    check(dataset && typeof (dataset as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function', op, 'an async iterable dataset', dataset);
    const epochs = args.epochs ?? 1;
    const verbose = args.verbose ?? 1;
    const perEpoch = args.batchesPerEpoch;
    check(perEpoch === undefined || (Number.isInteger(perEpoch) && perEpoch > 0), op, 'batchesPerEpoch as a positive integer', perEpoch);
    const data = new DatasetAdapter(model, op, dataset, { batchesPerEpoch: perEpoch });
    const history = new History();
    const cbs = callbackList(model, args.callbacks, verbose, history);
    model.stopTraining = false;
    cbs.setParams({ epochs, steps: data.steps, verbose, doValidation: !!args.validationData });
    const vd = args.validationData;
    const validate = !vd
      ? undefined
      : Array.isArray(vd)
        ? () => evalTensors(model, 'evaluate', vd[0], vd[1], args.validationBatchSize ?? 32)
        : () => evalDataset(model, vd, args.validationBatches);
    // The model may be built from the first batch, so the sink is made there.
    const sink = () => (prepare(model, st), new MeanSink(logNames(model, st)));
    await drive(epochLoop({ model, op, kind: 'train', data, first: args.initialEpoch ?? 0, end: epochs, callbacks: cbs, sink, validate }), 'async');
    model.history = history;
    return history;
  });
}

function asScalars(vals: number[]): Tensor | Tensor[] {
  const ts = vals.map((v) => ops.scalar(v));
  return ts.length === 1 ? ts[0] : ts;
}

/** See LayersModel.evaluate. */
export function evaluate(model: LayersModel, x: TensorInputs, y: TensorInputs, args: EvaluateArgs = {}): Tensor | Tensor[] {
  args = checkTrainingOptions(args, 'evaluate');
  const loop = evalTensors(model, 'evaluate', x, y, args.batchSize ?? 32);
  return asScalars(drive(loop, 'sync'));
}

export async function evaluateAsync(model: LayersModel, x: TensorInputs, y: TensorInputs, args: EvaluateArgs = {}): Promise<Tensor | Tensor[]> {
  args = checkTrainingOptions(args, 'evaluate');
  const loop = evalTensors(model, 'evaluate', x, y, args.batchSize ?? 32);
  return asScalars(await drive(loop, 'async'));
}

export async function evaluateDataset(model: LayersModel, dataset: DatasetLike, args: { batches?: number } = {}): Promise<Tensor | Tensor[]> {
  args = checkTrainingOptions(args, 'evaluateDataset');
  return asScalars(await drive(evalDataset(model, dataset, args.batches), 'async'));
}

/** predict's checks and loop: the outputs for x, batch by batch. */
function* predictLoop(model: LayersModel, x: TensorInputs, args: PredictArgs): Loop<Tensor | Tensor[]> {
  const op = 'predict';
  args = checkTrainingOptions(args, op);
  checkLiveModel(model, op);
  const { xs } = prepareData(model, op, x);
  const b = checkBatchSize(args.batchSize ?? 32, op);
  const hx = xs.map(HostArray.from);
  const n = hx[0].n;
  check(n > 0, op, 'at least one sample', n);
  const sink = yield* epochLoop({ model, op, kind: 'predict', data: new ArrayAdapter(hx, [], Math.min(b, n)), sink: () => new OutputSink(n) });
  const outs = sink!.tensors();
  return outs.length === 1 ? outs[0] : outs;
}

/** See LayersModel.predict. */
export function predict(model: LayersModel, x: TensorInputs, args: PredictArgs = {}): Tensor | Tensor[] {
  return drive(predictLoop(model, x, args), 'sync');
}

export function predictAsync(model: LayersModel, x: TensorInputs, args: PredictArgs = {}): Promise<Tensor | Tensor[]> {
  return drive(predictLoop(model, x, args), 'async');
}

/** See LayersModel.trainOnBatch. */
export function trainOnBatch(model: LayersModel, x: TensorInputs, y: TensorInputs): Promise<number | number[]> {
  const op = 'trainOnBatch';
  return exclusive(model, op, async () => {
    const st = requireCompiled(model, op);
    const { xs, ys } = prepareData(model, op, x, y);
    prepare(model, st);
    const loop = epochLoop({ model, op, kind: 'train', data: new TensorBatchAdapter(xs, ys), sink: () => new MeanSink(logNames(model, st)) });
    const vals = (await drive(loop, 'async'))!.means();
    return vals.length === 1 ? vals[0] : vals;
  });
}
