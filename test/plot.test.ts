// The SVG history plot: well-formed XML, one polyline per series with one point per
// finite value, panels per metric with axes, ticks and a legend.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { historyPlotSvg, niceTicks, writeHistoryPlot } from '../lib/plot/index.js';

/** A small XML well-formedness check: balanced tags, quoted attributes, known entities. */
function checkWellFormed(xml: string): { elements: Array<{ name: string; attrs: Record<string, string> }> } {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  const elements: Array<{ name: string; attrs: Record<string, string> }> = [];
  const tagRe = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = tagRe.exec(body))) {
    const text = body.slice(last, m.index);
    if (/[<>]/.test(text)) throw new Error(`stray markup in text: ${JSON.stringify(text.slice(0, 40))}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`bad entity in text: ${JSON.stringify(text.slice(0, 40))}`);
    if (stack.length === 0 && text.trim()) throw new Error('text outside the root element');
    last = tagRe.lastIndex;
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    if (stack.length === 0) roots++;
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      attrs[a[1]] = a[2];
    }
    elements.push({ name, attrs });
    if (!selfClose) stack.push(name);
  }
  if (body.slice(last).trim()) throw new Error('trailing content after the root element');
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return { elements };
}

const history = {
  loss: [0.62, 0.41, 0.35, 0.31, 0.28],
  accuracy: [0.77, 0.85, 0.87, 0.89, 0.9],
  val_loss: [0.45, 0.38, 0.36, 0.33, 0.32],
  val_accuracy: [0.83, 0.86, 0.87, 0.88, 0.885],
};

describe('plot.writeHistoryPlot', () => {
  it('writes a well-formed SVG with one polyline per series and a panel per metric', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cn-plot-'));
    const file = join(dir, 'sub', 'history.svg');
    await writeHistoryPlot(history, file, { title: 'Fashion-MNIST <CNN> & friends' });
    const svg = await readFile(file, 'utf8');
    await rm(dir, { recursive: true, force: true });
    const { elements } = checkWellFormed(svg);
    expect(elements[0].name).toBe('svg');
    expect(elements[0].attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    const lines = elements.filter((e) => e.name === 'polyline');
    expect(lines.map((l) => l.attrs['data-series']).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    for (const l of lines) {
      const pts = l.attrs.points.split(' ').map((p) => p.split(',').map(Number));
      expect(pts).toHaveLength(5);
      pts.forEach(([x, y]) => expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true));
      for (let i = 1; i < pts.length; i++) expect(pts[i][0]).toBeGreaterThan(pts[i - 1][0]); // epochs left to right
    }
    // Loss falls, so its line goes down the page (larger y); validation lines are dashed.
    const loss = lines.find((l) => l.attrs['data-series'] === 'loss')!.attrs.points.split(' ').map((p) => Number(p.split(',')[1]));
    expect(loss[4]).toBeGreaterThan(loss[0]);
    expect(lines.find((l) => l.attrs['data-series'] === 'val_loss')!.attrs['stroke-dasharray']).toBeDefined();
    expect(lines.find((l) => l.attrs['data-series'] === 'loss')!.attrs['stroke-dasharray']).toBeUndefined();
    const panels = elements.filter((e) => e.name === 'g' && e.attrs.class === 'panel').map((e) => e.attrs['data-metric']);
    expect(panels).toEqual(['loss', 'accuracy']);
    expect(svg).toContain('Fashion-MNIST &lt;CNN&gt; &amp; friends');
    expect(svg).toContain('>epoch</text>');
    expect(svg).toMatch(/>0\.30<\/text>|>0\.3<\/text>/); // a y tick label on the loss axis
  });

  it('accepts a History object, leaves out non-finite values, and handles a single epoch', () => {
    const svg = historyPlotSvg({ history: { loss: [1.5, NaN, 0.5, Infinity] } });
    const line = checkWellFormed(svg).elements.find((e) => e.name === 'polyline')!;
    expect(line.attrs.points.split(' ')).toHaveLength(2);
    const one = checkWellFormed(historyPlotSvg({ loss: [0.7], val_loss: [0.8] }));
    expect(one.elements.filter((e) => e.name === 'polyline')).toHaveLength(2);
  });

  it('nice ticks cover the range with round steps', () => {
    expect(niceTicks(0.28, 0.62)).toEqual({ lo: 0.2, hi: 0.7, ticks: [0.2, 0.3, 0.4, 0.5, 0.6, 0.7] });
    expect(niceTicks(1, 10, 8).ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(3, 3).ticks.length).toBeGreaterThan(1);
  });

  it('argument errors', async () => {
    expect(() => historyPlotSvg({})).toThrow('writeHistoryPlot: expected at least one series but received an empty history');
    expect(() => historyPlotSvg({ loss: ['a' as unknown as number] })).toThrow("writeHistoryPlot: expected 'loss' as an array of numbers but received ['a']");
    await expect(writeHistoryPlot(history, '/tmp/x.png')).rejects.toThrow("writeHistoryPlot: expected a file name ending in .svg but received '/tmp/x.png'");
  });
});
