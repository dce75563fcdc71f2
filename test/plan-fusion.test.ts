// Plan fusion (lib/compiler/fusion.ts): batch norm + ReLU, a residual join + ReLU, and a batch
// norm taken into that join, in a compiled training step become fused forward and backward steps with the unfused plan's
// results (loss and every gradient); the pass leaves alone what it must not fuse (a
// pre-relu tensor read elsewhere or fetched, broadcasting adds); the fused kernels equal
// their composition, eagerly, on every backend; and a malformed fused call is a clear error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { ENGINE } from '../lib/engine.js';
import { backprop, recordTape } from '../lib/gradients.js';
import { native } from '../lib/native.js';
import { fusionEnabled } from '../lib/compiler/fusion.js';
import { observePlans } from '../lib/compiler/plan_description.js';
import * as kernels from '../lib/kernels/fused.js';
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

/**
 * Compiles a training step (loss(x, labels) and its gradients with respect to params) with
 * fusion on and off, expects `fusedAway` fewer steps fused and the same loss and gradients
 * from both, runs `more` on the fused outputs, and disposes everything (params, x, labels too).
 */
function expectFusedStep(
  loss: (x: cn.Tensor, labels: cn.Tensor) => cn.Tensor,
  params: cn.Tensor[],
  x: cn.Tensor,
  labels: cn.Tensor,
  o: { fusedAway: number; why: string; names?: string[] },
  more?: (fused: cn.Tensor[]) => void,
): void {
  const step = (xx: cn.Tensor, yy: cn.Tensor) => {
    const { value, tape } = recordTape(() => loss(xx, yy));
    return [value, ...backprop(tape, params, value, cn.onesLike(value)).map((g) => g!)];
  };
  const specs = [{ shape: x.shape }, { shape: labels.shape, dtype: 'int32' as const }];
  const fused = compileWith(true, step, specs), plain = compileWith(false, step, specs);
  try {
    expect(plain.numSteps - fused.numSteps, o.why).toBe(o.fusedAway);
    const a = fused.runSync([x, labels]), b = plain.runSync([x, labels]);
    a.forEach((t, i) =>
      expectClose(t.dataSync(), b[i].dataSync(), { rtol: 1e-5, atol: 1e-6, what: o.names?.[i] ?? (i === 0 ? 'loss' : `gradient ${i - 1}`), actualShape: t.shape, expectedShape: b[i].shape }),
    );
    more?.(a);
    cn.dispose([a, b]);
  } finally {
    fused.dispose();
    plain.dispose();
    cn.dispose([...params, x, labels]);
  }
}

describeBackends('plan fusion: batch norm + relu', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  it('a training step (conv -> BN -> relu twice, residual add) fuses 2 pairs and matches the unfused plan', () => {
    const w1 = rand([3, 3, 3, 8], 1, -0.5, 0.5), w2 = rand([3, 3, 8, 8], 2, -0.3, 0.3), wd = rand([8, 4], 3, -0.5, 0.5);
    const g1 = rand([8], 4, 0.5, 1.5), b1 = rand([8], 5, -0.3, 0.3), g2 = rand([8], 6, 0.5, 1.5), b2 = rand([8], 7, -0.3, 0.3);
    const x = rand([4, 8, 8, 3], 8), labels = cn.tensor(new Int32Array([0, 3, 1, 2]));
    const params = [w1, w2, wd, g1, b1, g2, b2];
    const loss = (xx: cn.Tensor, yy: cn.Tensor) => {
      const h1 = cn.relu(cn.batchNormTraining(cn.conv2d(xx, w1, 1, 'same'), g1, b1, 1e-3).y);
      const h2 = cn.relu(cn.batchNormTraining(cn.conv2d(h1, w2, 1, 'same'), g2, b2, 1e-3).y);
      const h = cn.add(h1, h2); // h1 feeds two consumers: its relu gradient is a sum
      return cn.mean(cn.sparseSoftmaxCrossEntropy(yy, cn.matMul(cn.globalAvgPool(h), wd)));
    };
    const names = ['loss', 'dw1', 'dw2', 'dwd', 'dgamma1', 'dbeta1', 'dgamma2', 'dbeta2'];
    expectFusedStep(loss, params, x, labels, { fusedAway: 4, why: 'two Relu and two ReluGrad steps fused away', names }, (a) =>
      expect(Math.max(...Array.from(a[4].dataSync(), Math.abs)), 'the first BN gets a gradient').toBeGreaterThan(1e-4),
    );
  });

  it('two residual blocks (relu(bn(conv)) -> bn(conv), relu(add)) fuse every pair and match the unfused plan', () => {
    const ws = [rand([3, 3, 4, 4], 30, -0.4, 0.4), rand([3, 3, 4, 4], 31, -0.4, 0.4), rand([3, 3, 4, 4], 32, -0.4, 0.4), rand([3, 3, 4, 4], 33, -0.4, 0.4)];
    const gs = ws.map((_, i) => rand([4], 40 + i, 0.5, 1.5)), bs = ws.map((_, i) => rand([4], 50 + i, -0.3, 0.3));
    const wd = rand([4, 3], 34, -0.5, 0.5);
    const x = rand([3, 6, 6, 4], 35), labels = cn.tensor(new Int32Array([0, 2, 1]));
    const bnConv = (h: cn.Tensor, i: number) => cn.batchNormTraining(cn.conv2d(h, ws[i], 1, 'same'), gs[i], bs[i], 1e-3).y;
    const loss = (xx: cn.Tensor, yy: cn.Tensor) => {
      let h = xx;
      for (const i of [0, 2]) h = cn.relu(cn.add(bnConv(cn.relu(bnConv(h, i)), i + 1), h)); // h feeds the block and its shortcut
      return cn.mean(cn.sparseSoftmaxCrossEntropy(yy, cn.matMul(cn.globalAvgPool(h), wd)));
    };
    // Per block: BN + relu (2 steps), add + relu (1), the second BN into the join (1), and
    // between the blocks the gradient sum arriving at block 1's output + its ReluGrad (1).
    expectFusedStep(loss, [...ws, ...gs, ...bs, wd], x, labels, { fusedAway: 2 * 2 + 2 * 1 + 2 * 1 + 1, why: 'steps fused away' });
  });

  it('joins without a ReLU (Xception\'s: x + bn(conv(relu(x)))) take their batch norm and match the unfused plan', () => {
    const ws = [rand([3, 3, 4, 4], 90, -0.4, 0.4), rand([1, 1, 4, 4], 91, -0.6, 0.6)];
    const gs = ws.map((_, i) => rand([4], 92 + i, 0.5, 1.5)), bs = ws.map((_, i) => rand([4], 94 + i, -0.3, 0.3));
    const wd = rand([4, 3], 96, -0.5, 0.5);
    const x = rand([3, 6, 6, 4], 97), labels = cn.tensor(new Int32Array([2, 0, 1]));
    const loss = (xx: cn.Tensor, yy: cn.Tensor) => {
      let h = xx;
      for (let i = 0; i < 2; i++) h = cn.add(h, cn.batchNormTraining(cn.conv2d(cn.relu(h), ws[i], 1, 'same'), gs[i], bs[i], 1e-3).y);
      return cn.mean(cn.sparseSoftmaxCrossEntropy(yy, cn.matMul(cn.globalAvgPool(h), wd)));
    };
    expectFusedStep(loss, [...ws, ...gs, ...bs, wd], x, labels, { fusedAway: 2, why: 'one Add per block' });
  });

  it('ResNet-18 trains the same through fit() with and without fusion (losses, then every weight)', async () => {
    const { resnet18 } = await import('../lib/applications/index.js');
    const x = rand([4, 32, 32, 3], 70), y = cn.tensor(new Int32Array([0, 1, 2, 3]));
    // Both runs start from the same weights (a fresh model would draw new ones).
    const fresh = resnet18({ inputShape: [32, 32, 3], classes: 4 });
    const w0 = fresh.getWeights();
    fresh.dispose();
    const run = async (fusion: boolean) => {
      process.env.CUDNN_NODE_FUSION = fusion ? '1' : '0';
      const m = resnet18({ inputShape: [32, 32, 3], classes: 4 });
      m.setWeights(w0);
      m.compile({ optimizer: cn.train.sgd({ learningRate: 0.05, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy' });
      let steps = 0; // the training step's plan is the largest one fit() builds
      const stop = observePlans((plan) => (steps = Math.max(steps, plan.steps.length)));
      try {
        const h = await m.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
        return { m, losses: h.history.loss as number[], steps };
      } finally {
        stop();
      }
    };
    const a = await run(false), b = await run(true);
    try {
      // 9 BN + relu pairs (stem and each block's first conv) and 8 add + relu joins, forward
      // and backward, less the last block's ReluGrad (its gradient is no sum), and 8 batch
      // norms taken into their block's join.
      expect(a.steps - b.steps, 'steps the fused training plan saves').toBe(9 * 2 + 8 + 7 + 8);
      expectClose(b.losses, a.losses, { rtol: 1e-4, atol: 1e-6, what: 'losses per epoch' });
      const wa = a.m.getWeights(), wb = b.m.getWeights();
      wb.forEach((w, i) => expectClose(w.dataSync(), wa[i].dataSync(), { rtol: 1e-3, atol: 1e-5, what: `weight ${i}` }));
      cn.dispose([...wa, ...wb]);
    } finally {
      a.m.dispose();
      b.m.dispose();
      cn.dispose([...w0, x, y]);
    }
  });

  it('leaves a pair alone when the pre-relu tensor is read elsewhere or fetched (and fuses inference batch norm + relu)', () => {
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
    const broadcastAdd = (x: cn.Tensor) => [cn.relu(cn.add(x, g))];
    const sameShapeAdd = (x: cn.Tensor) => [cn.relu(cn.add(x, cn.mul(x, 2)))];
    const sumFetched = (x: cn.Tensor) => {
      const s = cn.add(x, cn.mul(x, 2));
      return [cn.relu(s), s];
    };
    const m = rand([6], 13, -0.2, 0.2), v = rand([6], 14, 0.5, 1.5);
    const inference = (x: cn.Tensor) => [cn.relu(cn.batchNorm(x, m, v, b, g, 1e-3))];
    // Batch norm into an add + relu join: the residual made before the batch norm, after it
    // (the fused step moves to the join), a batch statistic read before the join, the
    // batch norm's output fetched, and the inference form.
    const join = (x: cn.Tensor) => [cn.relu(cn.add(cn.batchNormTraining(x, g, b).y, x))];
    const joinLate = (x: cn.Tensor) => {
      const y = cn.batchNormTraining(x, g, b).y;
      return [cn.relu(cn.add(cn.mul(x, 2), y))];
    };
    const statsRead = (x: cn.Tensor) => {
      const { y, mean } = cn.batchNormTraining(x, g, b);
      return [cn.relu(cn.add(y, cn.mul(x, mean)))];
    };
    const joinFetched = (x: cn.Tensor) => {
      const y = cn.batchNormTraining(x, g, b).y;
      return [cn.relu(cn.add(y, x)), y];
    };
    const inferenceJoin = (x: cn.Tensor) => [cn.relu(cn.add(x, cn.batchNorm(x, m, v, b, g, 1e-3)))];
    // A join without a ReLU (Xception's), and a broadcasting add, which stays.
    const plainJoin = (x: cn.Tensor) => [cn.add(cn.batchNormTraining(x, g, b).y, x)];
    const broadcastJoin = (x: cn.Tensor) => [cn.add(cn.batchNormTraining(x, g, b).y, b)];
    const x = rand([5, 6], 12);
    try {
      for (const [fn, fusedAway] of [
        [readTwice, 0], [fetched, 0], [fetchedRelu, 1], [broadcastAdd, 0], [sameShapeAdd, 1], [sumFetched, 0], [inference, 1],
        [join, 2], [joinLate, 2], [statsRead, 1], [joinFetched, 1], [inferenceJoin, 2], [plainJoin, 1], [broadcastJoin, 0],
      ] as const) {
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
        const [r, m, v] = kernels.batchNormTrain(x, g, b, { epsilon: 1e-3, relu: true });
        const [y, m0, v0] = kernels.batchNormTrain(x, g, b, { epsilon: 1e-3 });
        const relu = cn.relu(y);
        expectClose(r.dataSync(), relu.dataSync(), { rtol: 1e-6, atol: 1e-7, what: 'forward' });
        expectClose(m.dataSync(), m0.dataSync(), { rtol: 0, atol: 0, what: 'mean' });
        expectClose(v.dataSync(), v0.dataSync(), { rtol: 0, atol: 0, what: 'variance' });
        const fusedGrads = kernels.batchNormGrad(dr, x, g, m, v, { epsilon: 1e-3, reluBeta: b });
        const d = ENGINE.runKernel('ReluGrad', [dr, relu], undefined, [out(shape)])[0];
        const plainGrads = kernels.batchNormGrad(d, x, g, m, v, { epsilon: 1e-3 });
        ['dx', 'dgamma', 'dbeta'].forEach((what, i) => expectClose(fusedGrads[i].dataSync(), plainGrads[i].dataSync(), { rtol: 1e-5, atol: 1e-6, what }));
        expect(Array.from(r.dataSync()).filter((t) => t === 0).length, 'the relu clips some values').toBeGreaterThan(0);
      });
    }
  });
});

describeBackends('plan fusion: batch norm + add + relu kernels', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  it('BatchNormTrain and BatchNormInfer with a residual equal relu(batch norm + residual), and batch norm + residual without relu', () => {
    // [40,6]: one channel per thread on cuda; [3,5,5,8]: four (a misaligned residual's
    // fallback is checked by test/cuda-host-kernels.test.ts).
    for (const shape of [[3, 5, 5, 8], [40, 6]]) {
      const c = shape[shape.length - 1];
      const out = (s: readonly number[]) => ({ shape: s.slice(), dtype: 'float32' as const });
      const specs = [out(shape), out([c]), out([c])];
      cn.tidy(() => {
        const x = rand(shape, 80, -2, 3), g = rand([c], 81, 0.5, 1.5), b = rand([c], 82, -0.3, 0.3), s = rand(shape, 83, -1.5, 1);
        const m = rand([c], 84, -0.2, 0.2), v = rand([c], 85, 0.5, 1.5);
        for (const relu of [true, false]) {
          const [r, bm, bv] = kernels.batchNormTrain(x, g, b, { epsilon: 1e-3, relu, residual: s });
          const [y, bm0, bv0] = kernels.batchNormTrain(x, g, b, { epsilon: 1e-3 });
          const want = relu ? cn.relu(cn.add(y, s)) : cn.add(y, s);
          expectClose(r.dataSync(), want.dataSync(), { rtol: 1e-6, atol: 1e-7, what: `training forward relu ${relu} ${shape}` });
          expectClose(bm.dataSync(), bm0.dataSync(), { rtol: 0, atol: 0, what: 'mean' });
          expectClose(bv.dataSync(), bv0.dataSync(), { rtol: 0, atol: 0, what: 'variance' });
          const ri = kernels.batchNormInfer(x, g, b, m, v, { epsilon: 1e-3, relu, residual: s });
          const yi = kernels.batchNormInfer(x, g, b, m, v, { epsilon: 1e-3 });
          const wantI = relu ? cn.relu(cn.add(yi, s)) : cn.add(yi, s);
          expectClose(ri.dataSync(), wantI.dataSync(), { rtol: 1e-6, atol: 1e-7, what: `inference forward relu ${relu} ${shape}` });
          if (relu) expect(Array.from(r.dataSync()).filter((t) => t === 0).length, 'the relu clips some values').toBeGreaterThan(0);
        }
      });
    }
  });
});

describeBackends('plan fusion: add + relu kernels', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  it('AddRelu and AddReluGrad equal relu(add) and ReluGrad(add) (sizes with and without a float4 tail)', () => {
    for (const n of [3, 8, 1031]) {
      cn.tidy(() => {
        // A NaN and a -0 sum as well: each backend's fused kernel treats them as its Relu does.
        const av = seededRandom(n, 60, -1, 1), bv = seededRandom(n, 61, -1, 1);
        av[0] = NaN;
        [av[1], bv[1]] = [-0, -0];
        const a = cn.tensor(av, [n]), b = cn.tensor(bv, [n]), g1 = rand([n], 62), g2 = rand([n], 63);
        const spec = [{ shape: [n], dtype: 'float32' as const }];
        const r = kernels.addRelu(a, b);
        const want = cn.relu(cn.add(a, b));
        expect(Array.from(r.dataSync()), `AddRelu n ${n}`).toEqual(Array.from(want.dataSync())); // NaN and -0 included
        const d = kernels.addReluGrad(g1, g2, r);
        const wantD = ENGINE.runKernel('ReluGrad', [cn.add(g1, g2), r], undefined, spec)[0];
        expectClose(d.dataSync(), wantD.dataSync(), { rtol: 0, atol: 0, what: `AddReluGrad n ${n}` });
      });
    }
  });
});

describe('plan fusion: defaults', () => {
  it('plans fuse on cuda by default, not on cpu; CUDNN_NODE_FUSION=1 / 0 force it on / off', () => {
    delete process.env.CUDNN_NODE_FUSION;
    expect([fusionEnabled('cuda'), fusionEnabled('cpu')]).toEqual([true, false]);
    process.env.CUDNN_NODE_FUSION = '1';
    expect([fusionEnabled('cuda'), fusionEnabled('cpu')]).toEqual([true, true]);
    process.env.CUDNN_NODE_FUSION = '0';
    expect([fusionEnabled('cuda'), fusionEnabled('cpu')]).toEqual([false, false]);
  });
});

describe('plan fusion: errors', () => {
  it('AddRelu and AddReluGrad take same-shape float32 inputs', () => {
    cn.tidy(() => {
      const spec = [{ shape: [2, 3], dtype: 'float32' as const }];
      expect(() => ENGINE.runKernel('AddRelu', [cn.ones([2, 3]), cn.ones([3])], undefined, spec)).toThrow(/addRelu: expected input 1 of shape \[2,3\] but received \[3\]/);
      expect(() => ENGINE.runKernel('AddReluGrad', [cn.ones([2, 3]), cn.ones([2, 3]), cn.zeros([2, 3], 'int32')], undefined, spec)).toThrow(/addReluGrad: expected input 2 of dtype float32 but received int32/);
    });
  });

  it('a batch norm residual is float32 of x\'s shape', () => {
    cn.tidy(() => {
      const x = cn.ones([2, 3]), p = cn.ones([3]);
      const specs = [{ shape: [2, 3], dtype: 'float32' as const }, { shape: [3], dtype: 'float32' as const }, { shape: [3], dtype: 'float32' as const }];
      expect(() => ENGINE.runKernel('BatchNormTrain', [x, p, p, cn.ones([3, 2])], { relu: true }, specs)).toThrow(
        /batchNormTrain: expected residual \(input 3\) of x's shape \[2,3\] float32 but received \[3,2\] float32/,
      );
      expect(() => ENGINE.runKernel('BatchNormInfer', [x, p, p, p, p, cn.zeros([2, 3], 'int32')], {}, [specs[0]])).toThrow(
        /batchNormInfer: expected residual \(input 5\) of x's shape \[2,3\] float32 but received \[2,3\] int32/,
      );
    });
  });

  it('BatchNormGrad with relu needs beta, and beta needs relu', () => {
    cn.tidy(() => {
      const x = cn.ones([2, 3]), p = cn.ones([3]);
      const specs = [{ shape: [2, 3], dtype: 'float32' as const }, { shape: [3], dtype: 'float32' as const }, { shape: [3], dtype: 'float32' as const }];
      expect(() => ENGINE.runKernel('BatchNormGrad', [x, x, p, p, p], { relu: true }, specs)).toThrow(/batchNormGrad: expected beta as input 5 exactly when relu is set, but received 5 inputs with relu true/);
      expect(() => ENGINE.runKernel('BatchNormGrad', [x, x, p, p, p, p], {}, specs)).toThrow(/received 6 inputs with relu false/);
    });
  });
});
