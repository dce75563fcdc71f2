// The parity driver itself (test/parity-driver.ts) with another backend of ours as its
// reference, the path gpu.test.ts takes for cuda against cpu: run here as each available
// backend against cpu (cpu against cpu where there is no device). Agreeing op and program
// cases pass; a case perturbed on one side only fails, naming the case and the output, for
// each thing the driver compares: the number of outputs, shape, dtype, forward values,
// gradients, and leaked tensors. (Not named parity-*.test.ts: those are the suites whose
// TensorFlow references scripts/gpu/prepare-carry.sh records, and this file has none.)
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { availableBackends, seededRandom } from './helpers.js';
import { BackendReference, OpCase, Program, TFModule, checkParity, withGrads } from './parity-driver.js';

const cpu = new BackendReference('cpu');
const rnd = (shape: number[], seed: number) => cn.tensor(seededRandom(shape.reduce((a, b) => a * b, 1), seed), shape);
const TOL = { rtol: 1e-5, atol: 1e-6 };

/** A program that runs `good` on its first run (one side) and `bad` on every later run (the
 * other side): whichever side the driver runs first, the two sides differ. */
function oneSided(good: Program, bad: Program): Program {
  let runs = 0;
  return () => (runs++ === 0 ? good() : bad());
}

/** An op that is `good` on the first side's input tensors and `bad` on the other side's
 * (the driver makes fresh inputs for each side and passes them to ours for the forward
 * value and again for the gradients). */
function oneSidedOp(good: (x: cn.Tensor) => cn.Tensor, bad: (x: cn.Tensor) => cn.Tensor): (x: cn.Tensor) => cn.Tensor {
  let first: cn.Tensor | undefined;
  return (x) => ((first ??= x) === x ? good(x) : bad(x));
}

for (const backend of availableBackends())
  describe(`the parity driver with a backend reference: ${backend} against cpu`, () => {
    const check = (c: Parameters<typeof checkParity>[1]) => checkParity(cpu, c, { backend });

    it('an op case: the forward value and the gradients of each float input agree; no tensor is left', () => {
      const before = cn.memory().numTensors;
      check({
        name: 'conv2d + bias + relu',
        inputs: [{ shape: [2, 7, 7, 3] }, { shape: [3, 3, 3, 4], lo: -0.5, hi: 0.5 }, { shape: [4] }],
        ours: (x, f, b) => cn.relu(cn.add(cn.conv2d(x, f, 1, 'same'), b)),
        tol: { rtol: 1e-4, atol: 1e-5 },
      });
      // An int32 input is not differentiated; the float one is.
      check({
        name: 'oneHot(labels) * x',
        inputs: [{ shape: [6], dtype: 'int32', values: [0, 3, 1, 4, 4, 2] }, { shape: [6, 5] }],
        ours: (l, x) => cn.mul(cn.oneHot(l, 5), x),
        tol: TOL,
      });
      expect(cn.memory().numTensors).toBe(before);
    });

    it('a program case: several outputs, and gradients through withGrads', () => {
      check({
        name: 'matMul, softmax and argMax',
        program: () => {
          const y = cn.matMul(rnd([5, 7], 1), rnd([7, 3], 2));
          return [y, cn.softmax(y), cn.argMax(y, 1)];
        },
        tol: TOL,
      });
      check({ name: 'tanh * sigmoid grads', program: withGrads((a, b) => cn.mul(cn.tanh(a), cn.sigmoid(b)), () => [rnd([4, 6], 3), rnd([6], 4)]), tol: TOL });
    });

    it('a different number of outputs fails', () => {
      const x = () => rnd([3, 4], 5);
      expect(() => check({ name: 'two outputs', program: oneSided(() => [cn.relu(x())], () => [cn.relu(x()), x()]), tol: TOL }))
        .toThrow(/two outputs: number of outputs: expected 2 to be 1/);
    });

    it('a different shape fails, naming the case and the output', () => {
      expect(() => check({ name: 'reshaped', program: oneSided(() => cn.reshape(rnd([3, 4], 6), [12]), () => cn.reshape(rnd([3, 4], 6), [4, 3])), tol: TOL }))
        .toThrow(/reshaped output 0: shape: expected \[ 4, 3 \] to deeply equal \[ 12 \]/);
      // An op case whose forward value has a different shape.
      expect(() => check({ name: 'grad shape', inputs: [{ shape: [3, 4] }], ours: oneSidedOp((x) => cn.sum(x, 1), (x) => cn.sum(x, 0)), tol: TOL }))
        .toThrow(/grad shape forward: shape: expected \[ 4 \] to deeply equal \[ 3 \]/);
    });

    it('a different dtype fails', () => {
      const x = () => rnd([3, 4], 7);
      expect(() => check({ name: 'cast', program: oneSided(() => cn.round(x()), () => cn.cast(cn.round(x()), 'int32')), tol: TOL }))
        .toThrow(/cast output 0: dtype: expected 'int32' to be 'float32'/);
    });

    it('different forward values fail beyond the tolerance, and pass within it', () => {
      const perturbed = (eps: number) => oneSidedOp((x) => cn.tanh(x), (x) => cn.add(cn.tanh(x), eps));
      const c = (eps: number): OpCase => ({ name: `tanh + ${eps}`, inputs: [{ shape: [3, 4] }], ours: perturbed(eps), tol: { rtol: 0, atol: 1e-4 } });
      check(c(5e-5));
      expect(() => check(c(1e-3))).toThrow(new RegExp(`tanh \\+ 0.001 forward \\(${backend} vs cpu\\): 12/12 mismatches \\(rtol 0, atol 0.0001\\)`));
      // A program's output, one value off.
      const v = seededRandom(12, 8);
      const bumped = v.slice();
      bumped[5] += 1e-2;
      expect(() => check({ name: 'one value', program: oneSided(() => cn.tensor(v, [3, 4]), () => cn.tensor(bumped, [3, 4])), tol: TOL }))
        .toThrow(new RegExp(`one value output 0 \\(${backend} vs cpu\\): 1/12 mismatches .*first: \\[5\\]`));
    });

    it('different gradients fail while the forward values agree', () => {
      // x * x against x * round(x) on integers: the same values, gradients 2x against x.
      const ints = [-3, -2, -1, 1, 2, 3];
      const ours = oneSidedOp((x) => cn.mul(x, x), (x) => cn.mul(x, cn.round(x)));
      expect(() => check({ name: 'square', inputs: [{ shape: [6], values: ints }], ours, tol: TOL }))
        .toThrow(new RegExp(`square grad\\[input 0\\] \\(${backend} vs cpu\\): 6/6 mismatches`));
      // The same through a program made by withGrads.
      let run = 0;
      const f = (x: cn.Tensor) => (run === 1 ? cn.mul(x, x) : cn.mul(x, cn.round(x)));
      const program = withGrads(f, () => (run++, [cn.tensor(ints, [6])]));
      expect(() => check({ name: 'square program', program, tol: TOL })).toThrow(new RegExp(`square program output 1 \\(${backend} vs cpu\\): 6/6 mismatches`));
    });

    it('a tensor left alive by the case fails the leak check', () => {
      let kept: cn.Tensor | undefined;
      const program = () => {
        kept ??= cn.keep(cn.zeros([2]));
        return cn.ones([2]);
      };
      let err: Error | undefined;
      try {
        check({ name: 'leaky', program, tol: TOL });
      } catch (e) {
        err = e as Error;
      } finally {
        kept?.dispose();
      }
      // One tensor more after the case than before it.
      const m = /leaky: cudnn-node tensors leaked: expected (\d+) to be \+?(\d+)/.exec(err?.message ?? 'did not throw');
      expect(m, err?.message ?? 'did not throw').not.toBeNull();
      expect(Number(m![1]) - Number(m![2])).toBe(1);
    });
  });

describe('the parity driver refuses a case its reference cannot run', () => {
  const noTf = undefined as unknown as TFModule;
  it('a program against TensorFlow', () => {
    expect(() => checkParity(noTf, { name: 'prog', program: () => cn.ones([1]), tol: TOL })).toThrow(/"prog" is a program of cudnn-node ops, which TensorFlow cannot run/);
  });
  it('an op case without its TensorFlow form against TensorFlow', () => {
    expect(() => checkParity(noTf, { name: 'op', inputs: [{ shape: [1] }], ours: (x) => x, tol: TOL })).toThrow(/"op" has no ref \(its TensorFlow form\)/);
  });
});
