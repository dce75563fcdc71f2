// Shape transforms and selection: transpose, concat, stack, unstack, slice, split, pad,
// tile, broadcastTo, where, clipByValue and flatten, with gradients. The native movement
// kernels copy 4-byte elements, so bool tensors are moved as int32 and cast back.
import { ENGINE } from '../engine.js';
import { DTypeError, check, describe } from '../errors.js';
import { defineOp, defineOp1 } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { add, cast, expandDims, mul, reshape, sub, zeros } from './basic.js';
import { MAX_OUTPUTS, checkNumber, checkOutputShape, checkShape } from '../validate.js';
import { TensorLike, broadcastShape, checkFloat, convertToTensor, intList, inversePerm, makeTensor, normAxis, sameShape, opScope } from './util.js';

/** Gradients written with differentiable ops only (Note [higher-order gradients]). */
const DIFF = { differentiableGrad: true };

/** Runs a movement kernel body on bool data as int32 (the kernels move 4-byte elements). */
function asInt<T extends Tensor | Tensor[]>(x: Tensor, body: (x: Tensor) => T): T {
  if (x.dtype !== 'bool') return body(x);
  const r = body(cast(x, 'int32'));
  return (Array.isArray(r) ? r.map((t) => cast(t, 'bool')) : cast(r, 'bool')) as T;
}

// ---- transpose

/** tf.transpose: permutes the axes (default: reverses them). */
export function transpose(x: TensorLike, perm?: number[]): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'transpose');
    const p = perm === undefined ? [...Array($x.rank).keys()].reverse() : intList(perm, 'perm', 'transpose', $x.rank);
    const sorted = p.slice().sort((a, b) => a - b);
    check(sorted.every((v, i) => v === i), 'transpose', `perm as a permutation of [0..${$x.rank - 1}]`, perm);
    if (p.every((v, i) => v === i)) return reshape($x, $x.shape);
    return asInt($x, (t) =>
      defineOp1(
        [t],
        () => ENGINE.runKernel('Transpose', [t], { perm: p }, [{ shape: p.map((i) => t.shape[i]), dtype: t.dtype }])[0],
        (dy) => [transpose(dy, inversePerm(p))],
        DIFF,
      ),
    );
  });
}

// ---- concat / stack / unstack / split

/** tf.concat: joins tensors of one rank and dtype along axis. */
export function concat(tensors: TensorLike[], axis = 0): Tensor {
  return opScope(() => {
    check(Array.isArray(tensors) && tensors.length >= 1, 'concat', 'a non-empty array of tensors', tensors);
    const ts = tensors.map((t, i) => convertToTensor(t, `tensors[${i}]`, 'concat'));
    const r = ts[0].rank;
    check(r >= 1, 'concat', 'tensors of rank >= 1', ts[0].shape);
    const a = normAxis(axis, r, 'concat');
    ts.forEach((t, i) => {
      if (t.dtype !== ts[0].dtype) throw new DTypeError(`concat: expected tensors[${i}] of dtype ${ts[0].dtype} but received ${t.dtype}`);
      check(t.rank === r && t.shape.every((d, k) => k === a || d === ts[0].shape[k]), 'concat', `tensors[${i}] of shape ${describe(ts[0].shape.map((d, k) => (k === a ? -1 : d)))} (any size on axis ${a})`, t.shape);
    });
    if (ts.length === 1) return reshape(ts[0], ts[0].shape);
    const out = ts[0].shape.slice();
    out[a] = ts.reduce((s, t) => s + t.shape[a], 0);
    if (ts[0].dtype === 'bool') return cast(concat(ts.map((t) => cast(t, 'int32')), a), 'bool');
    return defineOp1(
      ts,
      () => ENGINE.runKernel('Concat', ts, { axis: a }, [{ shape: out, dtype: ts[0].dtype }])[0],
      (dy) => {
        let off = 0;
        return ts.map((t) => {
          const begin = t.shape.map((_, k) => (k === a ? off : 0));
          off += t.shape[a];
          return slice(dy, begin, t.shape);
        });
      },
      DIFF,
    );
  });
}

/** tf.stack: joins tensors of one shape along a new axis. */
export function stack(tensors: TensorLike[], axis = 0): Tensor {
  return opScope(() => {
    check(Array.isArray(tensors) && tensors.length >= 1, 'stack', 'a non-empty array of tensors', tensors);
    const ts = tensors.map((t, i) => convertToTensor(t, `tensors[${i}]`, 'stack'));
    ts.forEach((t, i) => check(sameShape(t.shape, ts[0].shape), 'stack', `tensors[${i}] of shape ${describe(ts[0].shape)} (all alike)`, t.shape));
    const a = normAxis(axis, ts[0].rank + 1, 'stack');
    return concat(ts.map((t) => expandDims(t, a)), a);
  });
}

/** tf.unstack: splits x along axis into tensors of rank - 1. */
export function unstack(x: TensorLike, axis = 0): Tensor[] {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'unstack');
    check($x.rank >= 1, 'unstack', 'x of rank >= 1', $x.shape);
    const a = normAxis(axis, $x.rank, 'unstack');
    check($x.shape[a] <= MAX_OUTPUTS, 'unstack', `at most ${MAX_OUTPUTS} slices on axis ${a}`, $x.shape);
    const size = $x.shape.map((d, k) => (k === a ? 1 : d));
    const rest = $x.shape.filter((_, k) => k !== a);
    return [...Array($x.shape[a]).keys()].map((i) => reshape(slice($x, $x.shape.map((_, k) => (k === a ? i : 0)), size), rest));
  });
}

/** tf.split: numOrSizeSplits equal parts, or parts of the given sizes (one may be -1). */
export function split(x: TensorLike, numOrSizeSplits: number | number[], axis = 0): Tensor[] {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'split');
    check($x.rank >= 1, 'split', 'x of rank >= 1', $x.shape);
    const a = normAxis(axis, $x.rank, 'split');
    const n = $x.shape[a];
    let sizes: number[];
    if (typeof numOrSizeSplits === 'number') {
      check(Number.isInteger(numOrSizeSplits) && numOrSizeSplits >= 1 && numOrSizeSplits <= MAX_OUTPUTS && n % numOrSizeSplits === 0, 'split', `numOrSizeSplits dividing axis ${a} of size ${n}`, numOrSizeSplits);
      sizes = new Array(numOrSizeSplits).fill(n / numOrSizeSplits);
    } else {
      sizes = intList(numOrSizeSplits, 'numOrSizeSplits', 'split');
      check(sizes.length <= MAX_OUTPUTS, 'split', `at most ${MAX_OUTPUTS} sizes`, `${sizes.length} sizes`);
      const neg = sizes.filter((s) => s === -1).length;
      check(neg <= 1 && sizes.every((s) => s >= -1), 'split', 'sizes >= 0 with at most one -1', numOrSizeSplits);
      const known = sizes.reduce((s, v) => (v === -1 ? s : s + v), 0);
      if (neg) sizes[sizes.indexOf(-1)] = n - known;
      check(sizes.every((s) => s >= 0) && sizes.reduce((s, v) => s + v, 0) === n, 'split', `sizes summing to axis ${a}'s ${n}`, numOrSizeSplits);
    }
    let off = 0;
    return sizes.map((s) => {
      const begin = $x.shape.map((_, k) => (k === a ? off : 0));
      off += s;
      return slice($x, begin, $x.shape.map((d, k) => (k === a ? s : d)));
    });
  });
}

// ---- slice / pad / tile

/** tf.slice: begin/size per axis (a number applies to axis 0; size -1 means "to the end"). */
export function slice(x: TensorLike, begin: number | number[], size?: number | number[]): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'slice');
    const r = $x.rank;
    check(r >= 1, 'slice', 'x of rank >= 1', $x.shape);
    const b = typeof begin === 'number' ? [begin, ...new Array(r - 1).fill(0)] : intList(begin, 'begin', 'slice');
    check(b.length <= r, 'slice', `begin of length <= ${r}`, begin);
    while (b.length < r) b.push(0);
    let s = size === undefined ? new Array(r).fill(-1) : typeof size === 'number' ? [size, ...new Array(r - 1).fill(-1)] : intList(size, 'size', 'slice');
    check(s.length <= r, 'slice', `size of length <= ${r}`, size);
    while (s.length < r) s.push(-1);
    s = s.map((d, i) => (d === -1 ? $x.shape[i] - b[i] : d));
    for (let i = 0; i < r; i++)
      check(b[i] >= 0 && s[i] >= 0 && b[i] + s[i] <= $x.shape[i], 'slice', `begin ${describe(b)} and size ${describe(s)} within shape ${describe($x.shape)}`, `axis ${i}`);
    if (s.every((d, i) => d === $x.shape[i])) return reshape($x, $x.shape);
    return asInt($x, (t) =>
      defineOp1(
        [t],
        () => ENGINE.runKernel('Slice', [t], { begin: b, size: s }, [{ shape: s, dtype: t.dtype }])[0],
        (dy) => [padRaw(dy, b, t.shape.map((d, i) => d - b[i] - s[i]), 0)],
        DIFF,
      ),
    );
  });
}

function padRaw(x: Tensor, before: number[], after: number[], value: number): Tensor {
  const out = x.shape.map((d, i) => d + before[i] + after[i]);
  return defineOp1(
    [x],
    () => ENGINE.runKernel('Pad', [x], { before, after, value }, [{ shape: out, dtype: 'float32' }])[0],
    (dy) => [slice(dy, before, x.shape)],
    DIFF,
  );
}

/** tf.pad: paddings [[before, after], ...] per axis, filled with constantValue. */
export function pad(x: TensorLike, paddings: Array<[number, number]> | number[][], constantValue = 0): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'pad');
    check(
      Array.isArray(paddings) && paddings.length === $x.rank && paddings.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0)),
      'pad',
      `paddings as ${$x.rank} pairs [before, after] of non-negative integers`,
      paddings,
    );
    check(typeof constantValue === 'number', 'pad', 'constantValue as a number', constantValue);
    checkOutputShape($x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]), 'pad');
    const before = paddings.map((p) => p[0]);
    const after = paddings.map((p) => p[1]);
    if ($x.dtype === 'float32') return padRaw($x, before, after, constantValue);
    // Note [int pad]: the Pad kernel is float32; int32 values up to 2^24 round-trip exactly.
    return cast(padRaw(cast($x, 'float32'), before, after, constantValue), $x.dtype);
  });
}

/** tf.tile: repeats x reps[i] times along axis i (composed of concats). */
export function tile(x: TensorLike, reps: number[]): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'tile');
    const r = intList(reps, 'reps', 'tile', $x.rank);
    check(r.every((v) => v >= 1), 'tile', 'reps >= 1', reps);
    const out = $x.shape.map((d, i) => d * r[i]);
    checkOutputShape(out, 'tile');
    if ($x.size === 0) return zeros(out, $x.dtype);
    let y = $x;
    r.forEach((n, axis) => {
      if (n > 1) y = repeatAlong(y, n, axis);
    });
    return y === $x ? reshape($x, $x.shape) : y;
  });
}

/** n copies of y joined along axis, with O(log n) concats (Note [tile by doubling]). */
function repeatAlong(y: Tensor, n: number, axis: number): Tensor {
  // Note [tile by doubling]: one concat of n references would build an n-long JS array (a
  // heap exhaustion for reps of 1e9 over a tiny tensor); doubling needs log2(n) concats.
  const parts: Tensor[] = [];
  let p = y;
  for (let k = n; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) parts.push(p);
    if (k > 1) p = concat([p, p], axis);
  }
  return parts.length === 1 ? parts[0] : concat(parts, axis);
}

// ---- broadcasting and selection

/** tf.broadcastTo: x broadcast (numpy rules, x's rank <= shape's) to shape. */
export function broadcastTo(x: TensorLike, shape: number[]): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'broadcastTo');
    const s = checkShape(shape, 'broadcastTo');
    check($x.rank <= s.length, 'broadcastTo', `x of rank <= ${s.length}`, $x.shape);
    const lead = s.length - $x.rank;
    check($x.shape.every((d, i) => d === 1 || d === s[lead + i]), 'broadcastTo', `x's shape to broadcast to ${describe(s)}`, $x.shape);
    if (sameShape($x.shape, s)) return $x;
    // add's gradient sums the broadcast axes back down to x's shape.
    return add($x, zeros(s, $x.dtype === 'bool' ? 'int32' : $x.dtype));
  });
}

/** tf.where: a where condition is true (non-zero), b elsewhere; all three broadcast. */
export function where(condition: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const $c = convertToTensor(condition, 'condition', 'where');
    const $a = convertToTensor(a, 'a', 'where');
    const $b = convertToTensor(b, 'b', 'where', $a.dtype);
    if ($a.dtype !== $b.dtype) throw new DTypeError(`where: expected b of dtype ${$a.dtype} (a's) but received ${$b.dtype}`);
    const shape = broadcastShape(broadcastShape($c.shape, $a.shape, 'where'), $b.shape, 'where');
    const c = broadcastTo($c.dtype === 'float32' ? $c : cast($c, 'float32'), shape);
    const fa = broadcastTo($a.dtype === 'float32' ? $a : cast($a, 'float32'), shape);
    const fb = broadcastTo($b.dtype === 'float32' ? $b : cast($b, 'float32'), shape);
    const y = defineOp(
      [c, fa, fb],
      () => ENGINE.runKernel('Select', [c, fa, fb], undefined, [{ shape, dtype: 'float32' }]),
      ([dy]) => {
        const m = ENGINE.runKernel('NotEqual', [c, makeTensor(0, [], 'float32')], undefined, [{ shape, dtype: 'float32' }])[0];
        return [null, mul(dy, m), mul(dy, sub(1, m))];
      },
      DIFF,
    )[0];
    return $a.dtype === 'float32' ? y : cast(y, $a.dtype);
  });
}

/** tf.clipByValue: min(max(x, clipValueMin), clipValueMax); the gradient passes where
 * clipValueMin <= x <= clipValueMax (as tfjs). */
export function clipByValue(x: TensorLike, clipValueMin: number, clipValueMax: number): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'clipByValue', 'float32');
    checkFloat($x, 'x', 'clipByValue');
    checkNumber(clipValueMin, 'clipByValue', 'clipValueMin', true);
    checkNumber(clipValueMax, 'clipByValue', 'clipValueMax', true);
    check(clipValueMin <= clipValueMax, 'clipByValue', 'clipValueMin <= clipValueMax', `${describe(clipValueMin)} > ${describe(clipValueMax)}`);
    const spec = [{ shape: $x.shape, dtype: 'float32' as const }];
    return defineOp1(
      [$x],
      () => {
        const lo = makeTensor(clipValueMin, [], 'float32');
        const hi = makeTensor(clipValueMax, [], 'float32');
        return ENGINE.runKernel('Minimum', [ENGINE.runKernel('Maximum', [$x, lo], undefined, spec)[0], hi], undefined, spec)[0];
      },
      (dy) => {
        const lo = ENGINE.runKernel('GreaterEqual', [$x, makeTensor(clipValueMin, [], 'float32')], undefined, spec)[0];
        const hi = ENGINE.runKernel('LessEqual', [$x, makeTensor(clipValueMax, [], 'float32')], undefined, spec)[0];
        return [mul(dy, mul(lo, hi))];
      },
      { name: 'clipByValue', differentiableGrad: true },
    );
  });
}

/** Flattens all axes after the first: [N, ...] -> [N, prod(...)] (rank-1 input stays). */
export function flatten(x: TensorLike): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'flatten');
    if ($x.rank <= 1) return reshape($x, [$x.size]);
    return reshape($x, [$x.shape[0], $x.shape.slice(1).reduce((a, b) => a * b, 1)]);
  });
}
