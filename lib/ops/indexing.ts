// Indexing and reordering ops built from the existing kernels (there is no Gather, Reverse,
// MirrorPad, TopK or Unique kernel): gather (slices of runs of consecutive indices joined by
// one Concat; its gradient a oneHot matMul), reverse (a nearest-neighbour flip per axis),
// mirrorPad (reversed edge slices concatenated), and topk / unique, computed on the host from
// the values (Note [host topk and unique]).
import { isFloatDType } from '../dtypes.js';
import { ENGINE } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { defineOp1 } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { checkBoolean, checkInt, checkOutputShape } from '../validate.js';
import { cast, oneHot, reshape, zeros } from './basic.js';
import { matMul } from './matmul.js';
import { concat, slice, transpose } from './transforms.js';
import { TensorLike, convertToTensor, makeTensor, normAxis, opScope, parseAxes, sizeOf } from './util.js';

/** Gradients written with differentiable ops only (Note [higher-order gradients]). */
const DIFF = { differentiableGrad: true };

/** A Slice kernel call, not recorded on the tape (the caller's defineOp carries the gradient). */
function rawSlice(x: Tensor, begin: number[], size: number[]): Tensor {
  return ENGINE.runKernel('Slice', [x], { begin, size }, [{ shape: size, dtype: x.dtype }])[0];
}

/** The most inputs one native Concat takes (native/ops/movement_kernels.cc). */
const MAX_CONCAT_INPUTS = 4096;

/** A Concat kernel call along axis (one input is returned as is; more than the kernel takes
 * are joined in groups first), not recorded on the tape. */
function rawConcat(parts: Tensor[], axis: number): Tensor {
  while (parts.length > MAX_CONCAT_INPUTS) {
    const groups: Tensor[] = [];
    for (let i = 0; i < parts.length; i += MAX_CONCAT_INPUTS) groups.push(rawConcat(parts.slice(i, i + MAX_CONCAT_INPUTS), axis));
    parts = groups;
  }
  if (parts.length === 1) return parts[0];
  const shape = parts[0].shape.slice();
  shape[axis] = parts.reduce((s, t) => s + t.shape[axis], 0);
  return ENGINE.runKernel('Concat', parts, { axis }, [{ shape, dtype: parts[0].dtype }])[0];
}

function rawReshape(x: Tensor, shape: number[]): Tensor {
  return ENGINE.runKernel('Reshape', [x], { shape }, [{ shape, dtype: x.dtype }])[0];
}

// ---- gather

// Note [gather by runs]: there is no Gather kernel. The forward reads the indices on the host
// (as it must anyway, to refuse an index out of range with a clear error) and copies each run
// of consecutive indices (i, i+1, ..., i+len-1) with one Slice kernel, then joins the runs
// with one Concat: the values are copied exactly (Inf and NaN included), the bytes moved are
// the output's, and the kernel count is the number of runs (one per index at worst, so a
// gather of 10^5 scattered rows is 10^5 small kernels: slow, but correct).
// The gradient into x is a scatter-add written as a matMul with a one-hot matrix along the
// axis: dx[b, p, :, r] = oneHot(indices[b], n)^T . dy[b, p, :, r], i.e. x and dy moved to
// [B, K, P*R] (a transpose only when axes precede the gathered one) and one batched
// matMul [B, n, K] x [B, K, P*R]. It costs B*n*K*P*R multiply-adds and a B*K*n one-hot
// (dense, where TensorFlow's UnsortedSegmentSum is B*K*P*R), and is itself differentiable
// (higher-order gradients); repeated indices add up, as in tfjs.

/**
 * tf.gather(x, indices, axis = 0, batchDims = 0): the slices of x along axis at int32
 * indices; the result's shape is x.shape[:axis] + indices.shape[batchDims:] + x.shape[axis+1:].
 * With batchDims, the first batchDims axes of x and indices are batch axes, each batch
 * gathering with its own indices. Indices outside [0, x.shape[axis]) throw an
 * InvalidArgumentError naming the first such index (Note [gather by runs]).
 */
export function gather(x: TensorLike, indices: TensorLike, axis = 0, batchDims = 0): Tensor {
  return opScope(() => {
    const op = 'gather';
    const $x = convertToTensor(x, 'x', op);
    const $i = convertToTensor(indices, 'indices', op, 'int32');
    check($x.rank >= 1, op, 'x of rank >= 1', $x.shape);
    checkInt(batchDims, op, 'batchDims');
    const bd = batchDims < 0 ? batchDims + $i.rank : batchDims;
    check(bd >= 0 && bd <= $i.rank, op, `batchDims in [${-$i.rank}, ${$i.rank}] (indices have rank ${$i.rank})`, batchDims);
    check(typeof axis === 'number', op, 'axis as an integer', axis);
    const a = normAxis(axis, $x.rank, op);
    check(a >= bd, op, `axis >= batchDims (${bd})`, axis);
    check(
      $x.shape.slice(0, bd).every((d, k) => d === $i.shape[k]),
      op,
      `indices whose first ${bd} dimensions (batchDims) are x's ${describe($x.shape.slice(0, bd))}`,
      $i.shape,
    );
    const n = $x.shape[a];
    const B = sizeOf($x.shape.slice(0, bd)), P = sizeOf($x.shape.slice(bd, a)), R = sizeOf($x.shape.slice(a + 1));
    const K = sizeOf($i.shape.slice(bd));
    const outShape = [...$x.shape.slice(0, a), ...$i.shape.slice(bd), ...$x.shape.slice(a + 1)];
    checkOutputShape(outShape, op);
    const idx = $i.dataSync();
    for (let j = 0; j < idx.length; j++)
      if (!(idx[j] >= 0 && idx[j] < n))
        throw new InvalidArgumentError(`${op}: expected indices in [0, ${n - 1}] (x's axis ${a} has size ${n}) but received ${idx[j]} at flat position ${j} of indices`);
    if (sizeOf(outShape) === 0) return zeros(outShape, $x.dtype);

    const forward = (t: Tensor): Tensor => {
      const x4 = rawReshape(t, [B, P, n, R]);
      const batches: Tensor[] = [];
      for (let b = 0; b < B; b++) {
        const runs: Tensor[] = [];
        for (let k = 0; k < K; ) {
          const start = idx[b * K + k];
          let len = 1;
          while (k + len < K && idx[b * K + k + len] === start + len) len++;
          runs.push(rawSlice(x4, [b, 0, start, 0], [1, P, len, R]));
          k += len;
        }
        batches.push(rawConcat(runs, 2));
      }
      return rawReshape(rawConcat(batches, 0), outShape);
    };
    const gradX = (dy: Tensor): Tensor => {
      const hot = oneHot(reshape($i, [B, K]), n); // [B, K, n]
      const d4 = reshape(dy, [B, P, K, R]);
      const d = P === 1 ? reshape(d4, [B, K, R]) : reshape(transpose(d4, [0, 2, 1, 3]), [B, K, P * R]);
      const dx = matMul(hot, d, true, false); // [B, n, P*R]
      return reshape(P === 1 ? dx : transpose(reshape(dx, [B, n, P, R]), [0, 2, 1, 3]), $x.shape);
    };
    // The movement kernels copy 4-byte elements: bool goes through int32.
    if ($x.dtype === 'bool') return cast(forward(cast($x, 'int32')), 'bool');
    return defineOp1([$x], () => forward($x), (dy) => [gradX(dy)], { name: 'gather', differentiableGrad: true });
  });
}

// ---- reverse

// Note [reverse as a flip]: there is no Reverse kernel. An axis of size n is reversed by
// viewing x as images [outer, 1, n, inner] and running ImageProjectiveTransform with the
// transform in_x = n - 1 - x and nearest-neighbour sampling: every output point maps to an
// exact integer input point (|coordinates| < 2^24), so each value is copied unchanged (NaN
// and Inf included), one kernel per reversed axis. The kernel reads float32: int32 is reversed
// through float32, exact for |values| <= 2^24 (as Note [int pad] in transforms.ts).

function flipAxis(t: Tensor, axis: number): Tensor {
  const n = t.shape[axis];
  const images = [sizeOf(t.shape.slice(0, axis)), 1, n, sizeOf(t.shape.slice(axis + 1))];
  const flip = makeTensor([-1, 0, n - 1, 0, 1, 0, 0, 0], [1, 8], 'float32');
  const y = ENGINE.runKernel('ImageProjectiveTransform', [rawReshape(t, images), flip], { interpolation: 'nearest', fillMode: 'constant', fillValue: 0 }, [
    { shape: images, dtype: 'float32' },
  ])[0];
  return rawReshape(y, t.shape);
}

/** tf.reverse(x, axis?): x with the order of the given axes (default: all) reversed (Note [reverse as a flip]). */
export function reverse(x: TensorLike, axis?: number | number[]): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'reverse');
    check(axis === undefined || axis === null || typeof axis === 'number' || Array.isArray(axis), 'reverse', 'axis as an integer or an array of integers', axis);
    const axes = parseAxes(axis, $x.rank, 'reverse').filter((a) => $x.shape[a] > 1);
    if (!axes.length || $x.size === 0) return reshape($x, $x.shape);
    if ($x.dtype !== 'float32') return cast(reverse(cast($x, 'float32'), axes), $x.dtype);
    return defineOp1([$x], () => axes.reduce(flipAxis, $x), (dy) => [reverse(dy, axes)], { name: 'reverse', differentiableGrad: true });
  });
}

// ---- mirrorPad

/**
 * tf.mirrorPad(x, paddings, mode): pads each axis with a mirror image of x's edge.
 * 'reflect' leaves out the edge value itself (paddings up to size - 1), 'symmetric' repeats
 * it (paddings up to size). The gradient adds the mirrored positions' contributions back
 * (tfjs' own mirrorPad gradient keeps only the center's).
 */
export function mirrorPad(x: TensorLike, paddings: Array<[number, number]> | number[][], mode: 'reflect' | 'symmetric'): Tensor {
  return opScope(() => {
    const op = 'mirrorPad';
    const $x = convertToTensor(x, 'x', op);
    check(
      Array.isArray(paddings) && paddings.length === $x.rank && paddings.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0)),
      op,
      `paddings as ${$x.rank} pairs [before, after] of non-negative integers`,
      paddings,
    );
    check(mode === 'reflect' || mode === 'symmetric', op, "mode 'reflect' or 'symmetric'", mode);
    const off = mode === 'reflect' ? 1 : 0;
    paddings.forEach(([p0, p1], i) => {
      const most = $x.shape[i] - off;
      check(p0 <= most && p1 <= most, op, `paddings[${i}] of at most ${most} per side (axis ${i} has size ${$x.shape[i]}, mode '${mode}')`, paddings[i]);
    });
    checkOutputShape($x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]), op);
    let y = $x;
    paddings.forEach(([p0, p1], i) => {
      if (!p0 && !p1) return;
      const n = y.shape[i];
      const edge = (begin: number, len: number) =>
        reverse(slice(y, y.shape.map((_, k) => (k === i ? begin : 0)), y.shape.map((d, k) => (k === i ? len : d))), [i]);
      const parts: Tensor[] = [];
      if (p0) parts.push(edge(off, p0));
      parts.push(y);
      if (p1) parts.push(edge(n - off - p1, p1));
      y = concat(parts, i);
    });
    return y === $x ? reshape($x, $x.shape) : y;
  });
}

// ---- topk and unique

// Note [host topk and unique]: there is no sort or hash kernel, so topk and unique read x's
// values on the host (dataSync: a device-to-host copy and a synchronization on cuda) and
// upload their results. topk sorts each row (O(n log n)) with ties broken by the lower index,
// as TensorFlow does; `sorted: false` returns the same (sorted) order, which TensorFlow's
// "unspecified order" allows. NaN is not ordered here (TensorFlow ranks it highest). unique
// compares values, so it treats all NaNs as one value (TensorFlow keeps each NaN apart).

/** Typed array constructor holding dtype's values on the host. */
function hostArray(dtype: string, n: number): Float32Array | Int32Array | Uint8Array {
  return dtype === 'int32' ? new Int32Array(n) : dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n);
}

/** tfjs' topk result. */
export interface TopKResult {
  /** The k largest values of each row, largest first, in x's dtype. */
  values: Tensor;
  /** Their positions along the last axis (int32). */
  indices: Tensor;
}

/**
 * tf.topk(x, k = 1, sorted = true): the k largest values along the last axis, in descending
 * order, and their int32 indices (Note [host topk and unique]). The gradient of values goes
 * to the selected positions.
 */
export function topk(x: TensorLike, k = 1, sorted = true): TopKResult {
  return opScope(() => {
    const op = 'topk';
    const $x = convertToTensor(x, 'x', op);
    check($x.rank >= 1, op, 'x of rank >= 1', $x.shape);
    const n = $x.shape[$x.rank - 1];
    checkInt(k, op, 'k', 0, n);
    checkBoolean(sorted, op, 'sorted');
    const rows = sizeOf($x.shape.slice(0, -1));
    const outShape = [...$x.shape.slice(0, -1), k];
    const data = $x.dataSync();
    const vals = hostArray($x.dtype, rows * k);
    const idxs = new Int32Array(rows * k);
    const order = new Array<number>(n);
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      for (let j = 0; j < n; j++) order[j] = j;
      order.sort((i, j) => {
        const a = data[base + i], b = data[base + j];
        return a > b ? -1 : a < b ? 1 : i - j;
      });
      for (let j = 0; j < k; j++) {
        idxs[r * k + j] = order[j];
        vals[r * k + j] = data[base + order[j]];
      }
    }
    const indices = makeTensor(idxs, outShape, 'int32');
    const upload = () => makeTensor(vals, outShape, $x.dtype);
    if (!isFloatDType($x.dtype) || k === 0) return { values: upload(), indices };
    const values = defineOp1(
      [$x],
      upload,
      (dy) => {
        // dx[r, :] = dy[r, :] . oneHot(indices[r, :], n): the values' gradient to their positions.
        const hot = oneHot(reshape(indices, [rows, k]), n); // [rows, k, n]
        return [reshape(matMul(reshape(dy, [rows, 1, k]), hot), $x.shape)];
      },
      { name: 'topk', ...DIFF },
    );
    return { values, indices };
  });
}

/** tfjs' unique result. */
export interface UniqueResult {
  /** The distinct slices along the axis, in order of first occurrence, in x's dtype. */
  values: Tensor;
  /** For each slice of x along the axis, the index of its value in values (int32). */
  indices: Tensor;
}

/**
 * tf.unique(x, axis = 0): the distinct slices of x along axis in order of first occurrence,
 * and for each slice of x the int32 index of its value in them (Note [host topk and
 * unique]). No gradient (as in tfjs).
 */
export function unique(x: TensorLike, axis = 0): UniqueResult {
  return opScope(() => {
    const op = 'unique';
    const $x = convertToTensor(x, 'x', op);
    check($x.rank >= 1, op, 'x of rank >= 1', $x.shape);
    check(typeof axis === 'number', op, 'axis as an integer', axis);
    const a = normAxis(axis, $x.rank, op);
    const outer = sizeOf($x.shape.slice(0, a)), n = $x.shape[a], inner = sizeOf($x.shape.slice(a + 1));
    const data = $x.dataSync();
    const seen = new Map<string, number>();
    const first: number[] = [];
    const idx = new Int32Array(n);
    const slot = new Array<number>(outer * inner);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) slot[o * inner + j] = data[(o * n + i) * inner + j];
      const key = slot.join(',');
      let u = seen.get(key);
      if (u === undefined) {
        u = first.length;
        seen.set(key, u);
        first.push(i);
      }
      idx[i] = u;
    }
    const U = first.length;
    const vals = hostArray($x.dtype, outer * U * inner);
    for (let o = 0; o < outer; o++)
      for (let u = 0; u < U; u++)
        for (let j = 0; j < inner; j++) vals[(o * U + u) * inner + j] = data[(o * n + first[u]) * inner + j];
    const shape = $x.shape.map((d, k) => (k === a ? U : d));
    return { values: makeTensor(vals, shape, $x.dtype), indices: makeTensor(idx, [n], 'int32') };
  });
}
