// Data adapters (Keras' data_adapters/): turn what fit / evaluate / predict were given (x
// and y tensors, one batch, or a dataset of {xs, ys} elements) into the batches of an
// epoch, as feeds in the order the step functions take them: the inputs, then the targets.
// Arrays are copied to the host once and batches (shuffled rows) are cut from there.
import { dispose } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import * as ops from '../ops/index.js';
import { DType, Tensor } from '../tensor.js';
import type { LayersModel } from './functional.js';

/** One tensor, a list (in model.inputs / outputs order), or a record by input / output name. */
export type TensorInputs = Tensor | Tensor[] | Record<string, Tensor>;

/** An async iterable of {xs, ys} (or [xs, ys]) batches, such as data.Dataset. */
export type DatasetLike = AsyncIterable<unknown> & { size?: number | null };

/** One step's data. */
export interface Batch {
  /** The step's inputs: x tensors, then y tensors (none for predict). */
  feeds: Tensor[];
  /** How many of the feeds are x tensors. */
  nIn: number;
  /** Samples in the batch, and the index of its first one in the epoch. */
  size: number;
  start: number;
  /** Frees what the adapter made for this batch. */
  dispose(): void;
}

/** The batches of one epoch, in order. */
export interface EpochBatches {
  /** The next batch, or null at the end of the epoch (a Promise for datasets). */
  next(): Batch | null | Promise<Batch | null>;
  /** Called while a step runs: an adapter may cut the next batch meanwhile. */
  prefetch(): void;
  /** Ends the epoch (frees a prefetched batch). */
  close(): void;
  /** Whether the data ran out before the epoch's batch count (the loop stops training). */
  readonly ranOut: boolean;
}

/** Where the batches of each epoch come from. */
export interface DataAdapter {
  /** Steps per epoch when known (for the progress bar). */
  readonly steps: number | null;
  epoch(index: number): EpochBatches;
}

type HostTyped = Float32Array | Int32Array | Uint8Array;

/** A dataset array on the host, from which batches (shuffled rows) are cut. */
export class HostArray {
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

/** Batches of host arrays: x arrays then y arrays, all with the same number of rows. */
export class ArrayAdapter implements DataAdapter {
  readonly n: number;
  readonly steps: number;
  /**
   * @param order per epoch, a permutation of the rows, or null to keep their order
   */
  constructor(
    private readonly xs: HostArray[],
    private readonly ys: HostArray[],
    private readonly batchSize: number,
    private readonly order: (epoch: number) => Int32Array | null = () => null,
  ) {
    this.n = xs[0].n;
    this.steps = Math.ceil(this.n / batchSize);
  }

  epoch(index: number): EpochBatches {
    const order = this.order(index);
    const arrays = [...this.xs, ...this.ys];
    const { n, batchSize, steps } = this;
    const nIn = this.xs.length;
    let step = 0;
    let ahead: Batch | null = null;
    const cut = (): Batch | null => {
      if (step >= steps) return null;
      const start = step++ * batchSize;
      const end = Math.min(n, start + batchSize);
      const feeds = arrays.map((h) => h.batch(order, start, end));
      return { feeds, nIn, size: end - start, start, dispose: () => dispose(feeds) };
    };
    return {
      ranOut: false,
      next: () => {
        const b = ahead ?? cut();
        ahead = null;
        return b;
      },
      // Cut the next batch while this step runs on the worker thread.
      prefetch: () => void (ahead ??= cut()),
      close: () => {
        ahead?.dispose();
        ahead = null;
      },
    };
  }
}

/** One batch of the caller's own tensors (trainOnBatch), left alive after the step. */
export class TensorBatchAdapter implements DataAdapter {
  readonly steps = 1;
  constructor(
    private readonly xs: Tensor[],
    private readonly ys: Tensor[],
  ) {}
  epoch(): EpochBatches {
    let done = false;
    const batch: Batch = { feeds: [...this.xs, ...this.ys], nIn: this.xs.length, size: this.xs[0].shape[0], start: 0, dispose: () => {} };
    return {
      ranOut: false,
      next: () => (done ? null : ((done = true), batch)),
      prefetch: () => {},
      close: () => {},
    };
  }
}

/** How a DatasetAdapter cuts epochs. */
export interface DatasetEpochs {
  /** Epochs of this many batches cut from one long pass (it running out stops training). */
  batchesPerEpoch?: number;
  /** At most this many batches of a pass (evaluateDataset's `batches`). */
  maxBatches?: number;
}

/**
 * Batches of a dataset: one pass per epoch, or, with `batchesPerEpoch`, epochs of that many
 * batches cut from one long pass. Each element is checked as fit's x / y are and disposed
 * after its step.
 */
export class DatasetAdapter implements DataAdapter {
  readonly steps: number | null;
  private iterator: AsyncIterator<unknown> | null = null;

  constructor(
    private readonly model: LayersModel,
    private readonly op: string,
    private readonly dataset: DatasetLike,
    private readonly epochs: DatasetEpochs = {},
  ) {
    const size = dataset.size;
    this.steps = epochs.batchesPerEpoch ?? (typeof size === 'number' && Number.isFinite(size) ? size : null);
  }

  epoch(index: number): EpochBatches {
    const { model, op } = this;
    const perEpoch = this.epochs.batchesPerEpoch;
    // At least one batch, as a for-await loop that breaks after its body would.
    const max = this.epochs.maxBatches === undefined ? undefined : Math.max(1, this.epochs.maxBatches);
    // Each epoch is a new pass, unless batchesPerEpoch splits one long stream into epochs.
    if (!this.iterator || perEpoch === undefined) this.iterator = this.dataset[Symbol.asyncIterator]();
    const iterator = this.iterator;
    let b = 0;
    let exhausted = false;
    let ranOut = false;
    const next = async (): Promise<Batch | null> => {
      if ((perEpoch !== undefined && b >= perEpoch) || (max !== undefined && b >= max)) return null;
      const r = await iterator.next();
      if (r.done) {
        exhausted = true;
        if (perEpoch !== undefined) {
          console.warn(`${op}: the dataset ran out after ${b} batches of epoch ${index + 1} (batchesPerEpoch ${perEpoch}); stopping`);
          this.iterator = null;
          ranOut = true;
        }
        return null;
      }
      const el = r.value;
      try {
        const { x, y } = elementParts(el, op);
        const { xs, ys } = prepareData(model, op, x, y);
        return { feeds: [...xs, ...ys], nIn: xs.length, size: xs[0].shape[0], start: b++, dispose: () => dispose(el) };
      } catch (e) {
        dispose(el);
        throw e;
      }
    };
    return {
      get ranOut() {
        return ranOut;
      },
      next,
      prefetch: () => {},
      // A pass that stops early and is not continued next epoch is closed, as for-await would.
      close: () => {
        if (!exhausted && perEpoch === undefined) void iterator.return?.();
      },
    };
  }
}

/** The x and y of a dataset element ({xs, ys} or [xs, ys]). */
export function elementParts(el: unknown, op: string): { x: TensorInputs; y: TensorInputs } {
  if (Array.isArray(el) && el.length === 2) return { x: el[0] as TensorInputs, y: el[1] as TensorInputs };
  if (el && typeof el === 'object' && 'xs' in el && 'ys' in el) return { x: (el as { xs: TensorInputs }).xs, y: (el as { ys: TensorInputs }).ys };
  throw new InvalidArgumentError(`${op}: expected dataset elements {xs, ys} (or [xs, ys]) but received ${describe(el)}`);
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

/**
 * Checks x (and y) against the model and lists them in input / output order; builds a
 * Sequential without an input shape from x's shape first.
 */
export function prepareData(model: LayersModel, op: string, x: TensorInputs, y?: TensorInputs): { xs: Tensor[]; ys: Tensor[] } {
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
