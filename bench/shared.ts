// Helpers every benchmark script shares (bench/run.ts and its modules, bench/gpu.ts): error
// messages cut to one line, and order statistics of a list of timings.
import type { RunStats } from './types.js';

/** The first line of an error's message, cut to `max` characters: what a table cell or a
 * log line can hold. */
export function firstLine(e: unknown, max = 300): string {
  const m = e instanceof Error ? e.message : String((e as { message?: unknown })?.message ?? e);
  return m.split('\n')[0].slice(0, max);
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median, quartiles and range of a list of timings (seconds). */
export function stats(times: number[]): RunStats {
  const s = [...times].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), q1: quantile(s, 0.25), q3: quantile(s, 0.75), min: s[0], max: s[s.length - 1] };
}

export const median = (times: number[]): number => stats(times).median;

/** Seconds as milliseconds with 3 significant digits or so. */
export function fmtMs(sec: number): string {
  const ms = sec * 1e3;
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}
