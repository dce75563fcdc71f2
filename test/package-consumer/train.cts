// Downstream CommonJS consumer (test/package.test.ts): require('cudnn-node') through the
// package's "require" export, the same training as train.mts, one JSON line of results.
import cn = require('cudnn-node');
import fs = require('node:fs');

function loaded(pattern: RegExp): string[] {
  const paths = fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((l) => l.split(/\s+/)[5] ?? '')
    .filter((p) => pattern.test(p));
  return [...new Set(paths)];
}

async function main(): Promise<void> {
  cn.layers.setRandomSeed(42);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 64; i++) {
    const a = (i % 8) / 4 - 1;
    const b = Math.floor(i / 8) / 4 - 1;
    xs.push(a, b);
    ys.push(2 * a - 3 * b + 1);
  }
  const x = cn.tensor(xs, [64, 2]);
  const y = cn.tensor(ys, [64, 1]);
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
      entry: 'cjs',
      firstLoss: loss[0],
      lastLoss: loss[loss.length - 1],
      prediction,
      addon: loaded(/cudnn_node\.node$/),
      dnnl: loaded(/libdnnl\.so/),
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
