// For scripts/gpu-check.sh: the short table printed last. Reads, from the log folder given:
// phases.tsv (name, status, seconds, note), doctor.json, test-gpu.json, test-parity.json,
// test-suites.json (vitest JSON reports) and bench-gpu.json (bench/gpu.ts); prints the failed
// tests (first 12), then the table (with each training step's cn.profile() breakdown).
//   node scripts/gpu/summary.mjs LOGDIR TOTAL_SECONDS
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, totalS] = process.argv.slice(2);
const readJson = (f) => {
  try {
    return JSON.parse(readFileSync(join(dir, f), 'utf8'));
  } catch {
    return undefined;
  }
};
const fmt = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—');
const lines = [];
const failures = [];

// ---- device
const doctor = readJson('doctor.json');
const cuda = doctor?.backends?.find((b) => b.name === 'cuda');
let device = 'addon did not load';
if (cuda?.available)
  device = `${cuda.deviceName} (cc ${cuda.computeCapability}), cuDNN ${cuda.cudnnVersion}, cuBLAS ${cuda.cublasVersion}, CUDA runtime ${cuda.runtimeVersion}, driver ${cuda.driverVersion}`;
else if (cuda) device = `cuda ${cuda.compiled ? 'compiled in but not available' : 'not compiled in'}: ${cuda.reason}`;

// ---- phases
const phases = existsSync(join(dir, 'phases.tsv'))
  ? readFileSync(join(dir, 'phases.tsv'), 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('\t'))
  : [];

/** passed / failed / skipped from a vitest JSON report, and the failed tests. */
function tests(file, what) {
  const r = readJson(file);
  if (!r) return undefined;
  for (const f of r.testResults ?? []) {
    for (const a of f.assertionResults ?? [])
      if (a.status === 'failed')
        failures.push(`${what}: ${a.fullName ?? a.title}: ${String((a.failureMessages ?? [])[0] ?? '').split('\n')[0].slice(0, 220)}`);
    if (f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'))
      failures.push(`${what}: ${f.name.split('/').pop()}: ${String(f.message ?? '').split('\n')[0].slice(0, 220)}`);
  }
  return `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`;
}
const testCounts = {
  'gpu tests': tests('test-gpu.json', 'gpu.test.ts'),
  'parity [cuda] vs TF': tests('test-parity.json', 'parity'),
  'op suites [cuda]': tests('test-suites.json', 'suites'),
};

lines.push(`== cudnn-node gpu:check: ${device} ==`);
lines.push('| phase | result | s | notes |');
lines.push('|---|---|---|---|');
for (const [name, status, secs, note] of phases) {
  const counts = testCounts[name];
  lines.push(`| ${name} | ${status}${counts ? `: ${counts}` : ''} | ${secs ?? ''} | ${(note ?? '').slice(0, 120)} |`);
}

// ---- benchmark
const bench = readJson('bench-gpu.json');
if (bench?.rows) {
  const modes = bench.modes ?? ['heur'];
  lines.push('');
  lines.push(`| conv, batch ${bench.batch} (fwd+bwd, layers x count) | ${modes.map((m) => `ours ${m} TFLOP/s`).join(' | ')} | torch TFLOP/s | ${modes.map((m) => `ratio ${m}`).join(' | ')} |`);
  lines.push(`|---|${modes.map(() => '---').join('|')}|---|${modes.map(() => '---').join('|')}|`);
  for (const s of bench.summary ?? [])
    lines.push(`| ${s.net} total | ${modes.map((m) => fmt(s.ours?.[m]?.tflops)).join(' | ')} | ${fmt(s.torch?.tf32?.tflops)} | ${modes.map((m) => fmt(s.ratio?.[m])).join(' | ')} |`);
  const torchOf = (m) => (m === 'fp32' ? 'fp32' : 'tf32');
  const key = (r) => `${r.net} ${r.layer} ${r.dir}`;
  const pick = [
    (r) => r.net === 'resnet34' && r.layer.startsWith('l3 3x3 256->256'),
    (r) => r.net === 'resnet34' && r.layer.startsWith('conv1') && r.dir === 'fwd',
    (r) => r.net === 'fashion' && r.layer.startsWith('conv1') && r.dir !== 'bwd_data',
  ];
  const shown = new Set();
  const row = (r) => {
    shown.add(key(r));
    return `| ${key(r)} | ${modes.map((m) => fmt(r.ours?.[m]?.tflops)).join(' | ')} | ${fmt(r.torch?.tf32?.tflops)} | ${modes
      .map((m) => fmt(r.torch?.[torchOf(m)]?.ms && r.ours?.[m]?.ms ? r.torch[torchOf(m)].ms / r.ours[m].ms : undefined))
      .join(' | ')} |`;
  };
  for (const p of pick) for (const r of bench.rows.filter(p)) lines.push(row(r));
  // The three layers where we trail PyTorch most (best of our modes).
  const best = (r) => Math.max(...modes.filter((m) => m !== 'fp32').map((m) => (r.torch?.tf32?.ms && r.ours?.[m]?.ms ? r.torch.tf32.ms / r.ours[m].ms : -1)));
  const worst = bench.rows.filter((r) => best(r) > 0 && !shown.has(key(r))).sort((a, b) => best(a) - best(b)).slice(0, 3);
  if (worst.length) lines.push(`| *slowest vs PyTorch:* | ${modes.map(() => '').join(' | ')} | | ${modes.map(() => '').join(' | ')} |`);
  for (const r of worst) lines.push(row(r));
  for (const t of Object.values(bench.train ?? {}))
    lines.push(
      `${t.label ?? 'train'} train step, batch ${bench.batch}: ours ${fmt(t.ours?.ms)} ms (${fmt(t.ours?.imagesPerSec, 0)} img/s, first step ${fmt(t.ours?.firstStepS, 1)} s)` +
        `${t.ours?.note ? ` [${t.ours.note}]` : ''}, PyTorch ${fmt(t.torch?.ms)} ms${t.torch?.note ? ` [${t.torch.note}]` : ''}, ratio ${fmt(t.ratio)}` +
        // cn.profile() of one more step: kernel time by name, then the busiest conv calls
        (t.ours?.profile
          ? `\n  profiled: ${fmt(t.ours.profile.wallMs)} ms wall, ${fmt(t.ours.profile.kernelMs)} ms kernels; ` +
            t.ours.profile.top.slice(0, 6).map((k) => `${k.name} ${fmt(k.ms)}/${k.calls}`).join(', ') +
            `\n  convs: ${t.ours.profile.convTop.slice(0, 4).map((c) => `${c.name} ${c.shapes} ${fmt(c.ms)}/${c.calls}${c.impl ? ` [${c.impl.replace(/^cuDNN /, '')}]` : ''}`).join('; ')}`
          : ''),
    );
  // ResNet-34's step under other settings (bench/gpu.ts STEP_VARIANTS): autotuned, graph-API
  // convs, plan fusion off; for graph-API steps, the engines that ran and whether SAME
  // stride-2 convs went without the padding copy.
  for (const v of Object.values(bench.trainVariants ?? {})) {
    const p = v.ours?.profile;
    lines.push(
      `${v.label}: ours ${fmt(v.ours?.ms)} ms${v.ours?.note ? ` [${v.ours.note}]` : ''} (default ${fmt(v.defaultMs)} ms), ratio ${fmt(v.ratio)}` +
        (p && String(v.mode).startsWith('graph')
          ? `\n  ${p.convPadded ?? '?'} of ${p.convCalls ?? '?'} conv calls padded the input into a copy first; convs: ${p.convTop.slice(0, 4).map((c) => `${c.name} ${c.shapes} ${fmt(c.ms)}/${c.calls}${c.impl ? ` [${c.impl.replace(/^cuDNN /, '')}]` : ''}`).join('; ')}`
          : ''),
    );
  }
  // Memory-bound kernels (batch norm, fused relu kernels, pooling, elementwise): GB/s against
  // the card's copy rate (about 4.3 TB/s on the H200) says how far each is from its floor.
  const mem = (bench.memoryOps ?? []).filter((m) => m.gbps || m.note);
  if (mem.length)
    lines.push(`memory-bound ops, batch ${bench.batch}: ${mem.map((m) => `${m.name.replace(/ \[B,.*\]$/, '')} ${m.gbps ? `${fmt(m.ms, 3)} ms ${fmt(m.gbps, 0)} GB/s` : m.note}`).join('; ')}`);
  lines.push(`PyTorch: ${bench.torch?.info ? Object.entries(bench.torch.info).map(([k, v]) => `${k} ${v}`).join(', ') : bench.torch?.note ?? 'not run'}${bench.torch?.note && bench.torch?.info ? ` (${bench.torch.note})` : ''}`);
} else if (bench?.error) {
  lines.push(`\nbenchmark: ${bench.error}`);
}
lines.push(`total ${totalS ?? '?'} s; logs and JSON in ${dir}`);

const out = [];
if (failures.length) {
  out.push(`-- failed tests (${failures.length}; first 12):`);
  for (const f of failures.slice(0, 12)) out.push(`  ${f}`);
  out.push('');
}
out.push(...lines);
// (Printed only: gpu-check.sh appends it to gpu-check.log, and the device tool brings back
// at most 8 files from $OUT.)
console.log(out.join('\n'));
