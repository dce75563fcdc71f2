// Higher-order gradients (Note [higher-order gradients]) against independent references:
// second derivatives of every activation and elementwise op as grad(grad(f)) against exact
// float64 second-order forward mode (Jet), softmax / logSoftmax against tfjs-node's own
// grad of grad, and a Hessian-vector product through a two-layer MLP (matMul, bias, relu,
// softmax) and gradient penalties (the weights' gradient of the input gradient's norm)
// through dense layers, conv2d / conv2dTranspose, depthwiseConv2d, max and average pooling,
// resizeBilinear, batch norm (both forms), LRN and sparse cross-entropy against central differences of tfjs-node's first-order gradients. tfjs-node itself is
// no reference for the rest: it cannot differentiate gradients that read an op's output
// (sigmoid, tanh, exp: 'Cannot compute gradient') or comparisons (relu6, selu), and
// returned zeros for the MLP's Hessian-vector product.
// Tolerance: rtol 1e-4, atol 1e-5; 2e-3 / 2e-4 against central differences (eps 1e-2, float32).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { ENGINE } from '../lib/engine.js';
import { batchNormTraining } from '../lib/ops/norm.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';
import { TFModule, loadReference, resizeAsMatMul } from './parity-common.js';
import { digest, reference, saveRecording } from './reference.js';

let tf: TFModule;
beforeAll(async () => {
  tf = await loadReference(); // a missing reference fails every test
});
afterAll(saveRecording);

const TOL = { rtol: 1e-4, atol: 1e-5 };

/** An elementwise function written once against either library's op names. */
interface Lib {
  sigmoid(x: unknown): unknown; tanh(x: unknown): unknown; exp(x: unknown): unknown; log(x: unknown): unknown;
  sqrt(x: unknown): unknown; rsqrt(x: unknown): unknown; reciprocal(x: unknown): unknown; sin(x: unknown): unknown;
  cos(x: unknown): unknown; softplus(x: unknown): unknown; square(x: unknown): unknown; relu(x: unknown): unknown;
  relu6(x: unknown): unknown; selu(x: unknown): unknown; elu(x: unknown): unknown; mul(a: unknown, b: unknown): unknown; div(a: unknown, b: unknown): unknown;
  pow(a: unknown, b: unknown): unknown; add(a: unknown, b: unknown): unknown; sub(a: unknown, b: unknown): unknown;
  abs(x: unknown): unknown; maximum(a: unknown, b: unknown): unknown;
}

/** A value with its first and second derivative along x, in float64: exact second-order
 * forward mode, the reference for the elementwise cases. */
class Jet {
  constructor(readonly v: number, readonly d = 0, readonly dd = 0) {}
  /** g(this) from g, g' and g'' at this.v (the chain rule to second order). */
  apply(g: number, g1: number, g2: number): Jet {
    return new Jet(g, g1 * this.d, g2 * this.d * this.d + g1 * this.dd);
  }
}
const jet = (a: unknown): Jet => (a instanceof Jet ? a : new Jet(a as number));
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const SCALE = 1.0507009873554805, ALPHA = 1.6732632423543772;
const jetLib: Lib = {
  sigmoid: (x) => { const a = jet(x), s = sig(a.v); return a.apply(s, s * (1 - s), s * (1 - s) * (1 - 2 * s)); },
  tanh: (x) => { const a = jet(x), t = Math.tanh(a.v); return a.apply(t, 1 - t * t, -2 * t * (1 - t * t)); },
  exp: (x) => { const a = jet(x), e = Math.exp(a.v); return a.apply(e, e, e); },
  log: (x) => { const a = jet(x); return a.apply(Math.log(a.v), 1 / a.v, -1 / (a.v * a.v)); },
  sqrt: (x) => { const a = jet(x), r = Math.sqrt(a.v); return a.apply(r, 0.5 / r, -0.25 / (r * a.v)); },
  rsqrt: (x) => { const a = jet(x); return a.apply(a.v ** -0.5, -0.5 * a.v ** -1.5, 0.75 * a.v ** -2.5); },
  reciprocal: (x) => { const a = jet(x); return a.apply(1 / a.v, -1 / a.v ** 2, 2 / a.v ** 3); },
  sin: (x) => { const a = jet(x); return a.apply(Math.sin(a.v), Math.cos(a.v), -Math.sin(a.v)); },
  cos: (x) => { const a = jet(x); return a.apply(Math.cos(a.v), -Math.sin(a.v), -Math.cos(a.v)); },
  softplus: (x) => { const a = jet(x), s = sig(a.v); return a.apply(Math.log1p(Math.exp(a.v)), s, s * (1 - s)); },
  square: (x) => { const a = jet(x); return a.apply(a.v * a.v, 2 * a.v, 2); },
  relu: (x) => { const a = jet(x); return a.v > 0 ? a : new Jet(0); },
  relu6: (x) => { const a = jet(x); return a.v > 0 && a.v < 6 ? a : new Jet(Math.min(Math.max(a.v, 0), 6)); },
  selu: (x) => {
    const a = jet(x), e = Math.exp(a.v);
    return a.v > 0 ? a.apply(SCALE * a.v, SCALE, 0) : a.apply(SCALE * ALPHA * (e - 1), SCALE * ALPHA * e, SCALE * ALPHA * e);
  },
  elu: (x) => { const a = jet(x), e = Math.exp(a.v); return a.v > 0 ? a : a.apply(e - 1, e, e); },
  abs: (x) => { const a = jet(x); return a.apply(Math.abs(a.v), Math.sign(a.v), 0); },
  add: (x, y) => { const a = jet(x), b = jet(y); return new Jet(a.v + b.v, a.d + b.d, a.dd + b.dd); },
  sub: (x, y) => { const a = jet(x), b = jet(y); return new Jet(a.v - b.v, a.d - b.d, a.dd - b.dd); },
  mul: (x, y) => { const a = jet(x), b = jet(y); return new Jet(a.v * b.v, a.d * b.v + a.v * b.d, a.dd * b.v + 2 * a.d * b.d + a.v * b.dd); },
  div: (x, y) => jetLib.mul(x, jetLib.reciprocal(y)),
  pow: (x, c) => { const a = jet(x), k = c as number; return a.apply(a.v ** k, k * a.v ** (k - 1), k * (k - 1) * a.v ** (k - 2)); },
  maximum: (x, y) => { const a = jet(x), b = jet(y); return a.v >= b.v ? a : b; },
};

// [name, f(x) whose sum is differentiated twice, input range]
const unaryCases: Array<[string, (l: Lib, x: unknown) => unknown, [number, number]]> = [
  ['sigmoid', (l, x) => l.sigmoid(x), [-4, 4]],
  ['tanh', (l, x) => l.tanh(x), [-3, 3]],
  ['exp', (l, x) => l.exp(x), [-2, 2]],
  ['log', (l, x) => l.log(x), [0.5, 3]],
  ['sqrt', (l, x) => l.sqrt(x), [0.5, 3]],
  ['rsqrt', (l, x) => l.rsqrt(x), [0.5, 3]],
  ['reciprocal', (l, x) => l.reciprocal(x), [0.5, 3]],
  ['sin', (l, x) => l.sin(x), [-3, 3]],
  ['cos', (l, x) => l.cos(x), [-3, 3]],
  ['softplus', (l, x) => l.softplus(x), [-3, 3]],
  ['square * x (x^3)', (l, x) => l.mul(l.square(x), x), [-2, 2]],
  ['pow(x, 3)', (l, x) => l.pow(x, 3), [0.5, 2]],
  ['1 / (1 + x^2) by div', (l, x) => l.div(1, l.add(1, l.square(x))), [-2, 2]],
  ['relu(x) * x', (l, x) => l.mul(l.relu(x), x), [-2, 2]],
  ['relu6(x) * x', (l, x) => l.mul(l.relu6(x), x), [-8, 8]],
  ['selu(x) * x', (l, x) => l.mul(l.selu(x), x), [-2, 2]],
  ['elu(x) * x', (l, x) => l.mul(l.elu(x), x), [-2, 2]],
  ['abs(x) * x', (l, x) => l.mul(l.abs(x), x), [-2, 2]],
  ['maximum(x^2, 1)', (l, x) => l.maximum(l.square(x), 1), [-2, 2]],
  ['sigmoid(tanh(x)) * exp(x / 2) - sin(x)^2', (l, x) => l.sub(l.mul(l.sigmoid(l.tanh(x)), l.exp(l.div(x, 2))), l.square(l.sin(x))), [-2, 2]],
];

function ranged(n: number, seed: number, [lo, hi]: [number, number]): Float32Array {
  return seededRandom(n, seed, lo, hi);
}

/** Central differences along v of a gradient computed by tfjs-node (TensorFlow's first-order
 * kernels): the reference for the network cases. */
function centralDifference(g: (shift: number) => Float32Array, eps: number): Float32Array {
  const a = g(eps), b = g(-eps);
  return a.map((v, i) => (v - b[i]) / (2 * eps));
}
const FD_TOL = { rtol: 2e-3, atol: 2e-4 };

/** A test's TensorFlow-side reference arrays: computed live by tfjs-node, or replayed from a
 * recording (test/reference.ts). `inputs` are digested into the key, so a replay only
 * returns what TensorFlow computed from the same data. */
function tfRef(name: string, inputs: ArrayLike<number>[], compute: () => ArrayLike<number>[]): Float32Array[] {
  const key = `${name} #${digest(inputs.map((v) => ({ shape: [v.length], values: Float32Array.from(v) })))}`;
  const r = reference(key, () => ({
    parts: compute().map((p) => ({ shape: [p.length], dtype: 'float32', values: Float32Array.from(p) })),
  }));
  return r.parts.map((p) => p.values as Float32Array);
}

describeBackends('parity: higher-order gradients', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  const ours = cn as unknown as Lib;

  describe('second derivatives of elementwise ops (reference: float64 jets)', () => {
    unaryCases.forEach(([name, f, range], i) => {
      it(name, () => {
        const xs = ranged(24, 100 + i, range);
        const x = cn.tensor(xs, [4, 6]);
        const g2 = cn.grad((t) => cn.grad((u) => cn.sum(f(ours, u) as cn.Tensor))(t))(x);
        const want = Array.from(xs, (v) => (f(jetLib, new Jet(v, 1)) as Jet).dd);
        expectClose(g2.dataSync(), want, { ...TOL, what: `d2/dx2 ${name}` });
        cn.dispose([x, g2]);
      });
    });

    // tfjs-node differentiates these gradients too (its softmax gradients are composed of ops).
    for (const kind of ['softmax', 'logSoftmax'] as const)
      it(`${kind} weighted by constants (reference: tfjs-node's grad of grad)`, () => {
        const xs = ranged(3 * 7, 21, [-2, 2]), cs = ranged(3 * 7, 22, [-1, 1]);
        const x = cn.tensor(xs, [3, 7]), c = cn.tensor(cs, [3, 7]);
        const g2 = cn.grad((t) => cn.grad((u) => cn.sum(cn.mul(cn.square(cn[kind](u)), c)))(t))(x);
        const [r] = tfRef(`${kind} grad of grad`, [xs, cs], () => [
          tf.tidy(() => {
            const tx = tf.tensor(xs, [3, 7]), tc = tf.tensor(cs, [3, 7]);
            return tf.grad((t) => tf.grad((u) => tf.sum(tf.mul(tf.square(tf[kind](u)), tc)))(t))(tx).dataSync();
          }),
        ]);
        expectClose(g2.dataSync(), r, TOL);
        cn.dispose([x, c, g2]);
      });
  });

  describe('networks', () => {
    const x0 = seededRandom(5 * 4, 31), w1v = seededRandom(4 * 6, 32, -0.8, 0.8), b1v = seededRandom(6, 33, -0.2, 0.2);
    const w2v = seededRandom(6 * 3, 34, -0.8, 0.8), cv = seededRandom(5 * 3, 35), vv = seededRandom(4 * 6, 36);

    it('Hessian-vector product of a two-layer MLP w.r.t. its first weights', () => {
      const [x, w1, b1, w2, c, v] = [cn.tensor(x0, [5, 4]), cn.tensor(w1v, [4, 6]), cn.tensor(b1v, [6]), cn.tensor(w2v, [6, 3]), cn.tensor(cv, [5, 3]), cn.tensor(vv, [4, 6])];
      const loss = (w: cn.Tensor) => cn.sum(cn.mul(cn.softmax(cn.matMul(cn.relu(cn.add(cn.matMul(x, w), b1)), w2)), c));
      const hv = cn.grad((w) => cn.sum(cn.mul(cn.grad(loss)(w), v)))(w1);
      // H v = d/de grad(w1 + e v) at e = 0.
      const [ref] = tfRef('MLP Hessian-vector product', [x0, w1v, b1v, w2v, cv, vv], () => [centralDifference(
        (e) =>
          tf.tidy(() => {
            const [tx, tb1, tw2, tc] = [tf.tensor(x0, [5, 4]), tf.tensor(b1v, [6]), tf.tensor(w2v, [6, 3]), tf.tensor(cv, [5, 3])];
            const tw = tf.add(tf.tensor(w1v, [4, 6]), tf.mul(tf.tensor(vv, [4, 6]), e));
            const tloss = (w: TF.Tensor) => tf.sum(tf.mul(tf.softmax(tf.matMul(tf.relu(tf.add(tf.matMul(tx, w as TF.Tensor2D), tb1)), tw2)), tc));
            return tf.grad(tloss)(tw).dataSync() as Float32Array;
          }),
        1e-2,
      )]);
      expect(Math.max(...Array.from(ref, Math.abs))).toBeGreaterThan(1e-2); // not trivially zero
      expectClose(hv.dataSync(), ref, FD_TOL);
      cn.dispose([x, w1, b1, w2, c, v, hv]);
    });

    it("gradient penalty: the weights' gradient of the squared norm of the input gradient", () => {
      const [x, w1, w2] = [cn.tensor(x0, [5, 4]), cn.tensor(w1v, [4, 6]), cn.tensor(w2v, [6, 3])];
      const critic = (xx: cn.Tensor, w: cn.Tensor) => cn.sum(cn.matMul(cn.tanh(cn.matMul(xx, w)), w2));
      const gp = cn.grad((w) => cn.sum(cn.square(cn.grad((xx) => critic(xx, w))(x))))(w1);
      // The penalty as a function of each weight, by central differences of tfjs-node's values.
      const penalty = (w: Float32Array) =>
        tf.tidy(() => {
          const [tx, tw, tw2] = [tf.tensor(x0, [5, 4]), tf.tensor(w, [4, 6]), tf.tensor(w2v, [6, 3])];
          const tcritic = (xx: TF.Tensor) => tf.sum(tf.matMul(tf.tanh(tf.matMul(xx as TF.Tensor2D, tw as TF.Tensor2D)), tw2));
          return tf.sum(tf.square(tf.grad(tcritic)(tx))).dataSync()[0];
        });
      const eps = 1e-2;
      const [ref] = tfRef('dense gradient penalty', [x0, w1v, w2v], () => [Array.from(w1v, (_, i) => {
        const up = w1v.slice(), down = w1v.slice();
        up[i] += eps;
        down[i] -= eps;
        return (penalty(up) - penalty(down)) / (2 * eps);
      })]);
      expectClose(gp.dataSync(), ref, FD_TOL);
      cn.dispose([x, w1, w2, gp]);
    });

    it('gradient penalty through conv2d (bias, fused relu, stride 2) and conv2dTranspose', () => {
      const xs = seededRandom(2 * 6 * 6 * 3, 41), w1s = seededRandom(3 * 3 * 3 * 4, 42, -0.5, 0.5), b1s = seededRandom(4, 43, -0.2, 0.2);
      const w2s = seededRandom(2 * 2 * 5 * 4, 44, -0.5, 0.5);
      // critic(x) = sum(conv2dTranspose(relu(conv2d(x, w1, 2) + b1), w2) * x): every conv path.
      const critic = (x: cn.Tensor, w1: cn.Tensor, b1: cn.Tensor, w2: cn.Tensor) => {
        const h = cn.fused.conv2d({ x, filter: w1, bias: b1, strides: 2, pad: 'same', activation: 'relu' });
        const u = cn.conv2dTranspose(h, w2, [2, 6, 6, 5], 2, 'same');
        return cn.sum(cn.mul(cn.slice(u, [0, 0, 0, 0], [2, 6, 6, 3]), x));
      };
      const [x, w1, b1, w2] = [cn.tensor(xs, [2, 6, 6, 3]), cn.tensor(w1s, [3, 3, 3, 4]), cn.tensor(b1s, [4]), cn.tensor(w2s, [2, 2, 5, 4])];
      const gs = cn.grads((a, b, c) => cn.sum(cn.square(cn.grad((xx) => critic(xx, a, b, c))(x))))([w1, b1, w2]);
      const penalty = (p1: Float32Array, pb: Float32Array, p2: Float32Array) =>
        tf.tidy(() => {
          const [tx, tw1, tb1, tw2] = [tf.tensor(xs, [2, 6, 6, 3]), tf.tensor(p1, [3, 3, 3, 4]), tf.tensor(pb, [4]), tf.tensor(p2, [2, 2, 5, 4])];
          const tcritic = (xx: TF.Tensor) => {
            const h = tf.relu(tf.add(tf.conv2d(xx as TF.Tensor4D, tw1 as TF.Tensor4D, 2, 'same'), tb1));
            const u = tf.conv2dTranspose(h as TF.Tensor4D, tw2 as TF.Tensor4D, [2, 6, 6, 5], 2, 'same');
            return tf.sum(tf.mul(tf.slice(u, [0, 0, 0, 0], [2, 6, 6, 3]), xx));
          };
          return tf.sum(tf.square(tf.grad(tcritic)(tx))).dataSync()[0];
        });
      const eps = 1e-2;
      const params = [w1s, b1s, w2s];
      const refs = tfRef('conv2d + conv2dTranspose gradient penalty', [xs, ...params], () =>
        params.map((p, k) =>
          Array.from(p, (_, i) => {
            const up = params.map((q) => q.slice()), down = params.map((q) => q.slice());
            up[k][i] += eps;
            down[k][i] -= eps;
            return (penalty(up[0], up[1], up[2]) - penalty(down[0], down[1], down[2])) / (2 * eps);
          }),
        ),
      );
      params.forEach((_, k) => expectClose(gs[k].dataSync(), refs[k], { ...FD_TOL, what: ['w1', 'b1', 'w2'][k] }));
      cn.dispose([x, w1, b1, w2, ...gs]);
    });

    /** d penalty / d params by central differences of tfjs-node values, Richardson-extrapolated
     * from steps eps and eps / 2 (the step-squared error cancels). */
    function fdGrads(params: Float32Array[], penalty: (ps: Float32Array[]) => number, eps = 1e-2): number[][] {
      const central = (k: number, i: number, eps: number) => {
        const up = params.map((q) => q.slice()), down = params.map((q) => q.slice());
        up[k][i] += eps;
        down[k][i] -= eps;
        return (penalty(up) - penalty(down)) / (2 * eps);
      };
      return params.map((p, k) => Array.from(p, (_, i) => (4 * central(k, i, eps / 2) - central(k, i, eps)) / 3));
    }

    it('gradient penalty through depthwiseConv2d, avgPool and batchNorm', () => {
      const xs = seededRandom(2 * 6 * 6 * 3, 51), ws = seededRandom(3 * 3 * 3 * 2, 52, -0.5, 0.5);
      const ms = seededRandom(6, 53, -0.3, 0.3), vs = seededRandom(6, 54, 0.5, 1.5), gs0 = seededRandom(6, 55, 0.5, 1.5);
      const critic = (x: cn.Tensor, w: cn.Tensor, m: cn.Tensor, v: cn.Tensor, g: cn.Tensor) =>
        cn.sum(cn.mul(cn.tanh(cn.batchNorm(cn.avgPool(cn.depthwiseConv2d(x, w, 1, 'same'), 3, 2, 'same'), m, v, null, g)), 1.5));
      const ps = [ws, ms, vs, gs0];
      const shapes = [[3, 3, 3, 2], [6], [6], [6]];
      const x = cn.tensor(xs, [2, 6, 6, 3]);
      const ts = ps.map((p, k) => cn.tensor(p, shapes[k]));
      const got = cn.grads((w, m, v, g) => cn.sum(cn.square(cn.grad((xx) => critic(xx, w, m, v, g))(x))))(ts);
      const ref = tfRef('depthwiseConv2d + avgPool + batchNorm gradient penalty', [xs, ...ps], () => fdGrads(ps, (q) =>
        tf.tidy(() => {
          const [tw, tm, tv, tg] = q.map((p, k) => tf.tensor(p, shapes[k]));
          const tcritic = (xx: TF.Tensor) =>
            tf.sum(tf.mul(tf.tanh(tf.batchNorm(tf.avgPool(tf.depthwiseConv2d(xx as TF.Tensor4D, tw as TF.Tensor4D, 1, 'same'), 3, 2, 'same'), tm, tv, tf.zeros([6]), tg)), 1.5)); // tfjs' batchNorm gradient fails without an offset
          return tf.sum(tf.square(tf.grad(tcritic)(tf.tensor(xs, [2, 6, 6, 3])))).dataSync()[0];
        }),
      ));
      ['w', 'mean', 'variance', 'scale'].forEach((n, k) => expectClose(got[k].dataSync(), ref[k], { ...FD_TOL, what: n }));
      cn.dispose([x, ...ts, ...got]);
    });

    it('double backprop through batchNormTraining and sparseSoftmaxCrossEntropy', () => {
      const xs = seededRandom(6 * 4, 61), w1s = seededRandom(4 * 5, 62, -0.8, 0.8), gs0 = seededRandom(5, 63, 0.5, 1.5);
      const bs = seededRandom(5, 64, -0.3, 0.3), w2s = seededRandom(5 * 3, 65, -0.8, 0.8);
      const labels = [0, 2, 1, 1, 0, 2];
      const ps = [w1s, gs0, bs, w2s];
      const shapes = [[4, 5], [5], [5], [5, 3]];
      // loss(x) = mean CE(labels, tanh(BN_train(x w1)) w2) (smooth: central differences need no kinks); penalty = sum((d loss / d x)^2).
      const x = cn.tensor(xs, [6, 4]), l = cn.tensor(new Int32Array(labels), [6], 'int32');
      const ts = ps.map((p, k) => cn.tensor(p, shapes[k]));
      const loss = (xx: cn.Tensor, w1: cn.Tensor, g: cn.Tensor, b: cn.Tensor, w2: cn.Tensor) =>
        cn.mean(cn.sparseSoftmaxCrossEntropy(l, cn.matMul(cn.tanh(batchNormTraining(cn.matMul(xx, w1), g, b, 1e-3).y), w2)));
      const got = cn.grads((w1, g, b, w2) => cn.sum(cn.square(cn.grad((xx) => loss(xx, w1, g, b, w2))(x))))(ts);
      const ref = tfRef('batchNormTraining + sparse cross-entropy double backprop', [xs, ...ps, labels], () => fdGrads(ps, (q) =>
        tf.tidy(() => {
          const [tw1, tg, tb, tw2] = q.map((p, k) => tf.tensor(p, shapes[k]));
          const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
          const tloss = (xx: TF.Tensor) => {
            const h = tf.matMul(xx as TF.Tensor2D, tw1 as TF.Tensor2D);
            const { mean, variance } = tf.moments(h, 0);
            const z = tf.matMul(tf.tanh(tf.batchNorm(h, mean, variance, tb, tg, 1e-3)) as TF.Tensor2D, tw2 as TF.Tensor2D);
            return tf.mean(tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(z)), 1)));
          };
          return tf.sum(tf.square(tf.grad(tloss)(tf.tensor(xs, [6, 4])))).dataSync()[0];
        }),
      ));
      ['w1', 'gamma', 'beta', 'w2'].forEach((n, k) => expectClose(got[k].dataSync(), ref[k], { ...FD_TOL, what: n }));
      cn.dispose([x, l, ...ts, ...got]);
    });

    it('MaxPoolGradGrad picks the incoming gradient at each window\'s first maximum (ties, SAME padding)', () => {
      // 1 image, 5x5, 2 channels; channel 1 is constant (every window ties).
      const xs = new Float32Array(5 * 5 * 2).map((_, i) => (i % 2 === 0 ? Math.round(seededRandom(1, 70 + i, 0, 3)[0]) : 1));
      const ss = seededRandom(5 * 5 * 2, 71);
      const x = cn.tensor(xs, [1, 5, 5, 2]), src = cn.tensor(ss, [1, 5, 5, 2]);
      const attrs = { poolSize: [3, 3], strides: [2, 2], pad: 'same' as const };
      const [y] = ENGINE.runKernel('MaxPoolGradGrad', [src, x], attrs, [{ shape: [1, 3, 3, 2], dtype: 'float32' }]);
      // SAME with 5 -> 3 at stride 2, window 3: total padding 2, one row/column on each side.
      const want: number[] = [];
      for (let oy = 0; oy < 3; oy++)
        for (let ox = 0; ox < 3; ox++)
          for (let c = 0; c < 2; c++) {
            let best = -Infinity, at = -1;
            for (let h = oy * 2 - 1; h < oy * 2 + 2; h++)
              for (let w = ox * 2 - 1; w < ox * 2 + 2; w++) {
                if (h < 0 || h >= 5 || w < 0 || w >= 5) continue;
                const i = (h * 5 + w) * 2 + c;
                if (xs[i] > best) (best = xs[i]), (at = i);
              }
            want.push(ss[at]);
          }
      expectClose(y.dataSync(), want, { rtol: 0, atol: 0 });
      cn.dispose([x, src, y]);
    });

    it('double backprop through conv2d, maxPool and resizeBilinear (a classifier\'s input-gradient penalty)', () => {
      const xs = seededRandom(2 * 8 * 8 * 2, 81), ws = seededRandom(3 * 3 * 2 * 4, 82, -0.5, 0.5), w2s = seededRandom(4 * 3, 83, -0.8, 0.8);
      const labels = [1, 2];
      const ps = [ws, w2s];
      const shapes = [[3, 3, 2, 4], [4, 3]];
      const x = cn.tensor(xs, [2, 8, 8, 2]), l = cn.tensor(new Int32Array(labels), [2], 'int32');
      const ts = ps.map((p, k) => cn.tensor(p, shapes[k]));
      // loss(x) = mean CE(labels, mean over space of tanh(maxPool(conv(resize(x))))) w2).
      const loss = (xx: cn.Tensor, w: cn.Tensor, w2: cn.Tensor) => {
        const h = cn.maxPool(cn.conv2d(cn.image.resizeBilinear(xx, [10, 10], false, true), w, 1, 'same'), 2, 2, 'valid');
        return cn.mean(cn.sparseSoftmaxCrossEntropy(l, cn.matMul(cn.mean(cn.tanh(h), [1, 2]), w2)));
      };
      const got = cn.grads((w, w2) => cn.sum(cn.square(cn.grad((xx) => loss(xx, w, w2))(x))))(ts);
      // Reference: resizing as a matMul (resizeAsMatMul: tfjs' resize gradient ignores
      // halfPixelCenters). Max pooling is a selection that only changes where a window's maximum
      // moves, so central differences across such a move are meaningless (steps of 1e-3
      // already cross some). tfjs-node pools here with the selection frozen at the
      // unperturbed parameters (each disjoint 2x2 window's first maximum, one-hot, taken from
      // our conv output so that near-ties resolve alike), the same function near them and
      // smooth, and differentiates that.
      const windows = (h: TF.Tensor) => tf.reshape(tf.transpose(tf.reshape(h, [2, 5, 2, 5, 2, 4]), [0, 1, 3, 5, 2, 4]), [2, 5, 5, 4, 4]);
      const refLoss = (q: Float32Array[], mask: TF.Tensor, xx: TF.Tensor) => {
        const [tw, tw2] = q.map((p, k) => tf.tensor(p, shapes[k]));
        const h = windows(tf.conv2d(resizeAsMatMul(tf, xx, [10, 10], false, true) as TF.Tensor4D, tw as TF.Tensor4D, 1, 'same'));
        const pooled = tf.sum(tf.mul(h, mask), -1);
        const z = tf.matMul(tf.mean(tf.tanh(pooled), [1, 2]) as TF.Tensor2D, tw2 as TF.Tensor2D);
        return tf.mean(tf.neg(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), 3), tf.logSoftmax(z)), 1)));
      };
      const h0 = cn.tidy(() => cn.conv2d(cn.image.resizeBilinear(x, [10, 10], false, true), ts[0], 1, 'same').dataSync());
      const m0 = new Float32Array(2 * 5 * 5 * 4 * 4);
      for (let n = 0; n < 2; n++)
        for (let i = 0; i < 5; i++)
          for (let j = 0; j < 5; j++)
            for (let c = 0; c < 4; c++) {
              let best = 0;
              for (let k = 1; k < 4; k++) {
                const at = (k2: number) => h0[((n * 10 + 2 * i + (k2 >> 1)) * 10 + 2 * j + (k2 & 1)) * 4 + c];
                if (at(k) > at(best)) best = k;
              }
              m0[(((n * 5 + i) * 5 + j) * 4 + c) * 4 + best] = 1;
            }
      // (The frozen selection is part of the key: a replay must have been recorded with it.)
      const ref = tfRef('conv2d + maxPool + resizeBilinear double backprop', [xs, ...ps, labels, m0], () => {
        const mask = tf.tensor(m0, [2, 5, 5, 4, 4]);
        const r = fdGrads(ps, (q) =>
          tf.tidy(() => tf.sum(tf.square(tf.grad((xx) => refLoss(q, mask, xx))(tf.tensor(xs, [2, 8, 8, 2])))).dataSync()[0]),
        );
        mask.dispose();
        return r;
      });
      ['w', 'w2'].forEach((n, k) => expectClose(got[k].dataSync(), ref[k], { ...FD_TOL, what: n }));
      cn.dispose([x, l, ...ts, ...got]);
    });

    it('gradient penalty through localResponseNormalization (AlexNet settings and a wide window)', () => {
      for (const [radius, bias, alpha, beta] of [[2, 2, 1e-1, 0.75], [4, 1, 0.5, 0.5]] as const) {
        const xs = seededRandom(2 * 3 * 3 * 6, 91), ws = seededRandom(6 * 5, 92, -0.8, 0.8);
        const x = cn.tensor(xs, [2, 3, 3, 6]), w = cn.tensor(ws, [6, 5]);
        const critic = (xx: cn.Tensor, ww: cn.Tensor) => cn.sum(cn.tanh(cn.matMul(cn.reshape(cn.localResponseNormalization(xx, radius, bias, alpha, beta), [18, 6]), ww)));
        const [got] = cn.grads((ww) => cn.sum(cn.square(cn.grad((xx) => critic(xx, ww))(x))))([w]);
        const [ref] = tfRef(`LRN ${radius} ${bias} ${alpha} ${beta} gradient penalty`, [xs, ws], () => fdGrads([ws], ([q]) =>
          tf.tidy(() => {
            const tw = tf.tensor(q, [6, 5]);
            const tcritic = (xx: TF.Tensor) => tf.sum(tf.tanh(tf.matMul(tf.reshape(tf.localResponseNormalization(xx as TF.Tensor4D, radius, bias, alpha, beta), [18, 6]), tw as TF.Tensor2D)));
            return tf.sum(tf.square(tf.grad(tcritic)(tf.tensor(xs, [2, 3, 3, 6])))).dataSync()[0];
          }),
        ));
        expectClose(got.dataSync(), ref, { ...FD_TOL, what: `LRN radius ${radius}` });
        cn.dispose([x, w, got]);
      }
    });
  });
});
