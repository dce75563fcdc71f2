// The tfjs chained tensor methods (lib/tensor_methods.ts): every method in the op table is
// called on the same inputs three ways, t.method(...) here, op(t, ...) here and t.method(...)
// on tfjs-node, and all three must agree (shape first, then values). Also: tf.util against
// tfjs' util, TensorBuffer, tensor3d..6d, range/linspace, and that ops free the tensors they
// create from numbers or arrays (issue 22 item 7).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { expectClose, seededRandom } from './helpers.js';
import { loadTfjs } from './tfjs.js';

let tf: typeof TF;
beforeAll(async () => {
  tf = await loadTfjs();
});

/** Either library's module, used only through the names both share. */
type Lib = typeof cn | typeof TF;
type AnyTensor = cn.Tensor | TF.Tensor;

interface MethodCase {
  /** Shape of the receiver (seeded values in [lo, hi)). */
  shape: number[];
  lo?: number;
  hi?: number;
  /** The receiver's values, when not seeded. */
  values?: number[];
  dtype?: 'float32' | 'int32' | 'bool';
  /** The method's arguments, built with lib (tensors are made with lib.tensor). */
  args?: (lib: Lib) => unknown[];
  tol?: number;
}

const T = (lib: Lib, values: number[], shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32') =>
  (lib.tensor as (v: number[], s: number[], d: string) => AnyTensor)(values, shape, dtype);
const seeded = (n: number, seed: number, lo = -1, hi = 1) => Array.from(seededRandom(n, seed, lo, hi));

/** One case per method of OP_METHODS; a method missing here fails the completeness test. */
const CASES: Record<cn.OpMethodName, MethodCase> = {
  add: { shape: [2, 3], args: (l) => [T(l, [1, 2, 3], [3])] },
  sub: { shape: [2, 3], args: () => [2] },
  mul: { shape: [2, 3], args: (l) => [T(l, seeded(6, 2), [2, 3])] },
  div: { shape: [2, 3], args: (l) => [T(l, [0.5, 2, 4], [3])] },
  maximum: { shape: [4], args: () => [0] },
  minimum: { shape: [4], args: () => [0] },
  pow: { shape: [5], lo: 0.5, hi: 2, args: () => [2] },
  squaredDifference: { shape: [2, 2], args: (l) => [T(l, [1, 2, 3, 4], [2, 2])] },
  floorDiv: { shape: [4], values: [7, -7, 8, 9], dtype: 'int32', args: (l) => [T(l, [2, 2, 3, 4], [4], 'int32')] },
  mod: { shape: [4], values: [7, 5, 8, 9], dtype: 'int32', args: (l) => [T(l, [2, 2, 3, 4], [4], 'int32')] },
  equal: { shape: [4], values: [1, 2, 3, 4], args: (l) => [T(l, [1, 0, 3, 0], [4])] },
  notEqual: { shape: [4], values: [1, 2, 3, 4], args: (l) => [T(l, [1, 0, 3, 0], [4])] },
  greater: { shape: [6], args: () => [0] },
  greaterEqual: { shape: [4], values: [1, 2, 3, 4], args: () => [2] },
  less: { shape: [6], args: () => [0] },
  lessEqual: { shape: [4], values: [1, 2, 3, 4], args: () => [2] },
  neg: { shape: [5] },
  abs: { shape: [5] },
  sign: { shape: [5] },
  floor: { shape: [5], lo: -3, hi: 3 },
  ceil: { shape: [5], lo: -3, hi: 3 },
  round: { shape: [5], values: [-1.4, 0.3, 1.6, 2.2, -0.7] },
  reciprocal: { shape: [5], lo: 0.5, hi: 2 },
  square: { shape: [5] },
  sqrt: { shape: [5], lo: 0, hi: 4 },
  rsqrt: { shape: [5], lo: 0.5, hi: 4 },
  exp: { shape: [5] },
  log: { shape: [5], lo: 0.1, hi: 4 },
  log1p: { shape: [5], lo: 0, hi: 4 },
  sin: { shape: [5] },
  cos: { shape: [5] },
  relu: { shape: [6] },
  relu6: { shape: [6], lo: -8, hi: 8 },
  elu: { shape: [6] },
  selu: { shape: [6] },
  sigmoid: { shape: [6] },
  tanh: { shape: [6] },
  softplus: { shape: [6] },
  leakyRelu: { shape: [6], args: () => [0.1] },
  prelu: { shape: [2, 3], args: (l) => [T(l, [0.1, 0.2, 0.3], [3])] },
  softmax: { shape: [2, 5] },
  logSoftmax: { shape: [2, 5] },
  sum: { shape: [2, 3, 4], args: () => [1, true] },
  mean: { shape: [2, 3, 4], args: () => [[0, 2]] },
  max: { shape: [2, 3, 4], args: () => [-1] },
  min: { shape: [2, 3, 4], args: () => [0] },
  prod: { shape: [2, 3], args: () => [1] },
  argMax: { shape: [3, 4], args: () => [-1] },
  reshape: { shape: [2, 3, 4], args: () => [[4, -1]] },
  expandDims: { shape: [2, 3], args: () => [1] },
  squeeze: { shape: [2, 1, 3, 1], args: () => [[1]] },
  transpose: { shape: [2, 3, 4], args: () => [[2, 0, 1]] },
  slice: { shape: [4, 5], args: () => [[1, 2], [2, -1]] },
  pad: { shape: [2, 3], args: () => [[[1, 0], [0, 2]], 5] },
  tile: { shape: [2, 3], args: () => [[2, 1]] },
  broadcastTo: { shape: [1, 3], args: () => [[4, 3]] },
  split: { shape: [4, 6], args: () => [[2, 4], 1] },
  unstack: { shape: [3, 2], args: () => [1] },
  clipByValue: { shape: [8], args: () => [-0.5, 0.5] },
  cast: { shape: [5], lo: -3, hi: 3, args: () => ['int32'] },
  oneHot: { shape: [4], values: [0, 3, 1, 2], dtype: 'int32', args: () => [5] },
  zerosLike: { shape: [2, 3] },
  onesLike: { shape: [2, 3] },
  matMul: { shape: [2, 3], args: (l) => [T(l, seeded(12, 5), [4, 3]), false, true] },
  dot: { shape: [2, 3], args: (l) => [T(l, seeded(3, 6), [3])] },
  conv2d: { shape: [1, 5, 5, 2], args: (l) => [T(l, seeded(2 * 2 * 2 * 3, 7), [2, 2, 2, 3]), 1, 'same'] },
  depthwiseConv2d: { shape: [1, 5, 5, 2], args: (l) => [T(l, seeded(3 * 3 * 2 * 2, 8), [3, 3, 2, 2]), [2, 2], 'valid'] },
  separableConv2d: {
    shape: [1, 5, 5, 2],
    args: (l) => [T(l, seeded(3 * 3 * 2, 9), [3, 3, 2, 1]), T(l, seeded(2 * 4, 10), [1, 1, 2, 4]), 1, 'same'],
  },
  conv2dTranspose: { shape: [1, 3, 3, 4], args: (l) => [T(l, seeded(2 * 2 * 2 * 4, 11), [2, 2, 2, 4]), [1, 6, 6, 2], 2, 'same'] },
  maxPool: { shape: [1, 4, 4, 2], args: () => [2, 2, 'valid'] },
  avgPool: { shape: [1, 4, 4, 2], args: () => [[3, 3], 1, 'same'] },
  batchNorm: {
    shape: [2, 3],
    args: (l) => [T(l, [0.1, 0.2, 0.3], [3]), T(l, [1, 2, 0.5], [3]), T(l, [0, 1, 2], [3]), T(l, [1, 0.5, 2], [3]), 0.001],
  },
  localResponseNormalization: { shape: [1, 2, 2, 6], args: () => [2, 1, 0.5, 0.75] },
  // issue 22's missing ops (lib/ops/indexing.ts, lib/ops/math_extra.ts)
  logSigmoid: { shape: [6], lo: -5, hi: 5 },
  step: { shape: [6], args: () => [0.25] },
  isNaN: { shape: [5], values: [1, NaN, Infinity, -2, NaN] },
  isInf: { shape: [5], values: [1, NaN, Infinity, -2, -Infinity] },
  isFinite: { shape: [5], values: [1, NaN, Infinity, -2, -Infinity] },
  argMin: { shape: [3, 4], args: () => [1] },
  // tfjs' all / any take bool only (ours any dtype, Note [logical reductions]).
  all: { shape: [2, 3], values: [1, 1, 0, 1, 1, 1], dtype: 'bool', args: () => [1] },
  any: { shape: [2, 3], values: [0, 0, 0, 1, 0, 0], dtype: 'bool', args: () => [1, true] },
  logSumExp: { shape: [2, 3, 4], args: () => [[0, 2]] },
  norm: { shape: [3, 4], args: () => [1, [0, 1]] },
  cumsum: { shape: [3, 4], args: () => [1, false, true] },
  gather: { shape: [4, 3], args: (l) => [T(l, [3, 0, 0, 2], [4], 'int32'), 0] },
  reverse: { shape: [2, 3, 2], args: () => [[0, 2]] },
  mirrorPad: { shape: [3, 4], args: () => [[[1, 2], [2, 3]], 'symmetric'] },
  topk: { shape: [3, 5], args: () => [2] },
  unique: { shape: [6], values: [3, 1, 3, 2, 1, 3] },
};

function receiver(lib: Lib, c: MethodCase, seed: number): AnyTensor {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const v = c.values ?? seeded(n, seed, c.lo ?? -1, c.hi ?? 1);
  return T(lib, c.dtype === 'int32' ? v.map(Math.trunc) : v, c.shape, c.dtype ?? 'float32');
}

/** The results as a list of {shape, values} (methods like split return arrays, topk and
 * unique {values, indices}). */
async function materialize(r: unknown): Promise<Array<{ shape: number[]; values: number[] }>> {
  const pair = r as { values?: unknown; indices?: unknown; dataSync?: unknown };
  const list = Array.isArray(r) ? r : typeof pair.dataSync !== 'function' && pair.values && pair.indices ? [pair.values, pair.indices] : [r];
  return Promise.all(list.map(async (t: AnyTensor) => ({ shape: t.shape.slice(), values: Array.from(await (t as cn.Tensor).data()) })));
}

function compare(actual: Array<{ shape: number[]; values: number[] }>, expected: Array<{ shape: number[]; values: number[] }>, what: string, tol: number) {
  expect(actual.length, `${what}: number of outputs`).toBe(expected.length);
  actual.forEach((a, i) =>
    expectClose(a.values, expected[i].values, { rtol: tol, atol: tol, what: `${what}[${i}]`, actualShape: a.shape, expectedShape: expected[i].shape }),
  );
}

describe('tensor methods from the op table', () => {
  it('every method of the table has a case here, and every method is installed', () => {
    expect(Object.keys(CASES).sort()).toEqual([...cn.OP_METHODS].sort());
    const t = cn.scalar(1);
    for (const name of cn.OP_METHODS) expect(typeof (t as unknown as Record<string, unknown>)[name], name).toBe('function');
    t.dispose();
  });

  it('every method is one tfjs also has as a chained method', () => {
    const t = tf.scalar(1);
    const missing = cn.OP_METHODS.filter((m) => typeof (t as unknown as Record<string, unknown>)[m] !== 'function');
    t.dispose();
    expect(missing).toEqual([]);
  });

  it('every op of ours that tfjs has as a tensor method is a method here too (no drift)', () => {
    const tt = tf.scalar(1) as unknown as Record<string, unknown>;
    const t = cn.scalar(1) as unknown as Record<string, unknown>;
    const ops = Object.entries(cn).filter(([, v]) => typeof v === 'function').map(([k]) => k);
    const missing = ops.filter((k) => typeof tt[k] === 'function' && typeof t[k] !== 'function');
    tf.dispose(tt as unknown as TF.Tensor);
    cn.dispose(t);
    expect(missing).toEqual([]);
  });

  let seed = 100;
  for (const [name, c] of Object.entries(CASES) as Array<[cn.OpMethodName, MethodCase]>) {
    const s = seed++;
    it(`${name}: t.${name}(...) equals ${name}(t, ...) and tfjs-node's t.${name}(...)`, async () => {
      const before = cn.memory().numTensors;
      const x = receiver(cn, c, s) as cn.Tensor;
      const args = c.args?.(cn) ?? [];
      const viaMethod = (x as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...args);
      const viaOp = (cn as unknown as Record<string, (...a: unknown[]) => unknown>)[name](x, ...args);
      const ours = await materialize(viaMethod);
      compare(ours, await materialize(viaOp), `${name} method vs op`, 0);
      const tx = receiver(tf, c, s) as TF.Tensor;
      const targs = c.args?.(tf) ?? [];
      const ref = (tx as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...targs);
      compare(ours, await materialize(ref), `${name} vs tfjs-node`, c.tol ?? 1e-5);
      tf.dispose([tx, ref as TF.Tensor, ...(targs.filter((a) => a instanceof tf.Tensor) as TF.Tensor[])]);
      cn.dispose([x, viaMethod, viaOp, args]);
      expect(cn.memory().numTensors, 'tensors left behind').toBe(before);
    });
  }
});

describe('tfjs methods that are not plain ops', () => {
  type Case = [string, number[], (t: AnyTensor, lib: Lib) => unknown];
  const cases: Case[] = [
    ['asType', [2, 3], (t) => (t as cn.Tensor).asType('int32')],
    ['toFloat', [4], (t) => (t as cn.Tensor).toInt().toFloat()],
    ['toInt', [4], (t) => (t as cn.Tensor).toInt()],
    ['toBool', [4], (t) => (t as cn.Tensor).toBool()],
    ['asScalar', [1], (t) => (t as cn.Tensor).asScalar()],
    ['as1D', [2, 3], (t) => (t as cn.Tensor).as1D()],
    ['as2D', [6], (t) => (t as cn.Tensor).as2D(3, 2)],
    ['as3D', [6], (t) => (t as cn.Tensor).as3D(1, 3, 2)],
    ['as4D', [6], (t) => (t as cn.Tensor).as4D(1, 3, 2, 1)],
    ['as5D', [6], (t) => (t as cn.Tensor).as5D(1, 3, 1, 2, 1)],
    ['reshapeAs', [6], (t, l) => (t as cn.Tensor).reshapeAs((l as typeof cn).zeros([2, 3]))],
    ['flatten (tfjs: rank 1)', [2, 3, 2], (t) => (t as cn.Tensor).flatten()],
    ['concat(tensor)', [2, 3], (t, l) => (t as cn.Tensor).concat((l as typeof cn).ones([1, 3]))],
    ['concat(tensors, axis)', [2, 3], (t, l) => (t as cn.Tensor).concat([(l as typeof cn).ones([2, 1]), (l as typeof cn).zeros([2, 2])], 1)],
    ['stack', [3], (t, l) => (t as cn.Tensor).stack([(l as typeof cn).ones([3])], 1)],
    ['where', [5], (t, l) => (t as cn.Tensor).where((T(l, [1, 0, 1, 0, 1], [5]) as cn.Tensor).toBool(), (l as typeof cn).zeros([5]))],
    ['resizeBilinear', [1, 3, 3, 2], (t) => (t as cn.Tensor).resizeBilinear([5, 4])],
    ['clone', [3], (t) => (t as cn.Tensor).clone()],
    ['chained: reshape().mul().add().sum()', [2, 3], (t) => (t as cn.Tensor).reshape([3, 2]).mul(2).add(1).sum(0)],
    ['chained: square().mean().sqrt()', [8], (t) => (t as cn.Tensor).square().mean().sqrt()],
  ];
  for (const [name, shape, f] of cases)
    it(name, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = seeded(n, 77, -2, 2);
      const ours = cn.tidy(() => f(T(cn, v, shape), cn)) as cn.Tensor;
      const ref = tf.tidy(() => f(T(tf, v, shape), tf) as TF.Tensor);
      // tfjs' bool is ours 0/1 in a 'bool' tensor: compare values and shapes.
      compare(await materialize(ours), await materialize(ref), name, 1e-5);
      expect(ours.dtype, `${name} dtype`).toBe(ref.dtype === 'bool' ? 'bool' : ref.dtype);
      cn.dispose(ours);
      ref.dispose();
    });

  it('variable(), bufferSync() and buffer() as in tfjs', async () => {
    const t = cn.tensor([[1, 2], [3, 4]]);
    const v = t.variable(false, 'compat_v');
    expect(v).toBeInstanceOf(cn.Variable);
    expect([v.name, v.trainable, v.shape]).toEqual(['compat_v', false, [2, 2]]);
    const b = t.bufferSync();
    expect(b.get(1, 0)).toBe(3);
    const b2 = await t.buffer();
    b2.set(9, 0, 1);
    expect(Array.from(b2.toTensor().dataSync())).toEqual([1, 9, 3, 4]);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4]);
    cn.dispose([t, v]);
  });
});

describe('TensorBuffer / buffer() against tfjs', () => {
  it('set, get, locToIndex, indexToLoc and toTensor agree with tfjs', async () => {
    const ours = cn.buffer([2, 3, 4]);
    const ref = tf.buffer([2, 3, 4]);
    for (const [v, ...loc] of [[5, 1, 2, 3], [-1, 0, 0, 0], [7, 1, 0, 2]]) {
      ours.set(v, ...loc);
      ref.set(v, ...loc);
    }
    expect(ours.strides).toEqual(ref.strides);
    expect(ours.get(1, 2, 3)).toBe(ref.get(1, 2, 3));
    for (const i of [0, 5, 23]) expect(ours.indexToLoc(i)).toEqual(ref.indexToLoc(i));
    expect(ours.locToIndex([1, 1, 1])).toBe(ref.locToIndex([1, 1, 1]));
    const t = ours.toTensor();
    expect(Array.from(t.dataSync())).toEqual(Array.from(ref.toTensor().dataSync()));
    t.dispose();
    const ib = cn.buffer([3], 'int32', new Int32Array([1, 2, 3]));
    expect(ib.toTensor().dtype).toBe('int32');
  });
  it('rejects coordinates outside the shape with a message naming them', () => {
    const b = cn.buffer([2, 2]);
    expect(() => b.set(1, 2, 0)).toThrow(/TensorBuffer: expected 2 coordinates within shape \[2,2\] but received \[2,0\]/);
    expect(() => cn.buffer([2, 2], 'float32', new Float32Array(3))).toThrow(cn.InvalidArgumentError);
  });
});

describe('tensorNd creators, range and linspace', () => {
  it('tensor3d / tensor5d / tensor6d match tfjs and check the rank', () => {
    const v = seeded(24, 3);
    const cases: Array<[string, number[]]> = [['tensor3d', [2, 3, 4]], ['tensor5d', [1, 2, 3, 2, 2]], ['tensor6d', [1, 2, 1, 3, 2, 2]]];
    for (const [name, shape] of cases) {
      const ours = (cn as unknown as Record<string, (v: number[], s: number[]) => cn.Tensor>)[name](v, shape);
      const ref = (tf as unknown as Record<string, (v: number[], s: number[]) => TF.Tensor>)[name](v, shape);
      expect(ours.shape).toEqual(ref.shape);
      expect(Array.from(ours.dataSync())).toEqual(Array.from(ref.dataSync()));
      cn.dispose(ours);
      ref.dispose();
    }
    expect(() => cn.tensor3d([1, 2, 3])).toThrow(/tensor3d: expected values of rank 3/);
    expect(cn.tensor3d([[[1], [2]]]).shape).toEqual([1, 2, 1]);
  });
  it('range and linspace equal tfjs bit for bit', () => {
    const pairs: Array<[cn.Tensor, TF.Tensor]> = [
      [cn.range(0, 10), tf.range(0, 10)],
      [cn.range(1, 2, 0.1), tf.range(1, 2, 0.1)],
      [cn.range(5, -3, -2, 'int32'), tf.range(5, -3, -2, 'int32')],
      [cn.range(3, 3), tf.range(3, 3)],
      [cn.linspace(-1, 1, 7), tf.linspace(-1, 1, 7)],
    ];
    for (const [a, b] of pairs) {
      expect(a.dtype).toBe(b.dtype);
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    }
  });
});

describe('tf.util against tfjs util', () => {
  it('pure helpers return what tfjs returns', () => {
    const u = cn.util, r = tf.util;
    expect(u.sizeFromShape([2, 3, 4])).toBe(r.sizeFromShape([2, 3, 4]));
    expect(u.sizeFromShape([])).toBe(r.sizeFromShape([]));
    expect(u.flatten([[1, [2, 3]], [4], 5])).toEqual(r.flatten([[1, [2, 3]], [4], 5] as never));
    expect(u.flatten([new Float32Array([1, 2]), [3]])).toEqual(r.flatten([new Float32Array([1, 2]), [3]] as never));
    expect(u.arraysEqual([1, 2], [1, 2])).toBe(true);
    expect(u.arraysEqual([1, 2], [1, 3])).toBe(r.arraysEqual([1, 2], [1, 3]));
    expect(u.computeStrides([2, 3, 4])).toEqual(r.computeStrides([2, 3, 4]));
    expect(u.indexToLoc(17, 3, [12, 4])).toEqual(r.indexToLoc(17, 3, [12, 4]));
    expect(u.locToIndex([1, 1, 1], 3, [12, 4])).toBe(r.locToIndex([1, 1, 1], 3, [12, 4]));
    expect(u.clamp(0, 5, 3)).toBe(r.clamp(0, 5, 3));
    expect(u.nearestLargerEven(7)).toBe(r.nearestLargerEven(7));
    expect(u.sum([1, 2, 3.5])).toBe(r.sum([1, 2, 3.5]));
    expect(u.distSquared([1, 2], [4, 6])).toBe(r.distSquared([1, 2], [4, 6]));
    expect(u.sizeToSquarishShape(10)).toEqual(r.sizeToSquarishShape(10));
    expect(u.squeezeShape([1, 3, 1, 2])).toEqual(r.squeezeShape([1, 3, 1, 2]));
    expect(u.squeezeShape([1, 3, 1, 2], [2])).toEqual(r.squeezeShape([1, 3, 1, 2], [2]));
    expect(u.rightPad('ab', 5)).toBe(r.rightPad('ab', 5));
    expect(u.inferDtype([[1, 2]])).toBe(r.inferDtype([[1, 2]]));
    expect(u.inferDtype([true])).toBe(r.inferDtype([true]));
    expect(u.isTypedArray(new Float32Array(1))).toBe(r.isTypedArray(new Float32Array(1)));
    expect(u.isInt(3)).toBe(r.isInt(3));
    expect(u.decodeString(u.encodeString('héllo'))).toBe(r.decodeString(r.encodeString('héllo')));
    expect(u.toNestedArray([2, 2], [1, 2, 3, 4])).toEqual((r.toNestedArray([2, 2], new Float32Array([1, 2, 3, 4])) as ArrayLike<number>[]).map((a) => Array.from(a)));
    expect(typeof u.now()).toBe('number');
  });
  it('assert throws the given message, as tfjs does', () => {
    expect(() => cn.util.assert(false, 'custom message')).toThrow('custom message');
    expect(() => cn.util.assert(false, () => 'lazy message')).toThrow('lazy message');
    expect(() => tf.util.assert(false, () => 'lazy message')).toThrow('lazy message');
    expect(() => cn.util.assert(true, 'never')).not.toThrow();
    expect(() => cn.util.assertShapesMatch([1, 2], [2, 1], 'x:')).toThrow(/x: Shapes 1,2 and 2,1 must match/);
  });
  it('shuffle, shuffleCombo and createShuffledIndices are permutations', () => {
    const a = [...Array(50).keys()];
    cn.util.shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(a).not.toEqual([...Array(50).keys()]); // 1/50! chance of a false failure
    const b = a.map((x) => x * 10);
    cn.util.shuffleCombo(a, b);
    a.forEach((x, i) => expect(b[i]).toBe(x * 10));
    const idx = cn.util.createShuffledIndices(20);
    expect(idx).toBeInstanceOf(Uint32Array);
    expect(Array.from(idx).sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
  });
});

describe('ops free the tensors they create from numbers or arrays (issue 22 item 7)', () => {
  let t: cn.Tensor, ti: cn.Tensor, cond: cn.Tensor;
  beforeAll(() => {
    t = cn.tensor([[1, -2, 3], [4, 5, -6]]);
    ti = cn.tensor([1, 2], [2], 'int32');
    cond = cn.tensor([1, 0, 1]);
  });
  afterAll(() => cn.dispose([t, ti, cond]));

  it('1,000 calls of add(t, 2) and oneHot(3, 10) outside tidy leave only their results', () => {
    const before = cn.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      cn.add(t, 2).dispose();
      cn.oneHot(3, 10).dispose();
    }
    expect(cn.memory().numTensors).toBe(before);
    // tfjs-node leaves none either.
    const tt = tf.tensor([1, 2]);
    const tb = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      tf.add(tt, 2).dispose();
      tf.oneHot(3, 10).dispose();
    }
    expect(tf.memory().numTensors).toBe(tb);
    tt.dispose();
  });

  const calls: Array<[string, () => unknown]> = [
    ['sub(1, t)', () => cn.sub(1, t)],
    ['mul(t, [1, 2, 3])', () => cn.mul(t, [1, 2, 3])],
    ['greater(t, 0)', () => cn.greater(t, 0)],
    ['oneHot([1, 2], 4)', () => cn.oneHot([1, 2], 4)],
    ['sum(int32)', () => cn.sum(ti)],
    ['where(c, t, 0)', () => cn.where(cond, t, 0)],
    ['clipByValue', () => cn.clipByValue(t, 0, 1)],
    ['concat with an array', () => cn.concat([t, [[1, 2, 3]]])],
    ['stack of arrays', () => cn.stack([[1], [2]])],
    ['matMul of arrays', () => cn.matMul([[1, 2]], [[1], [2]])],
    ['dot of arrays', () => cn.dot([1, 2], [3, 4])],
    ['softmax(t, 0)', () => cn.softmax(t, 0)],
    ['leakyRelu', () => cn.leakyRelu(t)],
    ['prelu', () => cn.prelu(t, [0.1, 0.2, 0.3])],
    ['relu of an array', () => cn.relu([1, -1])],
    ['batchNorm', () => cn.batchNorm(t, [0, 0, 0], [1, 1, 1])],
    ['softmaxCrossEntropy', () => cn.softmaxCrossEntropy([[0, 1, 0], [1, 0, 0]], t)],
    ['method t.add(2)', () => t.add(2)],
    ['method t.toBool()', () => t.toBool()],
  ];
  for (const [name, f] of calls)
    it(`${name} leaves only its result`, () => {
      const before = cn.memory().numTensors;
      const r = f();
      cn.dispose(r);
      expect(cn.memory().numTensors).toBe(before);
    });

  it('a gradient through ops with number operands is unchanged (the tape keeps what it needs)', () => {
    const x = cn.tensor([1, 2, 3]);
    const g = cn.grad((v: cn.Tensor) => cn.sum(cn.mul(cn.add(v, 2), cn.pow(v, 2))))(x);
    // d/dv (v + 2) v^2 = v^2 + 2 v (v + 2)
    expect(Array.from(g.dataSync())).toEqual([1 + 2 * 3, 4 + 4 * 4, 9 + 6 * 5]);
    cn.dispose([x, g]);
  });

  it('tidy(() => x) nested in tidy does not free x, which was made outside both', () => {
    const x = cn.tensor([1, 2]);
    cn.tidy(() => {
      cn.tidy(() => x);
    });
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });
});
