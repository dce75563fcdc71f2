// compile(): a traced function gives the same results through run() (worker thread) and
// runSync() as eager execution; run() leaves the event loop free; failures reject with
// coded errors; closed-over variables are bound by reference.
import { beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { backprop, recordTape } from '../lib/gradients.js';
import { assignVariable } from '../lib/layers/base.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';

const rand = (shape: number[], seed: number, lo = -1, hi = 1) => cn.tensor(seededRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape);

describeBackends('compile', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  describe('results equal eager execution', () => {
    it('conv2d + relu + mean', async () => {
      const w = rand([3, 3, 3, 8], 1);
      const x = rand([2, 9, 9, 3], 2);
      const fn = (t: cn.Tensor) => [cn.mean(cn.relu(cn.conv2d(t, w, 2, 'same')), [1, 2]), cn.maxPool(t, 2, 2, 'valid')];
      const f = cn.compile(fn, [{ shape: [2, 9, 9, 3] }]);
      try {
        expect(f.numSteps).toBeGreaterThan(0);
        const eager = cn.tidy(() => fn(x));
        const sync = f.runSync([x]);
        const async = await f.run([x]);
        for (const outs of [sync, async]) {
          expect(outs.map((o) => o.shape)).toEqual(eager.map((o) => o.shape));
          outs.forEach((o, i) => expectClose(o.dataSync(), eager[i].dataSync(), { rtol: 1e-6, atol: 1e-7, what: `output ${i}` }));
        }
        cn.dispose([eager, sync, async]);
      } finally {
        f.dispose();
        cn.dispose([w, x]);
      }
    });

    it('a gradient step (loss, dW, new weights) over conv, batchNorm, pooling, dense and cross-entropy', async () => {
      // The model layer's train-step path: record a tape and backprop (no tidy inside the trace).
      const w1 = rand([3, 3, 1, 4], 3, -0.5, 0.5);
      const b1 = rand([4], 4, -0.1, 0.1);
      const gamma = cn.ones([4]);
      const beta = cn.zeros([4]);
      const w2 = rand([4, 3], 5, -0.5, 0.5);
      const x = rand([4, 8, 8, 1], 6);
      const labels = cn.tensor(new Int32Array([0, 2, 1, 2]));
      const lr = 0.1;
      const step = (xx: cn.Tensor, yy: cn.Tensor) => {
        const loss = (a: cn.Tensor, b: cn.Tensor, c: cn.Tensor) => {
          let h = cn.fused.conv2d({ x: xx, filter: a, bias: b, strides: 1, pad: 'same', activation: 'relu' });
          h = cn.batchNormTraining(h, gamma, beta).y;
          h = cn.avgPool(h, 2, 2, 'valid');
          return cn.mean(cn.sparseSoftmaxCrossEntropy(yy, cn.matMul(cn.globalAvgPool(h), c)));
        };
        const { value, tape } = recordTape(() => loss(w1, b1, w2));
        const grads = backprop(tape, [w1, b1, w2], value, cn.onesLike(value)).map((g) => g!);
        return [value, ...grads, ...[w1, b1, w2].map((p, i) => cn.sub(p, cn.mul(grads[i], lr)))];
      };
      const f = cn.compile(step, [{ shape: [4, 8, 8, 1] }, { shape: [4], dtype: 'int32' }]);
      try {
        const eager = cn.tidy(() => step(x, labels));
        const sync = f.runSync([x, labels]);
        const async = await f.run([x, labels]);
        for (const [what, outs] of [['runSync', sync], ['run', async]] as const) {
          expect(outs.map((o) => o.shape), what).toEqual(eager.map((o) => o.shape));
          outs.forEach((o, i) => expectClose(o.dataSync(), eager[i].dataSync(), { rtol: 1e-5, atol: 1e-6, what: `${what} output ${i}` }));
        }
        // The loss is a scalar and the gradient step changed the weights.
        expect(eager[0].shape).toEqual([]);
        expect(Math.abs(eager[4].dataSync()[0] - w1.dataSync()[0])).toBeGreaterThan(0);
        cn.dispose([eager, sync, async]);
      } finally {
        f.dispose();
        cn.dispose([w1, b1, gamma, beta, w2, x, labels]);
      }
    });

    // Constants created while tracing (e.g. the scalar n in mean's gradient) outlive the
    // inner tidy() scopes of valueAndGrads until the plan binds them.
    it('the same step through valueAndGrads (public API) compiles', async () => {
      const w1 = rand([3, 3, 1, 4], 3, -0.5, 0.5);
      const b1 = rand([4], 4, -0.1, 0.1);
      const gamma = cn.ones([4]);
      const beta = cn.zeros([4]);
      const w2 = rand([4, 3], 5, -0.5, 0.5);
      const x = rand([4, 8, 8, 1], 6);
      const labels = cn.tensor(new Int32Array([0, 2, 1, 2]));
      const lr = 0.1;
      const step = (xx: cn.Tensor, yy: cn.Tensor) => {
        const loss = (a: cn.Tensor, b: cn.Tensor, c: cn.Tensor) => {
          let h = cn.fused.conv2d({ x: xx, filter: a, bias: b, strides: 1, pad: 'same', activation: 'relu' });
          h = cn.batchNormTraining(h, gamma, beta).y;
          h = cn.avgPool(h, 2, 2, 'valid');
          return cn.mean(cn.sparseSoftmaxCrossEntropy(yy, cn.matMul(cn.globalAvgPool(h), c)));
        };
        const { value, grads } = cn.valueAndGrads(loss)([w1, b1, w2]);
        return [value, ...grads, ...[w1, b1, w2].map((p, i) => cn.sub(p, cn.mul(grads[i], lr)))];
      };
      const f = cn.compile(step, [{ shape: [4, 8, 8, 1] }, { shape: [4], dtype: 'int32' }]);
      try {
        const eager = cn.tidy(() => step(x, labels));
        const sync = f.runSync([x, labels]);
        const async = await f.run([x, labels]);
        for (const [what, outs] of [['runSync', sync], ['run', async]] as const) {
          expect(outs.map((o) => o.shape), what).toEqual(eager.map((o) => o.shape));
          outs.forEach((o, i) => expectClose(o.dataSync(), eager[i].dataSync(), { rtol: 1e-5, atol: 1e-6, what: `${what} output ${i}` }));
        }
        // The loss is a scalar and the gradient step changed the weights.
        expect(eager[0].shape).toEqual([]);
        expect(Math.abs(eager[4].dataSync()[0] - w1.dataSync()[0])).toBeGreaterThan(0);
        cn.dispose([eager, sync, async]);
      } finally {
        f.dispose();
        cn.dispose([w1, b1, gamma, beta, w2, x, labels]);
      }
    });

    it('closed-over variables are read by reference on every run', () => {
      const v = cn.variable(cn.tensor([1, 2, 3]), true, 'compile_v');
      const f = cn.compile((t) => [cn.mul(t, v)], [{ shape: [3] }]);
      const x = cn.tensor([1, 1, 1]);
      try {
        const [a] = f.runSync([x]);
        expectClose(a.dataSync(), [1, 2, 3]);
        v.assign(new Float32Array([4, 5, 6]));
        const [b] = f.runSync([x]);
        expectClose(b.dataSync(), [4, 5, 6]);
        cn.dispose([a, b]);
      } finally {
        f.dispose();
        cn.dispose([v, x]);
      }
    });

    it('a compiled function can run many times without growing memory', () => {
      const w = rand([3, 3, 3, 4], 9);
      const f = cn.compile((t) => [cn.sum(cn.relu(cn.conv2d(t, w, 1, 'same')))], [{ shape: [1, 6, 6, 3] }]);
      const x = rand([1, 6, 6, 3], 10);
      try {
        cn.dispose(f.runSync([x]));
        const before = cn.memory();
        for (let i = 0; i < 5; i++) cn.dispose(f.runSync([x]));
        const after = cn.memory();
        expect(after.numTensors).toBe(before.numTensors);
        expect(after.numBytes).toBe(before.numBytes);
      } finally {
        f.dispose();
        cn.dispose([w, x]);
      }
    });
  });

  describe('graph passes', () => {
    it('steps nobody reads are pruned, in-place updates are kept, and the results equal eager execution', () => {
      const v = cn.variable(cn.zeros([3]));
      const x = cn.tensor([1, -2, 3]);
      // exp(t) and its square feed nothing fetched; the Assign writes v and has no outputs.
      const fn = (t: cn.Tensor) => {
        cn.square(cn.exp(t));
        assignVariable(v, cn.mul(t, 2));
        return [cn.neg(t)];
      };
      const f = cn.compile(fn, [{ shape: [3] }]);
      try {
        expect(f.numSteps, 'Mul, Assign and Neg remain').toBe(3);
        const [out] = f.runSync([x]);
        expect(Array.from(out.dataSync())).toEqual([-1, 2, -3]);
        expect(Array.from(v.dataSync()), 'the kept Assign ran').toEqual([2, -4, 6]);
        out.dispose();
      } finally {
        f.dispose();
        cn.dispose([v, x]);
      }
    });
  });

  describe('run() does not block the event loop', () => {
    it('a setImmediate counter advances while a big compiled conv stack runs', async () => {
      const w = rand([3, 3, 64, 64], 11, -0.05, 0.05);
      // 12 convs of 2 * B*64*64*64*64*9 FLOP (2.4 GFLOP at B = 8). The batch doubles until a
      // synchronous run lasts over 20 ms, so the check means the same on a fast CPU or a GPU.
      const fn = (t: cn.Tensor) => {
        let h = t;
        for (let i = 0; i < 12; i++) h = cn.relu(cn.conv2d(h, w, 1, 'same'));
        return [cn.mean(h)];
      };
      let batch = 8;
      let f = cn.compile(fn, [{ shape: [batch, 64, 64, 64] }]);
      let x = rand([batch, 64, 64, 64], 12);
      try {
        let ticks = 0;
        let running = true;
        const spin = () => {
          ticks++;
          if (running) setImmediate(spin);
        };
        let syncMs = 0;
        for (;;) {
          cn.dispose(f.runSync([x])); // warm caches (primitive creation)
          // Sync: the loop cannot turn while the plan runs.
          setImmediate(spin);
          const t0 = performance.now();
          const o = f.runSync([x]);
          o[0].dataSync(); // on cuda runSync only queues the work: wait for it
          cn.dispose(o);
          syncMs = performance.now() - t0;
          expect(ticks).toBe(0);
          running = false;
          await new Promise((r) => setImmediate(r));
          if (syncMs > 20 || batch >= 512) break;
          f.dispose();
          x.dispose();
          batch *= 2;
          f = cn.compile(fn, [{ shape: [batch, 64, 64, 64] }]);
          x = rand([batch, 64, 64, 64], 12);
          ticks = 0;
          running = true;
        }
        expect(syncMs, `a synchronous run at batch ${batch}`).toBeGreaterThan(20);
        // Async: it keeps turning.
        ticks = 0;
        running = true;
        setImmediate(spin);
        const t1 = performance.now();
        const outs = await f.run([x]);
        const asyncMs = performance.now() - t1;
        running = false;
        cn.dispose(outs);
        expect(ticks, `ticks during a ${asyncMs.toFixed(0)} ms run()`).toBeGreaterThan(10);
      } finally {
        f.dispose();
        cn.dispose([w, x]);
      }
    });
  });

  describe('errors', () => {
    it('a feed of the wrong shape rejects with ERR_INVALID_ARGUMENT', async () => {
      const f = cn.compile((t) => [cn.relu(t)], [{ shape: [2, 3] }]);
      const bad = cn.zeros([3, 2]);
      try {
        await expect(f.run([bad])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('expected input 0 of shape [2,3] but received [3,2]') });
        expect(() => f.runSync([bad])).toThrow(cn.InvalidArgumentError);
      } finally {
        f.dispose();
        bad.dispose();
      }
    });
    it('a kernel failure inside the plan rejects with the native code', async () => {
      const labels = cn.tensor(new Int32Array([0, 5]));
      const f = cn.compile((z) => [cn.sparseSoftmaxCrossEntropy(labels, z)], [{ shape: [2, 3] }]);
      const z = cn.zeros([2, 3]);
      try {
        const err = (await f.run([z]).then(() => null, (e: unknown) => e)) as cn.CudnnNodeError;
        expect(err).toBeInstanceOf(cn.CudnnNodeError);
        expect(err.code).toBe('ERR_INVALID_ARGUMENT');
        expect(err.message).toMatch(/label/);
      } finally {
        f.dispose();
        cn.dispose([labels, z]);
      }
    });
    it('a disposed compiled function and a disposed feed are errors', async () => {
      const f = cn.compile((t) => [cn.relu(t)], [{ shape: [2] }]);
      const x = cn.zeros([2]);
      x.dispose();
      await expect(f.run([x])).rejects.toBeInstanceOf(cn.DisposedError);
      f.dispose();
      const y = cn.zeros([2]);
      await expect(f.run([y])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      y.dispose();
    });
    it('errors while tracing name compile and leave no trace open', () => {
      expect(() => cn.compile((t) => [cn.conv2d(t, cn.zeros([3, 3, 2, 1]), 1, 'same')], [{ shape: [1, 4, 4, 3] }])).toThrow(/conv2d: expected filter with 3 input channels/);
      // A later compile works.
      const f = cn.compile((t) => [cn.neg(t)], [{ shape: [1] }]);
      f.dispose();
    });
  });
});
