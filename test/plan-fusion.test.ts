// Plan fusion (lib/plan_fusion.ts): batch norm + ReLU in a compiled training step becomes
// one fused forward and one fused backward step, with the unfused plan's results (loss,
// every gradient, the updated weights); the pass leaves alone what it must not fuse (a
// pre-relu tensor read elsewhere or fetched); the fused kernels themselves equal their
// composition, eagerly, on every backend; and a malformed fused call is a clear error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { ENGINE } from '../lib/engine.js';
import { backprop, recordTape } from '../lib/gradients.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';

const rand = (shape: number[], seed: number, lo = -1, hi = 1) => cn.tensor(seededRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape);
const saved = process.env.CUDNN_NODE_FUSION;
afterEach(() => {
  if (saved === undefined) delete process.env.CUDNN_NODE_FUSION;
  else process.env.CUDNN_NODE_FUSION = saved;
});

/** compile() with plan fusion on or off. */
function compileWith(fusion: boolean, fn: (...xs: cn.Tensor[]) => cn.Tensor[], specs: cn.InputSpec[]): cn.CompiledFunction {
  process.env.CUDNN_NODE_FUSION = fusion ? '1' : '0';
  return cn.compile(fn, specs);
}

describeBackends('plan fusion: batch norm + relu', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  it('a training step (conv -> BN -> relu twice, residual add) fuses 2 pairs and matches the unfused plan', () => {
    const w1 = rand([3, 3, 3, 8], 1, -0.5, 0.5), w2 = rand([3, 3, 8, 8], 2, -0.3, 0.3), wd = rand([8, 4], 3, -0.5, 0.5);
    const g1 = rand([8], 4, 0.5, 1.5), b1 = rand([8], 5, -0.3, 0.3), g2 = rand([8], 6, 0.5, 1.5), b2 = rand([8], 7, -0.3, 0.3);
    const x = rand([4, 8, 8, 3], 8), labels = cn.tensor(new Int32Array([0, 3, 1, 2]));
    const params = [w1, w2, wd, g1, b1, g2, b2];
    const step = (xx: cn.Tensor, yy: cn.Tensor) => {
      const loss = () => {
        const h1 = cn.relu(cn.batchNormTraining(cn.conv2d(xx, w1, 1, 'same'), g1, b1, 1e-3).y);
        const h2 = cn.relu(cn.batchNormTraining(cn.conv2d(h1, w2, 1, 'same'), g2, b2, 1e-3).y);
        const h = cn.add(h1, h2); // h1 feeds two consumers: its relu gradient is a sum
        return cn.mean(cn.sparseSoftmaxCrossEntropy(yy, cn.matMul(cn.globalAvgPool(h), wd)));
      };
      const { value, tape } = recordTape(loss);
      const grads = backprop(tape, params, value, cn.onesLike(value)).map((g) => g!);
      return [value, ...grads];
    };
    const specs = [{ shape: [4, 8, 8, 3] }, { shape: [4], dtype: 'int32' as const }];
    const fused = compileWith(true, step, specs), plain = compileWith(false, step, specs);
    try {
      expect(plain.numSteps - fused.numSteps, 'two Relu and two ReluGrad steps fused away').toBe(4);
      const a = fused.runSync([x, labels]), b = plain.runSync([x, labels]);
      const names = ['loss', 'dw1', 'dw2', 'dwd', 'dgamma1', 'dbeta1', 'dgamma2', 'dbeta2'];
      a.forEach((t, i) => expectClose(t.dataSync(), b[i].dataSync(), { rtol: 1e-5, atol: 1e-6, what: names[i], actualShape: t.shape, expectedShape: b[i].shape }));
      expect(Math.max(...Array.from(a[4].dataSync(), Math.abs)), 'the first BN gets a gradient').toBeGreaterThan(1e-4);
      cn.dispose([a, b]);
    } finally {
      fused.dispose();
      plain.dispose();
      cn.dispose([...params, x, labels]);
    }
  });

  it('leaves a pair alone when the pre-relu tensor is read elsewhere or fetched', () => {
    const g = rand([6], 10, 0.5, 1.5), b = rand([6], 11, -0.2, 0.2);
    const readTwice = (x: cn.Tensor) => {
      const y = cn.batchNormTraining(x, g, b).y;
      return [cn.add(cn.relu(y), cn.mul(y, 0.5))];
    };
    const fetched = (x: cn.Tensor) => {
      const y = cn.batchNormTraining(x, g, b).y;
      return [cn.relu(y), y];
    };
    const fetchedRelu = (x: cn.Tensor) => [cn.relu(cn.batchNormTraining(x, g, b).y)];
    const x = rand([5, 6], 12);
    try {
      for (const [fn, fusedAway] of [[readTwice, 0], [fetched, 0], [fetchedRelu, 1]] as const) {
        const f = compileWith(true, fn, [{ shape: [5, 6] }]), p = compileWith(false, fn, [{ shape: [5, 6] }]);
        expect(p.numSteps - f.numSteps).toBe(fusedAway);
        const a = f.runSync([x]), e = p.runSync([x]);
        a.forEach((t, i) => expectClose(t.dataSync(), e[i].dataSync(), { rtol: 1e-6, atol: 1e-7 }));
        cn.dispose([a, e]);
        f.dispose();
        p.dispose();
      }
    } finally {
      cn.dispose([g, b, x]);
    }
  });

  it('the fused kernels equal relu(batch norm) and its gradient (also with a zero beta and many negatives)', () => {
    for (const [shape, bshift] of [[[3, 5, 5, 8], 0], [[40, 6], -0.8]] as const) {
      const c = shape[shape.length - 1];
      const out = (s: readonly number[]) => ({ shape: s.slice(), dtype: 'float32' as const });
      cn.tidy(() => {
        const x = rand(shape.slice(), 20, -2, 3), g = rand([c], 21, 0.5, 1.5), b = cn.add(rand([c], 22, -0.3, 0.3), bshift), dr = rand(shape.slice(), 23);
        const specs = [out(shape), out([c]), out([c])];
        const [r, m, v] = ENGINE.runKernel('BatchNormTrain', [x, g, b], { epsilon: 1e-3, relu: true }, specs);
        const [y, m0, v0] = ENGINE.runKernel('BatchNormTrain', [x, g, b], { epsilon: 1e-3 }, specs);
        const relu = cn.relu(y);
        expectClose(r.dataSync(), relu.dataSync(), { rtol: 1e-6, atol: 1e-7, what: 'forward' });
        expectClose(m.dataSync(), m0.dataSync(), { rtol: 0, atol: 0, what: 'mean' });
        expectClose(v.dataSync(), v0.dataSync(), { rtol: 0, atol: 0, what: 'variance' });
        const fusedGrads = ENGINE.runKernel('BatchNormGrad', [dr, x, g, m, v, b], { epsilon: 1e-3, relu: true }, specs);
        const d = ENGINE.runKernel('ReluGrad', [dr, relu], undefined, [out(shape)])[0];
        const plainGrads = ENGINE.runKernel('BatchNormGrad', [d, x, g, m, v], { epsilon: 1e-3 }, specs);
        ['dx', 'dgamma', 'dbeta'].forEach((what, i) => expectClose(fusedGrads[i].dataSync(), plainGrads[i].dataSync(), { rtol: 1e-5, atol: 1e-6, what }));
        expect(Array.from(r.dataSync()).filter((t) => t === 0).length, 'the relu clips some values').toBeGreaterThan(0);
      });
    }
  });
});

describe('plan fusion: errors', () => {
  it('BatchNormGrad with relu needs beta, and beta needs relu', () => {
    cn.tidy(() => {
      const x = cn.ones([2, 3]), p = cn.ones([3]);
      const specs = [{ shape: [2, 3], dtype: 'float32' as const }, { shape: [3], dtype: 'float32' as const }, { shape: [3], dtype: 'float32' as const }];
      expect(() => ENGINE.runKernel('BatchNormGrad', [x, x, p, p, p], { relu: true }, specs)).toThrow(/batchNormGrad: expected beta as input 5 exactly when relu is set, but received 5 inputs with relu true/);
      expect(() => ENGINE.runKernel('BatchNormGrad', [x, x, p, p, p, p], {}, specs)).toThrow(/received 6 inputs with relu false/);
    });
  });
});
