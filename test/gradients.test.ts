// grad / grads / valueAndGrad / valueAndGrads / variableGrads semantics on small closed-form
// functions, gradients through every op family composed, and leak checks: memory()'s
// numTensors and numBytes are equal before and after.
import { beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { ENGINE } from '../lib/engine.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';

const vals = (t: cn.Tensor) => Array.from(t.dataSync());

/** Asserts fn leaves no tensors or bytes behind (run twice: the first run may warm caches). */
function expectNoLeak(fn: () => void): void {
  fn();
  const before = cn.memory();
  fn();
  const after = cn.memory();
  expect(after.numTensors, 'numTensors').toBe(before.numTensors);
  expect(after.numBytes, 'numBytes').toBe(before.numBytes);
}

describeBackends('gradients', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  describe('API semantics', () => {
    it('grad of x^2 + 3x is 2x + 3', () => {
      const x = cn.tensor([1, -2, 0.5]);
      const g = cn.grad((t) => cn.add(cn.square(t), cn.mul(t, 3)))(x);
      expect(g.shape).toEqual([3]);
      expectClose(vals(g), [5, -1, 4]);
      cn.dispose([x, g]);
    });
    it('grad with an explicit dy weights the output', () => {
      const x = cn.tensor([1, 2, 3]);
      const dy = cn.tensor([1, 10, 100]);
      const g = cn.grad((t) => cn.mul(t, t))(x, dy);
      expectClose(vals(g), [2, 40, 600]);
      cn.dispose([x, dy, g]);
    });
    it('grads of a * b w.r.t. both inputs, with broadcasting', () => {
      const a = cn.tensor([[1, 2, 3], [4, 5, 6]]);
      const b = cn.tensor([10, 20, 30]);
      const [da, db] = cn.grads((x, y) => cn.sum(cn.mul(x, y)))([a, b]);
      expect(da.shape).toEqual([2, 3]);
      expect(db.shape).toEqual([3]);
      expectClose(vals(da), [10, 20, 30, 10, 20, 30]);
      expectClose(vals(db), [5, 7, 9]);
      cn.dispose([a, b, da, db]);
    });
    it('valueAndGrad / valueAndGrads return the value as well', () => {
      const x = cn.tensor([3]);
      const { value, grad } = cn.valueAndGrad((t) => cn.sum(cn.exp(t)))(x);
      expectClose(vals(value), [Math.exp(3)], { rtol: 1e-6 });
      expectClose(vals(grad), [Math.exp(3)], { rtol: 1e-6 });
      const r = cn.valueAndGrads((p, q) => cn.sum(cn.div(p, q)))([cn.tensor([6]), cn.tensor([2])]);
      expectClose(vals(r.value), [3]);
      expectClose(vals(r.grads[0]), [0.5]);
      expectClose(vals(r.grads[1]), [-1.5]);
      cn.dispose([x, value, grad, r.value, r.grads]);
    });
    it('an input the function ignores gets a zero gradient of its shape', () => {
      const a = cn.tensor([1, 2]);
      const b = cn.tensor([[1, 2], [3, 4]]);
      const [da, db] = cn.grads((x) => cn.sum(cn.mul(x, 2)))([a, b]);
      expectClose(vals(da), [2, 2]);
      expect(db.shape).toEqual([2, 2]);
      expectClose(vals(db), [0, 0, 0, 0]);
      cn.dispose([a, b, da, db]);
    });
    it('an input used twice accumulates both paths', () => {
      const x = cn.tensor([2]);
      const g = cn.grad((t) => cn.add(cn.mul(t, t), cn.mul(t, t)))(x);
      expectClose(vals(g), [8]);
      cn.dispose([x, g]);
    });
    it('variableGrads finds the trainable variables f uses', () => {
      const w = cn.variable(cn.tensor([[1, 2], [3, 4]]), true, 'w');
      const b = cn.variable(cn.tensor([0.5, -0.5]), true, 'b');
      const frozen = cn.variable(cn.tensor([1, 1]), false, 'frozen');
      const x = cn.tensor([[1, 1]]);
      const { value, grads } = cn.variableGrads(() => cn.sum(cn.mul(cn.add(cn.matMul(x, w), b), frozen)));
      expect(Object.keys(grads).sort()).toEqual(['b', 'w']);
      expectClose(vals(value), [10]);
      expectClose(vals(grads.w), [1, 1, 1, 1]);
      expectClose(vals(grads.b), [1, 1]);
      cn.dispose([w, b, frozen, x, value, grads]);
    });
    it('variableGrads with an explicit list, and a non-scalar f is an error', () => {
      const w = cn.variable(cn.tensor([2]), true, 'w2');
      const v = cn.variable(cn.tensor([3]), true, 'v2');
      const r = cn.variableGrads(() => cn.sum(cn.mul(w, v)), [v]);
      expect(Object.keys(r.grads)).toEqual(['v2']);
      expectClose(vals(r.grads.v2), [2]);
      expect(() => cn.variableGrads(() => cn.mul(w, cn.tensor([1, 2])))).toThrow(/variableGrads: expected f to return a scalar but received shape \[2\]/);
      cn.dispose([w, v, r.value, r.grads]);
    });
    it('gradients flow through a float32 cast', () => {
      const x = cn.tensor([1.5, 2.5]);
      const g = cn.grad((t) => cn.sum(cn.mul(cn.cast(t, 'float32'), 3)))(x);
      expectClose(vals(g), [3, 3]);
      cn.dispose([x, g]);
    });
  });

  describe('no leaks', () => {
    it('grads through conv / pool / batchNorm / matMul / softmax / losses inside tidy', () => {
      const x = cn.tensor(seededRandom(2 * 9 * 9 * 3, 1), [2, 9, 9, 3]);
      const f = cn.tensor(seededRandom(3 * 3 * 3 * 8, 2), [3, 3, 3, 8]);
      const bias = cn.tensor(seededRandom(8, 3), [8]);
      const gamma = cn.ones([8]);
      const beta = cn.zeros([8]);
      const w = cn.tensor(seededRandom(8 * 5, 4), [8, 5]);
      const labels = cn.tensor(new Int32Array([1, 4]));
      const loss = (xx: cn.Tensor, ff: cn.Tensor, bb: cn.Tensor, ww: cn.Tensor) => {
        let h = cn.fused.conv2d({ x: xx, filter: ff, bias: bb, strides: 2, pad: 'same', activation: 'relu' });
        h = cn.batchNormTraining(h, gamma, beta).y;
        h = cn.maxPool(h, 2, 2, 'same');
        h = cn.dropout(h, 0.3, undefined, 7);
        h = cn.image.resizeBilinear(h, [3, 3]);
        const logits = cn.matMul(cn.globalAvgPool(h), ww);
        return cn.add(cn.mean(cn.sparseSoftmaxCrossEntropy(labels, logits)), cn.mean(cn.softmax(logits)));
      };
      expectNoLeak(() => {
        const { value, grads } = cn.tidy(() => cn.valueAndGrads(loss)([x, f, bias, w]));
        expect(value.shape).toEqual([]);
        expect(grads.map((g) => g.shape)).toEqual([x.shape, f.shape, bias.shape, w.shape]);
        cn.dispose([value, grads]);
      });
      cn.dispose([x, f, bias, gamma, beta, w, labels]);
    });
    it('grad / grads / valueAndGrad / variableGrads leave only their results', () => {
      const x = cn.tensor(seededRandom(12, 5), [3, 4]);
      const v = cn.variable(cn.tensor(seededRandom(4, 6), [4]), true, 'leakcheck');
      const f = (t: cn.Tensor) => cn.sum(cn.tanh(cn.mul(t, v)));
      expectNoLeak(() => {
        cn.grad(f)(x).dispose();
        cn.dispose(cn.grads((a) => f(a))([x]));
        const r = cn.valueAndGrad(f)(x);
        cn.dispose([r.value, r.grad]);
        const vg = cn.variableGrads(() => f(x));
        cn.dispose([vg.value, vg.grads]);
      });
      cn.dispose([x, v]);
    });
    it('ops outside a tape keep no gradient state (sparse cross-entropy frees dlogits)', () => {
      const z = cn.tensor(seededRandom(12, 7), [3, 4]);
      const l = cn.tensor(new Int32Array([0, 1, 3]));
      expectNoLeak(() => cn.sparseSoftmaxCrossEntropy(l, z).dispose());
      cn.dispose([z, l]);
    });
  });

  // Scoping of gradient results, and higher-order gradients (Note [higher-order gradients]).
  describe('gradient scoping', () => {
    // grads taken inside tidy() are released by it, as in tfjs.
    it('grads results are released by an enclosing tidy()', () => {
      const x = cn.tensor([1, 2]);
      expectNoLeak(() => {
        cn.tidy(() => {
          cn.grads((t) => cn.sum(cn.mul(t, t)))([x]);
        });
      });
      x.dispose();
    });
    it('higher-order: grad of grad of x^3 is 6x, and of grad of grad is 6', () => {
      const x = cn.tensor([2, -1]);
      const cube = (u: cn.Tensor) => cn.mul(cn.mul(u, u), u);
      const g2 = cn.grad((t) => cn.grad(cube)(t))(x);
      expectClose(vals(g2), [12, -6]);
      const g3 = cn.grad((t) => cn.grad((s) => cn.grad(cube)(s))(t))(x);
      expectClose(vals(g3), [6, 6]);
      cn.dispose([x, g2, g3]);
    });
    it('higher-order gradients leave no tensors behind', () => {
      const x = cn.tensor([0.5, -1.5, 2]);
      expectNoLeak(() => {
        cn.tidy(() => {
          cn.grad((t) => cn.grad((u) => cn.sum(cn.mul(cn.sigmoid(u), cn.exp(u))))(t))(x);
        });
      });
      x.dispose();
    });
    it('a first-order gradient inside tidy() under no tape still frees its intermediates', () => {
      const x = cn.tensor([1, 2, 3]);
      expectNoLeak(() => cn.grad((t) => cn.sum(cn.tanh(cn.mul(t, t))))(x).dispose());
      x.dispose();
    });
    it('higher-order through a custom op whose gradient is not marked differentiable throws NotSupportedError naming it', () => {
      const x = cn.tensor(seededRandom(2 * 5 * 5 * 2, 3), [2, 5, 5, 2]);
      const w = cn.tensor(seededRandom(3 * 3 * 2 * 3, 4), [3, 3, 2, 3]);
      // A custom op whose gradient calls a kernel directly and does not opt in.
      const cube = (u: cn.Tensor) =>
        cn.defineOp1([u], () => cn.mul(cn.mul(u, u), u), (dy) => [ENGINE.runKernel('Mul', [dy, cn.mul(cn.mul(u, u), 3)], undefined, [{ shape: u.shape, dtype: 'float32' }])[0]], { name: 'myCube' });
      const inner = (t: cn.Tensor) => cn.sum(cn.square(cn.grad((u) => cn.sum(cube(cn.conv2d(u, w, 1, 'same'))))(t)));
      let err: unknown;
      try {
        cn.grad(inner)(x);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(cn.NotSupportedError);
      expect((err as cn.NotSupportedError).code).toBe('ERR_NOT_SUPPORTED');
      expect((err as Error).message).toMatch(/myCube/);
      // Nothing of the failed gradient is left alive.
      const before = cn.memory().numTensors;
      try {
        cn.grad(inner)(x);
      } catch {
        // expected
      }
      expect(cn.memory().numTensors).toBe(before);
      cn.dispose([x, w]);
    });
    it('a higher-order gradient that does not depend on a non-differentiable gradient still works', () => {
      // d/dx of (d/dx sum(x^2 * c)) where c = maxPool(z) is a constant of x: 2c.
      const x = cn.tensor([1, 2, 3, 4], [1, 2, 2, 1]);
      const z = cn.tensor([5, 1, 2, 3], [1, 2, 2, 1]);
      const g2 = cn.grad((t) =>
        cn.grad((u) => {
          const c = cn.maxPool(z, 2, 2, 'valid');
          return cn.sum(cn.mul(cn.square(u), c));
        })(t),
      )(x);
      expectClose(vals(g2), [10, 10, 10, 10]);
      cn.dispose([x, z, g2]);
    });
  });
});
