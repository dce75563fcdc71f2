// Numerical parity with Keras: ResNet-50 and Xception weight files written by Keras itself
// (random weights, both HDF5 layouts; scripts/keras_reference.py parity, run at test time
// and cached, see test/keras.ts) load into our models and give Keras' outputs on the same
// input. fp32 tolerance: |ours - keras| <= 1e-3 * |keras| + 2e-5 * max|keras| (about 100
// layers of float32 accumulation in another order; ResNet-50's pooled features reach ~300,
// and small ones are differences of large ones, hence the scale term. Measured: Xception
// 2e-7 absolute on probabilities, ResNet-50 4e-3 absolute at a scale of 290).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import * as applications from '../lib/applications/index.js';
import { expectClose } from './helpers.js';
import { kerasPython, kerasReference } from './keras.js';

const { python, tried } = kerasPython();
if (!python)
  console.warn(
    `applications-parity: skipped, no Python with Keras 3 + TensorFlow + h5py (tried ${tried.join(', ')}); make one with scripts/setup-keras-venv.sh`,
  );

function bin(dir: string, name: string, shape: number[]): cn.Tensor {
  const b = readFileSync(join(dir, name));
  return cn.tensor(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), shape);
}

// In CI the reference must be there (scripts/setup.sh makes the venv): fail, never skip.
describe.skipIf(!python && !process.env.CI)('applications: numerical parity with Keras weight files', () => {
  let dir = '';
  it('Keras writes the reference (random weights, legacy .h5 and Keras 3 .weights.h5)', () => {
    if (!python) throw new Error(`no Python with Keras 3 + TensorFlow + h5py (tried ${tried.join(', ')}); run scripts/setup-keras-venv.sh`);
    dir = kerasReference('parity', python!);
    expect(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).resnet50.outputShape).toEqual([2, 2048]);
  }, 300_000);

  const cases = [
    { app: 'resnet50', build: (weights: string) => applications.resnet50({ includeTop: false, inputShape: [32, 32, 3], pooling: 'avg', weights }), x: [2, 32, 32, 3], y: [2, 2048] },
    { app: 'xception', build: (weights: string) => applications.xception({ inputShape: [71, 71, 3], classes: 7, weights }), x: [2, 71, 71, 3], y: [2, 7] },
  ] as const;
  for (const c of cases)
    for (const layout of ['.h5', '.weights.h5'])
      it(`${c.app} from Keras' ${layout}: Keras' outputs`, async () => {
        const model = await c.build(join(dir, c.app + layout));
        const x = bin(dir, `${c.app}.input.bin`, [...c.x]);
        const want = bin(dir, `${c.app}.output.bin`, [...c.y]);
        const y = model.predict(x) as cn.Tensor;
        expect(y.shape).toEqual(c.y);
        const w = want.dataSync();
        const scale = w.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        expectClose(y.dataSync(), w, { rtol: 1e-3, atol: 2e-5 * scale, what: `${c.app}${layout}` });
        if (c.app === 'xception') expect(Math.abs(w[0] - w[7])).toBeGreaterThan(1e-3); // outputs depend on the input
        cn.dispose([x, want, y]);
        model.dispose();
      }, 120_000);
});
