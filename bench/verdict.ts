// The report's judgements, as pure functions of measured numbers (test/bench-report.test.ts):
// where cudnn-node stands against a peer (lead / level / behind), whether the run passes its
// self-check, the machine's measured ceiling, and the derived columns (GFLOP/s, fraction of
// the ceiling, ratios).
import type { BenchResult, Ceiling, SelfCheck, SelfCheckRow, Verdict } from './types.js';

/** Ratios within this band around 1 are "level": closer than a benchmark on a shared CPU can
 * tell apart, and closer than a user rerunning the number would notice. */
export const LEVEL_BAND = 0.1;

/** ratio = peer time / cudnn-node time: above 1 + band cudnn-node leads, below 1 - band it is
 * behind, otherwise level. Judged on the ratio as the report prints it (two decimals), so
 * that a printed "0.90x" never reads "behind". */
export function classify(ratio: number, band = LEVEL_BAND): Verdict {
  if (!Number.isFinite(ratio) || ratio <= 0) throw new RangeError(`classify: expected a positive ratio but received ${ratio}`);
  const printed = Math.round(ratio * 100) / 100;
  return printed > 1 + band + 1e-9 ? 'lead' : printed < 1 - band - 1e-9 ? 'behind' : 'level';
}

/** A runner's reference-workload median inside the suite may differ from the same runner
 * measured alone by at most this fraction, else the report is untrustworthy (issue 18). */
export const SELF_CHECK_TOLERANCE = 0.1;

export interface PhaseMeasure {
  medianS?: number;
  variant?: string;
  note?: string;
}

/**
 * The self-check: for each runner measured in either phase, the deviation of its suite
 * median from its alone median. It passes only when every runner was measured in both
 * phases and none deviates by more than the tolerance (faster or slower: either means the
 * suite is not measuring what each runner does on its own).
 */
export function selfCheck(
  workload: string,
  alone: Record<string, PhaseMeasure>,
  suite: Record<string, PhaseMeasure>,
  method: string,
  tolerance = SELF_CHECK_TOLERANCE,
): SelfCheck {
  const rows: SelfCheckRow[] = [];
  for (const runner of [...new Set([...Object.keys(alone), ...Object.keys(suite)])]) {
    const a = alone[runner], s = suite[runner];
    const row: SelfCheckRow = { runner, variant: s?.variant ?? a?.variant, aloneS: a?.medianS, suiteS: s?.medianS, ok: false };
    if (a?.medianS === undefined || s?.medianS === undefined) {
      row.note = a?.medianS === undefined ? `not measured alone${a?.note ? `: ${a.note}` : ''}` : `not measured in the suite${s?.note ? `: ${s.note}` : ''}`;
    } else {
      row.deviation = (s.medianS - a.medianS) / a.medianS;
      row.ok = Math.abs(row.deviation) <= tolerance;
    }
    rows.push(row);
  }
  return { workload, tolerance, passed: rows.length > 0 && rows.every((r) => r.ok), rows, method };
}

/** The machine's ceiling as measured in this run: the best sgemm or convolution GFLOP/s of
 * any runner (medians). sgemm alone reads below what oneDNN's best convolutions reach on
 * some CPUs, so the fastest convolution counts too (issue 18). */
export function ceilingOf(results: BenchResult[], ours: string): Ceiling {
  let sgemm = 0, conv = 0, oursMm = 0, source = '';
  let best = 0;
  for (const r of results) {
    if ((r.group !== 'matmul' && r.group !== 'conv') || !r.flops) continue;
    for (const [name, run] of Object.entries(r.runs)) {
      if (!run.stats) continue;
      const g = r.flops / run.stats.median / 1e9;
      if (r.group === 'matmul') {
        sgemm = Math.max(sgemm, g);
        if (name === ours) oursMm = Math.max(oursMm, g);
      } else conv = Math.max(conv, g);
      if (g > best) [best, source] = [g, `${name}, ${r.label}`];
    }
  }
  return { gflops: best, source, sgemm, conv, ours: oursMm };
}

/** Fills the derived columns of every run: GFLOP/s (and its IQR), fraction of the ceiling,
 * images/s, and for peers the ratio to cudnn-node and its verdict. */
export function derive(results: BenchResult[], ours: string): Ceiling {
  const ceiling = ceilingOf(results, ours);
  for (const r of results) {
    const base = r.runs[ours]?.stats?.median;
    for (const [name, run] of Object.entries(r.runs)) {
      if (!run.stats) continue;
      const t = run.stats.median;
      if (r.flops) {
        run.gflops = r.flops / t / 1e9;
        run.gflopsIqr = [r.flops / run.stats.q3 / 1e9, r.flops / run.stats.q1 / 1e9];
        if (ceiling.gflops > 0) run.fractionOfCeiling = run.gflops / ceiling.gflops;
      }
      if (r.images) run.imagesPerSec = r.images / t;
      if (base && name !== ours) {
        run.ratio = t / base;
        run.verdict = classify(run.ratio);
      }
    }
  }
  return ceiling;
}
