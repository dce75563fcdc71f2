// tf.node's TensorBoard support, as tfjs-node: summaryFileWriter(logdir) writes scalar and
// histogram summaries to an event file (lib/node/event_file.ts) that TensorBoard reads, and
// tensorBoard(logdir, {updateFreq, histogramFreq}) is the fit() callback that logs loss and
// metrics (train/ and val/ subdirectories, 'batch_' and 'epoch_' tags) and weight histograms.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { Callback, type Logs } from '../models/callbacks.js';
import { Tensor } from '../tensor.js';
import { fileVersionEvent, histogramBuckets, histogramEvent, scalarEvent, tfRecord } from './event_file.js';

let fileCounter = 0;

// Note [flush on exit]: records wait in memory until maxQueue of them, flushMillis, flush()
// or process exit; the exit hook writes what is queued, so nothing written is lost when a
// program ends without calling flush() (tfjs-node's writer drops it).
const openWriters = new Set<SummaryFileWriter>();
let exitHookInstalled = false;
function flushAllOnExit(): void {
  for (const w of openWriters) w.close();
}

/** Writes TensorBoard summaries to one event file in a log directory. */
export class SummaryFileWriter {
  /** The event file being written. */
  readonly path: string;
  private fd: number | null;
  private queue: Buffer[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** @internal use summaryFileWriter(). */
  constructor(
    /** The log directory the event file is in. */
    readonly logdir: string,
    private readonly maxQueue: number,
    flushMillis: number,
    filenameSuffix: string,
  ) {
    mkdirSync(logdir, { recursive: true });
    const now = Date.now() / 1000;
    this.path = join(logdir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.${fileCounter++}${filenameSuffix}`);
    this.fd = openSync(this.path, 'a');
    writeSync(this.fd, tfRecord(fileVersionEvent(now)));
    if (flushMillis > 0 && Number.isFinite(flushMillis)) {
      this.timer = setInterval(() => this.flush(), flushMillis);
      this.timer.unref();
    }
    openWriters.add(this);
    if (!exitHookInstalled) {
      process.on('exit', flushAllOnExit);
      exitHookInstalled = true;
    }
  }

  private push(record: Buffer): void {
    check(this.fd !== null, 'SummaryFileWriter', 'an open writer', 'one that was closed');
    this.queue.push(tfRecord(record));
    if (this.queue.length >= this.maxQueue) this.flush();
  }

  /** Writes a scalar (a number or a rank-0 tensor) under tag `name` at `step`. */
  scalar(name: string, value: Tensor | number, step: number, description?: string): void {
    const op = 'SummaryFileWriter.scalar';
    check(typeof name === 'string' && name.length > 0, op, 'name a non-empty string', name);
    checkStep(step, op);
    let v: number;
    if (value instanceof Tensor) {
      check(value.shape.length === 0, op, 'value a scalar (rank 0) tensor', value);
      v = value.dataSync()[0];
    } else {
      check(typeof value === 'number', op, 'value a number or a scalar tensor', value);
      v = value;
    }
    this.push(scalarEvent(name, v, step, Date.now() / 1000, description ?? ''));
  }

  /** Writes a histogram of data's elements (`buckets` equal-width buckets, default 30) under tag `name` at `step`. */
  histogram(name: string, data: Tensor, step: number, buckets?: number, description?: string): void {
    const op = 'SummaryFileWriter.histogram';
    check(typeof name === 'string' && name.length > 0, op, 'name a non-empty string', name);
    check(data instanceof Tensor, op, 'data a Tensor', data);
    checkStep(step, op);
    const count = buckets ?? 30;
    check(Number.isInteger(count) && count > 0, op, 'buckets a positive integer', buckets);
    const values = data.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new InvalidArgumentError(`${op}: expected finite values but received ${values[i]} at index ${i} of '${name}'`);
    }
    this.push(histogramEvent(name, histogramBuckets(values, count), step, Date.now() / 1000, description ?? ''));
  }

  /** Writes every queued summary to the file. */
  flush(): void {
    if (this.fd === null || this.queue.length === 0) return;
    const data = Buffer.concat(this.queue);
    this.queue = [];
    writeSync(this.fd, data);
  }

  /** Flushes and closes the file; later writes throw. */
  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
    if (this.timer) clearInterval(this.timer);
    openWriters.delete(this);
    writers.delete(this.logdir);
  }
}

function checkStep(step: number, op: string): void {
  if (!Number.isInteger(step)) throw new InvalidArgumentError(`${op}: expected step an integer but received ${describe(step)}`);
}

// One writer per log directory, as tfjs-node (a second call returns the first writer).
const writers = new Map<string, SummaryFileWriter>();

/**
 * The summary writer of a log directory (created with its event file on first use).
 * maxQueue: summaries held before a write (10); flushMillis: at most this long between
 * writes (120 s); filenameSuffix: appended to the event file's name ('.v2').
 */
export function summaryFileWriter(logdir: string, maxQueue = 10, flushMillis = 120000, filenameSuffix = '.v2'): SummaryFileWriter {
  const op = 'summaryFileWriter';
  check(typeof logdir === 'string' && logdir.length > 0, op, 'logdir a non-empty string', logdir);
  check(Number.isInteger(maxQueue) && maxQueue > 0, op, 'maxQueue a positive integer', maxQueue);
  check(typeof flushMillis === 'number' && flushMillis >= 0, op, 'flushMillis a non-negative number', flushMillis);
  check(typeof filenameSuffix === 'string', op, 'filenameSuffix a string', filenameSuffix);
  let w = writers.get(logdir);
  if (!w) {
    w = new SummaryFileWriter(logdir, maxQueue, flushMillis, filenameSuffix);
    writers.set(logdir, w);
  }
  return w;
}

/** Options of tensorBoard(): log per 'batch' or per 'epoch' (default), and weight histograms every histogramFreq epochs (0: none). */
export interface TensorBoardCallbackArgs {
  /** 'epoch' (default): log epoch_* values after each epoch; 'batch': also batch_* values after each batch. */
  updateFreq?: 'batch' | 'epoch';
  /** Write a histogram of every weight every this many epochs (0, the default: never). */
  histogramFreq?: number;
}

/** fit() callback writing TensorBoard logs (see tensorBoard()). */
export class TensorBoardCallback extends Callback {
  private readonly updateFreq: 'batch' | 'epoch';
  private readonly histogramFreq: number;
  private batchesSeen = 0;
  private trainWriter: SummaryFileWriter | null = null;
  private valWriter: SummaryFileWriter | null = null;

  constructor(
    /** The log directory (train/ and val/ runs go under it). */
    readonly logdir = './logs',
    args: TensorBoardCallbackArgs = {},
  ) {
    super();
    const op = 'tensorBoard';
    check(typeof logdir === 'string' && logdir.length > 0, op, 'logdir a non-empty string', logdir);
    this.updateFreq = args.updateFreq ?? 'epoch';
    check(this.updateFreq === 'batch' || this.updateFreq === 'epoch', op, "updateFreq 'batch' or 'epoch'", args.updateFreq);
    this.histogramFreq = args.histogramFreq ?? 0;
    check(Number.isInteger(this.histogramFreq) && this.histogramFreq >= 0, op, 'histogramFreq a non-negative integer', args.histogramFreq);
  }

  async onBatchEnd(_batch: number, logs: Logs = {}): Promise<void> {
    this.batchesSeen++;
    if (this.updateFreq === 'batch') this.logMetrics(logs, 'batch_', this.batchesSeen);
  }

  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    this.logMetrics(logs, 'epoch_', epoch + 1);
    if (this.histogramFreq > 0 && epoch % this.histogramFreq === 0 && this.model) {
      const w = this.train();
      for (const v of this.model.weights) w.histogram(v.name, v, epoch);
    }
  }

  async onTrainEnd(): Promise<void> {
    this.trainWriter?.flush();
    this.valWriter?.flush();
  }

  private train(): SummaryFileWriter {
    return (this.trainWriter ??= summaryFileWriter(join(this.logdir, 'train')));
  }

  private logMetrics(logs: Logs, prefix: string, step: number): void {
    for (const [key, value] of Object.entries(logs)) {
      if (key === 'batch' || key === 'size' || key === 'num_steps' || typeof value !== 'number') continue;
      if (key.startsWith('val_')) {
        this.valWriter ??= summaryFileWriter(join(this.logdir, 'val'));
        this.valWriter.scalar(prefix + key.slice(4), value, step);
      } else {
        this.train().scalar(prefix + key, value, step);
      }
    }
  }
}

/** A fit() callback that writes loss and metrics for TensorBoard under logdir/train and logdir/val. */
export function tensorBoard(logdir = './logs', args?: TensorBoardCallbackArgs): TensorBoardCallback {
  return new TensorBoardCallback(logdir, args);
}
