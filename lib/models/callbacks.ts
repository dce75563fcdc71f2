// Training callbacks: the Callback base class, CustomCallback (plain hook functions),
// History, EarlyStopping and ModelCheckpoint (Keras semantics), and CallbackList.
import { InvalidArgumentError, check } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { LayersModel } from './functional.js';

/** Per-batch or per-epoch values: loss, metrics, val_* (numbers). */
export type Logs = Record<string, number>;

/** Base class of callbacks: override any hook (each may return a Promise). */
export class Callback {
  /** The model being trained, set by fit(). */
  model: LayersModel | null = null;
  /** fit()'s parameters: epochs, steps, verbose, doValidation, ... */
  params: Record<string, unknown> = {};
  /** Called by fit() before training. */
  setModel(model: LayersModel): void {
    this.model = model;
  }
  /** Called by fit() before training. */
  setParams(params: Record<string, unknown>): void {
    this.params = params;
  }
  /** Before the first epoch. */
  async onTrainBegin(_logs?: Logs): Promise<void> {}
  /** After the last epoch. */
  async onTrainEnd(_logs?: Logs): Promise<void> {}
  /** Before each epoch (0-based). */
  async onEpochBegin(_epoch: number, _logs?: Logs): Promise<void> {}
  /** After each epoch, with its loss, metrics and val_* values. */
  async onEpochEnd(_epoch: number, _logs?: Logs): Promise<void> {}
  /** Before each batch (0-based within the epoch). */
  async onBatchBegin(_batch: number, _logs?: Logs): Promise<void> {}
  /** After each batch, with the epoch's running means of loss and metrics so far. */
  async onBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
}

/** Hook functions for CustomCallback (tfjs' callbacks: {onEpochEnd: ...}). */
export interface CustomCallbackArgs {
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
}

/** A callback made of plain functions. */
export class CustomCallback extends Callback {
  constructor(private readonly hooks: CustomCallbackArgs) {
    super();
    check(hooks && typeof hooks === 'object', 'CustomCallback', 'an object of hook functions', hooks);
    for (const [k, v] of Object.entries(hooks))
      check(typeof v === 'function' || v === undefined, 'CustomCallback', `${k} as a function`, v);
  }
  async onTrainBegin(logs?: Logs) {
    await this.hooks.onTrainBegin?.(logs);
  }
  async onTrainEnd(logs?: Logs) {
    await this.hooks.onTrainEnd?.(logs);
  }
  async onEpochBegin(epoch: number, logs?: Logs) {
    await this.hooks.onEpochBegin?.(epoch, logs);
  }
  async onEpochEnd(epoch: number, logs?: Logs) {
    await this.hooks.onEpochEnd?.(epoch, logs);
  }
  async onBatchBegin(batch: number, logs?: Logs) {
    await this.hooks.onBatchBegin?.(batch, logs);
  }
  async onBatchEnd(batch: number, logs?: Logs) {
    await this.hooks.onBatchEnd?.(batch, logs);
  }
}

// Note [metric aliases]: with metrics: ['accuracy'] Keras logs 'accuracy' / 'val_accuracy'
// and tfjs logs 'acc' / 'val_acc'. Logs and History keep the Keras names and also answer to
// the other spelling through non-enumerable aliases, so code written for either reads its
// key, while Object.keys() (progress bars, JSON, plots) lists each value once.
const ALIASES: Array<[string, string]> = [
  ['accuracy', 'acc'],
  ['val_accuracy', 'val_acc'],
];

/** Adds the other spelling of each accuracy key as a non-enumerable alias (Note [metric aliases]). */
export function withMetricAliases<T extends object>(record: T): T {
  const r = record as Record<string, unknown>;
  for (const [a, b] of ALIASES)
    for (const [from, to] of [[a, b], [b, a]]) {
      if (!Object.prototype.propertyIsEnumerable.call(r, from) || Object.prototype.hasOwnProperty.call(r, to)) continue;
      Object.defineProperty(r, to, { get: () => r[from], enumerable: false, configurable: true });
    }
  return record;
}

/** What fit() resolves to: per-epoch logs (Keras' History). */
export class History extends Callback {
  /** Epoch indices (0-based) that were run. */
  epoch: number[] = [];
  /** loss, metrics and val_* per epoch. */
  history: Record<string, number[]> = {};
  async onTrainBegin() {
    this.epoch = [];
    this.history = {};
  }
  async onEpochEnd(epoch: number, logs: Logs = {}) {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
    withMetricAliases(this.history);
  }
}

/** Whether the monitored value should fall ('min') or rise ('max'); 'auto' picks 'max' for accuracy-like names. */
type Mode = 'auto' | 'min' | 'max';

function improves(mode: 'min' | 'max', current: number, best: number, minDelta: number): boolean {
  return mode === 'min' ? current < best - minDelta : current > best + minDelta;
}
function resolveMode(mode: Mode, monitor: string): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|auc|precision|recall/.test(monitor) ? 'max' : 'min';
}

/** Arguments of EarlyStopping / callbacks.earlyStopping() (Keras EarlyStopping's, camelCased). */
export interface EarlyStoppingArgs {
  /** Logged value to watch (default 'val_loss'). */
  monitor?: string;
  /** Smallest change that counts as an improvement. */
  minDelta?: number;
  /** Epochs without improvement before stopping. */
  patience?: number;
  /** 0 (default) silent, > 0 logs when stopping. */
  verbose?: number;
  /** Default 'auto'. */
  mode?: Mode;
  /** Stop unless the value beats this. */
  baseline?: number;
  /** Restore the weights of the best epoch when stopping. */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching. */
  startFromEpoch?: number;
}

/** Stops training when `monitor` stops improving (Keras EarlyStopping). */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly verbose: number;
  readonly mode: 'min' | 'max';
  readonly baseline?: number;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  /** The epoch training stopped at (0 when it did not stop early). */
  stoppedEpoch = 0;
  bestEpoch = 0;
  best = Infinity;
  private wait = 0;
  private bestWeights: Tensor[] | null = null;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    this.verbose = args.verbose ?? 0;
    check(['auto', 'min', 'max'].includes(args.mode ?? 'auto'), 'earlyStopping', "mode 'auto', 'min' or 'max'", args.mode);
    this.mode = resolveMode(args.mode ?? 'auto', this.monitor);
    this.baseline = args.baseline;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
    this.startFromEpoch = args.startFromEpoch ?? 0;
    check(Number.isInteger(this.patience) && this.patience >= 0, 'earlyStopping', 'patience as an integer >= 0', args.patience);
  }

  async onTrainBegin() {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestEpoch = 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.freeBest();
  }

  async onEpochEnd(epoch: number, logs: Logs = {}) {
    const current = logs[this.monitor];
    if (current === undefined || epoch < this.startFromEpoch) {
      if (current === undefined && epoch >= this.startFromEpoch)
        console.warn(`earlyStopping: '${this.monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')})`);
      return;
    }
    if (this.restoreBestWeights && !this.bestWeights) this.bestWeights = this.model!.getWeights();
    this.wait++;
    if (improves(this.mode, current, this.best, this.minDelta)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) {
        this.freeBest();
        this.bestWeights = this.model!.getWeights();
      }
      if (this.baseline === undefined || improves(this.mode, current, this.baseline, this.minDelta)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model!.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights) {
        if (this.verbose > 0) console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
        this.model!.setWeights(this.bestWeights);
      }
    }
  }

  async onTrainEnd() {
    if (this.stoppedEpoch > 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    this.freeBest();
  }

  private freeBest(): void {
    this.bestWeights?.forEach((t) => t.dispose());
    this.bestWeights = null;
  }
}

/** Arguments of ModelCheckpoint / callbacks.modelCheckpoint() (Keras ModelCheckpoint's, camelCased). */
export interface ModelCheckpointArgs {
  /** Logged value watched by saveBestOnly (default 'val_loss'). */
  monitor?: string;
  /** Save only when `monitor` improves (default false). */
  saveBestOnly?: boolean;
  /** Default 'auto'. */
  mode?: Mode;
  /** 0 (default) silent, > 0 logs each save. */
  verbose?: number;
}

/**
 * Saves the model at each epoch end (or only on improvement) to a directory;
 * `{epoch}` (1-based, e.g. `{epoch:02d}`) and log keys (`{val_loss:.4f}`) in the path are filled in.
 */
export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly mode: 'min' | 'max';
  readonly verbose: number;
  best: number;
  constructor(filepath: string, args: ModelCheckpointArgs = {}) {
    super();
    check(typeof filepath === 'string' && filepath.length > 0, 'modelCheckpoint', 'a directory path', filepath);
    this.filepath = filepath;
    this.monitor = args.monitor ?? 'val_loss';
    this.saveBestOnly = args.saveBestOnly ?? false;
    this.mode = resolveMode(args.mode ?? 'auto', this.monitor);
    this.verbose = args.verbose ?? 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** The path for an epoch's logs. */
  formatPath(epoch: number, logs: Logs): string {
    return this.filepath.replace(/\{(\w+)(?::([^}]*))?\}/g, (m, key: string, fmt?: string) => {
      const v = key === 'epoch' ? epoch + 1 : logs[key];
      if (v === undefined) throw new InvalidArgumentError(`modelCheckpoint: expected '${key}' in the logs for path '${this.filepath}' but received keys ${Object.keys(logs).join(', ')}`);
      if (!fmt) return String(v);
      const f = /^0?(\d+)d$/.exec(fmt);
      if (f) return String(Math.round(v)).padStart(Number(f[1]), fmt.startsWith('0') ? '0' : ' ');
      const p = /^\.(\d+)f$/.exec(fmt);
      if (p) return v.toFixed(Number(p[1]));
      return m;
    });
  }

  async onEpochEnd(epoch: number, logs: Logs = {}) {
    const path = this.formatPath(epoch, logs);
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (current === undefined) {
        console.warn(`modelCheckpoint: '${this.monitor}' is not in the logs; not saving`);
        return;
      }
      if (!improves(this.mode, current, this.best, 0)) return;
      if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: ${this.monitor} improved from ${this.best} to ${current}, saving model to ${path}`);
      this.best = current;
    } else if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: saving model to ${path}`);
    // model.save is atomic (Note [atomic save] in io.ts): a run killed mid-checkpoint keeps the previous checkpoint loadable.
    await this.model!.save(path);
  }
}

/**
 * Sets the learning rate at the start of each epoch from schedule(epoch, lr) (Keras'
 * LearningRateScheduler) and logs it as `learning_rate`. A new rate takes effect by
 * retracing the training step (the rate is a constant of the compiled plan), which costs
 * one trace per change.
 */
export class LearningRateScheduler extends Callback {
  constructor(
    readonly schedule: (epoch: number, lr: number) => number,
    readonly verbose = 0,
  ) {
    super();
    check(typeof schedule === 'function', 'learningRateScheduler', 'a schedule function (epoch, lr) => lr', schedule);
  }
  async onEpochBegin(epoch: number) {
    const opt = this.model?.compiled?.optimizer;
    if (!opt) return;
    const lr = this.schedule(epoch, opt.learningRate);
    check(typeof lr === 'number' && Number.isFinite(lr) && lr >= 0, 'learningRateScheduler', 'the schedule to return a learning rate >= 0', lr);
    if (lr !== opt.learningRate) setLearningRate(this.model!, lr);
    if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
  }
  async onEpochEnd(_epoch: number, logs?: Logs) {
    const opt = this.model?.compiled?.optimizer;
    if (opt && logs) logs.learning_rate = opt.learningRate;
  }
}

/** Arguments of ReduceLROnPlateau / callbacks.reduceLROnPlateau() (Keras ReduceLROnPlateau's, camelCased). */
export interface ReduceLROnPlateauArgs {
  /** Logged value to watch (default 'val_loss'). */
  monitor?: string;
  /** New rate = rate * factor, factor in (0, 1) (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  /** Default 'auto'. */
  mode?: Mode;
  /** Smallest change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction (default 0). */
  cooldown?: number;
  /** Lower bound of the rate (default 0). */
  minLr?: number;
  /** 0 (default) silent, > 0 logs each reduction. */
  verbose?: number;
}

/** Multiplies the learning rate by `factor` when `monitor` stops improving (Keras ReduceLROnPlateau). */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly verbose: number;
  private best = Infinity;
  private wait = 0;
  private cooldownCounter = 0;
  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.factor = args.factor ?? 0.1;
    check(this.factor > 0 && this.factor < 1, 'reduceLROnPlateau', 'factor in (0, 1)', args.factor);
    this.patience = args.patience ?? 10;
    this.mode = resolveMode(args.mode ?? 'auto', this.monitor);
    this.minDelta = args.minDelta ?? 1e-4;
    this.cooldown = args.cooldown ?? 0;
    this.minLr = args.minLr ?? 0;
    this.verbose = args.verbose ?? 0;
  }
  async onTrainBegin() {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }
  async onEpochEnd(epoch: number, logs: Logs = {}) {
    const opt = this.model?.compiled?.optimizer;
    if (!opt) return;
    logs.learning_rate = opt.learningRate;
    const current = logs[this.monitor];
    if (current === undefined) {
      console.warn(`reduceLROnPlateau: '${this.monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')})`);
      return;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (improves(this.mode, current, this.best, this.minDelta)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0 && ++this.wait >= this.patience) {
      const old = opt.learningRate;
      if (old > this.minLr) {
        const lr = Math.max(old * this.factor, this.minLr);
        setLearningRate(this.model!, lr);
        if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${lr}.`);
        this.cooldownCounter = this.cooldown;
        this.wait = 0;
      }
    }
  }
}

/** Changes the compiled optimizer's learning rate; the step plans are retraced at their next use. */
export function setLearningRate(model: LayersModel, lr: number): void {
  const opt = model.compiled?.optimizer;
  if (!opt) throw new InvalidArgumentError(`setLearningRate: expected a compiled model but received '${model.name}'`);
  opt.learningRate = lr;
  model.resetCompiledPlans();
}

/** Runs every callback's hooks in order. */
export class CallbackList {
  constructor(readonly callbacks: Callback[]) {}
  setModel(m: LayersModel) {
    this.callbacks.forEach((c) => c.setModel(m));
  }
  setParams(p: Record<string, unknown>) {
    this.callbacks.forEach((c) => c.setParams(p));
  }
  async onTrainBegin(logs?: Logs) {
    for (const c of this.callbacks) await c.onTrainBegin(logs);
  }
  async onTrainEnd(logs?: Logs) {
    for (const c of this.callbacks) await c.onTrainEnd(logs);
  }
  async onEpochBegin(e: number, logs?: Logs) {
    for (const c of this.callbacks) await c.onEpochBegin(e, logs);
  }
  async onEpochEnd(e: number, logs?: Logs) {
    if (logs) withMetricAliases(logs);
    for (const c of this.callbacks) await c.onEpochEnd(e, logs);
  }
  async onBatchBegin(b: number, logs?: Logs) {
    for (const c of this.callbacks) await c.onBatchBegin(b, logs);
  }
  async onBatchEnd(b: number, logs?: Logs) {
    if (logs) withMetricAliases(logs);
    for (const c of this.callbacks) await c.onBatchEnd(b, logs);
  }
}

/** Callbacks from fit()'s option: a Callback, hook objects, or an array of either. */
export function toCallbacks(v: unknown): Callback[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((c) => {
    if (c instanceof Callback) return c;
    if (c && typeof c === 'object') return new CustomCallback(c as CustomCallbackArgs);
    throw new InvalidArgumentError(`fit: expected callbacks as Callback instances or objects of hook functions but received ${typeof c}`);
  });
}

/** tfjs-style factories: callbacks.earlyStopping({...}). */
export const earlyStopping = (args?: EarlyStoppingArgs) => new EarlyStopping(args);
/** callbacks.modelCheckpoint(filepath, {...}): a ModelCheckpoint saving to the directory filepath. */
export const modelCheckpoint = (filepath: string, args?: ModelCheckpointArgs) => new ModelCheckpoint(filepath, args);
/** callbacks.learningRateScheduler(schedule, verbose = 0): a LearningRateScheduler. */
export const learningRateScheduler = (schedule: (epoch: number, lr: number) => number, verbose = 0) => new LearningRateScheduler(schedule, verbose);
/** callbacks.reduceLROnPlateau({...}): a ReduceLROnPlateau. */
export const reduceLROnPlateau = (args?: ReduceLROnPlateauArgs) => new ReduceLROnPlateau(args);
