// The Markdown report (bench/results/latest.md): the self-check verdict first, where
// cudnn-node stands per workload (lead / level / behind), the machine and its ceiling, then
// one table per workload group.
import { TRAIN_FLOPS_PER_IMAGE } from './flops.js';
import { fmtMs } from './shared.js';
import type { BenchResult, ModelName, Report, RunResult, RunStats } from './types.js';
import { mixedSection } from './report-mixed.js';
import { configurationLines, machineLines, ratioVerdict, selfCheckSection, standingSection, trustLine } from './report-summary.js';
import { precisionOf } from './workloads.js';

const fmtUs = (sec: number) => `${(sec * 1e6).toFixed(2)} µs`;
const spread = (s: RunStats, f: (x: number) => string) => `${f(s.median)} (${f(s.q1).replace(/ .*/, '')}–${f(s.q3)})`;
const ratio = (r?: number) => (r === undefined ? '' : `**${r.toFixed(2)}x**`);
const ratioOf = (run: RunResult) => ratioVerdict(run);
const ceil = (run: RunResult) => (run.fractionOfCeiling !== undefined ? `${(run.fractionOfCeiling * 100).toFixed(0)}%` : '');

const RUNNER_ORDER = ['cudnn-node', 'tfjs-node', 'keras', 'torch'];

export function peersOf(report: Report): string[] {
  return RUNNER_ORDER.filter((n) => n !== 'cudnn-node' && report.runners.some((r) => r.name === n && r.available));
}

const MODEL_NAMES: Record<ModelName, string> = { fashion_cnn: 'Fashion-MNIST CNN', resnet34: 'ResNet-34', xception: 'Xception' };

/** The in-process cross-check line (cudnn-node vs tfjs-node on identical inputs). */
function checkLine(L: string[], rs: BenchResult[]): void {
  const checks = rs.filter((r) => r.check);
  if (!checks.length) return;
  const bad = checks.filter((r) => r.check!.maxRelErr > 1e-3);
  L.push(
    '',
    `Cross-check on identical inputs, cudnn-node vs tfjs-node (max |diff| / max |ref|), ${checks.length} workloads: worst ${Math.max(...checks.map((r) => r.check!.maxRelErr)).toExponential(1)}` +
      (bad.length ? `; **disagree** (> 1e-3): ${bad.map((r) => `${r.label} (${r.check!.maxRelErr.toExponential(1)})`).join(', ')}` : '') +
      '.',
  );
}

function naCell(run?: RunResult): string {
  if (!run) return 'n/a';
  return `n/a${run.note ? ` (${run.note.replace(/\|/g, '/').slice(0, 80)})` : ''}`;
}

export function toMarkdown(rep: Report): string {
  const peers = peersOf(rep);
  const ours = 'cudnn-node';
  const L: string[] = [];
  const m = rep.machine;
  L.push(trustLine(rep), '', `# cudnn-node benchmark (${rep.mode})`, '');
  L.push(...machineLines(rep));
  for (const r of rep.runners) {
    const th = r.info.threads ? ` · threads ${JSON.stringify(r.info.threads).replace(/["{}]/g, '').replace(/,/g, ', ')}` : '';
    L.push(`- **${r.name}**: ${r.available ? `${r.info.library ?? ''}${th}` : r.note}${r.available && r.note ? ` (${r.note})` : ''}`);
  }
  L.push('', 'Median of alternating samples after warm-up, interquartile range in parentheses. Ratio = peer time / cudnn-node time (> 1: cudnn-node is faster).', '');
  L.push(...selfCheckSection(rep), ...standingSection(rep, peers), ...configurationLines(rep), ...mixedSection(rep));

  // Ceiling
  L.push(`## sgemm`, '');
  L.push(`| sgemm | ${[ours, ...peers].map((p) => `${p} GFLOP/s`).join(' | ')} |`);
  L.push(`|---|${[ours, ...peers].map(() => '---:').join('|')}|`);
  for (const r of rep.results.filter((x) => x.group === 'matmul'))
    L.push(`| ${r.label} | ${[ours, ...peers].map((p) => (r.runs[p]?.gflops ? `${r.runs[p].gflops!.toFixed(0)} (${fmtMs(r.runs[p].stats!.median)})` : naCell(r.runs[p]))).join(' | ')} |`);
  L.push('', `Samples from the start and the end of the run pooled; cudnn-node's matMul: ${rep.ceiling.ours.toFixed(0)} GFLOP/s.`, '');

  // Convs, one table per network
  const convTitles: Record<ModelName, string> = {
    fashion_cnn: 'conv2d primitives: Fashion-MNIST CNN layers (batch 128, NHWC, SAME, stride 1)',
    resnet34: 'conv2d primitives: ResNet-34 layers (batch 8, 224x224 input, NHWC, SAME)',
    xception: 'conv2d primitives: Xception layers (batch 8, 299x299 input; the depthwise (dw) and pointwise halves of its separable convs)',
  };
  for (const model of ['fashion_cnn', 'resnet34', 'xception'] as const) {
    const convs = rep.results.filter((x) => x.group === 'conv' && (x.model ?? 'fashion_cnn') === model);
    if (!convs.length) continue;
    L.push(`## ${convTitles[model]}`, '');
    L.push(`| layer | dir | GFLOP | ${ours} ms | ${ours} GFLOP/s | % ceiling | ${peers.map((p) => `${p} GFLOP/s | ratio`).join(' | ')} |`);
    L.push(`|---|---|---:|---:|---:|---:|${peers.map(() => '---:|---:').join('|')}|`);
    for (const r of convs) {
      const s = r.spec as Extract<typeof r.spec, { kind: 'conv' }>;
      const o = r.runs[ours];
      const oc = o?.stats
        ? `${spread(o.stats, (x) => (x * 1e3).toFixed(2))} | ${o.gflops!.toFixed(0)} | ${(o.fractionOfCeiling! * 100).toFixed(0)}%`
        : `${naCell(o)} | | `;
      const pc = peers.map((p) => {
        const run = r.runs[p];
        return run?.stats ? `${run.gflops!.toFixed(0)} | ${ratioOf(run)}` : `${naCell(run)} | `;
      });
      const st = (s.stride ?? 1) > 1 ? `/${s.stride}` : '';
      L.push(`| ${r.label.replace(/ (fwd|bwd_data|bwd_filter)$/, '').replace(/\[.*$/, '')}[${s.x.join(',')}]→${s.oc} ${s.depthwise ? 'dw ' : ''}k${s.k}${st} | ${s.dir} | ${(r.flops! / 1e9).toFixed(2)} | ${oc} | ${pc.join(' | ')} |`);
    }
    const both = (p: string) => convs.filter((r) => r.runs[p]?.stats && r.runs[ours]?.stats);
    const sumT = (rs: BenchResult[], p: string) => rs.reduce((a, r) => a + r.runs[p].stats!.median, 0);
    const sumF = (rs: BenchResult[]) => rs.reduce((a, r) => a + r.flops!, 0);
    const mine = both(ours);
    if (mine.length) {
      const g = sumF(mine) / sumT(mine, ours) / 1e9;
      const pc = peers.map((p) => {
        const rs = both(p);
        return rs.length ? `${(sumF(rs) / sumT(rs, p) / 1e9).toFixed(0)} | ${ratio(sumT(rs, p) / sumT(rs, ours))}` : ' | ';
      });
      L.push(
        `| **all ${mine.length}** | | ${(sumF(mine) / 1e9).toFixed(1)} | ${(sumT(mine, ours) * 1e3).toFixed(1)} | **${g.toFixed(0)}** | ${((g / rep.ceiling.gflops) * 100).toFixed(0)}% | ${pc.join(' | ')} |`,
      );
    }
    checkLine(L, convs);
    L.push('');
  }

  // Other primitives
  const prims = rep.results.filter((x) => x.group === 'prim');
  if (prims.length) {
    L.push('## Other primitives (max pooling, batch norm in training mode, a dense layer)', '');
    L.push(`| op | network | ${ours} ms | ${peers.map((p) => `${p} ms | ratio`).join(' | ')} |`);
    L.push(`|---|---|---:|${peers.map(() => '---:|---:').join('|')}|`);
    for (const r of prims) {
      const o = r.runs[ours];
      const pc = peers.map((p) => {
        const run = r.runs[p];
        return run?.stats ? `${spread(run.stats, (x) => (x * 1e3).toFixed(2))} | ${ratioOf(run)}` : `${naCell(run)} | `;
      });
      L.push(`| ${r.label} | ${MODEL_NAMES[r.model ?? 'fashion_cnn']} | ${o?.stats ? spread(o.stats, (x) => (x * 1e3).toFixed(2)) : naCell(o)} | ${pc.join(' | ')} |`);
    }
    checkLine(L, prims);
    L.push(
      '',
      'Each library\'s own kernels for the step its training runs: max-pool backward is MaxPoolGrad(dy, x) for cudnn-node, MaxPoolGrad(x, y, dy) for TensorFlow (tfjs-node, Keras), the saved-indices backward for PyTorch (padding 1 on both sides where SAME pads bottom/right: same cost); batch norm is TensorFlow\'s fused kernels for Keras (Keras 3\'s layer itself runs moments + batch_normalization), native_batch_norm(_backward) for PyTorch, tf.moments + tf.batchNorm for tfjs-node (no gradient kernel).',
      '',
    );
  }

  // Tiny ops
  const tiny = rep.results.filter((x) => x.group === 'tiny');
  if (tiny.length) {
    L.push('## Per-op overhead', '');
    L.push(`| op | ${[ours, ...peers].join(' | ')} |`);
    L.push(`|---|${[ours, ...peers].map(() => '---:').join('|')}|`);
    for (const r of tiny)
      L.push(`| ${r.label} | ${[ours, ...peers].map((p) => (r.runs[p]?.stats ? `${spread(r.runs[p].stats!, fmtUs)}${p !== ours && r.runs[p].ratio ? ` ${ratioOf(r.runs[p])}` : ''}` : naCell(r.runs[p]))).join(' | ')} |`);
    L.push('');
  }

  // Training: the Fashion-MNIST CNN
  // fp32 only: the bf16 steps have their own section (bench/report-mixed.ts).
  const train = rep.results.filter((x) => x.group === 'train' && (x.model ?? 'fashion_cnn') === 'fashion_cnn' && precisionOf(x) === 'fp32');
  if (train.length) {
    L.push(`## Fashion-MNIST CNN training step (1,413,834 params, Adam, ${(TRAIN_FLOPS_PER_IMAGE / 1e6).toFixed(0)} MFLOP per image)`, '');
    L.push(`| batch | ${[ours, ...peers].map((p) => `${p} ms/step · img/s · GFLOP/s · % ceiling${p === ours ? '' : ' · ratio'}`).join(' | ')} |`);
    L.push(`|---|${[ours, ...peers].map(() => '---:').join('|')}|`);
    for (const r of train) {
      const cells = [ours, ...peers].map((p) => {
        const run = r.runs[p];
        if (!run?.stats) return naCell(run);
        return `${spread(run.stats, (x) => (x * 1e3).toFixed(1))} · ${run.imagesPerSec!.toFixed(0)} · ${run.gflops!.toFixed(0)} · ${ceil(run)}${p !== ours && run.ratio ? ` · ${ratioOf(run)}` : ''}`;
      });
      L.push(`| ${(r.spec as { batch: number }).batch} | ${cells.join(' | ')} |`);
    }
    const first = [ours, ...peers].map((p) => {
      const run = train[train.length - 1].runs[p];
      return run?.firstCallS !== undefined ? `${p} ${((run.setupS ?? 0) + run.firstCallS).toFixed(2)} s` : undefined;
    });
    if (first.some(Boolean))
      L.push('', `In the runner's worker process (library already loaded), model build + compile + first step, batch ${(train[train.length - 1].spec as { batch: number }).batch}: ${first.filter(Boolean).join(', ')}. A fresh process's time to first step is below.`);
    const how = [ours, ...peers].map((p) => train[0].runs[p]?.note && `${p}: ${train[0].runs[p].note}`).filter(Boolean);
    if (how.length) L.push('', `How: ${how.join('; ')}.`);
    L.push('');
  }

  // Training and inference of ResNet-34 and Xception (and the CNN's inference)
  const bigTables: Array<[string, BenchResult[]]> = [
    [
      'Training steps: ResNet-34 and Xception (SGD, learning rate 0.01, momentum 0.9; random images and labels)',
      rep.results.filter((x) => x.group === 'train' && x.model && x.model !== 'fashion_cnn' && precisionOf(x) === 'fp32'),
    ],
    ['Inference (predict on one batch, training false)', rep.results.filter((x) => x.group === 'infer')],
  ];
  for (const [title, rs] of bigTables) {
    if (!rs.length) continue;
    L.push(`## ${title}`, '');
    L.push(`| workload | params (trainable) | ${[ours, ...peers].map((p) => `${p} ms/batch · img/s · % ceiling${p === ours ? '' : ' · ratio'}`).join(' | ')} |`);
    L.push(`|---|---:|${[ours, ...peers].map(() => '---:').join('|')}|`);
    for (const r of rs) {
      const pr = Object.values(r.runs).find((x) => x.params)?.params;
      const cells = [ours, ...peers].map((p) => {
        const run = r.runs[p];
        if (!run?.stats) return naCell(run);
        return `${spread(run.stats, (x) => (x * 1e3).toFixed(0))} · ${run.imagesPerSec!.toFixed(1)} · ${ceil(run)}${p !== ours && run.ratio ? ` · ${ratioOf(run)}` : ''}`;
      });
      L.push(`| ${r.label} | ${pr ? `${pr.total.toLocaleString('en-US')} (${pr.trainable.toLocaleString('en-US')})` : ''} | ${cells.join(' | ')} |`);
    }
    const firsts = rs
      .map((r) => {
        const f = [ours, ...peers].map((p) => (r.runs[p]?.firstCallS !== undefined ? `${p} ${((r.runs[p].setupS ?? 0) + r.runs[p].firstCallS!).toFixed(1)} s` : undefined)).filter(Boolean);
        return f.length ? `${r.label}: ${f.join(', ')}` : undefined;
      })
      .filter(Boolean);
    if (firsts.length) L.push('', `In the runner's worker process (library loaded): model build and compile, then the first call (tracing, plan compilation): ${firsts.join('; ')}.`);
    const hows = [ours, ...peers].map((p) => {
      const ns = [...new Set(rs.filter((r) => r.runs[p]?.stats).map((r) => r.runs[p].note).filter(Boolean))];
      return ns.length ? `${p}: ${ns.join(' / ')}` : undefined;
    });
    if (hows.some(Boolean)) L.push('', `How: ${hows.filter(Boolean).join('; ')}. Parameter counts are asserted equal across runners (a runner with a different count is reported n/a).`);
    L.push('');
  }

  // Fresh processes: time to first step, peak memory
  for (const c of rep.startup ?? []) {
    L.push(`## Time to first step and peak memory (fresh process: ${c.label}, ${c.steps} steps)`, '');
    L.push('| runner | import done | model built | first step done | steady step | peak RSS | first step ratio | peak RSS ratio |');
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    const o = c.runs[ours];
    for (const p of [ours, ...peers]) {
      const run = c.runs[p];
      if (!run) continue;
      if (!run.ok) {
        L.push(`| ${p} | ${naCell({ ok: false, note: run.note, times: [] })} | | | | | | |`);
        continue;
      }
      const s = (x?: number) => (x === undefined ? '' : `${x.toFixed(2)} s`);
      const r1 = p !== ours && o?.firstStepS && run.firstStepS ? ratio(run.firstStepS / o.firstStepS) : '';
      const r2 = p !== ours && o?.peakRssMiB && run.peakRssMiB ? ratio(run.peakRssMiB / o.peakRssMiB) : '';
      L.push(`| ${p} | ${s(run.importS)} | ${s(run.builtS)} | **${s(run.firstStepS)}** | ${run.stepS === undefined ? '' : fmtMs(run.stepS)} | ${run.peakRssMiB?.toFixed(0)} MiB | ${r1} | ${r2} |`);
    }
    const reps = Math.max(...Object.values(c.runs).map((r) => r.repeats));
    L.push(
      '',
      `Seconds from spawning the process (median of ${reps} process${reps > 1 ? 'es' : ''} per runner, runners alternating). cudnn-node and tfjs-node run bench/child.ts under \`node --import tsx\` (the TypeScript loader's start-up is included; a built package starts without it); Keras and PyTorch run bench/peers.py --child. Peak RSS is the process's VmHWM after the last step. Ratios are peer / cudnn-node (> 1: cudnn-node starts sooner / uses less memory).`,
      '',
    );
  }

  if (rep.targets.length) {
    L.push('## Targets (issues 2, 4, 5, 8)', '');
    for (const t of rep.targets) L.push(`- ${t.met ? '✅' : '❌'} ${t.name}: ${t.detail}`);
    L.push('');
  }
  if (rep.notes.length) {
    L.push('## Notes', '');
    for (const n of rep.notes) L.push(`- ${n}`);
    L.push('');
  }
  return L.join('\n');
}
