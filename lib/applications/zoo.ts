// The model zoo behind `cudnn-node zoo`: the architectures of the reference notebook's summary
// (LeNet-5 to SE-ResNet-50) with their default inputs, a FLOP count per image read off one
// traced forward pass, and a forward-throughput measurement on the current backend.
import { kernelNameOf } from '../compiler/plan_description.js';
import { ENGINE, endTrace, placeholder, setBackend, getBackend, startTrace } from '../engine.js';
import { InvalidArgumentError, check } from '../errors.js';
import type { LayersModel } from '../models/functional.js';
import * as ops from '../ops/index.js';
import { alexnet } from './alexnet.js';
import { googlenet } from './googlenet.js';
import { lenet5 } from './lenet5.js';
import { resnet101, resnet152, resnetV1, RESNET50_FILES } from './resnet.js';
import { resnet18, resnet34 } from './resnet34.js';
import { seResNet50 } from './senet.js';
import { vgg16, vgg19 } from './vgg.js';
import { ZOO_NAMES } from './zoo_names.js';

/** One architecture of the zoo. */
export interface ZooEntry {
  /** The builder's name in `applications` (and the CLI's --models value). */
  name: string;
  /** Paper and year. */
  paper: string;
  /** Default input [height, width, channels]. */
  inputShape: [number, number, number];
  /** Default classes. */
  classes: number;
  /** Builds the model (random weights) at its default input and classes. */
  build: () => Promise<LayersModel>;
}

/** The zoo, oldest first. */
export const ZOO: ZooEntry[] = [
  { name: 'lenet5', paper: 'LeCun et al. 1998', inputShape: [32, 32, 1], classes: 10, build: () => lenet5() },
  { name: 'alexnet', paper: 'Krizhevsky et al. 2012', inputShape: [227, 227, 3], classes: 1000, build: () => alexnet() },
  { name: 'vgg16', paper: 'Simonyan & Zisserman 2014', inputShape: [224, 224, 3], classes: 1000, build: () => vgg16() },
  { name: 'vgg19', paper: 'Simonyan & Zisserman 2014', inputShape: [224, 224, 3], classes: 1000, build: () => vgg19() },
  { name: 'googlenet', paper: 'Szegedy et al. 2014', inputShape: [224, 224, 3], classes: 1000, build: () => googlenet() },
  { name: 'resnet18', paper: 'He et al. 2015', inputShape: [224, 224, 3], classes: 1000, build: async () => resnet18({ classes: 1000 }) },
  { name: 'resnet34', paper: 'He et al. 2015', inputShape: [224, 224, 3], classes: 1000, build: async () => resnet34({ classes: 1000 }) },
  { name: 'resnet50', paper: 'He et al. 2015', inputShape: [224, 224, 3], classes: 1000, build: () => resnetV1('resnet50', [3, 4, 6, 3], {}, RESNET50_FILES) },
  { name: 'resnet101', paper: 'He et al. 2015', inputShape: [224, 224, 3], classes: 1000, build: () => resnet101() },
  { name: 'resnet152', paper: 'He et al. 2015', inputShape: [224, 224, 3], classes: 1000, build: () => resnet152() },
  { name: 'seResNet50', paper: 'Hu et al. 2018', inputShape: [224, 224, 3], classes: 1000, build: () => seResNet50() },
];

/**
 * FLOPs of one forward pass per image: 2 x the multiply-adds of every convolution (Conv2D,
 * DepthwiseConv2D kernels) and matrix product (dense layers) the model runs, read off a traced
 * (not executed) forward pass on a batch of one; elementwise ops, pooling and normalization are
 * not counted (the usual convention of the papers' FLOP figures, with multiply-add = 2).
 */
export function countFlops(model: LayersModel): number {
  check(model.inputs.length === 1, 'countFlops', 'a model with one input', model.inputs.length);
  const shape = model.inputs[0].shape.map((d, i) => (i === 0 ? 1 : d));
  if (shape.some((d) => d === null)) throw new InvalidArgumentError(`countFlops: expected a static input shape but received [${model.inputs[0].shape}]`);
  let flops = 0;
  // Note [FLOPs by tracing]: one forward pass is traced (recorded, not computed), so every
  // kernel the model would run is seen with its shapes in the trace's steps, nested and user
  // layers included.
  const trace = startTrace(ENGINE.backend);
  ENGINE.startScope();
  try {
    model.apply(placeholder(shape as number[], 'float32'), { training: false });
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const shapeOf = (slot: number) => trace.slotTypes.get(slot)!.shape;
    for (const [id, ins, outs, attrs] of trace.steps) {
      const kernel = kernelNameOf(id);
      if (kernel === 'Conv2D' || kernel === 'DepthwiseConv2D') {
        flops += 2 * size(shapeOf(ins[1])) * size(shapeOf(outs[0]).slice(0, 3));
      } else if (kernel === 'MatMul') {
        const a = shapeOf(ins[0]);
        const k = attrs?.transposeA ? a[a.length - 2] : a[a.length - 1];
        flops += 2 * size(shapeOf(outs[0])) * k;
      }
    }
  } finally {
    endTrace();
    ENGINE.endScope(undefined);
  }
  return flops;
}

/** Options of runZoo(). */
export interface ZooOptions {
  /** Backend to measure on (default: the current one). */
  backend?: 'cpu' | 'cuda';
  /** Images per timed forward pass (default 2). */
  batch?: number;
  /** Names of the architectures to run (default all of ZOO). */
  models?: string[];
  /** Timed forward passes per model after two warm-up passes (default 1). */
  repeats?: number;
  /** Called with each row as it is measured. */
  onRow?: (row: ZooRow) => void;
}

/** One measured architecture. */
export interface ZooRow {
  name: string;
  paper: string;
  inputShape: number[];
  params: number;
  flops: number;
  /** Forward images per second (inference mode, batch `batch`). */
  imagesPerSecond: number;
  batch: number;
  backend: string;
}

/**
 * Builds each architecture (random weights), counts its parameters and FLOPs per image, and
 * times forward passes of a batch of random images after two warm-up passes (the first
 * compiles the plan). Frees every model and tensor it makes.
 */
export async function runZoo(opts: ZooOptions = {}): Promise<ZooRow[]> {
  const batch = opts.batch ?? 2;
  const repeats = opts.repeats ?? 1;
  check(Number.isInteger(batch) && batch >= 1, 'zoo', 'batch a positive integer', opts.batch);
  check(Number.isInteger(repeats) && repeats >= 1, 'zoo', 'repeats a positive integer', opts.repeats);
  const names = opts.models ?? ZOO.map((e) => e.name);
  for (const n of names)
    if (!(ZOO_NAMES as readonly string[]).includes(n)) throw new InvalidArgumentError(`zoo: expected models among ${ZOO_NAMES.join(', ')} but received '${n}'`);
  const prev = getBackend();
  if (opts.backend) setBackend(opts.backend);
  const rows: ZooRow[] = [];
  try {
    for (const e of ZOO.filter((z) => names.includes(z.name))) {
      const model = await e.build();
      try {
        const x = ops.randomUniform([batch, ...e.inputShape], 0, 1, 'float32', 1);
        const forward = async () => {
          const y = model.predict(x, { batchSize: batch });
          for (const t of Array.isArray(y) ? y : [y]) {
            await t.data();
            t.dispose();
          }
        };
        // Note [zoo warm-up]: two untimed passes: the first compiles the plan, and the second
        // call of a plan is still several times slower than the rest (buffers, oneDNN
        // primitives created on first execution).
        await forward();
        await forward();
        const t0 = performance.now();
        for (let i = 0; i < repeats; i++) await forward();
        const seconds = (performance.now() - t0) / 1000;
        x.dispose();
        const row: ZooRow = { name: e.name, paper: e.paper, inputShape: e.inputShape, params: model.countParams(), flops: countFlops(model), imagesPerSecond: (batch * repeats) / seconds, batch, backend: getBackend() };
        rows.push(row);
        opts.onRow?.(row);
      } finally {
        model.dispose();
      }
    }
  } finally {
    setBackend(prev);
  }
  return rows;
}

const group = (n: number) => Math.round(n).toLocaleString('en-US');
const giga = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : `${(n / 1e6).toFixed(2)} M`);

/** The zoo table: one line per row, columns aligned. */
export function formatZooTable(rows: ZooRow[]): string {
  const head = ['architecture', 'paper', 'input', 'parameters', 'FLOPs/image', 'images/s'];
  const body = rows.map((r) => [r.name, r.paper, r.inputShape.join('x'), group(r.params), giga(r.flops), r.imagesPerSecond >= 100 ? group(r.imagesPerSecond) : r.imagesPerSecond.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
