// The side-by-side benchmark: cudnn-node against the peers a user would pick instead
// (tfjs-node, Keras on TensorFlow, PyTorch), in one run on one machine, each runner in its own
// worker process that is stopped while another runner is timed (Note [one process per
// runner] in bench/measure.ts). Writes bench/results/latest.{json,md,svg} and prints the
// Markdown report last; docs/benchmarks.md describes the method and how to read the report.
//
//   npm run bench                 # --quick (default)
//   npm run bench -- --full       # more samples, more sizes
//   npm run bench -- --only fashion --peers keras,torch --samples 4
//
// Phases: (1) the machine: CPU, and what oneDNN dispatches (a probe process); (2) the
// self-check's alone phase: each runner's worker started by itself, the reference workload
// (the Fashion-MNIST step at batch 128) measured, the worker stopped for good; (3) the suite:
// every runner's worker started, every workload measured on every runner in alternating
// turns (the sgemm ceiling first and again last); (4) fresh processes: time to first step and
// peak memory; (5) for the bf16 mixed-precision steps (--precision bf16), peak memory of each
// runner's chosen configuration, each in a fresh process. The self-check compares (2) with (3)
// and heads the report with its verdict.
//
// Modules: options.ts (flags), workloads.ts (what is measured), measure.ts (how: turns,
// warm-up, configurations), runners/ (the worker processes and their adapters), verdict.ts
// (self-check, lead / level / behind, the ceiling), machine.ts, startup.ts, targets.ts,
// report.ts (Markdown), svg.ts.
//
// Note [timing without readback]: every runner here executes synchronously on the CPU
// (our native.run, tfjs-node's TFE_Execute, TF eager, torch), so a call has finished when
// it returns. Reading results back (dataSync) would add a 25 MB copy to conv1's 2 ms and
// measure memcpy, not convolution; pass --readback to include it for every runner anyway.
// On a non-cpu backend of ours the readback is always on.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, loadAvg, machineInfo, probeOnednn, waitIdle } from './machine.js';
import { measure, type MeasureOptions, SAMPLE_BUDGET_S } from './measure.js';
import { mixedPrecisionSection } from './mixed-precision.js';
import { type Options, parseArgs, RUNNERS, selects } from './options.js';
import { toMarkdown } from './report.js';
import { WorkerRunner } from './runners/worker-client.js';
import { fmtMs, stats } from './shared.js';
import { BASELINE_RUNNER, variantsOf } from './runners/variants.js';
import { peakMemory, startupAndMemory } from './startup.js';
import { renderSvg } from './svg.js';
import { targets } from './targets.js';
import type { BenchResult, ChildReport, Report, RunnerInfo } from './types.js';
import { derive, type PhaseMeasure, selfCheck } from './verdict.js';
import { CHILD, MIXED_SELF_CHECK_WORKLOAD, precisionOf, SELF_CHECK_WORKLOAD, workloads, XCEPTION_SIZE } from './workloads.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const log = (...a: unknown[]) => console.error(...a);
const OURS = 'cudnn-node';

/** A runner's worker process (not started). */
function worker(name: string, o: Options): WorkerRunner {
  const logPath = join(dirname(o.json), `worker-${name}.log`);
  if (name === 'cudnn-node' || name === BASELINE_RUNNER || name === 'tfjs-node')
    return new WorkerRunner(name, process.execPath, ['--import', 'tsx', join(here, 'runners', 'node-worker.ts'), name], logPath, root);
  return new WorkerRunner(name, o.python, [join(here, 'peers.py'), name], logPath, root);
}

async function startWorker(w: WorkerRunner, o: Options): Promise<void> {
  if (w.name === 'keras' || w.name === 'torch') {
    if (!existsSync(o.python)) {
      w.note = `skipped: ${o.python} not found (run scripts/setup-python-peers.sh)`;
      return;
    }
  }
  await w.start();
  if (!w.available) log(`  ${w.name}: ${w.note}`);
}

function show(label: string, r: BenchResult, ts: number): void {
  const line = Object.entries(r.runs)
    .map(([n, run]) => `${n} ${run.stats ? fmtMs(run.stats.median) : `n/a (${run.note})`}${run.variant ? ` [${run.variant}]` : ''}`)
    .join(' | ');
  log(`${label.padEnd(44)} ${line}  [${((Date.now() - ts) / 1000).toFixed(1)} s]`);
}

const phaseMeasure = (r: BenchResult, name: string): PhaseMeasure => {
  const run = r.runs[name];
  return { medianS: run?.stats?.median, variant: run?.variant, note: run?.ok ? undefined : run?.note };
};

async function main() {
  const o = parseArgs(process.argv.slice(2), root);
  if (o.waitIdle > 0) await waitIdle(o.waitIdle);
  const t0 = Date.now();
  const loadBefore = loadAvg();
  const cpuBefore = cpuSeconds();
  const names = RUNNERS.filter((n) => n === OURS || o.peers.includes(n));
  const notes: string[] = [];
  const mopts = (forced?: Record<string, string>): MeasureOptions => ({
    budgetS: SAMPLE_BUDGET_S[o.mode], readback: o.readback, compileLimitS: o.compileLimitS,
    noCompile: o.noCompile, maxSamples: o.samples, forced, log,
  });

  // (1) The machine, before any runner is loaded.
  log('probing what oneDNN dispatches (ONEDNN_VERBOSE=1, one conv and one matmul)');
  const onednn = probeOnednn();
  log(`  oneDNN ${onednn.version ?? '?'}: ${onednn.isa ?? '?'}; ${Object.entries(onednn.impl).map(([k, v]) => `${k} ${v}`).join(', ')}`);

  const all = workloads(o.mode);
  const selected = all.filter((w) => selects(o, w));
  // The mixed-precision steps bring a second self-check, on the bf16 twin of the reference.
  const mixed = selected.some((w) => precisionOf(w) !== 'fp32');
  const chosen = all.filter((w) => w.group === 'matmul' || w.id === SELF_CHECK_WORKLOAD || (mixed && w.id === MIXED_SELF_CHECK_WORKLOAD) || selected.includes(w));

  // (2) Alone: each runner by itself, its worker killed before the next one starts; the
  // reference workload, and with bf16 steps its bf16 twin (our fp32 worker runs only that).
  const refs = [all.find((w) => w.id === SELF_CHECK_WORKLOAD)!, ...(mixed ? [all.find((w) => w.id === MIXED_SELF_CHECK_WORKLOAD)!] : [])];
  const alone: Record<string, Record<string, PhaseMeasure>> = Object.fromEntries(refs.map((r) => [r.id, {}]));
  const forced: Record<string, Record<string, string>> = Object.fromEntries(refs.map((r) => [r.id, {}]));
  const aloneResults: BenchResult[] = [];
  for (const name of [...names, ...(mixed ? [BASELINE_RUNNER] : [])]) {
    const w = worker(name, o);
    const mine = refs.filter((ref) => variantsOf(name, ref.spec).length);
    if (!mine.length) continue;
    await startWorker(w, o);
    if (!w.available) continue;
    for (const ref of mine) {
      const ts = Date.now();
      const r = await measure(ref, [w], mopts());
      aloneResults.push(r);
      alone[ref.id][name] = phaseMeasure(r, name);
      const key = r.runs[name].variantKey;
      if (key) forced[ref.id][name] = key;
      show(`${ref.label}, ${name} alone`, r, ts);
    }
    await w.close();
  }

  // (3) The suite.
  const runners = names.map((n) => worker(n, o));
  log(`starting the suite's workers: ${names.join(', ')}`);
  for (const w of runners) await startWorker(w, o); // one at a time: loading is not timed, but memory adds up
  const live = runners.filter((w) => w.available);
  // The mixed-precision steps: every runner with a mixed-precision recipe (not tfjs-node), and
  // our fp32 step from a second worker of ours, alternating with them (Note [mixed precision
  // variants] in bench/runners/variants.ts).
  const baseline = mixed ? worker(BASELINE_RUNNER, o) : undefined;
  if (baseline) {
    await startWorker(baseline, o);
    runners.push(baseline);
  }
  const mixedRunners = [...live.filter((w) => w.name !== 'tfjs-node'), ...(baseline?.available ? [baseline] : [])];
  const runnerInfo: RunnerInfo[] = runners.map((w) => ({ name: w.name, available: w.available, note: w.note, info: w.info }));
  const results: BenchResult[] = [];
  for (const w of chosen) {
    const ts = Date.now();
    const r = await measure(w, precisionOf(w) === 'fp32' ? live : mixedRunners, mopts(forced[w.id]));
    results.push(r);
    show(w.label, r, ts);
  }
  // Note [ceiling at both ends]: the sgemm ceiling is measured first and again last, and
  // its statistics pool both, so that a ceiling taken in a noisy moment cannot make every
  // conv look better (or worse) than it is. Both medians are kept in the JSON.
  for (const r of results.filter((x) => x.group === 'matmul')) {
    const ts = Date.now();
    const again = await measure(r, live, mopts());
    show(`${r.label} (again, at the end)`, again, ts);
    r.otherCpuS = (r.otherCpuS ?? 0) + (again.otherCpuS ?? 0);
    for (const [name, run] of Object.entries(r.runs)) {
      const end = again.runs[name];
      run.phases = { start: run.stats?.median, end: end?.stats?.median };
      if (end?.ok) run.times.push(...end.times);
      if (run.ok && run.times.length) run.stats = stats(run.times);
    }
  }
  for (const w of runners) await w.close().catch(() => undefined);

  // (4) Fresh processes.
  const startup: ChildReport[] = [];
  if (selects(o, { id: 'startup_fashion_cnn_b128', spec: { kind: 'train', model: 'fashion_cnn', batch: 128, optimizer: 'adam' } })) {
    const fresh = live.map((r) => r.name).filter((n) => CHILD[o.mode].runners.includes(n));
    log(`time to first step and peak memory (fresh processes: ${fresh.join(', ')})`);
    startup.push(await startupAndMemory(o.mode, fresh, o.python, dirname(o.json)));
  }
  // (5) Peak memory of the mixed-precision steps, each runner's chosen configuration in a
  // fresh process (a worker's high-water mark would count every workload it served).
  const mixedResults = results.filter((r) => precisionOf(r) !== 'fp32');
  const memory = mixedResults.length && !o.noMemory ? await peakMemory(o.mode, mixedResults, o.python, dirname(o.json), o.compileLimitS) : [];

  const method =
    'alone: at the start of the run, each runner\'s worker by itself (no other runner\'s process alive), the same warm-up, configuration and sample rules; suite: the same workload among all runners, alternating turns';
  const checks = refs.map((ref) => {
    const suiteRef = results.find((r) => r.id === ref.id)!;
    const suite = Object.fromEntries(Object.keys(suiteRef.runs).map((n) => [n, phaseMeasure(suiteRef, n)]));
    const a = alone[ref.id];
    // Note [self-check of a failed runner]: a runner that failed the bf16 reference in both
    // phases has nothing to compare; its failure is reported in the mixed-precision section
    // (for ours, as a failure of ours), and it does not void the check of the others.
    // The fp32 reference keeps the strict rule.
    if (ref.id !== SELF_CHECK_WORKLOAD)
      for (const n of Object.keys(suite))
        if (suite[n].medianS === undefined && a[n]?.medianS === undefined) {
          delete suite[n];
          delete a[n];
        }
    return selfCheck(ref.id, a, suite, method);
  });
  const [check, mixedCheck] = checks;
  const ceiling = derive(results, OURS);
  derive(aloneResults, OURS); // GFLOP/s of the alone runs, for the JSON
  const load = { before: +loadBefore.toFixed(2), after: +loadAvg().toFixed(2) };
  // Note [busy machine]: the load average after the run counts the benchmark's own work, so
  // what others used is the machine's busy CPU time minus ours and our children's (/proc);
  // without /proc, the load before the run decides.
  const cpuAfter = cpuSeconds();
  const wallS = (Date.now() - t0) / 1e3, cores = os.cpus().length;
  const othersShare = cpuBefore && cpuAfter ? Math.max(0, cpuAfter.machine - cpuBefore.machine - (cpuAfter.ours - cpuBefore.ours)) / (wallS * cores) : null;
  if (othersShare !== null ? othersShare > 0.1 || load.before > cores * 0.75 : load.before > cores * 0.75)
    notes.unshift(
      `**The machine was busy during this run** (${othersShare !== null ? `other processes used ${(othersShare * 100).toFixed(0)}% of the ${cores} cores; ` : ''}1-minute load ${load.before} before, ${load.after} after): absolute times are unreliable. Rerun on an idle machine (--wait-idle 600 waits for one).`,
    );
  else if (othersShare !== null) notes.push(`Other processes used ${(othersShare * 100).toFixed(1)}% of the ${cores} cores during the run.`);
  const maxOther = Math.max(0, ...results.map((r) => r.otherCpuS ?? 0));
  notes.push(
    `Isolation: each runner ran in its own worker process, stopped (SIGSTOP, its whole process group) while another runner was timed; the stopped workers used ${maxOther.toFixed(2)} CPU s at most during any workload's turns (Note [one process per runner] in bench/measure.ts).`,
  );
  if (o.noCompile) notes.push('--no-compile: Keras jit_compile=True and torch.compile were not tried.');
  if (!process.env.TF_ENABLE_ONEDNN_OPTS)
    notes.push('TF_ENABLE_ONEDNN_OPTS is unset, so tfjs-node and Keras run with TensorFlow\'s default (oneDNN kernels on x86), as users get them.');
  if (results.some((r) => r.model === 'xception' && r.group === 'train'))
    notes.push(`Xception trains on ${XCEPTION_SIZE[o.mode]}x${XCEPTION_SIZE[o.mode]} images in ${o.mode} mode (the application's default is 299x299, what --full uses; it accepts down to 71x71); its primitive shapes are those of a 299x299 input.`);
  if (!o.readback) notes.push('Timings exclude reading results back (every runner executes synchronously on the CPU); --readback includes it.');
  notes.push(`Runners alternate, and each turn opens with one untimed call, for every workload and runner: the first call after another runner's turn is up to 2x slower, for Keras's long training steps too (Note [re-warm per turn] in bench/measure.ts).`);
  if (o.samples) notes.push(`--samples ${o.samples}: at most ${o.samples} timed samples per workload and runner.`);
  const mp = mixedResults.length ? mixedPrecisionSection(mixedResults, memory, OURS, BASELINE_RUNNER, o.noMemory) : undefined;
  if (mp) {
    notes.push(
      `bf16 mixed precision: our fp32 step on those workloads ran in a second worker of ours (${BASELINE_RUNNER}), in the same alternating turns and stopped off-turn like every runner; tfjs-node has no mixed precision and is not in that section. The self-check's reference is the fp32 step.`,
    );
    for (const f of mp.oursFailed) log(`  cudnn-node bf16 FAILED on ${f.id}: ${f.error}`);
  }
  const report: Report = {
    trustworthy: checks.every((c) => c.passed),
    selfCheck: check,
    mixedSelfCheck: mixedCheck,
    date: new Date().toISOString(),
    mode: o.mode,
    durationS: 0,
    machine: { ...machineInfo(), loadAvg1m: load, onednn },
    runners: runnerInfo,
    ceiling,
    results,
    alone: aloneResults,
    startup,
    targets: targets(results, OURS, ceiling),
    mixedPrecision: mp,
    notes,
  };
  report.durationS = (Date.now() - t0) / 1000;
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, JSON.stringify(report, null, 1));
  const md = toMarkdown(report);
  const base = o.json.replace(/\.json$/, '');
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, renderSvg(report));
  log(`\nwrote ${o.json}, ${base}.md, ${base}.svg in ${report.durationS.toFixed(0)} s\n`);
  console.log(md);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
