// The Markdown of the report's mixed-precision section (bench/mixed-precision.ts computes it):
// our failures first, one table per bf16 training step, then issue 21's targets.
import type { MixedPrecisionSection, MixedRow, Report } from './types.js';
import { classify } from './verdict.js';

const NAMES: Record<string, string> = { 'cudnn-node': 'cudnn-node', 'cudnn-node-fp32': 'cudnn-node', torch: 'PyTorch', keras: 'Keras' };
const PRECISION: Record<string, string> = { fp32: 'fp32', mixed_bf16: 'bf16', mixed_fp16: 'fp16' };
const cellText = (s: string, n = 90) => s.replace(/\|/g, '/').slice(0, n);

function ratioCell(x: number | undefined, verdict?: string): string {
  return x === undefined ? '' : `**${x.toFixed(2)}x**${verdict ? ` ${verdict}` : ''}`;
}

function memoryCells(row: MixedRow): string {
  const m = row.memory;
  if (!m) return ' | | ';
  if (!m.ok) return `n/a (${cellText(m.note ?? 'failed', 60)}) | | `;
  const mib = (x?: number) => (x === undefined ? '' : `${x.toFixed(0)} MiB`);
  return `${mib(m.peakRssMiB)} | ${mib(m.importRssMiB)} | ${mib(m.peakNativeMiB)}`;
}

export function mixedSection(rep: Report): string[] {
  const mp: MixedPrecisionSection | undefined = rep.mixedPrecision;
  if (!mp) return [];
  const L = ['## bf16 mixed precision: training steps (issue 21)', ''];
  if (mp.oursFailed.length) {
    L.push(`**cudnn-node's bf16 step failed on ${mp.oursFailed.length} of ${mp.workloads.length} workloads**: a failure of ours; the peers' and our fp32 numbers below still stand.`, '');
    for (const f of mp.oursFailed) L.push(`- ${f.id}: ${f.error}`);
    L.push('');
  }
  L.push(
    'Our bf16 step (`cn.mixedPrecision.setGlobalPolicy(\'mixed_bfloat16\')` before the model is built, the softmax Dense in float32) against PyTorch (`torch.autocast(\'cpu\', dtype=torch.bfloat16)`, channels_last, eager and `torch.compile`), Keras (`mixed_precision.set_global_policy(\'mixed_bfloat16\')`, the softmax Dense in float32, `jit_compile` off and on), each in the faster of its configurations, and against our own fp32 step, measured by a second worker of ours: every runner in its own process, alternating turns, the others stopped. ' +
      '"÷ our bf16" = that runner\'s time / our bf16 step\'s time (> 1: our bf16 step is faster; on our fp32 row: bf16\'s speed-up over fp32); "÷ our fp32" = that runner\'s time / our fp32 step\'s time. ' +
      `GFLOP/s count the fp32 step's FLOPs; "% fp32 ceiling" divides by this run's fp32 ceiling (${rep.ceiling.gflops > 0 ? `${rep.ceiling.gflops.toFixed(0)} GFLOP/s` : 'not measured'}), which bf16 can exceed.`,
    '',
  );
  for (const w of mp.workloads) {
    L.push(`### ${w.label}`, '');
    L.push('| runner | precision · configuration | ms/step (IQR) | img/s | GFLOP/s · % fp32 ceiling | ÷ our bf16 | ÷ our fp32 | peak RSS | RSS after import | native peak |');
    L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of w.rows) {
      const who = `${NAMES[row.runner] ?? row.runner}`;
      const cfg = `${PRECISION[row.precision] ?? row.precision}${row.configuration ? ` · ${row.configuration}` : ''}`;
      if (!row.ok) {
        L.push(`| ${who} | ${PRECISION[row.precision] ?? row.precision} | **n/a** (${cellText(row.note ?? 'failed')}) | | | | | ${memoryCells(row)} |`);
        continue;
      }
      const ms = (x: number) => (x * 1e3).toFixed(x >= 0.1 ? 0 : 1);
      const ceil = row.gflops !== undefined && rep.ceiling.gflops > 0 ? ` · ${((row.gflops / rep.ceiling.gflops) * 100).toFixed(0)}%` : '';
      L.push(
        `| ${who} | ${cfg} | ${ms(row.medianS!)} (${ms(row.q1S!)}–${ms(row.q3S!)}) | ${row.imagesPerSec?.toFixed(row.imagesPerSec >= 100 ? 0 : 1) ?? ''} | ${row.gflops?.toFixed(0) ?? ''}${ceil} | ${ratioCell(row.vsOursBf16, row.runner === 'cudnn-node-fp32' ? undefined : row.verdict)} | ${ratioCell(row.vsOursFp32)} | ${memoryCells(row)} |`,
      );
    }
    const bf16 = w.rows.find((r) => r.runner === 'cudnn-node'), fp32 = w.rows.find((r) => r.runner === 'cudnn-node-fp32');
    const said: string[] = [];
    if (bf16?.ok && fp32?.ok) {
      const up = fp32.vsOursBf16!;
      said.push(
        classify(up) === 'level'
          ? `our bf16 step is level with our fp32 step (${up.toFixed(2)}x)`
          : up > 1 ? `our bf16 step is ${up.toFixed(2)}x faster than our fp32 step` : `our bf16 step is **${(1 / up).toFixed(2)}x slower than** our fp32 step`,
      );
    }
    for (const p of w.rows.filter((r) => r.ok && r.runner !== 'cudnn-node' && r.runner !== 'cudnn-node-fp32')) {
      if (bf16?.ok) said.push(`${p.verdict === 'behind' ? '**behind** ' : p.verdict === 'lead' ? 'ahead of ' : 'level with '}${NAMES[p.runner] ?? p.runner} bf16 (${p.vsOursBf16!.toFixed(2)}x)`);
      else if (fp32?.ok) said.push(`our fp32 step against ${NAMES[p.runner] ?? p.runner} bf16: ${p.vsOursFp32!.toFixed(2)}x${p.vsOursFp32! < 1 ? ' (**we are slower**)' : ''}`);
    }
    if (said.length) L.push('', `In words: ${said.join('; ')}.`);
    L.push('');
  }
  L.push(`Peak memory: ${mp.memoryMethod}`, '');
  L.push('### Targets (issue 21, on a CPU with native bf16)', '');
  for (const t of mp.targets) L.push(`- ${t.met ? '✅' : t.notMeasured ? '⚠️' : '❌'} ${t.name}: ${t.notMeasured ? `**${t.detail.replace(/:.*/, '')}**${t.detail.replace(/^[^:]*/, '')}` : t.detail}`);
  const isa = rep.machine.onednn?.isa;
  if (isa && !/bfloat16|bf16/i.test(isa)) L.push('', `The targets assume native bf16; oneDNN reports **${isa}** here, so it may be emulating bf16.`);
  L.push('');
  return L;
}

