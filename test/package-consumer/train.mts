// Downstream ESM consumer (test/package.test.ts): imports the installed cudnn-node, trains a
// tiny model, predicts, and prints one JSON line with the results and where the native
// libraries were loaded from.
import * as cn from 'cudnn-node';
import { readFileSync } from 'node:fs';

/** y = 2a - 3b + 1 on an 8x8 grid of points in [-1, 0.75]^2. */
function data(): { x: cn.Tensor; y: cn.Tensor } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 64; i++) {
    const a = (i % 8) / 4 - 1;
    const b = Math.floor(i / 8) / 4 - 1;
    xs.push(a, b);
    ys.push(2 * a - 3 * b + 1);
  }
  return { x: cn.tensor(xs, [64, 2]), y: cn.tensor(ys, [64, 1]) };
}

// Never called: the published types are real types, not `any`.
export function typeChecks(model: cn.Sequential): void {
  // @ts-expect-error -- units is a number
  cn.layers.dense({ units: 'ten' });
  // @ts-expect-error -- fit returns a Promise<History>, not a number
  const n: number = model.fit(cn.zeros([1, 2]), cn.zeros([1, 1]));
  void n;
}

/** Paths of the loaded shared objects whose names match. */
function loaded(pattern: RegExp): string[] {
  const paths = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((l) => l.split(/\s+/)[5] ?? '')
    .filter((p) => pattern.test(p));
  return [...new Set(paths)];
}

cn.layers.setRandomSeed(42);
const { x, y } = data();
const model: cn.Sequential = cn.sequential({ layers: [cn.layers.dense({ units: 1, inputShape: [2] })] });
model.compile({ optimizer: cn.train.sgd(0.1), loss: 'meanSquaredError' });
const history: cn.History = await model.fit(x, y, { epochs: 30, batchSize: 16, shuffle: false, verbose: 0 });
const loss = history.history.loss ?? [];
const probe = cn.tensor([[0.5, -0.5]], [1, 2]);
const predicted = model.predict(probe) as cn.Tensor;
const prediction = Array.from(await predicted.data());
cn.dispose([x, y, probe, predicted]);
model.dispose();

console.log(
  JSON.stringify({
    entry: 'esm',
    firstLoss: loss[0],
    lastLoss: loss[loss.length - 1],
    prediction,
    backends: cn.backends().map((b) => ({ name: b.name, compiled: b.compiled, available: b.available })),
    addon: loaded(/cudnn_node\.node$/),
    dnnl: loaded(/libdnnl\.so/),
    gomp: loaded(/libgomp\.so/),
    opencl: loaded(/libOpenCL\.so/),
    codecs: loaded(/\/lib(jpeg|png16|gif|z)\.so/),
  }),
);
