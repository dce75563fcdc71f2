// A hand-written SVG of a benchmark report: (1) peer time / cudnn-node time per workload
// (log scale, one bar per peer, a line at 1x), (2) each runner's fraction of the machine's
// measured ceiling (best of sgemm and the fastest conv) per conv workload (a line at 85%).
import { peersOf } from './report.js';
import type { BenchResult, Report } from './types.js';

const COLORS: Record<string, string> = { 'cudnn-node': '#d62728', 'tfjs-node': '#ff7f0e', keras: '#1f77b4', torch: '#7f7f7f' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function shortLabel(r: BenchResult): string {
  const s = r.spec;
  if (s.kind === 'conv')
    return `${s.x[1]}x${s.x[2]}x${s.x[3]}→${s.oc} ${s.depthwise ? 'dw' : ''}k${s.k}${(s.stride ?? 1) > 1 ? `/${s.stride}` : ''} ${s.dir.replace('bwd_', 'b-')}`;
  const model = (m: string) => ({ fashion_cnn: 'CNN', resnet34: 'ResNet-34', xception: 'Xception' })[m] ?? m;
  if (s.kind === 'train') return `train ${model(s.model)}${s.model === 'xception' ? (s.freeze ? ' frozen' : ' fine-tune') : ''} b${s.batch}${s.precision === 'mixed_bf16' ? ' bf16' : ''}`;
  if (s.kind === 'infer') return `infer ${model(s.model)} b${s.batch}`;
  if (s.kind === 'pool') return `maxpool ${s.x[1]}x${s.x[2]}x${s.x[3]} ${s.dir}`;
  if (s.kind === 'bn') return `BN ${s.x[1]}x${s.x[2]}x${s.x[3]} ${s.dir}`;
  if (s.kind === 'matmul' && r.group === 'prim') return `matmul ${s.m}x${s.k}x${s.n}`;
  if (s.kind === 'tiny_add') return s.read ? 'add+read 1 elt' : 'add 1 elt';
  return r.label;
}

interface Group {
  label: string;
  bars: Array<{ name: string; value: number | undefined }>;
}

/** One panel of grouped vertical bars. scale maps a value to [0, 1] of the plot height. */
function panel(
  out: string[],
  y0: number,
  height: number,
  width: number,
  title: string,
  groups: Group[],
  scale: (v: number) => number,
  ticks: Array<{ v: number; label: string }>,
  refLine: { v: number; label: string },
  fmt: (v: number) => string,
  base = 0,
): void {
  const left = 60, right = 20, top = y0 + 30, plotH = height - 30 - 110;
  const plotW = width - left - right;
  out.push(`<text x="${left}" y="${y0 + 18}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const t of ticks) {
    const y = top + plotH * (1 - scale(t.v));
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y + 4}" font-size="11" text-anchor="end">${esc(t.label)}</text>`);
  }
  const gw = plotW / Math.max(groups.length, 1);
  groups.forEach((g, i) => {
    const n = g.bars.length;
    const bw = Math.min(16, (gw * 0.8) / Math.max(n, 1));
    const x0 = left + i * gw + (gw - bw * n) / 2;
    g.bars.forEach((b, j) => {
      if (b.value === undefined || !Number.isFinite(b.value)) return;
      // Bars grow from `base` (1x for ratios: up when cudnn-node is faster, down when slower).
      const clamp = (v: number) => Math.max(0, Math.min(1, v));
      const yv = top + plotH * (1 - clamp(scale(b.value))), yb = top + plotH * (1 - clamp(scale(base)));
      const x = x0 + j * bw;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${Math.min(yv, yb).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${Math.max(Math.abs(yb - yv), 1).toFixed(1)}" fill="${COLORS[b.name] ?? '#999'}"><title>${esc(`${g.label} · ${b.name}: ${fmt(b.value)}`)}</title></rect>`,
      );
    });
    const cx = left + i * gw + gw / 2, cy = top + plotH + 8;
    out.push(`<text x="${cx}" y="${cy}" font-size="10" text-anchor="end" transform="rotate(-50 ${cx} ${cy})">${esc(g.label)}</text>`);
  });
  const ry = top + plotH * (1 - scale(refLine.v));
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${ry}" y2="${ry}" stroke="#000" stroke-dasharray="5,3"/>`);
  out.push(`<text x="${left + plotW}" y="${ry - 4}" font-size="11" text-anchor="end">${esc(refLine.label)}</text>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#000"/>`);
}

export function renderSvg(rep: Report): string {
  const peers = peersOf(rep);
  const width = 1100, ph = 420;
  const out: string[] = [];
  const m = rep.machine;
  out.push(`<text x="20" y="24" font-size="17" font-weight="bold">${esc(`${rep.trustworthy ? '' : 'UNTRUSTWORTHY (self-check failed) · '}cudnn-node benchmark (${rep.mode}) · ${m.cpu}, ${m.cores} cores · ${rep.date.slice(0, 10)}`)}</text>`);
  // legend
  let lx = 20;
  for (const n of ['cudnn-node', ...peers]) {
    out.push(`<rect x="${lx}" y="36" width="12" height="12" fill="${COLORS[n] ?? '#999'}"/><text x="${lx + 16}" y="46" font-size="12">${esc(n)}</text>`);
    lx += 30 + n.length * 7;
  }

  // Panel 1: ratios, log2 scale from 1/8 to 64.
  const ratioWorkloads = rep.results.filter((r) => r.group !== 'matmul' && peers.some((p) => r.runs[p]?.ratio !== undefined));
  const lo = Math.log2(1 / 8), hi = Math.log2(64);
  const maxRatio = Math.max(1, ...ratioWorkloads.flatMap((r) => peers.map((p) => r.runs[p]?.ratio ?? 1)));
  const top = Math.min(hi, Math.max(Math.log2(4), Math.ceil(Math.log2(maxRatio))));
  const logScale = (v: number) => (Math.log2(Math.max(v, 2 ** lo)) - lo) / (top - lo);
  const rticks = [];
  for (let e = lo; e <= top; e++) rticks.push({ v: 2 ** e, label: e < 0 ? `1/${2 ** -e}x` : `${2 ** e}x` });
  panel(
    out, 56, ph, width,
    'Peer time / cudnn-node time (above 1x: cudnn-node faster; log scale)',
    ratioWorkloads.map((r) => ({ label: shortLabel(r), bars: peers.map((p) => ({ name: p, value: r.runs[p]?.ratio })) })),
    logScale, rticks, { v: 1, label: '1x' }, (v) => `${v.toFixed(2)}x`, 1,
  );

  // Panel 2: fraction of the measured ceiling for each conv workload, all runners.
  const convs = rep.results.filter((r) => r.group === 'conv');
  const names = ['cudnn-node', ...peers];
  const fmax = Math.max(1, ...convs.flatMap((r) => names.map((n) => r.runs[n]?.fractionOfCeiling ?? 0)));
  const ftop = Math.ceil(fmax * 4) / 4;
  const fticks = [];
  for (let v = 0; v <= ftop + 1e-9; v += 0.25) fticks.push({ v, label: `${Math.round(v * 100)}%` });
  panel(
    out, 56 + ph, ph, width,
    `conv2d GFLOP/s as a fraction of the measured ceiling (${rep.ceiling.gflops.toFixed(0)} GFLOP/s)`,
    convs.map((r) => ({ label: shortLabel(r), bars: names.map((n) => ({ name: n, value: r.runs[n]?.fractionOfCeiling })) })),
    (v) => v / ftop, fticks, { v: 0.85, label: '85% target' }, (v) => `${(v * 100).toFixed(0)}%`,
  );

  const height = 56 + 2 * ph + 40; // room for the last panel's rotated labels
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
