// Optimizers: Keras 3 update rules (a pure-JS reference of each formula, derived from
// keras/src/optimizers/*.py), eagerly and inside compile(); tfjs-node's tf.train where the
// semantics agree; slot/iteration bookkeeping, errors and leaks.
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { backprop, recordTape } from '../lib/gradients.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';
import { loadTfjs } from './tfjs.js';

const { train } = cn;
type Opt = cn.train.Optimizer;

const N = 7; // elements per weight
const STEPS = 5;

/** A reference optimizer over one flat weight, in float64. */
interface Ref {
  step(w: Float64Array, g: Float32Array): void;
  slots(): Float64Array[];
}

function refSGD(lr: number, momentum: number, nesterov: boolean): Ref {
  const v = new Float64Array(N);
  return {
    step(w, g) {
      for (let i = 0; i < N; i++) {
        if (momentum > 0) {
          v[i] = momentum * v[i] - lr * g[i];
          w[i] += nesterov ? momentum * v[i] - lr * g[i] : v[i];
        } else w[i] -= lr * g[i];
      }
    },
    slots: () => (momentum > 0 ? [v] : []),
  };
}

function refAdam(lr: number, b1: number, b2: number, eps: number): Ref {
  const m = new Float64Array(N), v = new Float64Array(N);
  let t = 0;
  return {
    step(w, g) {
      t++;
      const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      for (let i = 0; i < N; i++) {
        m[i] += (g[i] - m[i]) * (1 - b1);
        v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
        w[i] -= (m[i] * alpha) / (Math.sqrt(v[i]) + eps);
      }
    },
    slots: () => [m, v],
  };
}

function refNadam(lr: number, b1: number, b2: number, eps: number): Ref {
  const m = new Float64Array(N), v = new Float64Array(N);
  let t = 0, uProduct = 1;
  return {
    step(w, g) {
      t++;
      const ut = b1 * (1 - 0.5 * 0.96 ** (0.004 * t));
      const ut1 = b1 * (1 - 0.5 * 0.96 ** (0.004 * (t + 1)));
      uProduct *= ut;
      const uProduct1 = uProduct * ut1;
      for (let i = 0; i < N; i++) {
        m[i] += (g[i] - m[i]) * (1 - b1);
        v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
        const mHat = (ut1 * m[i]) / (1 - uProduct1) + ((1 - ut) * g[i]) / (1 - uProduct);
        const vHat = v[i] / (1 - b2 ** t);
        w[i] -= (mHat * lr) / (Math.sqrt(vHat) + eps);
      }
    },
    slots: () => [m, v],
  };
}

function refRMSprop(lr: number, rho: number, momentum: number, eps: number, centered: boolean): Ref {
  const ms = new Float64Array(N), mom = new Float64Array(N), mg = new Float64Array(N);
  return {
    step(w, g) {
      for (let i = 0; i < N; i++) {
        ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
        let denom = ms[i] + eps;
        if (centered) {
          mg[i] = rho * mg[i] + (1 - rho) * g[i];
          denom = ms[i] - mg[i] * mg[i] + eps;
        }
        const inc = (lr * g[i]) / Math.sqrt(denom);
        if (momentum > 0) {
          mom[i] = momentum * mom[i] + inc;
          w[i] -= mom[i];
        } else w[i] -= inc;
      }
    },
    slots: () => [ms, ...(momentum > 0 ? [mom] : []), ...(centered ? [mg] : [])],
  };
}

interface Case {
  name: string;
  make: () => Opt;
  ref: () => Ref;
}

const cases: Case[] = [
  { name: 'sgd (Keras defaults)', make: () => train.sgd(), ref: () => refSGD(0.01, 0, false) },
  { name: 'sgd momentum 0.9', make: () => train.sgd(0.05, 0.9), ref: () => refSGD(0.05, 0.9, false) },
  { name: 'sgd nesterov', make: () => train.sgd({ learningRate: 0.05, momentum: 0.8, nesterov: true }), ref: () => refSGD(0.05, 0.8, true) },
  { name: 'momentum() (tfjs name)', make: () => train.momentum(0.02, 0.5, true), ref: () => refSGD(0.02, 0.5, true) },
  { name: 'adam (Keras defaults)', make: () => train.adam(), ref: () => refAdam(0.001, 0.9, 0.999, 1e-7) },
  { name: 'adam custom', make: () => train.adam(0.01, 0.8, 0.99, 1e-3), ref: () => refAdam(0.01, 0.8, 0.99, 1e-3) },
  { name: 'nadam (Keras defaults)', make: () => train.nadam(), ref: () => refNadam(0.001, 0.9, 0.999, 1e-7) },
  { name: 'nadam custom', make: () => train.nadam({ learningRate: 0.02, beta1: 0.85, epsilon: 1e-4 }), ref: () => refNadam(0.02, 0.85, 0.999, 1e-4) },
  { name: 'rmsprop (Keras defaults)', make: () => train.rmsprop(), ref: () => refRMSprop(0.001, 0.9, 0, 1e-7, false) },
  { name: 'rmsprop momentum', make: () => train.rmsprop(0.01, 0.8, 0.5), ref: () => refRMSprop(0.01, 0.8, 0.5, 1e-7, false) },
  { name: 'rmsprop centered', make: () => train.rmsprop({ learningRate: 0.01, centered: true }), ref: () => refRMSprop(0.01, 0.9, 0, 1e-7, true) },
  {
    name: 'rmsprop centered + momentum',
    make: () => train.rmsprop({ learningRate: 0.01, rho: 0.7, momentum: 0.6, epsilon: 1e-6, centered: true }),
    ref: () => refRMSprop(0.01, 0.7, 0.6, 1e-6, true),
  },
];

const w0 = seededRandom(N, 1, -1, 1);
const gradsAt = (t: number) => seededRandom(N, 100 + t, -2, 2);

function checkAgainstRef(opt: Opt, w: cn.Variable, ref: Ref, wRef: Float64Array, t: number, what: string) {
  expectClose(w.dataSync(), wRef, { rtol: 2e-5, atol: 1e-6, what: `${what}: weights after step ${t}` });
  const slots = opt.getSlots(w)!;
  const refSlots = ref.slots();
  expect(slots.length).toBe(refSlots.length);
  slots.forEach((s, k) => expectClose(s.dataSync(), refSlots[k], { rtol: 2e-5, atol: 1e-6, what: `${what}: slot ${s.name} after step ${t}` }));
  expect(opt.iterations.dataSync()[0]).toBe(t);
}

describeBackends('optimizers vs Keras 3 update rules', () => {
  for (const c of cases) {
    it(`${c.name}: eager applyGradients`, () => {
      const opt = c.make();
      const w = cn.variable(cn.tensor(w0, [N]), true, 'w');
      const ref = c.ref();
      const wRef = Float64Array.from(w0);
      for (let t = 1; t <= STEPS; t++) {
        const gv = gradsAt(t);
        const g = cn.tensor(gv, [N]);
        opt.applyGradients([{ variable: w, grad: g }]);
        g.dispose();
        ref.step(wRef, gv);
        checkAgainstRef(opt, w, ref, wRef, t, c.name);
      }
      opt.dispose();
      w.dispose();
    });

    it(`${c.name}: inside compile() (the plan updates in place)`, () => {
      const opt = c.make();
      const w = cn.variable(cn.tensor(w0, [N]), true, 'w');
      opt.build([w]);
      const step = cn.compile((g) => {
        opt.applyGradients([{ variable: w, grad: g }]);
        return [cn.sum(g)];
      }, [{ shape: [N] }]);
      const ref = c.ref();
      const wRef = Float64Array.from(w0);
      for (let t = 1; t <= STEPS; t++) {
        const gv = gradsAt(t);
        const g = cn.tensor(gv, [N]);
        cn.dispose(step.runSync([g]));
        g.dispose();
        ref.step(wRef, gv);
        checkAgainstRef(opt, w, ref, wRef, t, `${c.name} (compiled)`);
      }
      step.dispose();
      opt.dispose();
      w.dispose();
    });
  }

  it('several weights of different shapes keep separate slots; getWeights is [iterations, ...slots in build order]', () => {
    const opt = train.adam(0.01);
    const a = cn.variable(cn.tensor(seededRandom(6, 2), [2, 3]), true, 'a');
    const b = cn.variable(cn.tensor(seededRandom(4, 3), [4]), true, 'b');
    const ra = refAdam(0.01, 0.9, 0.999, 1e-7), rb = refAdam(0.01, 0.9, 0.999, 1e-7);
    const wa = Float64Array.from(a.dataSync()), wb = Float64Array.from(b.dataSync());
    for (let t = 1; t <= 3; t++) {
      const ga = seededRandom(6, 10 + t), gb = seededRandom(4, 20 + t);
      const [ta, tb] = [cn.tensor(ga, [2, 3]), cn.tensor(gb, [4])];
      opt.applyGradients([{ variable: a, grad: ta }, { variable: b, grad: tb }]);
      cn.dispose([ta, tb]);
      // the reference is written for N elements; pad the gradients
      const pa = new Float32Array(N), pb = new Float32Array(N);
      pa.set(ga), pb.set(gb);
      const fa = new Float64Array(N), fb = new Float64Array(N);
      fa.set(wa), fb.set(wb);
      ra.step(fa, pa), rb.step(fb, pb);
      wa.set(fa.subarray(0, 6)), wb.set(fb.subarray(0, 4));
    }
    expectClose(a.dataSync(), wa, { rtol: 2e-5, atol: 1e-6, what: 'a' });
    expectClose(b.dataSync(), wb, { rtol: 2e-5, atol: 1e-6, what: 'b' });
    const ws = opt.getWeights();
    expect(ws.map((w) => w.shape)).toEqual([[], [2, 3], [2, 3], [4], [4]]);
    expect(ws[0].dataSync()[0]).toBe(3);
    expect(ws[1].name).toMatch(/a_momentum$/);
    expect(ws[2].name).toMatch(/a_velocity$/);
    expect(ws[3].name).toMatch(/b_momentum$/);
    opt.dispose();
    cn.dispose([a, b]);
  });

  it('a traced train step (tape + backprop + applyGradients) matches the same step run eagerly', () => {
    const x = cn.tensor(seededRandom(N, 5), [N]);
    const run = (compiled: boolean) => {
      const w = cn.variable(cn.tensor(w0, [N]), true, 'w');
      const opt = train.adam(0.05);
      opt.build([w]);
      const stepFn = (xs: cn.Tensor) => {
        const { value, tape } = recordTape(() => cn.sum(cn.squaredDifference(w, xs)));
        const [g] = backprop(tape, [w], value, cn.onesLike(value));
        opt.applyGradients([{ variable: w, grad: g! }]);
        return [value];
      };
      const losses: number[] = [];
      if (compiled) {
        const step = cn.compile(stepFn, [{ shape: [N] }]);
        for (let i = 0; i < 4; i++) {
          const [l] = step.runSync([x]);
          losses.push(l.dataSync()[0]);
          l.dispose();
        }
        step.dispose();
      } else {
        for (let i = 0; i < 4; i++) losses.push(cn.tidy(() => stepFn(x)[0].dataSync()[0]));
      }
      const out = { w: w.dataSync(), losses, iterations: opt.iterations.dataSync()[0] };
      opt.dispose();
      w.dispose();
      return out;
    };
    const eager = run(false), compiled = run(true);
    expect(compiled.iterations).toBe(4);
    expectClose(compiled.losses, eager.losses, { rtol: 1e-5, what: 'loss per step' });
    expectClose(compiled.w, eager.w, { rtol: 1e-5, atol: 1e-6, what: 'weights after 4 steps' });
    expect(eager.losses[3]).toBeLessThan(eager.losses[0]);
    x.dispose();
  });

  it('minimize() finds the trainable variables f uses', () => {
    const w = cn.variable(cn.tensor([3, -2]), true, 'w');
    const opt = train.sgd(0.1);
    const cost = opt.minimize(() => cn.sum(cn.mul(w, w)), true)!;
    expect(cost.dataSync()[0]).toBeCloseTo(13, 5);
    expectClose(w.dataSync(), [3 - 0.1 * 6, -2 + 0.1 * 4], { what: 'w' });
    cn.dispose([cost, w]);
    opt.dispose();
  });

  it('setWeights restores slots and the step counter', () => {
    const w = cn.variable(cn.tensor(w0, [N]), true, 'w');
    const opt = train.adam(0.01);
    const g = cn.tensor(gradsAt(1), [N]);
    opt.applyGradients([{ variable: w, grad: g }]);
    const saved = opt.getWeights().map((v) => cn.clone(v));
    opt.applyGradients([{ variable: w, grad: g }]);
    expect(opt.iterations.dataSync()[0]).toBe(2);
    opt.setWeights(saved);
    expect(opt.iterations.dataSync()[0]).toBe(1);
    expectClose(opt.getWeights()[1].dataSync(), saved[1].dataSync(), { what: 'm' });
    cn.dispose([saved, g, w]);
    opt.dispose();
  });

  it('does not leak: slots are freed by dispose(), updates allocate nothing', () => {
    const before = cn.memory();
    const w = cn.tidy(() => cn.variable(cn.tensor(w0, [N]), true, 'w'));
    const opt = train.rmsprop({ momentum: 0.5, centered: true });
    const g = cn.tensor(gradsAt(1), [N]);
    opt.applyGradients([{ variable: w, grad: g }]);
    const mid = cn.memory();
    for (let i = 0; i < 5; i++) opt.applyGradients([{ variable: w, grad: g }]);
    expect(cn.memory().numTensors).toBe(mid.numTensors);
    expect(cn.memory().numBytes).toBe(mid.numBytes);
    opt.dispose();
    cn.dispose([g, w]);
    expect(cn.memory().numTensors).toBe(before.numTensors);
    expect(cn.memory().numBytes).toBe(before.numBytes);
  });
});


describe('optimizer configuration and errors', () => {
  it('factories use the Keras 3 defaults', () => {
    expect(train.sgd().getConfig()).toEqual({ learningRate: 0.01, momentum: 0, nesterov: false });
    expect(train.adam().getConfig()).toEqual({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(train.nadam().getConfig()).toEqual({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(train.rmsprop().getConfig()).toEqual({ learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false });
    expect(train.nadam().className).toBe('Nadam');
  });

  it('getOptimizer resolves names, specs and instances', () => {
    for (const [name, cls] of [['sgd', 'SGD'], ['Adam', 'Adam'], ['nadam', 'Nadam'], ['RMSprop', 'RMSprop']] as const)
      expect(train.getOptimizer(name).className).toBe(cls);
    const a = train.adam(0.123);
    expect(train.getOptimizer(a)).toBe(a);
    const b = train.getOptimizer(a.toSpec());
    expect(b).not.toBe(a);
    expect(b.getConfig()).toEqual(a.getConfig());
    expect(() => train.getOptimizer('adagrad')).toThrow("getOptimizer: expected 'sgd', 'adam', 'nadam', 'rmsprop', an Optimizer or {className, config} but received 'adagrad'");
  });

  it('validates hyper-parameters', () => {
    expect(() => train.sgd(-1)).toThrow('SGD: expected learningRate >= 0 but received -1');
    expect(() => train.sgd(0.1, 1.5)).toThrow('sgd: expected momentum in [0, 1] but received 1.5');
    expect(() => train.adam(0.1, 1.2)).toThrow('adam: expected beta1 in [0, 1] but received 1.2');
    expect(() => train.rmsprop({ epsilon: -1 })).toThrow('rmsprop: expected epsilon in [0, Infinity) but received -1');
  });

  it('applyGradients checks gradient shapes and asserts slots exist while tracing', () => {
    const w = cn.variable(cn.tensor([1, 2, 3]), true, 'w');
    const opt = train.adam();
    const bad = cn.tensor([1, 2]);
    expect(() => opt.applyGradients([{ variable: w, grad: bad }])).toThrow("Adam.applyGradients: expected the gradient of 'w' of shape [3] but received [2]");
    expect(() =>
      cn.compile((g) => {
        opt.applyGradients([{ variable: w, grad: g }]);
        return [cn.sum(g)];
      }, [{ shape: [3] }]),
    ).toThrow("expected slot variables for 'w' but received none (call optimizer.build(variables) before compiling the train step)");
    opt.dispose();
    expect(() => opt.applyGradients([])).toThrow('Adam.applyGradients: expected a live optimizer but received a disposed one');
    cn.dispose([w, bad]);
  });
});

describe('optimizers vs tfjs-node tf.train (where the semantics agree)', () => {
  // tf.train.sgd / momentum: identical rules (tfjs keeps v' = m v + g and steps by -lr v',
  // Keras keeps v = m v - lr g; equal for a constant learning rate).
  // tf.train.adam: epsilon is added to sqrt(v_hat) rather than to sqrt(v) (Keras), i.e.
  // Keras's eps equals tfjs's eps * sqrt(1 - beta2^t): equal up to ~eps / sqrt(v).
  // tf.train.rmsprop: identical when not centered; centered tfjs computes
  // sqrt(ms - (mg^2 + eps)) where Keras has sqrt(ms - mg^2 + eps), so it is compared loosely.
  const tfCases: Array<{ name: string; ours: () => Opt; theirs: (tf: Awaited<ReturnType<typeof loadTfjs>>) => unknown; rtol: number }> = [
    { name: 'sgd', ours: () => train.sgd(0.1), theirs: (tf) => tf.train.sgd(0.1), rtol: 1e-5 },
    { name: 'momentum', ours: () => train.momentum(0.1, 0.9), theirs: (tf) => tf.train.momentum(0.1, 0.9), rtol: 1e-5 },
    { name: 'nesterov momentum', ours: () => train.momentum(0.1, 0.9, true), theirs: (tf) => tf.train.momentum(0.1, 0.9, true), rtol: 1e-5 },
    { name: 'adam', ours: () => train.adam(0.01), theirs: (tf) => tf.train.adam(0.01, 0.9, 0.999, 1e-7), rtol: 1e-4 },
    { name: 'rmsprop', ours: () => train.rmsprop(0.01, 0.9, 0.5), theirs: (tf) => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7), rtol: 1e-5 },
    { name: 'rmsprop centered', ours: () => train.rmsprop(0.01, 0.9, 0.5, 1e-7, true), theirs: (tf) => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7, true), rtol: 1e-4 },
  ];
  for (const c of tfCases) {
    it(c.name, async () => {
      const tf = await loadTfjs();
      const opt = c.ours();
      const theirs = c.theirs(tf) as { applyGradients(g: Record<string, unknown>): void; dispose(): void };
      const w = cn.variable(cn.tensor(w0, [N]), true, 'w');
      const tw = tf.variable(tf.tensor1d(w0), true, `tfw_${c.name.replace(/\W/g, '_')}`);
      for (let t = 1; t <= STEPS; t++) {
        const gv = gradsAt(t);
        const g = cn.tensor(gv, [N]);
        opt.applyGradients([{ variable: w, grad: g }]);
        g.dispose();
        const tg = tf.tensor1d(gv);
        theirs.applyGradients({ [tw.name]: tg });
        tg.dispose();
        expectClose(w.dataSync(), tw.dataSync(), { rtol: c.rtol, atol: 1e-6, what: `${c.name} step ${t} vs tfjs` });
      }
      opt.dispose();
      theirs.dispose();
      w.dispose();
      tw.dispose();
    });
  }
});
