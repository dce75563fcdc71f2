// A worker for test/worker-threads.test.ts: loads cudnn-node (lib/, through tsx) in this
// worker thread, builds one of two small models with fixed seeds, says `ready`, and trains
// when the parent says `go` (so that two workers train at the same time), then posts the
// losses, the trained weights, predictions and when it trained.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const cn = await tsImport('../../lib/index.ts', import.meta.url);
const { job, backend, epochs } = workerData;
cn.setBackend(backend);

/** Deterministic floats in [lo, hi) (mulberry32), independent of the library's generator. */
function seeded(n, seed, lo = -1, hi = 1) {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

cn.layers.setRandomSeed(job === 'dense' ? 11 : 23);
let model, x, y, fitArgs;
if (job === 'dense') {
  // Regression: y = sin(2a) + b^2 - ab from 256 points, a 2-16-1 MLP with Adam.
  const n = 256;
  const xv = seeded(2 * n, 1);
  const yv = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = xv[2 * i];
    const b = xv[2 * i + 1];
    yv[i] = Math.sin(2 * a) + b * b - a * b;
  }
  x = cn.tensor(xv, [n, 2]);
  y = cn.tensor(yv, [n, 1]);
  model = cn.sequential({
    layers: [cn.layers.dense({ units: 16, activation: 'tanh', inputShape: [2] }), cn.layers.dense({ units: 1 })],
  });
  model.compile({ optimizer: cn.train.adam(0.01), loss: 'meanSquaredError' });
  fitArgs = { epochs, batchSize: 32, shuffle: false, verbose: 0 };
} else {
  // Classification: 3 classes of 8x8 images (class = which third holds a bright bar), a
  // conv -> pool -> dense network with SGD and momentum.
  const n = 96;
  const xv = seeded(n * 64, 2, 0, 0.3);
  const yv = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    yv[i] = c;
    for (let r = 0; r < 8; r++) for (let col = c * 3; col < Math.min(8, c * 3 + 2); col++) xv[i * 64 + r * 8 + col] += 0.7;
  }
  x = cn.tensor(xv, [n, 8, 8, 1]);
  y = cn.tensor(yv, [n]);
  model = cn.sequential({
    layers: [
      cn.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      cn.layers.maxPooling2d({ poolSize: 2 }),
      cn.layers.flatten(),
      cn.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: cn.train.sgd({ learningRate: 0.02, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  fitArgs = { epochs, batchSize: 16, shuffle: false, verbose: 0 };
}

parentPort.postMessage({ type: 'ready', threadId });
parentPort.once('message', async () => {
  const start = performance.timeOrigin + performance.now();
  const history = await model.fit(x, y, fitArgs);
  const end = performance.timeOrigin + performance.now();
  const ws = model.getWeights();
  const weights = ws.map((w) => Array.from(w.dataSync()));
  cn.dispose(ws);
  const predicted = model.predict(x);
  const prediction = Array.from(await predicted.data());
  cn.dispose([x, y, predicted]);
  model.dispose();
  parentPort.postMessage({ type: 'done', threadId, job, start, end, loss: history.history.loss, weights, prediction, memory: cn.memory() });
});
