// Shared driver of the parity suites (test/parity-*.test.ts): runs one op on the same
// seeded inputs in cudnn-node and in tfjs-node (TensorFlow's kernels), compares shapes and
// dtypes first, then values, then the gradients of sum(y * dy) for a seeded dy, and checks
// that no cudnn-node tensor leaked. PARITY_REPORT=1 prints the measured errors. The
// TensorFlow side goes through reference() (test/reference.ts): live, or replayed from a
// recording where tfjs-node cannot be installed (the GPU machine).
import { expect } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { expectClose, seededRandom } from './helpers.js';
import { RefTensor, digest, fromTf, loadTf, reference, replaying } from './reference.js';

export type TFModule = typeof TF;

export interface ParityInput {
  shape: number[];
  /** Seeded uniform values in [lo, hi) unless values are given. */
  lo?: number;
  hi?: number;
  values?: number[] | Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
  /** Differentiate with respect to this input (default: float32 inputs). */
  grad?: boolean;
}

export interface Tol {
  rtol: number;
  atol: number;
}

export interface ParityCase {
  name: string;
  inputs: ParityInput[];
  ours: (...xs: cn.Tensor[]) => cn.Tensor;
  ref: (...xs: TF.Tensor[]) => TF.Tensor;
  /** Forward tolerance. */
  tol: Tol;
  /** Gradient tolerance (default: tol); false skips the gradient check. */
  gradTol?: Tol | false;
  seed?: number;
}

let loadError: unknown;

/**
 * Loads tfjs-node for a parity file's beforeAll (undefined when the references are replayed,
 * see test/reference.ts). A missing reference must fail every parity test (not skip them):
 * the error is kept and rethrown by each checkParity().
 */
export async function loadReference(): Promise<TFModule> {
  try {
    return (await loadTf()) as TFModule;
  } catch (e) {
    loadError = e;
    return undefined as unknown as TFModule;
  }
}

/** tfjs-node for a reference computation, or the load error. */
export function requireTf(tf: TFModule | undefined): TFModule {
  if (!tf) throw loadError ?? new Error('parity: the tfjs-node reference was not loaded (call loadReference() in beforeAll)');
  return tf;
}

/** A seed from the case's name (FNV-1a): the same inputs on every backend and in every run,
 * whichever tests a filter selects, so that recorded references match. */
function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return 1000 + (h % 1_000_000);
}

function inputData(inp: ParityInput, seed: number): Float32Array | Int32Array {
  const n = inp.shape.reduce((a, b) => a * b, 1);
  if (inp.values) return inp.dtype === 'int32' ? Int32Array.from(inp.values) : Float32Array.from(inp.values);
  const r = seededRandom(n, seed, inp.lo ?? -1, inp.hi ?? 1);
  return inp.dtype === 'int32' ? Int32Array.from(r, Math.floor) : r;
}

/** Largest |a - e| and largest |a - e| / max(|e|, 1e-3), for reports. */
function errors(a: ArrayLike<number>, e: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0, rel = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.max(Math.abs(e[i]), 1e-3));
  }
  return { abs, rel };
}

const report: string[] = [];
export function flushReport(title: string): void {
  if (process.env.PARITY_REPORT && report.length) console.log(`${title}\n${report.join('\n')}`);
  report.length = 0;
}

function compare(what: string, ours: cn.Tensor, ref: RefTensor, tol: Tol): void {
  expect(ours.shape, `${what}: shape`).toEqual(ref.shape);
  const refDtype = ref.dtype === 'bool' ? 'float32' : ref.dtype; // Note [comparison dtype]
  expect(ours.dtype, `${what}: dtype`).toBe(refDtype);
  const a = ours.dataSync(), e = ref.values;
  if (process.env.PARITY_REPORT) {
    const er = errors(a, e);
    report.push(`  ${what}: max abs ${er.abs.toExponential(2)}, max rel ${er.rel.toExponential(2)} (${a.length} values)`);
  }
  expectClose(a, e, { ...tol, what, actualShape: ours.shape, expectedShape: ref.shape });
}

/** TensorFlow's forward value and gradients of sum(y * dy) for one case (the dy is seeded
 * from the case's seed and the output's size). */
function tfSide(tf: TFModule, c: ParityCase, data: Array<Float32Array | Int32Array>, gradIdx: number[], seed: number) {
  const refXs = c.inputs.map((inp, i) => tf.tensor(data[i], inp.shape, inp.dtype ?? 'float32'));
  try {
    const yr = tf.tidy(() => c.ref(...refXs));
    const forward = fromTf(yr);
    const grads: RefTensor[] = [];
    if (c.gradTol !== false && gradIdx.length > 0) {
      const dyr = tf.tensor(seededRandom(yr.size, seed * 31 + 97, -1, 1), yr.shape);
      const refF = (...gs: TF.Tensor[]) => c.ref(...refXs.map((x, i) => (gradIdx.includes(i) ? gs[gradIdx.indexOf(i)] : x)));
      const refs = tf.grads(refF)(gradIdx.map((i) => refXs[i]), dyr);
      grads.push(...refs.map(fromTf));
      tf.dispose([...refs, dyr]);
    }
    yr.dispose();
    return { forward, grads };
  } finally {
    tf.dispose(refXs);
  }
}

/** Runs one parity case: forward, then gradients, then the leak check. */
export function checkParity(tf: TFModule, c: ParityCase): void {
  if (!tf && !replaying()) requireTf(tf);
  const seed = c.seed ?? nameSeed(c.name);
  const data = c.inputs.map((inp, i) => inputData(inp, seed * 31 + i));
  const gradIdx = c.inputs.map((inp, i) => ((inp.grad ?? (inp.dtype ?? 'float32') === 'float32') ? i : -1)).filter((i) => i >= 0);
  const key = `${c.name} #${digest(c.inputs.map((inp, i) => ({ shape: inp.shape, values: data[i] })))}`;
  const ref = reference(key, () => tfSide(tf, c, data, gradIdx, seed));
  const before = cn.memory().numTensors;

  const ourXs = c.inputs.map((inp, i) => cn.tensor(data[i], inp.shape.slice(), inp.dtype ?? 'float32'));
  try {
    cn.tidy(() => {
      const y = c.ours(...ourXs);
      compare(`${c.name} forward`, y, ref.forward, c.tol);
      if (c.gradTol === false || gradIdx.length === 0) return;
      const gtol = c.gradTol ?? c.tol;
      const dy = cn.tensor(seededRandom(y.size, seed * 31 + 97, -1, 1), y.shape.slice());
      const ourF = (...gs: cn.Tensor[]) => c.ours(...ourXs.map((x, i) => (gradIdx.includes(i) ? gs[gradIdx.indexOf(i)] : x)));
      const ours = cn.grads(ourF)(gradIdx.map((i) => ourXs[i]), dy);
      try {
        expect(ref.grads.length, `${c.name}: reference gradients`).toBe(gradIdx.length);
        gradIdx.forEach((inp, k) => compare(`${c.name} grad[input ${inp}]`, ours[k], ref.grads[k], gtol));
      } finally {
        cn.dispose(ours); // grads' results outlive tidy() (kept), so free them here
      }
    });
  } finally {
    cn.dispose(ourXs);
  }
  expect(cn.memory().numTensors, `${c.name}: cudnn-node tensors leaked`).toBe(before);
}

/** Convolution accumulations: atol grows with the sqrt of the reduction length K. */
export function convTol(k: number, rtol = 1e-4): Tol {
  return { rtol, atol: 2e-5 * Math.sqrt(k) };
}

/** Bilinear resize as x_flat . M with M = the resize of each one-hot basis image (TF's own
 * forward kernel), so tf.grads differentiates a matMul: tfjs' own resizeBilinear gradient
 * ignores halfPixelCenters. */
export function resizeAsMatMul(tf: TFModule, x: TF.Tensor, size: [number, number], ac: boolean, hpc: boolean): TF.Tensor {
  const x4 = x.rank === 4 ? x : tf.expandDims(x, 0);
  const [n, h, w, c] = x4.shape;
  const basis = tf.reshape(tf.eye(h * w), [h * w, h, w, 1]) as TF.Tensor4D;
  const m = tf.reshape(tf.image.resizeBilinear(basis, size, ac, hpc), [h * w, size[0] * size[1]]);
  const flat = tf.reshape(tf.transpose(x4, [0, 3, 1, 2]), [n * c, h * w]);
  const y = tf.transpose(tf.reshape(tf.matMul(flat, m), [n, c, size[0], size[1]]), [0, 2, 3, 1]);
  return x.rank === 4 ? y : tf.squeeze(y, [0]);
}
