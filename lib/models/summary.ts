// model.summary(): the Keras 3 table (layer (type), output shape, params, and for
// functional models the inbound layers), then total / trainable / non-trainable counts.
import { Layer, Shape, formatShape } from '../layers/base.js';
import { InputLayer } from '../layers/core.js';
import type { LayersModel } from './functional.js';

/** Options of model.summary() (tfjs' lineLength, positions, printFn). */
export interface SummaryOptions {
  /** Total width hint (columns grow to fit their content). */
  lineLength?: number;
  /** Relative column ends (tfjs); accepted for compatibility. */
  positions?: number[];
  /** Receives each line (default console.log). */
  printFn?: (line: string) => void;
}

/** 1234567 -> '1,234,567'. */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Keras' readable_memory_size: bytes in B / KB / MB / GB (base 1024), 2 decimals. */
export function readableSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  for (const u of units) {
    if (v / 1024 < 1) return `${v.toFixed(2)} ${u}`;
    v /= 1024;
  }
  return `${v.toFixed(2)} PB`;
}

function countOf(ws: Array<{ size: number }>): number {
  return ws.reduce((a, w) => a + w.size, 0);
}

/** Prints and returns the summary of a model. */
export function summary(model: LayersModel, opts: SummaryOptions = {}): string {
  model.ensureGraph('summary');
  const isSequential = model.getClassName() === 'Sequential';
  const layers = model.layers.filter((l) => !(isSequential && l instanceof InputLayer));
  const headers = isSequential ? ['Layer (type)', 'Output Shape', 'Param #'] : ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'];
  const rows: string[][][] = layers.map((l: Layer) => {
    const nodes = model.nodesOf(l);
    const shapes = nodes.map((n) => n.outputTensors.map((t) => t.shape));
    let shape: string;
    if (nodes.length !== 1) shape = 'multiple';
    else shape = shapes[0].length === 1 ? formatShape(shapes[0][0] as Shape) : shapes[0].map((s) => formatShape(s)).join(', ');
    const cells = [[`${l.name} (${l.getClassName()})`], [shape], [thousands(l.countParams())]];
    if (!isSequential) {
      const inbound = nodes.flatMap((n) =>
        n.inputTensors.map((t) => `${t.sourceLayer.name}[${model.nodesOf(t.sourceLayer).indexOf(t.sourceLayer.inboundNodes[t.nodeIndex])}][${t.tensorIndex}]`),
      );
      cells.push(inbound.length ? inbound : ['-']);
    }
    return cells;
  });

  const mins = isSequential ? [31, 22, 13] : [29, 22, 11, 20];
  const widths = headers.map((h, c) => Math.max(mins[c], h.length, ...rows.flatMap((r) => r[c].map((s) => s.length))));
  if (opts.lineLength) {
    const total = widths.reduce((a, b) => a + b + 3, 1);
    if (total < opts.lineLength) widths[0] += opts.lineLength - total;
  }
  const right = (c: number) => c === 2;
  const cell = (s: string, c: number) => (right(c) ? s.padStart(widths[c]) : s.padEnd(widths[c]));
  const line = (l: string, m: string, r: string, ch: string) => l + widths.map((w) => ch.repeat(w + 2)).join(m) + r;

  const out: string[] = [];
  out.push(`Model: "${model.name}"`);
  out.push(line('┏', '┳', '┓', '━'));
  out.push('┃' + headers.map((h, c) => ` ${cell(h, c)} `).join('┃') + '┃');
  out.push(line('┡', '╇', '┩', '━'));
  rows.forEach((r, i) => {
    const height = Math.max(...r.map((x) => x.length));
    for (let k = 0; k < height; k++) out.push('│' + r.map((x, c) => ` ${cell(x[k] ?? '', c)} `).join('│') + '│');
    out.push(i === rows.length - 1 ? line('└', '┴', '┘', '─') : line('├', '┼', '┤', '─'));
  });
  if (!rows.length) out.push(line('└', '┴', '┘', '─'));
  const total = countOf(model.weights);
  const trainable = countOf(model.trainableWeights);
  const nonTrainable = total - trainable;
  out.push(` Total params: ${thousands(total)} (${readableSize(total * 4)})`);
  out.push(` Trainable params: ${thousands(trainable)} (${readableSize(trainable * 4)})`);
  out.push(` Non-trainable params: ${thousands(nonTrainable)} (${readableSize(nonTrainable * 4)})`);
  const print = opts.printFn ?? ((s: string) => console.log(s));
  for (const l of out) print(l);
  return out.join('\n');
}
