// Parity with tfjs-node: localResponseNormalization (TensorFlow's LRN / LRNGrad) forward and
// gradient over NHWC inputs of rank 3 and 4, for window radii from 0 to wider than the
// channels, AlexNet's and GoogLeNet's settings and tfjs' defaults; the layer form; argument
// errors. Tolerance: rtol 1e-5, atol 1e-6 forward, 1e-4 / 1e-5 gradient (the sum over the
// window is accumulated in a different order).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';
import { TFModule, Tol, checkParity, flushReport, loadReference, requireTf } from './parity-common.js';
import { digest, fromTf, reference, saveRecording } from './reference.js';

let tf: TFModule;
beforeAll(async () => {
  tf = await loadReference(); // a missing reference fails every test
});
afterAll(saveRecording);

const FWD: Tol = { rtol: 1e-5, atol: 1e-6 };
const GRAD: Tol = { rtol: 1e-4, atol: 1e-5 };

describeBackends('parity: localResponseNormalization', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-lrn [${backend}]`));
  // [shape, depthRadius, bias, alpha, beta, what]
  const cases: Array<[number[], number, number, number, number, string]> = [
    [[2, 3, 4, 13], 5, 1, 1, 0.5, "tfjs' defaults"],
    [[2, 5, 5, 20], 2, 2, 1e-4, 0.75, "AlexNet's"],
    [[1, 4, 4, 24], 2, 1, 2e-5, 0.75, "GoogLeNet's"],
    [[2, 3, 3, 7], 0, 1, 0.5, 1, 'radius 0'],
    [[2, 3, 3, 20], 3, 1.5, 0.3, 0.6, 'radius 3 over 20 channels'],
    [[1, 2, 3, 6], 9, 0.5, 0.2, 0.25, 'window wider than the channels'],
    [[3, 4, 16], 1, 1, 1, 1, 'rank 3'],
  ];
  for (const [shape, r, bias, alpha, beta, what] of cases) {
    it(`${what}: ${JSON.stringify(shape)} depthRadius ${r} bias ${bias} alpha ${alpha} beta ${beta}`, () => {
      checkParity(tf, {
        name: `lrn ${what}`,
        inputs: [{ shape, lo: -2, hi: 2 }],
        ours: (x) => cn.localResponseNormalization(x, r, bias, alpha, beta),
        ref: (x) => tf.localResponseNormalization(x as never, r, bias, alpha, beta),
        tol: FWD,
        gradTol: GRAD,
      });
    });
  }

  it('the layer equals the op and round-trips its config', () => {
    const x = cn.tensor(seededRandom(2 * 3 * 3 * 8, 5), [2, 3, 3, 8]);
    const layer = cn.layers.localResponseNormalization({ depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 });
    const y = layer.apply(x) as cn.Tensor;
    const xv = x.dataSync() as Float32Array;
    const ref = reference(`LRN layer #${digest([{ shape: x.shape, values: xv }])}`, () => {
      const t = requireTf(tf).tidy(() => tf.localResponseNormalization(tf.tensor4d(xv, [2, 3, 3, 8]), 2, 2, 1e-4, 0.75));
      const r = { y: fromTf(t) };
      t.dispose();
      return r;
    });
    expectClose(y.dataSync(), ref.y.values, FWD);
    expect(layer.getConfig()).toMatchObject({ depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 });
    expect(layer.countParams()).toBe(0);
    cn.dispose([x, y]);
  });
});

describe('localResponseNormalization errors', () => {
  it('names the argument, the expected and the received value', () => {
    const x = cn.zeros([1, 2, 2, 3]);
    expect(() => cn.localResponseNormalization(x, 1.5)).toThrow(/localResponseNormalization: expected depthRadius a non-negative integer but received 1.5/);
    expect(() => cn.localResponseNormalization(x, 2, 0)).toThrow(/localResponseNormalization: expected bias > 0 but received 0/);
    expect(() => cn.localResponseNormalization(x, 2, 1, -1)).toThrow(/expected alpha >= 0 but received -1/);
    expect(() => cn.localResponseNormalization(cn.zeros([2, 3]))).toThrow(/localResponseNormalization: expected x of rank 3 or 4/);
    expect(() => cn.layers.localResponseNormalization({ depthRadius: -1 })).toThrow(/expected depthRadius a non-negative integer but received -1/);
    x.dispose();
  });
});
