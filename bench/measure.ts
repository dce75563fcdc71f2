// Measurement: one workload on a set of runners, each in its own worker process. Setup,
// warm-up (and, where a runner has several configurations, a probe of each to keep the
// fastest), then timed samples in alternating turns, the same rules for every runner.
//
// Note [one process per runner]: a runner's library may not take CPU while another runner
// is timed (issue 18: inside one suite, Keras ran its Fashion-MNIST step up to 1.8x slower
// than alone, with tfjs-node's TensorFlow in our process and PyTorch's OpenMP threads in
// theirs). So every runner, ours included, lives in its own worker process, in its own
// process group, and every group but the one on turn is stopped (SIGSTOP: no thread of it can
// run, spinning OpenMP or Eigen pool threads included). Each turn also reads, from /proc, the
// CPU time the stopped groups used meanwhile; the result carries it (otherCpuS, which should
// read 0), the proof the report prints.
//
// Note [re-warm per turn]: runners alternate, so every timed call would otherwise follow
// another runner's work (another process). On a 2-core VM such a first call runs up to 2x
// slower than the next one, for every runner alike: with PyTorch alternating, our 15
// Fashion-MNIST convs measured 259 GFLOP/s this way and 370 with one untimed call per turn
// (PyTorch's own: 203 and 344); alone, ours measure 361. A training loop runs its kernels
// back to back in one process, so each turn starts with one untimed call and the samples
// measure that steady state. The rule holds for calls of every length: the penalty is not
// a small part of a long step for every runner. Keras's Xception fine-tuning step (150x150,
// batch 8) measured 676 ms over three back-to-back calls but 1535 ms (1128-1942) as one
// call per turn after another runner's turn, against our 654 ms; an earlier rule that
// skipped the untimed call for steps over 250 ms reported that as a 2.35x lead.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstLine, median, stats } from './shared.js';
import type { BenchResult, Mode, RunResult, VariantProbe, Workload } from './types.js';
import { variantsOf, type Variant } from './runners/variants.js';
import { precisionOf } from './workloads.js';
import { groupCpuSeconds, type WorkerRunner } from './runners/worker-client.js';

/** Per runner and workload, measured time is capped: a runner that is much slower than the
 * rest gets fewer samples (never under 3, or under the workload's own count when that is
 * smaller) rather than stretching the whole run. */
export const SAMPLE_BUDGET_S: Record<Mode, number> = { quick: 4, full: 20 };
/** Timed samples per configuration when a runner has several to choose from. */
const PROBE_SAMPLES = 3;

export interface MeasureOptions {
  budgetS: number;
  readback: boolean;
  compileLimitS: number;
  noCompile: boolean;
  /** At most this many samples (0: the workload's own count). */
  maxSamples: number;
  /** Runner name -> variant key to use without probing (the self-check keeps the alone
   * phase's choice). */
  forced?: Record<string, string>;
  log: (...a: unknown[]) => void;
}

/** Runs `f` on `r`'s turn: `r` resumed, every other runner stopped; adds the CPU seconds the
 * others used meanwhile to acc. */
async function onTurn<T>(r: WorkerRunner, all: WorkerRunner[], acc: { otherCpuS: number }, f: () => Promise<T>): Promise<T> {
  const others = all.filter((x) => x !== r && x.pid !== undefined);
  for (const x of others) x.pause();
  const before = groupCpuSeconds(others.map((x) => x.pid!));
  r.resume();
  try {
    return await f();
  } finally {
    r.pause();
    const after = groupCpuSeconds(others.map((x) => x.pid!));
    if (before && after) for (const [pid, s] of after) acc.otherCpuS += Math.max(0, s - (before.get(pid) ?? s));
  }
}

interface Tried extends VariantProbe {
  params?: { total: number; trainable: number };
  /** Seconds per call at the end of the warm-up. */
  perCallS?: number;
}

const keyOf = (w: Workload, v: Variant) => `${w.id}#${v.key}`;

/** Sets a variant up and warms it (first call, then warmup - 1 more); probes adds timed
 * samples for the choice between variants. Runs inside the runner's turn. */
async function tryVariant(r: WorkerRunner, w: Workload, v: Variant, o: MeasureOptions, probe: boolean): Promise<Tried> {
  const t: Tried = { key: v.key, label: v.label, precision: v.precision, ok: false };
  const t0 = performance.now();
  const spec = { ...w.spec, variant: v.key, readback: o.readback, compileLimitS: o.compileLimitS };
  const s = await r.setup(keyOf(w, v), spec);
  t.setupS = (performance.now() - t0) / 1e3;
  t.note = s.note;
  t.params = s.params;
  if (!s.ok) return t;
  try {
    const first = await r.run(keyOf(w, v), 1, w.inner);
    t.firstCallS = first[0] * w.inner;
    const warm = w.warmup > 1 ? await r.run(keyOf(w, v), w.warmup - 1, w.inner) : first;
    t.perCallS = warm[warm.length - 1] * w.inner;
    t.medianS = probe ? median(await r.run(keyOf(w, v), PROBE_SAMPLES, w.inner)) : t.perCallS;
    t.ok = true;
  } catch (e) {
    t.note = `failed in warm-up: ${firstLine(e)}`;
  }
  return t;
}

export async function measure(w: Workload, runners: WorkerRunner[], o: MeasureOptions): Promise<BenchResult> {
  const result: BenchResult = { ...w, runs: {} };
  const acc = { otherCpuS: 0 };
  const turn = <T>(r: WorkerRunner, f: () => Promise<T>) => onTurn(r, runners, acc, f);
  const chosen = new Map<WorkerRunner, { key: string; want: number; rewarm: boolean }>();
  for (const r of runners) {
    const offered = variantsOf(r.name, w.spec); // only the workload's precision: Note [mixed precision variants]
    let vs = offered;
    const skipped = o.noCompile ? vs.filter((v) => v.compiles) : [];
    vs = vs.filter((v) => !skipped.includes(v));
    const forced = o.forced?.[r.name];
    if (forced) vs = vs.filter((v) => v.key === forced);
    const tried: Tried[] = [];
    for (const v of vs) tried.push(await turn(r, () => tryVariant(r, w, v, o, vs.length > 1)));
    const probes: VariantProbe[] = [
      ...tried.map(({ params: _p, perCallS: _c, ...p }) => p),
      ...skipped.map((v) => ({ key: v.key, label: v.label, precision: v.precision, ok: false, note: 'not tried (--no-compile)' })),
    ];
    const ok = tried.filter((t) => t.ok);
    const best = ok.reduce<Tried | undefined>((a, b) => (!a || b.medianS! < a.medianS! ? b : a), undefined);
    for (const t of ok) if (t !== best) await turn(r, () => r.free(keyOf(w, vs.find((v) => v.key === t.key)!)));
    const run: RunResult = {
      ok: !!best,
      note: best ? best.note : tried.map((t) => (vs.length > 1 ? `${t.label}: ${t.note}` : t.note)).join('; ') || (offered.length ? 'no configuration to run' : `no ${precisionOf(w)} configuration`),
      times: [],
      setupS: best?.setupS,
      firstCallS: best?.firstCallS,
      params: best?.params,
      variant: best && offered.length > 1 ? best.label : undefined,
      variantKey: best?.key,
      precision: best?.precision,
      variants: probes.length > 1 || forced ? probes : undefined,
    };
    result.runs[r.name] = run;
    if (!best) continue;
    const rewarm = true; // Note [re-warm per turn]: every workload, every runner
    const perSample = rewarm ? best.perCallS! * (1 + 1 / w.perTurn) : best.perCallS!;
    let want = Math.max(Math.min(3, w.samples), Math.min(w.samples, Math.floor(o.budgetS / Math.max(perSample, 1e-9))));
    if (o.maxSamples > 0) want = Math.min(want, o.maxSamples);
    chosen.set(r, { key: `${w.id}#${best.key}`, want, rewarm });
  }
  checkSameModel(result, runners, chosen, o.log);
  // Alternate: each turn every runner takes perTurn samples; the order rotates per turn.
  const active = runners.filter((r) => chosen.has(r));
  for (let n = 0; active.some((r) => result.runs[r.name].ok && result.runs[r.name].times.length < chosen.get(r)!.want); n++) {
    for (let j = 0; j < active.length; j++) {
      const r = active[(j + n) % active.length];
      const run = result.runs[r.name], c = chosen.get(r)!;
      const left = c.want - run.times.length;
      if (!run.ok || left <= 0) continue;
      try {
        await turn(r, async () => {
          if (c.rewarm) await r.run(c.key, 1, w.inner); // untimed: Note [re-warm per turn]
          run.times.push(...(await r.run(c.key, Math.min(w.perTurn, left), w.inner)));
        });
      } catch (e) {
        run.ok = false;
        run.note = `failed: ${firstLine(e)}`;
      }
    }
  }
  await crossCheck(result, runners, chosen, turn);
  for (const [r, c] of chosen) await turn(r, () => r.free(c.key)).catch(() => undefined);
  for (const run of Object.values(result.runs)) if (run.ok && run.times.length) run.stats = stats(run.times);
  result.otherCpuS = acc.otherCpuS;
  return result;
}

/** Models: the same architecture everywhere, checked by parameter counts (all, and
 * trainable) against ours, or against the first runner that reports them. */
function checkSameModel(result: BenchResult, runners: WorkerRunner[], chosen: Map<WorkerRunner, unknown>, log: MeasureOptions['log']): void {
  const counted = runners.filter((r) => chosen.has(r) && result.runs[r.name].params);
  if (!counted.length) return;
  const ref = counted.find((r) => r.name === 'cudnn-node') ?? counted[0];
  const p0 = result.runs[ref.name].params!;
  log(`  params: ${counted.map((r) => `${r.name} ${result.runs[r.name].params!.total} (trainable ${result.runs[r.name].params!.trainable})`).join(', ')}`);
  for (const r of counted) {
    const p = result.runs[r.name].params!;
    if (p.total === p0.total && p.trainable === p0.trainable) continue;
    const run = result.runs[r.name];
    run.ok = false;
    run.note = `not the same model: ${p.total} params (${p.trainable} trainable) vs ${ref.name}'s ${p0.total} (${p0.trainable})`;
    chosen.delete(r);
    log(`  ${r.name}: ${run.note}`);
  }
}

/** cudnn-node against tfjs-node on identical inputs (conv, pool and batch-norm forward): each
 * writes one call's result to a file, compared here. */
async function crossCheck(
  result: BenchResult,
  runners: WorkerRunner[],
  chosen: Map<WorkerRunner, { key: string }>,
  turn: <T>(r: WorkerRunner, f: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const kind = result.spec.kind;
  if (kind !== 'conv' && kind !== 'pool' && kind !== 'bn') return;
  const ours = runners.find((r) => r.name === 'cudnn-node'), ref = runners.find((r) => r.name === 'tfjs-node');
  if (!ours || !ref || !chosen.has(ours) || !chosen.has(ref) || !result.runs[ours.name].ok || !result.runs[ref.name].ok) return;
  const dir = mkdtempSync(join(tmpdir(), 'cudnn-node-bench-'));
  try {
    const [pa, pb] = [join(dir, 'ours.f32'), join(dir, 'ref.f32')];
    if (!(await turn(ours, () => ours.output(chosen.get(ours)!.key, pa)))) return;
    if (!(await turn(ref, () => ref.output(chosen.get(ref)!.key, pb)))) return;
    const read = (p: string) => {
      const b = readFileSync(p);
      return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    };
    const a = read(pa), b = read(pb);
    if (a.length !== b.length) return;
    let maxDiff = 0, maxRef = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxRef = Math.max(maxRef, Math.abs(b[i]));
    }
    result.check = { against: 'tfjs-node', maxRelErr: maxDiff / Math.max(maxRef, 1e-30) };
  } catch {
    /* a failed cross-check leaves no line in the report */
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
