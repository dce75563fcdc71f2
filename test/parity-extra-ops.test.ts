// Parity with tfjs-node for the ops issue 22 found missing (lib/ops/indexing.ts,
// lib/ops/math_extra.ts): gather (axes, batchDims, repeated and scattered indices), reverse,
// mirrorPad, topk, unique, argMin, all, any, cumsum, logSigmoid, logSumExp, norm, step, isNaN,
// isInf and isFinite; values, shapes, dtypes and, where tfjs has them, gradients. Then the
// arguments each op refuses, with errors naming the op and the argument.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { describeBackends } from './helpers.js';
import { TFModule, Tol, checkParity, flushReport, loadReference } from './parity-common.js';
import type { ParityInput } from './parity-common.js';
import { saveRecording } from './reference.js';

let tf: TFModule;
beforeAll(async () => {
  tf = await loadReference(); // a missing reference fails every test
});
afterAll(saveRecording);

const EXACT: Tol = { rtol: 0, atol: 0 };
const EW: Tol = { rtol: 1e-5, atol: 1e-6 };
// Sums of a few dozen terms in another order.
const RED: Tol = { rtol: 1e-5, atol: 1e-5 };

type Ours = (...xs: cn.Tensor[]) => cn.Tensor;
type Ref = (...xs: TF.Tensor[]) => TF.Tensor;

/** One parity case: forward, and the gradients unless gradTol is false. */
function P(name: string, inputs: ParityInput[], ours: Ours, ref: Ref, tol: Tol = EXACT, gradTol: Tol | false = EW): void {
  it(name, () => checkParity(tf, { name, inputs, ours, ref, tol, gradTol }));
}
const I = (values: number[], shape = [values.length]): ParityInput => ({ shape, values, dtype: 'int32' });

describeBackends('parity: gather', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-extra gather [${backend}]`));
  // Repeated indices (their gradients add up), runs (one slice each) and scattered indices.
  P('gather axis 0 repeated', [{ shape: [5, 3] }, I([4, 0, 4, 2, 3, 4])], (x, i) => cn.gather(x, i), (x, i) => tf.gather(x, i));
  P('gather axis 1 runs', [{ shape: [2, 6, 3] }, I([1, 2, 3, 0, 0, 5, 4])], (x, i) => cn.gather(x, i, 1), (x, i) => tf.gather(x, i, 1));
  P('gather axis -1, indices [2,3]', [{ shape: [3, 5] }, I([4, 3, 2, 0, 0, 1], [2, 3])], (x, i) => cn.gather(x, i, -1), (x, i) => tf.gather(x, i, 1));
  P('gather scalar index', [{ shape: [4, 3] }, I([2], [])], (x, i) => cn.gather(x, i, 0), (x, i) => tf.gather(x, i, 0));
  P('gather batchDims 1', [{ shape: [3, 5, 2] }, I([0, 4, 4, 1, 2, 3, 3, 3, 0, 1, 2, 3], [3, 4])], (x, i) => cn.gather(x, i, 1, 1), (x, i) => tf.gather(x, i, 1, 1));
  P('gather batchDims 1 axis 2', [{ shape: [2, 3, 4, 2] }, I([3, 0, 1, 1, 2, 0], [2, 3])], (x, i) => cn.gather(x, i, 2, 1), (x, i) => tf.gather(x, i, 2, 1));
  // 5,000 runs of one index: more slices than one native Concat takes (4,096).
  const alternating = Array.from({ length: 5000 }, (_, k) => (k % 2 ? 0 : 2));
  P('gather 5000 scattered indices', [{ shape: [3, 2] }, I(alternating)], (x, i) => cn.gather(x, i), (x, i) => tf.gather(x, i), EXACT, { rtol: 1e-4, atol: 1e-4 });
  P('gather int32 x', [{ shape: [4, 3], dtype: 'int32', lo: -50, hi: 50 }, I([3, 1, 1])], (x, i) => cn.gather(x, i), (x, i) => tf.gather(x, i));
  it('gather copies Inf and NaN exactly and leaves other rows alone', () => {
    const x = cn.tensor([[1, Infinity], [NaN, 2], [3, -Infinity]]);
    const y = cn.gather(x, cn.tensor([2, 0], [2], 'int32'));
    expect(Array.from(y.dataSync())).toEqual([3, -Infinity, 1, Infinity]);
    expect(y.dtype).toBe('float32');
    cn.dispose([x, y]);
  });
  it('gather of bool keeps the dtype', () => {
    const x = cn.tensor([1, 0, 1], [3], 'bool');
    const y = cn.gather(x, [1, 2]);
    expect([y.dtype, Array.from(y.dataSync())]).toEqual(['bool', [0, 1]]);
    cn.dispose([x, y]);
  });
});

describeBackends('parity: reverse and mirrorPad', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-extra reverse [${backend}]`));
  for (const axis of [undefined, 0, [1], [0, 2], -1] as Array<number | number[] | undefined>)
    P(`reverse axis ${JSON.stringify(axis)}`, [{ shape: [3, 4, 5] }], (x) => cn.reverse(x, axis), (x) => tf.reverse(x, axis));
  P('reverse int32', [{ shape: [2, 5], dtype: 'int32', lo: -99, hi: 99 }], (x) => cn.reverse(x, 1), (x) => tf.reverse(x, 1));
  P('reverse rank 1', [{ shape: [7] }], (x) => cn.reverse(x), (x) => tf.reverse(x));
  it('reverse copies NaN and Inf exactly', () => {
    const y = cn.reverse(cn.tensor([NaN, 1, -Infinity]));
    expect(Array.from(y.dataSync())).toEqual([-Infinity, 1, NaN]);
    y.dispose();
  });

  const pads: Array<[string, number[], number[][]]> = [
    ['[3,4] reflect', [3, 4], [[2, 1], [3, 3]]],
    ['[3,4] symmetric', [3, 4], [[3, 1], [0, 4]]],
    ['[2,3,4] reflect', [2, 3, 4], [[1, 0], [2, 2], [0, 3]]],
    ['[2,3,4] symmetric', [2, 3, 4], [[1, 2], [0, 0], [2, 1]]],
  ];
  for (const [label, shape, paddings] of pads) {
    const mode = label.endsWith('reflect') ? 'reflect' : 'symmetric';
    // Forward against tf.mirrorPad; tfjs' mirrorPad gradient keeps only the center's share,
    // so the gradient is held to the same padding written with tf.reverse / slice / concat.
    P(`mirrorPad ${label}`, [{ shape }], (x) => cn.mirrorPad(x, paddings, mode), (x) => tf.mirrorPad(x, paddings as Array<[number, number]>, mode), EXACT, false);
    P(`mirrorPad ${label} gradient`, [{ shape }], (x) => cn.mirrorPad(x, paddings, mode), (x) => tfMirrorPad(x, paddings, mode), EXACT, EW);
  }
  P('mirrorPad int32', [{ shape: [3, 3], dtype: 'int32', lo: -9, hi: 9 }], (x) => cn.mirrorPad(x, [[1, 2], [2, 0]], 'reflect'), (x) => tf.mirrorPad(x, [[1, 2], [2, 0]], 'reflect'));
});

/** mirrorPad written with TensorFlow's reverse, slice and concat (their gradients are right). */
function tfMirrorPad(x: TF.Tensor, paddings: number[][], mode: 'reflect' | 'symmetric'): TF.Tensor {
  const off = mode === 'reflect' ? 1 : 0;
  let y = x;
  paddings.forEach(([p0, p1], i) => {
    const n = y.shape[i];
    const edge = (b: number, len: number) => tf.reverse(tf.slice(y, y.shape.map((_, k) => (k === i ? b : 0)), y.shape.map((d, k) => (k === i ? len : d))), i);
    const parts = [...(p0 ? [edge(off, p0)] : []), y, ...(p1 ? [edge(n - off - p1, p1)] : [])];
    y = tf.concat(parts, i);
  });
  return y;
}

/** TensorFlow's topk indices of x's values, off the tape (tfjs has no TopK gradient to pass through). */
function tfTopkIndices(x: TF.Tensor, k: number): TF.Tensor {
  return tf.topk(tf.tensor(x.dataSync(), x.shape), k).indices;
}

describeBackends('parity: topk and unique', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-extra topk [${backend}]`));
  for (const k of [1, 3, 7]) {
    // The values' gradient is held to tf.gather at TensorFlow's own topk indices (tfjs has no TopK gradient).
    P(`topk k=${k} values`, [{ shape: [4, 7] }], (x) => cn.topk(x, k).values, (x) => tf.gather(x, tfTopkIndices(x, k), 1, 1), EXACT, EW);
    P(`topk k=${k} indices`, [{ shape: [4, 7] }], (x) => cn.topk(x, k).indices, (x) => tf.topk(x, k).indices, EXACT, false);
  }
  P('topk rank 3 values', [{ shape: [2, 3, 6] }], (x) => cn.topk(x, 2).values, (x) => tf.topk(x, 2).values, EXACT, false);
  P('topk ties: the lower index first', [{ shape: [2, 5], values: [1, 3, 2, 3, 3, 0, 0, 5, 0, 5] }], (x) => cn.topk(x, 4).indices, (x) => tf.topk(x, 4).indices, EXACT, false);
  P('topk int32', [{ shape: [3, 6], dtype: 'int32', lo: -20, hi: 20 }], (x) => cn.topk(x, 2).values, (x) => tf.topk(x, 2).values, EXACT, false);
  // TensorFlow's order is unspecified with sorted=false (ours is descending): the reference
  // sorts TensorFlow's k values with a second, sorted topk.
  P('topk sorted=false values', [{ shape: [3, 6] }], (x) => cn.topk(x, 3, false).values, (x) => tf.topk(tf.topk(x, 3, false).values, 3).values, EXACT, false);

  const uniques: Array<[string, ParityInput, number]> = [
    ['float rank 1', { shape: [8], values: [3, 1, 3, -0, 0, 2, 1, 3] }, 0],
    ['int32 rank 1', { shape: [6], values: [5, 5, -1, 7, -1, 5], dtype: 'int32' }, 0],
    ['rank 2 axis 0', { shape: [4, 2], values: [1, 2, 3, 4, 1, 2, 3, 5] }, 0],
    ['rank 2 axis 1', { shape: [2, 4], values: [1, 2, 1, 2, 3, 4, 3, 5] }, 1],
  ];
  for (const [label, input, axis] of uniques) {
    P(`unique ${label} values`, [input], (x) => cn.unique(x, axis).values, (x) => tf.unique(x, axis).values, EXACT, false);
    P(`unique ${label} indices`, [input], (x) => cn.unique(x, axis).indices, (x) => tf.unique(x, axis).indices, EXACT, false);
  }
});

describeBackends('parity: argMin, all, any, cumsum', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-extra reductions [${backend}]`));
  for (const axis of [0, 1, -1]) P(`argMin axis ${axis}`, [{ shape: [6, 7, 3] }], (x) => cn.argMin(x, axis), (x) => tf.argMin(x, axis), EXACT, false);
  P('argMin ties (the first)', [{ shape: [2, 4], values: [3, 1, 1, 2, 0, 5, 0, 0] }], (x) => cn.argMin(x, 1), (x) => tf.argMin(x, 1), EXACT, false);
  P('argMin int32', [{ shape: [3, 5], dtype: 'int32', lo: -30, hi: 30 }], (x) => cn.argMin(x, 1), (x) => tf.argMin(x, 1), EXACT, false);

  const bits = [1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1];
  for (const op of ['all', 'any'] as const)
    for (const [axis, keepDims] of [[null, false], [1, false], [[0, 2], true], [-1, true]] as Array<[number | number[] | null, boolean]>)
      P(
        `${op} axis ${JSON.stringify(axis)} keepDims ${keepDims}`,
        [{ shape: [2, 3, 4], values: bits }],
        (x) => cn[op](x, axis, keepDims),
        // tfjs' all / any take bool: the 1/0 values as bool (its bool result is our 1/0 float32).
        (x) => tf[op](tf.cast(x, 'bool'), axis ?? undefined, keepDims),
        EXACT,
        false,
      );

  for (const axis of [0, 1, -1])
    for (const exclusive of [false, true])
      for (const reverse of [false, true])
        P(
          `cumsum axis ${axis} exclusive ${exclusive} reverse ${reverse}`,
          [{ shape: [5, 9, 3] }],
          (x) => cn.cumsum(x, axis, exclusive, reverse),
          // tfjs' cumsum gradient fails on any axis but the last (its transposed gradient has the
          // wrong shape): the reference moves the axis last, sums there and moves it back.
          (x) => {
            const a = axis < 0 ? axis + 3 : axis;
            const perm = [0, 1, 2].map((k) => (k === a ? 2 : k === 2 ? a : k));
            return tf.transpose(tf.cumsum(tf.transpose(x, perm), 2, exclusive, reverse), perm);
          },
          RED,
          RED,
        );
  P('cumsum long axis (n = 100)', [{ shape: [2, 100] }], (x) => cn.cumsum(x, 1), (x) => tf.cumsum(x, 1), { rtol: 1e-5, atol: 2e-5 }, { rtol: 1e-5, atol: 2e-5 });
  P('cumsum int32', [{ shape: [4, 3], dtype: 'int32', lo: -50, hi: 50 }], (x) => cn.cumsum(x, 0, true), (x) => tf.cumsum(x, 0, true));
});

describeBackends('parity: logSigmoid, logSumExp, norm', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-extra math [${backend}]`));
  P('logSigmoid', [{ shape: [4, 6], lo: -4, hi: 4 }], (x) => cn.logSigmoid(x), (x) => tf.logSigmoid(x), EW, EW);
  P('logSigmoid large |x|', [{ shape: [6], values: [-60, -30, -15, 15, 30, 60] }], (x) => cn.logSigmoid(x), (x) => tf.logSigmoid(x), EW, EW);
  for (const [axis, keepDims] of [[null, false], [1, false], [[0, 2], true], [-1, true], [[0, 1, 2], false]] as Array<[number | number[] | null, boolean]>)
    P(`logSumExp axis ${JSON.stringify(axis)} keepDims ${keepDims}`, [{ shape: [3, 5, 4], lo: -3, hi: 3 }], (x) => cn.logSumExp(x, axis, keepDims), (x) => tf.logSumExp(x, axis ?? undefined, keepDims), RED, RED);
  // exp(500) overflows float32: only the max-shifted form is finite.
  P('logSumExp of large values (stable)', [{ shape: [4, 6], lo: 500, hi: 520 }], (x) => cn.logSumExp(x, 1), (x) => tf.logSumExp(x, 1), RED, RED);

  const norms: Array<[cn.NormOrder, number | number[] | null, boolean, number[]]> = [
    ['euclidean', null, false, [3, 4]],
    ['euclidean', null, true, [2, 3, 4]],
    [2, 1, false, [3, 4]],
    [1, -1, false, [2, 3, 4]],
    [Infinity, 0, true, [3, 4]],
    [-Infinity, 1, false, [3, 4]],
    [1, null, false, [3, 4]],
    ['fro', [0, 1], false, [3, 4]],
    ['euclidean', [1, 2], true, [2, 3, 4]],
    [1, [0, 1], false, [3, 4]],
    [1, [0, 2], true, [2, 3, 4]],
    [Infinity, [0, 1], false, [3, 4]],
    [-Infinity, [1, 2], false, [2, 3, 4]],
  ];
  for (const [ord, axis, keepDims, shape] of norms)
    P(
      `norm ord ${String(ord)} axis ${JSON.stringify(axis)} keepDims ${keepDims} on ${JSON.stringify(shape)}`,
      [{ shape, lo: -2, hi: 2 }],
      (x) => cn.norm(x, ord, axis, keepDims),
      (x) => tf.norm(x, ord as 'euclidean', axis ?? undefined, keepDims),
      RED,
      RED,
    );
  P('norm of a scalar', [{ shape: [], values: [-3] }], (x) => cn.norm(x), (x) => tf.norm(x), EXACT, EW);
});

describeBackends('parity: step and the float tests', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-extra step [${backend}]`));
  // tfjs' gradients of these are zeros: so are ours.
  P('step', [{ shape: [4, 5], lo: -2, hi: 2 }], (x) => cn.step(x), (x) => tf.step(x), EXACT, EXACT);
  P('step alpha 0.3', [{ shape: [4, 5], lo: -2, hi: 2 }], (x) => cn.step(x, 0.3), (x) => tf.step(x, 0.3), EXACT, EXACT);
  const special = [0, -1.5, NaN, Infinity, -Infinity, 3e38, -0, 7, NaN, 1e-40];
  for (const op of ['isNaN', 'isInf', 'isFinite'] as const) {
    // TensorFlow's bool is our 1/0 float32 (Note [comparison dtype]); the cast carries tfjs' gradient.
    P(op, [{ shape: [2, 5], values: special }], (x) => cn[op](x), (x) => tf.cast(tf[op](x), 'float32'), EXACT, EXACT);
    // (TensorFlow's IsNan / IsInf / IsFinite take floats only: the reference tests the values as float32.)
    P(`${op} int32`, [{ shape: [4], values: [0, -3, 7, 2], dtype: 'int32' }], (x) => cn[op](x), (x) => tf.cast(tf[op](tf.cast(x, 'float32')), 'int32'), EXACT, false);
  }
  P('step keeps NaN', [{ shape: [4], values: [NaN, -1, 1, NaN] }], (x) => cn.isNaN(cn.step(x, 0.5)), (x) => tf.cast(tf.isNaN(tf.step(x, 0.5)), 'float32'), EXACT, false);
});

describe('extra ops refuse bad arguments, naming the op and the argument', () => {
  const x = () => cn.tensor([[1, 2, 3], [4, 5, 6]]);
  const idx = (v: number[]) => cn.tensor(v, [v.length], 'int32');
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['gather index out of range', () => cn.gather(x(), idx([0, 3]), 1), /gather: expected indices in \[0, 2\] \(x's axis 1 has size 3\) but received 3 at flat position 1 of indices/],
    ['gather negative index', () => cn.gather(x(), idx([-1])), /gather: expected indices in \[0, 1\].*-1 at flat position 0/],
    ['gather float indices', () => cn.gather(x(), cn.tensor([0, 1])), /gather: expected indices of dtype int32 but received float32/],
    ['gather axis', () => cn.gather(x(), idx([0]), 2), /gather: expected axis in \[-2, 2\) but received 2/],
    ['gather batchDims shape', () => cn.gather(x(), cn.tensor([0, 1, 0], [3, 1], 'int32'), 1, 1), /gather: expected indices whose first 1 dimensions \(batchDims\) are x's \[2\] but received \[3,1\]/],
    ['gather axis < batchDims', () => cn.gather(x(), cn.tensor([0, 1], [2, 1], 'int32'), 0, 1), /gather: expected axis >= batchDims \(1\)/],
    ['reverse axis', () => cn.reverse(x(), 2), /reverse: expected axis in \[-2, 2\) but received 2/],
    ['mirrorPad mode', () => cn.mirrorPad(x(), [[0, 0], [1, 1]], 'edge' as 'reflect'), /mirrorPad: expected mode 'reflect' or 'symmetric' but received "?'?edge/],
    ['mirrorPad too wide', () => cn.mirrorPad(x(), [[2, 0], [0, 0]], 'reflect'), /mirrorPad: expected paddings\[0\] of at most 1 per side \(axis 0 has size 2, mode 'reflect'\)/],
    ['mirrorPad paddings rank', () => cn.mirrorPad(x(), [[1, 1]], 'symmetric'), /mirrorPad: expected paddings as 2 pairs/],
    ['topk k too large', () => cn.topk(x(), 4), /topk: expected k as an integer in \[0, 3\] but received 4/],
    ['topk scalar', () => cn.topk(cn.scalar(1)), /topk: expected x of rank >= 1/],
    ['unique axis', () => cn.unique(x(), -3), /unique: expected axis in \[-2, 2\) but received -3/],
    ['argMin axis', () => cn.argMin(x(), 5), /argMin: expected axis in \[-2, 2\) but received 5/],
    ['all keepDims', () => cn.all(x(), 0, 'yes' as unknown as boolean), /all: expected keepDims/],
    ['cumsum axis', () => cn.cumsum(x(), 2), /cumsum: expected axis in \[-2, 2\) but received 2/],
    ['cumsum exclusive', () => cn.cumsum(x(), 0, 1 as unknown as boolean), /cumsum: expected exclusive/],
    ['logSumExp int32', () => cn.logSumExp(idx([1, 2])), /logSumExp: expected x of dtype float32 but received int32/],
    ['norm ord 3', () => cn.norm(x(), 3), /norm: expected ord 'euclidean', 'fro', 1, 2, Infinity or -Infinity but received 3/],
    ['norm matrix 2-norm', () => cn.norm(x(), 2, [0, 1]), /norm: expected ord 'fro', 'euclidean', 1, Infinity or -Infinity for a matrix norm.*but received 2/],
    ['norm fro of a vector', () => cn.norm(x(), 'fro', 1), /norm: expected ord 'euclidean', 1, 2, Infinity or -Infinity for a vector norm/],
    ['norm three axes', () => cn.norm(cn.zeros([2, 2, 2]), 'fro', [0, 1, 2]), /norm: expected axis as null, an integer or an array of one or two integers/],
    ['step alpha', () => cn.step(x(), 'a' as unknown as number), /step: expected alpha/],
  ];
  for (const [name, f, message] of cases)
    it(name, () => {
      const before = cn.memory().numTensors;
      let err: unknown;
      cn.tidy(() => {
        try {
          f();
        } catch (e) {
          err = e;
        }
      });
      expect(err, name).toBeInstanceOf(cn.CudnnNodeError);
      expect((err as Error).message).toMatch(message);
      expect(cn.memory().numTensors, `${name}: tensors left behind`).toBe(before);
    });
});
