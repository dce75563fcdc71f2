// Parity with tfjs-node: broadcasting arithmetic, comparisons, reductions over several axis
// sets, shape ops and transforms (transpose, concat, stack, unstack, slice, split, pad, tile,
// broadcastTo, where, clipByValue), argMax and oneHot; forward and gradients.
import { afterAll, beforeAll, beforeEach, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { describeBackends } from './helpers.js';
import { TFModule, Tol, checkParity, loadReference, flushReport } from './parity-common.js';
import { saveRecording } from './reference.js';

let tf: TFModule;
beforeAll(async () => {
  tf = await loadReference(); // a missing reference fails every test
});
afterAll(saveRecording);

const EXACT: Tol = { rtol: 0, atol: 0 };
const EW: Tol = { rtol: 1e-5, atol: 1e-6 };
// Sums of up to a few hundred terms in a different order.
const RED: Tol = { rtol: 1e-5, atol: 1e-5 };

/** numpy broadcast of two shapes. */
function bshape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  return [...Array(r).keys()].map((i) => Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
}

type Bin = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'pow' | 'squaredDifference';

describeBackends('parity: broadcasting arithmetic', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-basic arithmetic [${backend}]`));
  const shapes: Array<[number[], number[]]> = [
    [[3, 4], [3, 4]],
    [[2, 3, 4], [4]],
    [[2, 1, 4], [3, 1]],
    [[5], []],
    [[], [2, 3]],
    [[2, 3, 1, 5], [1, 3, 4, 1]],
  ];
  const ops: Bin[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'squaredDifference'];
  for (const op of ops)
    for (const [a, b] of shapes) {
      it(`${op} ${JSON.stringify(a)} ${JSON.stringify(b)}`, () => {
        // Positive operands for div / pow keep the reference finite.
        const pos = op === 'div' || op === 'pow';
        checkParity(tf, {
          name: `${op} ${JSON.stringify(a)} ${JSON.stringify(b)}`,
          inputs: [{ shape: a, lo: pos ? 0.5 : -2, hi: 2 }, { shape: b, lo: pos ? 0.5 : -2, hi: 2 }],
          ours: (x, y) => (cn[op] as (a: cn.Tensor, b: cn.Tensor) => cn.Tensor)(x, y),
          // tfjs' maximum / minimum / squaredDifference gradients do not reduce broadcast
          // axes, so the reference broadcasts explicitly (broadcastTo's gradient sums).
          ref: (x, y) => {
            const s = tf.broadcastTo(x, bshape(a, b)), t = tf.broadcastTo(y, bshape(a, b));
            return (tf[op] as (a: TF.Tensor, b: TF.Tensor) => TF.Tensor)(s, t);
          },
          tol: op === 'pow' ? { rtol: 2e-6, atol: 1e-6 } : EW,
          gradTol: { rtol: 1e-5, atol: 1e-5 },
        });
      });
    }
  it('int32 add / mul / floorDiv / mod', () => {
    for (const op of ['add', 'mul', 'floorDiv', 'mod'] as const) {
      checkParity(tf, {
        name: `int32 ${op}`,
        inputs: [{ shape: [3, 4], dtype: 'int32', lo: -20, hi: 20 }, { shape: [4], dtype: 'int32', values: [3, 5, 7, 2] }],
        ours: (x, y) => (cn[op] as (a: cn.Tensor, b: cn.Tensor) => cn.Tensor)(x, y),
        ref: (x, y) => (tf[op] as (a: TF.Tensor, b: TF.Tensor) => TF.Tensor)(x, y),
        tol: EXACT,
      });
    }
  });
  it('float floorDiv / mod', () => {
    for (const op of ['floorDiv', 'mod'] as const) {
      checkParity(tf, {
        name: `float ${op}`,
        inputs: [{ shape: [3, 4], lo: -5, hi: 5 }, { shape: [4], values: [1.5, 2, -2.5, 3] }],
        ours: (x, y) => (cn[op] as (a: cn.Tensor, b: cn.Tensor) => cn.Tensor)(x, y),
        ref: (x, y) => (tf[op] as (a: TF.Tensor, b: TF.Tensor) => TF.Tensor)(x, y),
        tol: EW,
        gradTol: false,
      });
    }
  });
  for (const op of ['equal', 'notEqual', 'greater', 'greaterEqual', 'less', 'lessEqual'] as const) {
    it(`${op} (1/0 float results)`, () => {
      checkParity(tf, {
        name: op,
        inputs: [{ shape: [3, 4], values: [0, 1, 2, 3, 1, 1, 2, 2, -1, 0, 5, 3] }, { shape: [4], values: [1, 1, 3, 3] }],
        ours: (x, y) => cn[op](x, y),
        ref: (x, y) => tf.cast(tf[op](x, y), 'float32'),
        tol: EXACT,
        gradTol: false,
      });
    });
  }
  it('scalars mixed with tensors', () => {
    checkParity(tf, {
      name: 'x * 2 + 1 - x / 4',
      inputs: [{ shape: [3, 5] }],
      ours: (x) => cn.sub(cn.add(cn.mul(x, 2), 1), cn.div(x, 4)),
      ref: (x) => tf.sub(tf.add(tf.mul(x, 2), 1), tf.div(x, 4)),
      tol: EW,
    });
  });
  it('cast float32 -> int32 -> float32 (truncation)', () => {
    checkParity(tf, {
      name: 'cast',
      inputs: [{ shape: [4, 5], lo: -5, hi: 5 }],
      ours: (x) => cn.cast(cn.cast(x, 'int32'), 'float32'),
      ref: (x) => tf.cast(tf.cast(x, 'int32'), 'float32'),
      tol: EXACT,
      gradTol: false,
    });
  });
});

describeBackends('parity: reductions', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-basic reductions [${backend}]`));
  const axisSets: Array<number | number[] | undefined> = [undefined, 0, -1, [0, 2], [1, 2], [0, 1, 2], [1]];
  for (const op of ['sum', 'mean', 'max', 'min', 'prod'] as const)
    for (const axis of axisSets)
      for (const keepDims of [false, true]) {
        if (keepDims && (axis === 0 || axis === -1)) continue;
        it(`${op} axis ${JSON.stringify(axis)} keepDims ${keepDims}`, () => {
          checkParity(tf, {
            name: `${op} axis ${JSON.stringify(axis)} keepDims ${keepDims}`,
            inputs: [{ shape: [3, 5, 4], lo: op === 'prod' ? 0.7 : -2, hi: op === 'prod' ? 1.3 : 2 }],
            ours: (x) => cn[op](x, axis, keepDims),
            // Normalized axes: tfjs' prod gradient fails on negative axes.
            ref: (x) => tf[op](x, typeof axis === 'number' && axis < 0 ? axis + 3 : axis, keepDims),
            tol: op === 'prod' ? { rtol: 1e-5, atol: 1e-6 } : RED,
            gradTol: op === 'prod' ? { rtol: 1e-4, atol: 1e-5 } : RED,
          });
        });
      }
  it('sum over 64 x 1000 (long reduction)', () => {
    checkParity(tf, {
      name: 'sum long',
      inputs: [{ shape: [64, 1000] }],
      ours: (x) => cn.sum(x, 1),
      ref: (x) => tf.sum(x, 1),
      tol: { rtol: 1e-5, atol: 1e-4 },
    });
  });
  it('mean of int32 is float32', () => {
    checkParity(tf, {
      name: 'mean int32',
      inputs: [{ shape: [3, 4], dtype: 'int32', lo: -10, hi: 10 }],
      ours: (x) => cn.mean(x, 1),
      ref: (x) => tf.mean(tf.cast(x, 'float32'), 1),
      tol: EW,
    });
  });
  for (const axis of [0, 1, -1]) {
    it(`argMax axis ${axis}`, () => {
      checkParity(tf, {
        name: `argMax ${axis}`,
        inputs: [{ shape: [6, 7, 3] }],
        ours: (x) => cn.argMax(x, axis),
        ref: (x) => tf.argMax(x, axis),
        tol: EXACT,
        gradTol: false,
      });
    });
  }
  it('oneHot with on/off values', () => {
    checkParity(tf, {
      name: 'oneHot',
      inputs: [{ shape: [2, 3], dtype: 'int32', values: [0, 4, 2, 1, 3, 4] }],
      ours: (x) => cn.oneHot(x, 5, 2, -1),
      ref: (x) => tf.oneHot(x, 5, 2, -1).asType('float32'),
      tol: EXACT,
    });
  });
});

describeBackends('parity: shapes and transforms', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-basic transforms [${backend}]`));
  const T = (name: string, inputs: Array<{ shape: number[]; dtype?: 'int32' | 'float32'; values?: number[]; lo?: number; hi?: number }>, ours: (...xs: cn.Tensor[]) => cn.Tensor, ref: (...xs: TF.Tensor[]) => TF.Tensor, tol: Tol = EXACT) =>
    it(name, () => checkParity(tf, { name, inputs, ours, ref, tol, gradTol: EW }));

  T('reshape [2,3,4] -> [4,-1]', [{ shape: [2, 3, 4] }], (x) => cn.reshape(x, [4, -1]), (x) => tf.reshape(x, [4, -1]));
  T('expandDims / squeeze', [{ shape: [3, 1, 4] }], (x) => cn.expandDims(cn.squeeze(x), -1), (x) => tf.expandDims(tf.squeeze(x), -1));
  for (const perm of [undefined, [1, 0, 2], [2, 0, 1], [0, 2, 1]]) {
    T(`transpose ${JSON.stringify(perm)}`, [{ shape: [3, 4, 5] }], (x) => cn.transpose(x, perm), (x) => tf.transpose(x, perm));
  }
  T('transpose rank 4 NHWC -> NCHW', [{ shape: [2, 5, 7, 3] }], (x) => cn.transpose(x, [0, 3, 1, 2]), (x) => tf.transpose(x, [0, 3, 1, 2]));
  T('transpose int32', [{ shape: [3, 4], dtype: 'int32', lo: -9, hi: 9 }], (x) => cn.transpose(x), (x) => tf.transpose(x));
  for (const axis of [0, 1, -1]) {
    T(
      `concat 3 tensors axis ${axis}`,
      [{ shape: axis === 0 ? [2, 3, 4] : [2, 3, 4] }, { shape: axis === 0 ? [1, 3, 4] : axis === 1 ? [2, 5, 4] : [2, 3, 1] }, { shape: axis === 0 ? [3, 3, 4] : axis === 1 ? [2, 1, 4] : [2, 3, 6] }],
      (a, b, c) => cn.concat([a, b, c], axis),
      (a, b, c) => tf.concat([a, b, c], axis),
    );
  }
  T('concat int32', [{ shape: [2, 2], dtype: 'int32', lo: -9, hi: 9 }, { shape: [2, 3], dtype: 'int32', lo: -9, hi: 9 }], (a, b) => cn.concat([a, b], 1), (a, b) => tf.concat([a, b], 1));
  for (const axis of [0, 1, 2, -1]) {
    T(`stack axis ${axis}`, [{ shape: [3, 4] }, { shape: [3, 4] }], (a, b) => cn.stack([a, b], axis), (a, b) => tf.stack([a, b], axis));
  }
  for (const axis of [0, 1, 2]) {
    it(`unstack axis ${axis} (each part, and the sum of the parts' gradients)`, () => {
      for (let i = 0; i < [2, 3, 4][axis]; i++) {
        checkParity(tf, {
          name: `unstack axis ${axis} part ${i}`,
          inputs: [{ shape: [2, 3, 4] }],
          ours: (x) => cn.unstack(x, axis)[i],
          ref: (x) => tf.unstack(x, axis)[i],
          tol: EXACT,
          gradTol: EW,
        });
      }
      checkParity(tf, {
        name: `unstack axis ${axis} recombined`,
        inputs: [{ shape: [2, 3, 4] }],
        ours: (x) => cn.unstack(x, axis).map((t, i) => cn.mul(t, i + 1)).reduce((a, b) => cn.add(a, b)),
        ref: (x) => tf.addN(tf.unstack(x, axis).map((t, i) => tf.mul(t, i + 1))),
        tol: EW,
        gradTol: EW,
      });
    });
  }
  const slices: Array<[number | number[], (number | number[])?]> = [
    [[1, 0, 2], [2, 3, 2]],
    [[0, 1], [-1, 2]],
    [1, 2],
    [[1, 1, 1]],
    [[0, 0, 0], [4, 5, 6]],
  ];
  for (const [begin, size] of slices) {
    T(`slice begin ${JSON.stringify(begin)} size ${JSON.stringify(size)}`, [{ shape: [4, 5, 6] }], (x) => cn.slice(x, begin, size), (x) => tf.slice(x, begin, size));
  }
  const copy = (spec: number | number[]) => (Array.isArray(spec) ? spec.slice() : spec);
  for (const [spec, axis] of [[3, 1], [[1, 4, 1], 1], [[2, -1], 0], [2, -1]] as Array<[number | number[], number]>) {
    it(`split ${JSON.stringify(spec)} axis ${axis}`, () => {
      const n = Array.isArray(spec) ? spec.length : spec;
      for (let i = 0; i < n; i++)
        checkParity(tf, {
          name: `split ${JSON.stringify(spec)} axis ${axis} part ${i}`,
          inputs: [{ shape: [4, 6, 2] }],
          ours: (x) => cn.split(x, copy(spec), axis)[i],
          // (tfjs' split writes the size it infers for -1 into the array it is given)
          ref: (x) => tf.split(x, copy(spec), axis)[i],
          tol: EXACT,
          gradTol: EW,
        });
    });
  }
  T('pad constant 0', [{ shape: [2, 3, 4] }], (x) => cn.pad(x, [[1, 0], [2, 3], [0, 1]]), (x) => tf.pad(x, [[1, 0], [2, 3], [0, 1]]));
  T('pad constant -1.5 (NHWC spatial)', [{ shape: [1, 3, 3, 2] }], (x) => cn.pad(x, [[0, 0], [1, 1], [2, 0], [0, 0]], -1.5), (x) => tf.pad(x, [[0, 0], [1, 1], [2, 0], [0, 0]], -1.5));
  T('pad int32', [{ shape: [2, 3], dtype: 'int32', lo: -9, hi: 9 }], (x) => cn.pad(x, [[1, 1], [0, 2]], 7), (x) => tf.pad(x, [[1, 1], [0, 2]], 7));
  T('tile [2,1,3]', [{ shape: [2, 3, 2] }], (x) => cn.tile(x, [2, 1, 3]), (x) => tf.tile(x, [2, 1, 3]));
  T('tile [1,1]', [{ shape: [2, 3] }], (x) => cn.tile(x, [1, 1]), (x) => tf.tile(x, [1, 1]));
  T('broadcastTo [2,3,4] from [3,1]', [{ shape: [3, 1] }], (x) => cn.broadcastTo(x, [2, 3, 4]), (x) => tf.broadcastTo(x, [2, 3, 4]));
  T('clipByValue [-0.5, 0.3]', [{ shape: [4, 7] }], (x) => cn.clipByValue(x, -0.5, 0.3), (x) => tf.clipByValue(x, -0.5, 0.3));
  T('flatten [2,3,4] -> [2,12]', [{ shape: [2, 3, 4] }], (x) => cn.flatten(x), (x) => tf.reshape(x, [2, 12]));

  it('where with broadcasting (condition [3,1], a [3,4], b [4])', () => {
    checkParity(tf, {
      name: 'where',
      inputs: [{ shape: [3, 1], values: [1, 0, 1], grad: false }, { shape: [3, 4] }, { shape: [4] }],
      ours: (c, a, b) => cn.where(c, a, b),
      ref: (c, a, b) => tf.where(tf.cast(c, 'bool'), a, b),
      tol: EXACT,
    });
  });
  it('where with a comparison as condition', () => {
    checkParity(tf, {
      name: 'where(x > y)',
      inputs: [{ shape: [5, 6] }, { shape: [5, 6] }],
      ours: (a, b) => cn.where(cn.greater(a, b), cn.mul(a, 2), b),
      // tfjs has no gradient for Greater: the reference's condition is built from values.
      ref: (a, b) => tf.where(tf.greater(tf.tensor(a.dataSync(), a.shape), tf.tensor(b.dataSync(), b.shape)), tf.mul(a, 2), b),
      tol: EXACT,
    });
  });
});
