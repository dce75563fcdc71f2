// The head of the Markdown report: the self-check verdict (its first line), the machine with
// what oneDNN dispatched and the measured ceiling, the self-check table, where cudnn-node
// stands per workload (lead / level / behind), and the configurations each peer ran.
import { fmtMs } from './shared.js';
import type { BenchResult, Report, RunResult, SelfCheck } from './types.js';
import { classify, LEVEL_BAND } from './verdict.js';
import { precisionOf } from './workloads.js';

const OURS = 'cudnn-node';
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** The report's first line: whether its numbers can be quoted (every self-check passed). */
export function trustLine(rep: Report): string {
  const cs = [rep.selfCheck, rep.mixedSelfCheck].filter((c): c is SelfCheck => !!c);
  if (!rep.selfCheck) return '**Self-check: NOT RUN. This report is untrustworthy.**';
  const tol = `${(rep.selfCheck.tolerance * 100).toFixed(0)}%`;
  const names = cs.map((c) => c.workload).join(' and ');
  if (cs.every((c) => c.passed)) return `**Self-check: PASSED.** Every runner's ${names} median inside the suite is within ${tol} of the same runner measured alone.`;
  const bad = cs
    .filter((c) => !c.passed)
    .map((c) => `on ${c.workload}: ${c.rows.filter((r) => !r.ok).map((r) => (r.deviation !== undefined ? `${r.runner} ${pct(r.deviation)}` : `${r.runner} (${r.note})`)).join(', ') || 'no runner measured'}`);
  return `**Self-check: FAILED. This report is untrustworthy: do not quote its numbers.** Suite vs alone deviates by more than ${tol} ${bad.join('; ')}.`;
}

export function machineLines(rep: Report): string[] {
  const m = rep.machine, d = m.onednn;
  const L = [
    `${rep.date} · **${m.cpu}**${m.cpuFamily ? ` (${m.cpuFamily})` : ''}, **${m.cores} cores**, ${m.simd.join('/')}, ${m.memoryGiB} GiB · ${m.os} · Node ${m.node} · ${rep.durationS.toFixed(0)} s${m.loadAvg1m ? ` · load ${m.loadAvg1m.before}→${m.loadAvg1m.after}` : ''}`,
    '',
  ];
  if (d)
    L.push(
      `oneDNN in cudnn-node's process (ONEDNN_VERBOSE): ${d.version ?? ''}${d.runtime ? `, ${d.runtime} runtime` : ''}; ISA **${d.isa ?? 'unknown'}**; dispatched ${Object.entries(d.impl).map(([k, v]) => `${k} \`${v}\``).join(', ') || 'nothing seen'}${d.note ? ` (${d.note})` : ''}.`,
      '',
    );
  const c = rep.ceiling;
  if (!(c.gflops > 0)) return [...L, 'Measured ceiling: none (no sgemm or convolution ran).', ''];
  L.push(
    `Measured ceiling: **${c.gflops.toFixed(0)} GFLOP/s** (${c.source}), the best of sgemm (${c.sgemm.toFixed(0)}) and the fastest convolution (${c.conv ? c.conv.toFixed(0) : 'none measured'}); "% ceiling" columns divide by it.`,
    '',
  );
  return L;
}

export function selfCheckSection(rep: Report): string[] {
  const L: string[] = [];
  for (const c of [rep.selfCheck, rep.mixedSelfCheck]) {
    if (!c) continue;
    L.push(`## Self-check: ${c.workload}, inside the suite vs alone`, '');
    L.push('| runner | configuration | alone | in the suite | deviation | within ' + `${(c.tolerance * 100).toFixed(0)}%` + ' |');
    L.push('|---|---|---:|---:|---:|---|');
    for (const r of c.rows)
      L.push(
        `| ${r.runner} | ${r.variant ?? ''} | ${r.aloneS !== undefined ? fmtMs(r.aloneS) : 'n/a'} | ${r.suiteS !== undefined ? fmtMs(r.suiteS) : 'n/a'} | ${r.deviation !== undefined ? pct(r.deviation) : r.note ?? ''} | ${r.ok ? 'yes' : '**no**'} |`,
      );
    L.push('', `How: ${c.method}.`, '');
  }
  return L;
}

/** "1.25x lead" for a peer's run, empty without a ratio. */
export function ratioVerdict(run?: RunResult): string {
  if (run?.ratio === undefined) return '';
  return `**${run.ratio.toFixed(2)}x** ${run.verdict ?? classify(run.ratio)}`;
}

/** One row per model workload, per primitive and per network's convolutions taken together:
 * ratio and verdict against every peer. */
export function standingSection(rep: Report, peers: string[]): string[] {
  if (!peers.length) return [];
  const L = [
    '## Where cudnn-node stands',
    '',
    `Ratio = peer time / cudnn-node time: above ${(1 + LEVEL_BAND).toFixed(2)} cudnn-node **leads**, below ${(1 - LEVEL_BAND).toFixed(2)} it is **behind**, in between **level**. Each peer in the configuration named (the faster of those tried).`,
    '',
    `| workload | ${peers.join(' | ')} |`,
    `|---|${peers.map(() => '---').join('|')}|`,
  ];
  const cell = (r: BenchResult, p: string) => {
    const run = r.runs[p];
    if (!run?.stats || !r.runs[OURS]?.stats) return 'n/a';
    return `${ratioVerdict(run)}${run.variant ? ` (${run.variant})` : ''}`;
  };
  // fp32 only: the bf16 steps are compared in their own section (bench/report-mixed.ts).
  const rows = rep.results.filter((r) => (r.group === 'train' || r.group === 'infer' || r.group === 'prim' || r.group === 'tiny') && precisionOf(r) === 'fp32');
  for (const r of rows.filter((x) => x.group === 'train' || x.group === 'infer')) L.push(`| ${r.label} | ${peers.map((p) => cell(r, p)).join(' | ')} |`);
  for (const model of ['fashion_cnn', 'resnet34', 'xception'] as const) {
    const convs = rep.results.filter((x) => x.group === 'conv' && (x.model ?? 'fashion_cnn') === model && x.runs[OURS]?.stats);
    if (!convs.length) continue;
    const cells = peers.map((p) => {
      const both = convs.filter((r) => r.runs[p]?.stats);
      if (!both.length) return 'n/a';
      const ratio = both.reduce((a, r) => a + r.runs[p].stats!.median, 0) / both.reduce((a, r) => a + r.runs[OURS].stats!.median, 0);
      return `**${ratio.toFixed(2)}x** ${classify(ratio)} (${both.length} convs, total time)`;
    });
    L.push(`| conv2d, ${model.replace('_cnn', ' CNN').replace('fashion', 'Fashion-MNIST')} layers | ${cells.join(' | ')} |`);
  }
  for (const r of rows.filter((x) => x.group === 'prim' || x.group === 'tiny')) L.push(`| ${r.label} | ${peers.map((p) => cell(r, p)).join(' | ')} |`);
  L.push('');
  return L;
}

/** Per peer, the configurations tried on model workloads and their probe medians. */
export function configurationLines(rep: Report): string[] {
  const out: string[] = [];
  const alone = (rep.alone ?? []).map((r) => ({ ...r, label: `${r.label} (chosen alone, kept in the suite)` }));
  for (const r of [...alone, ...rep.results].filter((x) => x.group === 'train' || x.group === 'infer'))
    for (const [name, run] of Object.entries(r.runs)) {
      if (!run.variants || run.variants.length < 2) continue;
      const tried = run.variants.map((v) => `${v.label}: ${v.ok && v.medianS !== undefined ? fmtMs(v.medianS) : v.note ?? 'failed'}`).join('; ');
      out.push(`- ${r.label}, ${name}: ran **${run.variant ?? 'none'}** (probe medians: ${tried})`);
    }
  return out.length ? ['## Peer configurations (the faster is timed)', '', ...out, ''] : [];
}
