// The epoch loop (Keras' epoch_iterator + the loops of trainer.fit / evaluate / predict):
// ONE loop that fit, fitDataset, evaluate, predict and trainOnBatch all run. Per epoch it
// takes batches from a data adapter, runs the step kind's plan on each, hands the outputs
// to a sink (running means of the loss and metrics, or predict's gathered outputs), and,
// when given callbacks, calls the training hooks and honours model.stopTraining.
//
// Note [one loop, two drivers]: evaluate() and predict() are synchronous (runSync) and the
// rest asynchronous (the plan runs on a worker thread). The loop is a generator that yields
// what it needs done (run a plan, await a callback or a dataset's next element) and drive()
// does it, on the calling thread or awaiting, so the loop is written once for both.
import { CompiledFunction } from '../compiler/compile.js';
import { dispose } from '../engine.js';
import { CudnnNodeError, InvalidArgumentError } from '../errors.js';
import * as ops from '../ops/index.js';
import type { DType, Tensor } from '../tensor.js';
import type { CallbackList, Logs } from './callbacks.js';
import type { Batch, DataAdapter } from './data_adapter.js';
import type { LayersModel } from './functional.js';
import { getPlan, StepKind } from './step_functions.js';

/** What the loop asks its driver to do; the driver resumes it with the result. */
export type Effect = { run: CompiledFunction; feeds: Tensor[]; whileRunning?: () => void } | { wait: Promise<unknown> };
/** A loop body: yields effects, returns R. */
export type Loop<R> = Generator<Effect, R, unknown>;

function perform(e: Effect, mode: 'sync' | 'async'): unknown {
  if ('wait' in e) {
    if (mode === 'sync') throw new CudnnNodeError('internal: an asynchronous wait in a synchronous loop', 'ERR_INTERNAL');
    return e.wait;
  }
  if (mode === 'sync') {
    const outs = e.run.runSync(e.feeds);
    e.whileRunning?.();
    return outs;
  }
  const running = e.run.run(e.feeds);
  try {
    e.whileRunning?.();
  } catch (err) {
    // Report the failure once the step is over, so that nothing it reads is freed under it.
    return running.then(
      (outs) => {
        dispose(outs);
        throw err;
      },
      () => {
        throw err;
      },
    );
  }
  return running;
}

/**
 * Runs a loop to its end: 'sync' on the calling thread (returns R), 'async' awaiting each
 * plan run and wait (returns a Promise). An error is thrown into the loop, so its finally
 * blocks free what it holds, and then out of drive().
 */
export function drive<R>(loop: Loop<R>, mode: 'sync'): R;
export function drive<R>(loop: Loop<R>, mode: 'async'): Promise<R>;
export function drive<R>(loop: Loop<R>, mode: 'sync' | 'async'): R | Promise<R> {
  const resume = (r: IteratorResult<Effect, R>): R | Promise<R> => {
    for (;;) {
      if (r.done) return r.value;
      let v: unknown;
      try {
        v = perform(r.value, mode);
      } catch (e) {
        r = loop.throw(e);
        continue;
      }
      if (v instanceof Promise)
        return v.then(
          (x) => resume(loop.next(x)),
          (e) => resume(loop.throw(e)),
        );
      r = loop.next(v);
    }
  };
  if (mode === 'sync') return resume(loop.next());
  try {
    return Promise.resolve(resume(loop.next()));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Takes each step's outputs (the loop disposes them afterwards). */
export interface Sink {
  add(outs: Tensor[], batch: Batch): void;
}

/** Running means of the step's scalars, weighted by batch size (Keras' metric trackers). */
export class MeanSink implements Sink {
  private sums: number[];
  private count = 0;
  constructor(readonly names: string[]) {
    this.sums = names.map(() => 0);
  }
  add(outs: Tensor[], batch: Batch): void {
    outs.forEach((o, i) => (this.sums[i] += o.dataSync()[0] * batch.size));
    this.count += batch.size;
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

type HostTyped = Float32Array | Int32Array | Uint8Array;

/** predict's outputs, gathered on the host batch by batch into one tensor per output. */
export class OutputSink implements Sink {
  private results: { data: HostTyped; shape: number[]; dtype: DType }[] | null = null;
  constructor(private readonly n: number) {}
  add(outs: Tensor[], batch: Batch): void {
    const n = this.n;
    this.results ??= outs.map((o) => {
      const row = o.shape.slice(1).reduce((a, b) => a * b, 1);
      const Ctor = o.dtype === 'int32' ? Int32Array : o.dtype === 'bool' ? Uint8Array : Float32Array;
      return { data: new Ctor(n * row), shape: [n, ...o.shape.slice(1)], dtype: o.dtype };
    });
    outs.forEach((o, k) => this.results![k].data.set(o.dataSync() as HostTyped, batch.start * (this.results![k].data.length / n)));
  }
  tensors(): Tensor[] {
    return this.results!.map((r) => ops.tensor(r.data, r.shape, r.dtype));
  }
}

/** What one run of the loop does. */
export interface EpochLoopSpec<S extends Sink> {
  model: LayersModel;
  /** The public call, for errors ('fit', 'evaluate', ...). */
  op: string;
  kind: StepKind;
  data: DataAdapter;
  /** Epochs [first, end); default one epoch. */
  first?: number;
  end?: number;
  /** A new sink for each epoch, made at its first batch (when the model is built). */
  sink: () => S;
  /** fit's hooks: when given, the loop calls them and stops on model.stopTraining. */
  callbacks?: CallbackList;
  /** After each epoch with callbacks: validation values, logged as val_<name>. */
  validate?: () => Loop<number[]>;
}

/** @internal throws when a model was disposed before or during op. */
export function checkLiveModel(model: LayersModel, op: string): void {
  if (model.isDisposed)
    throw new CudnnNodeError(
      `${op}: model '${model.name}' is disposed; expected a live model (dispose() ran before or during ${op})`,
      'ERR_MODEL_DISPOSED',
    );
}

/** The loop; returns the last epoch's sink (null when no epoch ran). */
export function* epochLoop<S extends Sink>(spec: EpochLoopSpec<S>): Loop<S | null> {
  const { model, op, kind, data, callbacks: cbs } = spec;
  let sink: S | null = null;
  if (cbs) yield { wait: cbs.onTrainBegin() };
  for (let epoch = spec.first ?? 0; epoch < (spec.end ?? 1); epoch++) {
    if (cbs) yield { wait: cbs.onEpochBegin(epoch) };
    sink = null;
    const batches = data.epoch(epoch);
    try {
      for (let step = 0; ; step++) {
        const next = batches.next();
        const batch = (next instanceof Promise ? yield { wait: next } : next) as Batch | null;
        if (!batch) break;
        let outs: Tensor[] = [];
        try {
          checkLiveModel(model, op);
          sink ??= spec.sink();
          if (cbs) yield { wait: cbs.onBatchBegin(step, { batch: step, size: batch.size }) };
          checkLiveModel(model, op);
          const plan = getPlan(model, kind, batch.feeds, batch.nIn);
          outs = (yield { run: plan, feeds: batch.feeds, whileRunning: () => batches.prefetch() }) as Tensor[];
          sink.add(outs, batch);
        } finally {
          dispose(outs);
          batch.dispose();
        }
        if (cbs && sink instanceof MeanSink) yield { wait: cbs.onBatchEnd(step, sink.logs()) };
        if (cbs && model.stopTraining) break;
      }
    } finally {
      batches.close();
    }
    if (batches.ranOut) model.stopTraining = true;
    if (!sink) throw new InvalidArgumentError(`${op}: expected a dataset with at least one batch but received an empty one`);
    if (cbs) {
      const logs = sink instanceof MeanSink ? sink.logs() : {};
      if (spec.validate && sink instanceof MeanSink) {
        const v = yield* spec.validate();
        sink.names.forEach((k, i) => (logs[`val_${k}`] = v[i]));
      }
      yield { wait: cbs.onEpochEnd(epoch, logs) };
      if (model.stopTraining) break;
    }
  }
  if (cbs) yield { wait: cbs.onTrainEnd() };
  return sink;
}
