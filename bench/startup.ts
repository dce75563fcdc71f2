// Time to first training step and peak memory: each runner in fresh child processes, one
// at a time (nothing else of the benchmark runs meanwhile). Also the peak memory of the
// mixed-precision training steps, each runner in the configuration the suite chose.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stats } from './shared.js';
import { BASELINE_RUNNER } from './runners/variants.js';
import type { BenchResult, ChildReport, MemoryReport, Mode, Spec } from './types.js';
import { CHILD } from './workloads.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const log = (...a: unknown[]) => console.error(...a);

/**
 * Time to first step and peak memory: each runner in a fresh child process (bench/child.ts
 * for cudnn-node and tfjs-node, bench/peers.py --child for Keras and PyTorch) that imports
 * its library, builds and compiles the Fashion-MNIST CNN, and runs `steps` training steps at
 * batch 128. Times are taken here, from spawning the process to each line the child prints;
 * the peak is the child's VmHWM. Runners take turns, the order rotating per repeat.
 */
export async function startupAndMemory(mode: Mode, names: string[], python: string, logDir: string): Promise<ChildReport> {
  const { steps, repeats } = CHILD[mode];
  const spec: Spec = { kind: 'train', model: 'fashion_cnn', batch: 128, optimizer: 'adam' };
  const rep: ChildReport = {
    id: 'startup_fashion_cnn_b128', label: 'Fashion-MNIST CNN, batch 128, Adam', model: 'fashion_cnn', batch: 128, steps, optimizer: 'adam', runs: {},
  };
  const raw: Record<string, Array<Record<string, number>>> = {};
  const errors: Record<string, string> = {};
  for (let i = 0; i < repeats; i++)
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length];
      const node = name === 'cudnn-node' || name === 'tfjs-node';
      const [cmd, args] = node
        ? [process.execPath, ['--import', 'tsx', join(here, 'child.ts'), name, JSON.stringify(spec), String(steps)]]
        : [python, [join(here, 'peers.py'), name, '--child', JSON.stringify(spec), String(steps)]];
      const ts = Date.now();
      const r = await runChild(cmd, args, join(logDir, `child-${name}.log`), i > 0);
      if (r.error) errors[name] = r.error;
      else (raw[name] ??= []).push(r.values);
      log(`  fresh process ${name.padEnd(10)} ${r.error ? `failed: ${r.error}` : `first step at ${r.values.firstStepS.toFixed(2)} s, peak RSS ${r.values.peakRssMiB.toFixed(0)} MiB`}  [${((Date.now() - ts) / 1000).toFixed(1)} s]`);
    }
  const med = (xs: number[]) => stats(xs).median;
  for (const name of names) {
    const rs = raw[name];
    if (!rs?.length) {
      rep.runs[name] = { ok: false, note: errors[name] ?? 'no result', repeats: 0 };
      continue;
    }
    const m = (k: string) => (rs.every((r) => r[k] !== undefined) ? med(rs.map((r) => r[k])) : undefined);
    rep.runs[name] = {
      ok: true, repeats: rs.length, raw: rs,
      importS: m('importS'), builtS: m('builtS'), firstStepS: m('firstStepS'), stepS: m('stepS'), peakRssMiB: m('peakRssMiB'), params: rs[0].params,
    };
  }
  return rep;
}

/**
 * Peak memory of each runner on each workload (the bf16 mixed-precision steps): a fresh
 * process per runner and workload (bench/child.ts, bench/peers.py --child) builds the model in
 * the configuration the suite timed (its variant key, compilation included), runs the steps,
 * and reports its VmHWM, its RSS once the library was imported, and for cudnn-node the native
 * allocator's peak (memory().peakBytes). A worker of the suite would not do: its high-water
 * mark counts every workload and configuration it served. Runners that did not run a
 * workload in the suite are not started for it.
 */
export async function peakMemory(mode: Mode, results: BenchResult[], python: string, logDir: string, compileLimitS: number): Promise<MemoryReport[]> {
  const steps = CHILD[mode].steps;
  const out: MemoryReport[] = [];
  log(`peak memory of the mixed-precision steps (fresh processes, ${steps} steps each)`);
  for (const r of results) {
    const rep: MemoryReport = { id: r.id, label: r.label, runs: {} };
    for (const [name, run] of Object.entries(r.runs)) {
      if (!run.ok || !run.variantKey) continue;
      const spec = { ...r.spec, variant: run.variantKey, compileLimitS };
      const node = name === 'cudnn-node' || name === BASELINE_RUNNER;
      const [cmd, args] = node
        ? [process.execPath, ['--import', 'tsx', join(here, 'child.ts'), 'cudnn-node', JSON.stringify(spec), String(steps)]]
        : [python, [join(here, 'peers.py'), name, '--child', JSON.stringify(spec), String(steps)]];
      const ts = Date.now();
      const c = await runChild(cmd, args, join(logDir, `memory-${name}.log`), out.length > 0, 300 + compileLimitS);
      rep.runs[name] = c.error
        ? { ok: false, note: c.error, variantKey: run.variantKey }
        : { ok: true, variantKey: run.variantKey, peakRssMiB: c.values.peakRssMiB, importRssMiB: c.values.importRssMiB, peakNativeMiB: c.values.peakNativeMiB, steps };
      const m = rep.runs[name];
      log(`  ${r.id} ${name.padEnd(16)} ${m.ok ? `peak RSS ${m.peakRssMiB!.toFixed(0)} MiB${m.peakNativeMiB !== undefined ? `, native peak ${m.peakNativeMiB.toFixed(0)} MiB` : ''}` : `failed: ${m.note}`}  [${((Date.now() - ts) / 1000).toFixed(1)} s]`);
    }
    out.push(rep);
  }
  return out;
}

/** Spawns one child and timestamps its event lines (seconds since the spawn). */
function runChild(cmd: string, args: string[], logPath: string, append: boolean, timeoutS = 300): Promise<{ values: Record<string, number>; error?: string }> {
  return new Promise((res) => {
    const values: Record<string, number> = {};
    let error: string | undefined;
    const t0 = performance.now();
    const proc = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logStream = createWriteStream(logPath, { flags: append ? 'a' : 'w' });
    proc.stderr.pipe(logStream);
    const timer = setTimeout(() => {
      error = `timed out after ${timeoutS} s`;
      proc.kill('SIGKILL');
    }, timeoutS * 1000);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const at = (performance.now() - t0) / 1e3;
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line);
      } catch {
        return; // not ours (a library printing to stdout)
      }
      if (ev.event === 'imported') {
        values.importS = at;
        if (typeof ev.rssMiB === 'number') values.importRssMiB = ev.rssMiB;
      }
      else if (ev.event === 'built') values.builtS = at;
      else if (ev.event === 'first_step') values.firstStepS = at;
      else if (ev.event === 'done') {
        for (const k of ['stepS', 'peakRssMiB', 'peakNativeMiB', 'params', 'steps'] as const) if (typeof ev[k] === 'number') values[k] = ev[k] as number;
      } else if (ev.event === 'error') error = String(ev.error);
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      logStream.end();
      if (!error && (values.firstStepS === undefined || values.peakRssMiB === undefined)) error = `exited with code ${code} before finishing; see ${logPath}`;
      res({ values, error });
    });
  });
}
