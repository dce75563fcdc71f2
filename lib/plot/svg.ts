// A dependency-free SVG line chart of a training History: one panel per metric (loss,
// accuracy, ...), train as a solid line and validation (val_*) dashed, with axes, ticks,
// grid lines and a legend.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidArgumentError, check, describe } from '../errors.js';

/** Per-epoch values by metric name, as in History.history: {loss: [...], val_loss: [...], ...}. */
export type HistoryRecord = Record<string, number[]>;

/** Options of historyPlotSvg() and writeHistoryPlot(). */
export interface PlotOptions {
  /** Title above the panels. */
  title?: string;
  /** Width of one panel in pixels (default 440). */
  panelWidth?: number;
  /** Height of one panel in pixels (default 320). */
  panelHeight?: number;
}

const COLORS = { train: '#1f77b4', val: '#ff7f0e' };
const MARGIN = { left: 64, right: 16, top: 40, bottom: 48 };

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A "nice" step (1, 2 or 5 times a power of ten) giving about count ticks over span. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** Nice axis bounds and ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): { lo: number; hi: number; ticks: number[] } {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, count);
  const round = (v: number) => Number(v.toPrecision(12));
  const i0 = Math.floor(lo / step + 1e-9), i1 = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = i0; i <= i1; i++) ticks.push(round(i * step));
  return { lo: ticks[0], hi: ticks[ticks.length - 1], ticks };
}

function formatTick(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

/** Groups history keys into panels: 'loss' with 'val_loss', 'accuracy' with 'val_accuracy', ... */
function panels(history: HistoryRecord): Array<{ name: string; train?: string; val?: string }> {
  const out = new Map<string, { name: string; train?: string; val?: string }>();
  for (const key of Object.keys(history)) {
    const isVal = key.startsWith('val_');
    const base = isVal ? key.slice(4) : key;
    const p = out.get(base) ?? { name: base };
    if (isVal) p.val = key;
    else p.train = key;
    out.set(base, p);
  }
  return [...out.values()];
}

function checkHistory(h: unknown): HistoryRecord {
  const rec = (h && typeof h === 'object' && 'history' in h ? (h as { history: unknown }).history : h) as HistoryRecord;
  check(rec && typeof rec === 'object' && !Array.isArray(rec), 'writeHistoryPlot', 'a History or a record of number arrays', h);
  const keys = Object.keys(rec);
  if (keys.length === 0) throw new InvalidArgumentError('writeHistoryPlot: expected at least one series but received an empty history');
  for (const k of keys)
    check(Array.isArray(rec[k]) && rec[k].every((v) => typeof v === 'number'), 'writeHistoryPlot', `'${k}' as an array of numbers`, rec[k]);
  return rec;
}

/** The SVG text of a History's chart. Non-finite values are left out of their line. */
export function historyPlotSvg(history: HistoryRecord | { history: HistoryRecord }, opts: PlotOptions = {}): string {
  const rec = checkHistory(history);
  const W = opts.panelWidth ?? 440;
  const H = opts.panelHeight ?? 320;
  const titleH = opts.title ? 28 : 0;
  const ps = panels(rec);
  const width = W * ps.length;
  const height = H + titleH;
  const epochs = Math.max(1, ...Object.values(rec).map((v) => v.length));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  if (opts.title) out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`);

  ps.forEach((p, i) => {
    const x0 = i * W + MARGIN.left;
    const y0 = titleH + MARGIN.top;
    const pw = W - MARGIN.left - MARGIN.right;
    const ph = H - MARGIN.top - MARGIN.bottom;
    const series = [p.train, p.val].filter((k): k is string => !!k);
    const values = series.flatMap((k) => rec[k].filter(Number.isFinite));
    const y = niceTicks(values.length ? Math.min(...values) : 0, values.length ? Math.max(...values) : 1);
    const x = epochs <= 1 ? { lo: 0.5, hi: 1.5, ticks: [1] } : { lo: 1, hi: epochs, ticks: niceTicks(1, epochs, 8).ticks.filter((t) => t >= 1 && t <= epochs && Number.isInteger(t)) };
    if (x.ticks.length === 0) x.ticks.push(1);
    const sx = (e: number) => x0 + ((e - x.lo) / (x.hi - x.lo)) * pw;
    const sy = (v: number) => y0 + ph - ((v - y.lo) / (y.hi - y.lo)) * ph;
    const f = (v: number) => v.toFixed(2);
    const ystep = y.ticks.length > 1 ? y.ticks[1] - y.ticks[0] : 1;

    out.push(`<g class="panel" data-metric="${escapeXml(p.name)}">`);
    out.push(`<text x="${f(x0 + pw / 2)}" y="${titleH + 24}" text-anchor="middle" font-size="14">${escapeXml(p.name)}</text>`);
    // Grid and y ticks.
    for (const t of y.ticks) {
      const yy = f(sy(t));
      out.push(`<line x1="${f(x0)}" y1="${yy}" x2="${f(x0 + pw)}" y2="${yy}" stroke="#e5e5e5" stroke-width="1"/>`);
      out.push(`<line x1="${f(x0 - 5)}" y1="${yy}" x2="${f(x0)}" y2="${yy}" stroke="#333333" stroke-width="1"/>`);
      out.push(`<text x="${f(x0 - 8)}" y="${yy}" text-anchor="end" dominant-baseline="middle">${formatTick(t, ystep)}</text>`);
    }
    // X ticks (epochs).
    for (const t of x.ticks) {
      const xx = f(sx(t));
      out.push(`<line x1="${xx}" y1="${f(y0 + ph)}" x2="${xx}" y2="${f(y0 + ph + 5)}" stroke="#333333" stroke-width="1"/>`);
      out.push(`<text x="${xx}" y="${f(y0 + ph + 18)}" text-anchor="middle">${t}</text>`);
    }
    // Axes and labels.
    out.push(`<line x1="${f(x0)}" y1="${f(y0)}" x2="${f(x0)}" y2="${f(y0 + ph)}" stroke="#333333" stroke-width="1"/>`);
    out.push(`<line x1="${f(x0)}" y1="${f(y0 + ph)}" x2="${f(x0 + pw)}" y2="${f(y0 + ph)}" stroke="#333333" stroke-width="1"/>`);
    out.push(`<text x="${f(x0 + pw / 2)}" y="${f(y0 + ph + 36)}" text-anchor="middle">epoch</text>`);
    out.push(
      `<text x="${f(x0 - 48)}" y="${f(y0 + ph / 2)}" text-anchor="middle" transform="rotate(-90 ${f(x0 - 48)} ${f(y0 + ph / 2)})">${escapeXml(p.name)}</text>`,
    );
    // Lines, with point markers for short runs.
    for (const k of series) {
      const isVal = k === p.val;
      const color = isVal ? COLORS.val : COLORS.train;
      const pts = rec[k].map((v, e) => [e + 1, v] as const).filter(([, v]) => Number.isFinite(v));
      const attrs = `fill="none" stroke="${color}" stroke-width="2"${isVal ? ' stroke-dasharray="6 4"' : ''} stroke-linejoin="round"`;
      out.push(`<polyline data-series="${escapeXml(k)}" points="${pts.map(([e, v]) => `${f(sx(e))},${f(sy(v))}`).join(' ')}" ${attrs}/>`);
      if (pts.length <= 40) for (const [e, v] of pts) out.push(`<circle cx="${f(sx(e))}" cy="${f(sy(v))}" r="2.5" fill="${color}"/>`);
    }
    // Legend in the right-hand corner the lines end farther from (top for falling
    // curves such as loss, bottom for rising ones such as accuracy).
    const tail = series.flatMap((k) => rec[k].slice(Math.floor(rec[k].length * 0.6)).filter(Number.isFinite));
    const tailMid = tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : y.lo;
    const atBottom = (tailMid - y.lo) / (y.hi - y.lo) > 0.5;
    series.forEach((k, j) => {
      const isVal = k === p.val;
      const lx = x0 + pw - 24 - 12 - 7 * Math.max(...series.map((s) => s.length));
      const ly = atBottom ? y0 + ph - 12 - (series.length - 1 - j) * 18 : y0 + 12 + j * 18;
      out.push(
        `<line x1="${f(lx)}" y1="${f(ly)}" x2="${f(lx + 24)}" y2="${f(ly)}" stroke="${isVal ? COLORS.val : COLORS.train}" stroke-width="2"${isVal ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      out.push(`<text x="${f(lx + 30)}" y="${f(ly)}" dominant-baseline="middle">${escapeXml(k)}</text>`);
    });
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Writes historyPlotSvg(history) to file (creating its directory). */
export async function writeHistoryPlot(history: HistoryRecord | { history: HistoryRecord }, file: string, opts: PlotOptions = {}): Promise<void> {
  check(typeof file === 'string' && file.length > 0, 'writeHistoryPlot', 'a file path', file);
  if (!/\.svg$/i.test(file)) throw new InvalidArgumentError(`writeHistoryPlot: expected a file name ending in .svg but received ${describe(file)}`);
  const svg = historyPlotSvg(history, opts);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, svg);
}
