// Keras-style training output. On a terminal (verbose 1): a progress bar per epoch with
// steps done, elapsed time (and ETA), time per step and running loss and metrics. Elsewhere,
// or with verbose 2: one line per epoch.
import { Callback, Logs } from './callbacks.js';

/** Keras' format_time. */
export function formatTime(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  if (s >= 60) return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  return `${Math.round(s)}s`;
}

/** Time per step: 95ms/step, 1s/step, 850us/step. */
export function formatStep(s: number): string {
  if (s >= 1) return `${s.toFixed(s >= 10 ? 0 : 1)}s/step`;
  if (s >= 1e-3) return `${Math.round(s * 1e3)}ms/step`;
  return `${Math.round(s * 1e6)}us/step`;
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4);
}

export function formatLogs(logs: Logs): string {
  const keys = Object.keys(logs);
  // loss first, then metrics, then validation values (Keras prints them in this spirit).
  keys.sort((a, b) => rank(a) - rank(b) || keys.indexOf(a) - keys.indexOf(b));
  return keys.map((k) => `${k}: ${formatValue(logs[k])}`).join(' - ');
}
function rank(k: string): number {
  if (k === 'loss') return 0;
  if (k === 'val_loss') return 3;
  return k.startsWith('val_') ? 4 : k.endsWith('loss') ? 1 : 2;
}

interface Stream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

/** The progress output of fit() (verbose 1: bar on a TTY, else like 2; verbose 2: a line per epoch). */
export class ProgressLogger extends Callback {
  private epochs = 0;
  private steps: number | null = null;
  private start = 0;
  private lastDraw = 0;
  private seen = 0;
  private readonly tty: boolean;

  constructor(
    private readonly verbose: number,
    private readonly stream: Stream = process.stdout,
  ) {
    super();
    this.tty = verbose === 1 && !!stream.isTTY;
  }

  async onTrainBegin() {
    this.epochs = (this.params.epochs as number) ?? 1;
    this.steps = (this.params.steps as number | null) ?? null;
  }

  async onEpochBegin(epoch: number) {
    this.start = performance.now();
    this.lastDraw = 0;
    this.seen = 0;
    if (this.tty) this.stream.write(`Epoch ${epoch + 1}/${this.epochs}\n`);
  }

  async onBatchEnd(batch: number, logs: Logs = {}) {
    this.seen = batch + 1;
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && this.seen !== this.steps) return;
    this.lastDraw = now;
    const elapsed = (now - this.start) / 1000;
    const per = elapsed / this.seen;
    const eta = this.steps ? ` (ETA ${formatTime(per * (this.steps - this.seen))})` : '';
    this.draw(`${this.bar()} ${formatTime(elapsed)}${eta} ${formatStep(per)}${Object.keys(logs).length ? ` - ${formatLogs(logs)}` : ''}`);
  }

  async onEpochEnd(epoch: number, logs: Logs = {}) {
    const elapsed = (performance.now() - this.start) / 1000;
    const per = this.seen ? elapsed / this.seen : 0;
    const tail = `${formatTime(elapsed)} ${formatStep(per)}${Object.keys(logs).length ? ` - ${formatLogs(logs)}` : ''}`;
    if (this.tty) {
      this.steps ??= this.seen;
      this.draw(`${this.bar(true)} ${tail}`);
      this.stream.write('\n');
    } else {
      this.stream.write(`Epoch ${epoch + 1}/${this.epochs} - ${this.seen}/${this.steps ?? this.seen} - ${tail}\n`);
    }
  }

  private bar(done = false): string {
    const total = this.steps ?? 0;
    const n = done ? total || this.seen : this.seen;
    const w = String(total || n).length;
    const count = `${String(n).padStart(w)}/${total || '?'}`;
    if (!total) return count;
    const width = 20;
    const filled = Math.min(width, Math.round((width * n) / total));
    return `${count} \x1b[1m${'━'.repeat(filled)}\x1b[0m\x1b[2m${'━'.repeat(width - filled)}\x1b[0m`;
  }

  private draw(line: string): void {
    const cols = this.stream.columns ?? 0;
    // Keep to one terminal line so \r overwrites it (the bar's escape codes take no width).
    const visible = line.replace(/\x1b\[[0-9;]*m/g, '');
    const text = cols && visible.length >= cols ? visible.slice(0, cols - 1) : line;
    this.stream.write(`\r${text}\x1b[K`);
  }
}
