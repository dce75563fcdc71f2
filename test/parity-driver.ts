// The parity driver: runs one case on the backend under test and holds it to a reference
// given as a parameter: TensorFlow (tfjs-node's kernels, computed live or replayed from a
// recording, test/reference.ts) in the parity suites (test/parity-*.test.ts), or another
// backend of ours (cpu, when cuda is under test in test/gpu.test.ts). It compares the
// number of outputs, then each output's backend, shape and dtype, then its values within
// the case's tolerance, and last checks that no cudnn-node tensor leaked.
//
// A case is one of
//   - an op case: inputs described by shape and range (seeded from the case's name) and
//     ours(...xs) -> y (plus ref(...xs) -> y for TensorFlow); the driver adds the gradients
//     of sum(y * dy), for a seeded dy, with respect to each float input. Its outputs are
//     'forward', then 'grad[input i]'.
//   - a program case: program() makes its own inputs and returns the tensors to compare
//     ('output i'); withGrads() makes one that also returns gradients. A program is
//     cudnn-node code, so its reference can only be another backend of ours.
// PARITY_REPORT=1 prints the measured errors (flushReport).
import { expect } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { expectClose, seededRandom } from './helpers.js';
import { RefTensor, digest, fromTf, loadTf, reference, replaying } from './reference.js';

export type TFModule = typeof TF;

export interface Tol {
  rtol: number;
  atol: number;
}

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

/** One op on described inputs; the driver adds its gradients. */
export interface OpCase {
  name: string;
  inputs: ParityInput[];
  ours: (...xs: cn.Tensor[]) => cn.Tensor;
  /** The same computation in TensorFlow (needed with a TensorFlow reference only). */
  ref?: (...xs: TF.Tensor[]) => TF.Tensor;
  /** Forward tolerance. */
  tol: Tol;
  /** Gradient tolerance (default: tol); false skips the gradient check. */
  gradTol?: Tol | false;
  seed?: number;
}

/** cudnn-node code that makes its own (seeded) inputs and returns what to compare. */
export type Program = () => cn.Tensor | cn.Tensor[];

export interface ProgramCase {
  name: string;
  program: Program;
  /** Tolerance of every output. */
  tol: Tol;
}

export type ParityCase = OpCase | ProgramCase;

/** Another backend of ours as the reference: cpu when cuda is under test. */
export class BackendReference {
  constructor(readonly backend: string) {}
}

/**
 * What a case is held to: TensorFlow, given as the tfjs-node module (loadReference(); it is
 * undefined while the references are replayed), or another backend of ours.
 */
export type Reference = TFModule | BackendReference;

export interface CheckOptions {
  /** The backend under test (default: the current one). */
  backend?: string;
}

// ------------------------------------------------------------------ the TensorFlow reference

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

// ------------------------------------------------------------------ running on a backend

/**
 * Runs fn with `backend` selected and returns every output's shape, dtype and values; each
 * output must live on that backend. Everything fn makes is freed.
 */
export function runOn(backend: string, fn: Program, what = 'output'): RefTensor[] {
  const prev = cn.getBackend();
  cn.setBackend(backend);
  let outs: RefTensor[] = [];
  try {
    cn.tidy(() => {
      const r = fn();
      const list = Array.isArray(r) ? r : [r];
      list.forEach((t, i) => expect(cn.backendOf(t), `${what} ${i}: backend`).toBe(backend));
      outs = list.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: t.dataSync() }));
    });
  } finally {
    cn.setBackend(prev);
  }
  return outs;
}

/** A program: f's output, then the gradients of sum(y * dy) with respect to each input,
 * for a seeded dy in [-1, 1). */
export function withGrads(f: (...xs: cn.Tensor[]) => cn.Tensor, xs: () => cn.Tensor[], dySeed = 99): Program {
  return () => {
    const inputs = xs();
    const y = f(...inputs);
    const dy = cn.tensor(seededRandom(y.size, dySeed, -1, 1), y.shape.slice());
    return [y, ...cn.grads(f)(inputs, dy)];
  };
}

// ------------------------------------------------------------------ op cases

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

/** An op case's inputs, dy seed and differentiated inputs, the same on every side. */
function opSetup(c: OpCase) {
  const seed = c.seed ?? nameSeed(c.name);
  const data = c.inputs.map((inp, i) => inputData(inp, seed * 31 + i));
  const gradIdx = c.inputs.map((inp, i) => ((inp.grad ?? (inp.dtype ?? 'float32') === 'float32') ? i : -1)).filter((i) => i >= 0);
  const withGradients = c.gradTol !== false && gradIdx.length > 0;
  return { seed, data, gradIdx, withGradients, dySeed: seed * 31 + 97 };
}
type OpSetup = ReturnType<typeof opSetup>;

/** The op case as a program of ours: the forward value, then the gradients. */
function opProgram(c: OpCase, s: OpSetup): Program {
  return () => {
    const xs = c.inputs.map((inp, i) => cn.tensor(s.data[i], inp.shape.slice(), inp.dtype ?? 'float32'));
    const y = c.ours(...xs);
    if (!s.withGradients) return y;
    const dy = cn.tensor(seededRandom(y.size, s.dySeed, -1, 1), y.shape.slice());
    const f = (...gs: cn.Tensor[]) => c.ours(...xs.map((x, i) => (s.gradIdx.includes(i) ? gs[s.gradIdx.indexOf(i)] : x)));
    return [y, ...cn.grads(f)(s.gradIdx.map((i) => xs[i]), dy)];
  };
}

/** TensorFlow's forward value and gradients of sum(y * dy) for one op case. */
function tfSide(tf: TFModule, c: OpCase, s: OpSetup) {
  const ref = c.ref!;
  const refXs = c.inputs.map((inp, i) => tf.tensor(s.data[i], inp.shape, inp.dtype ?? 'float32'));
  try {
    const yr = tf.tidy(() => ref(...refXs));
    const forward = fromTf(yr);
    const grads: RefTensor[] = [];
    if (s.withGradients) {
      const dyr = tf.tensor(seededRandom(yr.size, s.dySeed, -1, 1), yr.shape);
      const refF = (...gs: TF.Tensor[]) => ref(...refXs.map((x, i) => (s.gradIdx.includes(i) ? gs[s.gradIdx.indexOf(i)] : x)));
      const refs = tf.grads(refF)(s.gradIdx.map((i) => refXs[i]), dyr);
      grads.push(...refs.map(fromTf));
      tf.dispose([...refs, dyr]);
    }
    yr.dispose();
    return { forward, grads };
  } finally {
    tf.dispose(refXs);
  }
}

/** TensorFlow's outputs for an op case: live, recorded or replayed under the case's name
 * and a digest of its inputs. */
function tensorflowOutputs(tf: TFModule | undefined, c: OpCase, s: OpSetup): RefTensor[] {
  if (!c.ref) throw new Error(`checkParity: "${c.name}" has no ref (its TensorFlow form) but the reference is TensorFlow`);
  if (!tf && !replaying()) requireTf(tf);
  const key = `${c.name} #${digest(c.inputs.map((inp, i) => ({ shape: inp.shape, values: s.data[i] })))}`;
  const r = reference(key, () => tfSide(tf!, c, s));
  // Note [comparison dtype] (lib/ops/basic.ts): TensorFlow's bool is our float32.
  return [r.forward, ...r.grads].map((t) => (t.dtype === 'bool' ? { ...t, dtype: 'float32' } : t));
}

// ------------------------------------------------------------------ comparison

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

/** One output against its reference: shape, dtype, then values (`what` names both). */
function compare(what: string, valuesWhat: string, ours: RefTensor, ref: RefTensor, tol: Tol): void {
  expect(ours.shape, `${what}: shape`).toEqual(ref.shape);
  expect(ours.dtype, `${what}: dtype`).toBe(ref.dtype);
  if (process.env.PARITY_REPORT) {
    const er = errors(ours.values, ref.values);
    report.push(`  ${valuesWhat}: max abs ${er.abs.toExponential(2)}, max rel ${er.rel.toExponential(2)} (${ours.values.length} values)`);
  }
  expectClose(ours.values, ref.values, { ...tol, what: valuesWhat, actualShape: ours.shape, expectedShape: ref.shape });
}

/**
 * Runs one case on the backend under test (options.backend, default the current one) and
 * holds it to `ref`: the number of outputs, each output's backend, shape, dtype and values,
 * then no leaked tensor. The reference is computed first.
 */
export function checkParity(ref: Reference, c: ParityCase, options: CheckOptions = {}): void {
  const backend = options.backend ?? cn.getBackend();
  const before = cn.memory().numTensors;
  let program: Program, expected: RefTensor[], labels: (n: number) => string[], tols: (n: number) => Tol[];
  if ('program' in c) {
    if (!(ref instanceof BackendReference))
      throw new Error(`checkParity: "${c.name}" is a program of cudnn-node ops, which TensorFlow cannot run (give a BackendReference)`);
    program = c.program;
    expected = runOn(ref.backend, program, `${c.name} (${ref.backend}) output`);
    labels = (n) => Array.from({ length: n }, (_, i) => `output ${i}`);
    tols = (n) => Array<Tol>(n).fill(c.tol);
  } else {
    const s = opSetup(c);
    program = opProgram(c, s);
    expected = ref instanceof BackendReference ? runOn(ref.backend, program, `${c.name} (${ref.backend}) output`) : tensorflowOutputs(ref, c, s);
    labels = (n) => ['forward', ...s.gradIdx.map((i) => `grad[input ${i}]`)].slice(0, n);
    tols = (n) => [c.tol, ...Array<Tol>(n).fill(c.gradTol || c.tol)].slice(0, n);
  }
  const actual = runOn(backend, program, `${c.name} output`);
  expect(actual.length, `${c.name}: number of outputs`).toBe(expected.length);
  const vs = ref instanceof BackendReference ? ` (${backend} vs ${ref.backend})` : '';
  const names = labels(actual.length), tol = tols(actual.length);
  actual.forEach((a, i) => compare(`${c.name} ${names[i]}`, `${c.name} ${names[i]}${vs}`, a, expected[i], tol[i]));
  expect(cn.memory().numTensors, `${c.name}: cudnn-node tensors leaked`).toBe(before);
}
