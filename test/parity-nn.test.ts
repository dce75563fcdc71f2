// Parity with tfjs-node: activations and unary math, softmax / logSoftmax, batchNorm
// (inference and training), matMul / fused.matMul / dot, image.resizeBilinear and the
// cross-entropy ops; forward and gradients, per-op tolerances below.
import { afterAll, beforeAll, beforeEach, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { describeBackends } from './helpers.js';
import { TFModule, Tol, checkParity, loadReference, flushReport, resizeAsMatMul } from './parity-common.js';
import { saveRecording } from './reference.js';

let tf: TFModule;
beforeAll(async () => {
  tf = await loadReference(); // a missing reference fails every test
});
afterAll(saveRecording);

// Elementwise: 1-2 ulp differences in transcendental functions.
const EW: Tol = { rtol: 1e-5, atol: 1e-6 };
const MM = (k: number): Tol => ({ rtol: 1e-4, atol: 2e-5 * Math.sqrt(k) });

type Un = (x: cn.Tensor) => cn.Tensor;
type TfUn = (x: TF.Tensor) => TF.Tensor;
interface UnaryCfg {
  name: string;
  lo?: number;
  hi?: number;
  tol?: Tol;
  gradTol?: Tol;
  ours: Un;
  ref: TfUn;
}

/** Applies a last-axis op along dim by transposing (tfjs supports only the last axis). */
function lastAxisRef(tf: TFModule, x: TF.Tensor, dim: number, f: (t: TF.Tensor) => TF.Tensor): TF.Tensor {
  const r = x.rank, a = dim < 0 ? dim + r : dim;
  if (a === r - 1) return f(x);
  const perm = [...Array(r).keys()].filter((i) => i !== a).concat([a]);
  const inv = perm.map((_, i) => perm.indexOf(i));
  return tf.transpose(f(tf.transpose(x, perm)), inv);
}

/** numpy broadcast of two shapes. */
function bshape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  return [...Array(r).keys()].map((i) => Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
}

describeBackends('parity: activations and unary math', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-nn activations [${backend}]`));
  const u = (name: keyof typeof cn & keyof typeof tf, lo = -3, hi = 3, tol?: Tol, gradTol?: Tol): UnaryCfg => ({
    name,
    lo,
    hi,
    tol,
    gradTol,
    ours: cn[name] as unknown as Un,
    ref: (x) => (tf[name] as unknown as TfUn)(x),
  });
  const cases: UnaryCfg[] = [
    u('relu'), u('relu6', -3, 9), u('elu'), u('selu'), u('sigmoid', -6, 6), u('tanh'), u('softplus', -5, 5),
    u('exp', -3, 3), u('log', 0.05, 4), u('log1p', -0.9, 4), u('sqrt', 0.05, 4), u('rsqrt', 0.1, 4, EW, { rtol: 2e-5, atol: 1e-5 }),
    u('square'), u('abs'), u('sign'), u('floor'), u('ceil'), u('round'), u('reciprocal', 0.2, 3), u('sin', -6, 6), u('cos', -6, 6),
    u('neg'),
    { name: 'leakyRelu(0.2)', ours: (x) => cn.leakyRelu(x), ref: (x) => tf.leakyRelu(x) },
    { name: 'leakyRelu(0.05)', ours: (x) => cn.leakyRelu(x, 0.05), ref: (x) => tf.leakyRelu(x, 0.05) },
  ];
  for (const shape of [[3, 7, 5], [1, 1], [129]]) {
    for (const c of cases) {
      it(`${c.name} ${JSON.stringify(shape)}`, () => {
        checkParity(tf, {
          name: `${c.name} ${JSON.stringify(shape)}`,
          inputs: [{ shape, lo: c.lo ?? -3, hi: c.hi ?? 3 }],
          ours: c.ours,
          ref: c.ref,
          tol: c.tol ?? EW,
          gradTol: c.gradTol ?? EW,
        });
      });
    }
  }
  it('prelu with per-channel alpha', () => {
    checkParity(tf, {
      name: 'prelu',
      inputs: [{ shape: [2, 5, 4] }, { shape: [4], lo: 0, hi: 0.5 }],
      ours: (x, a) => cn.prelu(x, a),
      ref: (x, a) => tf.prelu(x, a),
      tol: EW,
    });
  });

  for (const [shape, dim] of [[[4, 10], -1], [[2, 3, 17], 2], [[2, 5, 3], 1], [[6, 4], 0], [[1, 1000], -1]] as Array<[number[], number]>) {
    it(`softmax ${JSON.stringify(shape)} dim ${dim}`, () => {
      checkParity(tf, {
        name: `softmax ${JSON.stringify(shape)} dim ${dim}`,
        inputs: [{ shape, lo: -5, hi: 5 }],
        ours: (x) => cn.softmax(x, dim),
        ref: (x) => lastAxisRef(tf, x, dim, (t) => tf.softmax(t)),
        tol: EW,
        gradTol: { rtol: 1e-4, atol: 1e-6 },
      });
    });
    it(`logSoftmax ${JSON.stringify(shape)} axis ${dim}`, () => {
      checkParity(tf, {
        name: `logSoftmax ${JSON.stringify(shape)} axis ${dim}`,
        inputs: [{ shape, lo: -5, hi: 5 }],
        ours: (x) => cn.logSoftmax(x, dim),
        ref: (x) => lastAxisRef(tf, x, dim, (t) => tf.logSoftmax(t)),
        tol: EW,
        gradTol: { rtol: 1e-4, atol: 1e-5 },
      });
    });
  }
});

describeBackends('parity: batchNorm', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-nn batchNorm [${backend}]`));
  const BN: Tol = { rtol: 1e-5, atol: 1e-5 };
  const cases: Array<{ name: string; x: number[]; p: number[] | null; offset: boolean; scale: boolean }> = [
    { name: 'NHWC, per-channel statistics, offset and scale', x: [2, 5, 5, 3], p: [3], offset: true, scale: true },
    { name: 'rank 2, no offset or scale', x: [4, 6], p: [6], offset: false, scale: false },
    { name: 'rank 4, scale only, 64 channels', x: [1, 3, 3, 64], p: [64], offset: false, scale: true },
    { name: 'rank-4 statistics [1,1,1,C] (broadcast)', x: [2, 4, 3, 3], p: [1, 1, 1, 3], offset: true, scale: true },
  ];
  for (const c of cases) {
    it(`batchNorm ${c.name}`, () => {
      const p = c.p!;
      const inputs = [{ shape: c.x }, { shape: p }, { shape: p, lo: 0.2, hi: 1.5 }];
      if (c.offset) inputs.push({ shape: p });
      if (c.scale) inputs.push({ shape: p, lo: 0.5, hi: 2 });
      const split = <T>(xs: T[]): [T, T, T, T | undefined, T | undefined] => [xs[0], xs[1], xs[2], c.offset ? xs[3] : undefined, c.scale ? xs[c.offset ? 4 : 3] : undefined];
      checkParity(tf, {
        name: `batchNorm ${c.name}`,
        inputs,
        ours: (...xs) => {
          const [x, m, v, o, s] = split(xs);
          return cn.batchNorm(x, m, v, o, s, 1e-3);
        },
        // tfjs' batchNorm gradient needs offset and scale tensors, and tfjs-node's kernel
        // needs vector statistics: the reference fills in constants, or composes.
        ref: (...xs) => {
          const [x, m, v, o, s] = split(xs);
          if (p.length > 1) {
            let y = tf.mul(tf.sub(x, m), tf.rsqrt(tf.add(v, 1e-3)));
            if (s) y = tf.mul(y, s);
            return o ? tf.add(y, o) : y;
          }
          return tf.batchNorm(x, m, v, o ?? tf.zeros(p), s ?? tf.ones(p), 1e-3);
        },
        tol: BN,
        gradTol: { rtol: 1e-4, atol: 1e-4 },
      });
    });
  }
  for (const x of [[8, 5, 5, 3], [16, 10], [2, 3, 3, 64]]) {
    const c = x[x.length - 1];
    const axes = [...Array(x.length - 1).keys()];
    const rows = x.slice(0, -1).reduce((a, b) => a * b, 1);
    for (const out of ['y', 'mean', 'variance'] as const) {
      it(`batchNormTraining ${JSON.stringify(x)} ${out}`, () => {
        checkParity(tf, {
          name: `batchNormTraining ${JSON.stringify(x)} ${out}`,
          inputs: [{ shape: x, lo: -2, hi: 3 }, { shape: [c], lo: 0.5, hi: 2 }, { shape: [c] }],
          ours: (xx, g, b) => cn.batchNormTraining(xx, g, b, 1e-3)[out],
          ref: (xx, g, b) => {
            const { mean, variance } = tf.moments(xx, axes);
            if (out !== 'y') return out === 'mean' ? mean : variance;
            return tf.batchNorm(xx, mean, variance, b, g, 1e-3);
          },
          tol: { rtol: 1e-4, atol: 1e-5 },
          // The statistics carry no gradient (they feed moving averages).
          gradTol: out === 'y' ? { rtol: 1e-3, atol: 2e-5 * Math.sqrt(rows) } : false,
        });
      });
    }
  }
});

describeBackends('parity: matMul, fused.matMul, dot', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-nn matMul [${backend}]`));
  const cases: Array<{ a: number[]; b: number[]; tA: boolean; tB: boolean }> = [
    { a: [5, 7], b: [7, 3], tA: false, tB: false },
    { a: [7, 5], b: [7, 3], tA: true, tB: false },
    { a: [5, 7], b: [3, 7], tA: false, tB: true },
    { a: [7, 5], b: [3, 7], tA: true, tB: true },
    { a: [1, 64], b: [64, 33], tA: false, tB: false },
    { a: [3, 4, 5], b: [3, 5, 2], tA: false, tB: false },
    { a: [3, 5, 4], b: [3, 2, 5], tA: true, tB: true },
    { a: [3, 4, 5], b: [5, 2], tA: false, tB: false },
    { a: [4, 5], b: [3, 5, 2], tA: false, tB: false },
    { a: [2, 3, 4, 5], b: [2, 3, 5, 6], tA: false, tB: false },
    { a: [1, 4, 5], b: [3, 5, 2], tA: false, tB: false },
  ];
  for (const c of cases) {
    const k = c.tA ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
    it(`matMul ${JSON.stringify(c.a)}${c.tA ? 'T' : ''} x ${JSON.stringify(c.b)}${c.tB ? 'T' : ''}`, () => {
      checkParity(tf, {
        name: `matMul ${JSON.stringify(c)}`,
        inputs: [{ shape: c.a }, { shape: c.b }],
        ours: (a, b) => cn.matMul(a, b, c.tA, c.tB),
        // tfjs' matMul gradient does not reduce broadcast batch axes: broadcast explicitly.
        ref: (a, b) => {
          const batch = bshape(c.a.slice(0, -2), c.b.slice(0, -2));
          const full = (t: TF.Tensor) => (batch.length ? tf.broadcastTo(t, [...batch, ...t.shape.slice(-2)]) : t);
          return tf.matMul(full(a), full(b), c.tA, c.tB);
        },
        tol: MM(k),
        gradTol: MM(64),
      });
    });
  }
  for (const activation of ['relu', 'linear', 'sigmoid', 'elu'] as const) {
    it(`fused.matMul bias + ${activation}`, () => {
      checkParity(tf, {
        name: `fused.matMul ${activation}`,
        inputs: [{ shape: [6, 9] }, { shape: [9, 4] }, { shape: [4] }],
        ours: (a, b, bias) => cn.fused.matMul({ a, b, bias, activation }),
        ref: (a, b, bias) => tf.fused.matMul({ a, b, bias, activation }),
        tol: MM(9),
      });
    });
  }
  it('fused.matMul transposeB, batched, bias + relu', () => {
    checkParity(tf, {
      name: 'fused.matMul batched',
      inputs: [{ shape: [2, 6, 9] }, { shape: [2, 4, 9] }, { shape: [4] }],
      ours: (a, b, bias) => cn.fused.matMul({ a, b, bias, transposeB: true, activation: 'relu' }),
      ref: (a, b, bias) => tf.fused.matMul({ a, b, bias, transposeB: true, activation: 'relu' }),
      tol: MM(9),
    });
  });
  for (const [a, b] of [[[5], [5]], [[5], [5, 3]], [[4, 5], [5]], [[4, 5], [5, 3]]]) {
    it(`dot ${JSON.stringify(a)} . ${JSON.stringify(b)}`, () => {
      checkParity(tf, {
        name: `dot ${JSON.stringify(a)} . ${JSON.stringify(b)}`,
        inputs: [{ shape: a }, { shape: b }],
        ours: (x, y) => cn.dot(x, y),
        ref: (x, y) => tf.dot(x, y),
        tol: MM(5),
      });
    });
  }
});

describeBackends('parity: image.resizeBilinear', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-nn resize [${backend}]`));
  const modes: Array<[boolean, boolean]> = [[false, false], [false, true], [true, false]];
  const shapes: Array<[number[], [number, number]]> = [
    [[2, 5, 7, 3], [9, 4]],
    [[1, 8, 8, 1], [4, 4]],
    [[1, 4, 4, 64], [8, 8]],
    [[3, 3, 2], [7, 5]],
    [[2, 6, 5, 3], [6, 5]],
  ];
  for (const [shape, size] of shapes)
    for (const [ac, hpc] of modes) {
      it(`resizeBilinear ${JSON.stringify(shape)} -> ${JSON.stringify(size)} alignCorners ${ac} halfPixelCenters ${hpc}`, () => {
        checkParity(tf, {
          name: `resizeBilinear ${JSON.stringify(shape)} -> ${size} ac ${ac} hpc ${hpc}`,
          inputs: [{ shape }],
          ours: (x) => cn.image.resizeBilinear(x, size, ac, hpc),
          // tfjs-node's ResizeBilinearGrad drops halfPixelCenters: for hpc the reference is
          // the resize as a matrix (built by TF's forward kernel), differentiated by TF.
          ref: (x) => (hpc ? resizeAsMatMul(tf, x, size, ac, hpc) : tf.image.resizeBilinear(x as TF.Tensor4D, size, ac, hpc)),
          tol: { rtol: 1e-5, atol: 1e-6 },
          gradTol: { rtol: 1e-5, atol: 1e-5 },
        });
        if (hpc)
          checkParity(tf, {
            name: `resizeBilinear ${JSON.stringify(shape)} -> ${size} hpc, TF kernel forward`,
            inputs: [{ shape }],
            ours: (x) => cn.image.resizeBilinear(x, size, ac, hpc),
            ref: (x) => tf.image.resizeBilinear(x as TF.Tensor4D, size, ac, hpc),
            tol: { rtol: 1e-5, atol: 1e-6 },
            gradTol: false,
          });
      });
    }
  it('resizeBilinear defaults match tfjs (alignCorners false, halfPixelCenters false)', () => {
    checkParity(tf, {
      name: 'resizeBilinear defaults',
      inputs: [{ shape: [1, 5, 5, 2] }],
      ours: (x) => cn.image.resizeBilinear(x, [8, 3]),
      ref: (x) => tf.image.resizeBilinear(x as TF.Tensor4D, [8, 3]),
      tol: { rtol: 1e-5, atol: 1e-6 },
    });
  });
});

describeBackends('parity: cross-entropy', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-nn losses [${backend}]`));
  for (const [rows, classes] of [[8, 10], [1, 3], [33, 7]]) {
    const labels = Array.from({ length: rows }, (_, i) => (i * 7 + 3) % classes);
    it(`sparseSoftmaxCrossEntropy [${rows}, ${classes}]`, () => {
      checkParity(tf, {
        name: `sparseSoftmaxCrossEntropy [${rows}, ${classes}]`,
        inputs: [{ shape: [rows], dtype: 'int32', values: labels }, { shape: [rows, classes], lo: -4, hi: 4 }],
        ours: (l, z) => cn.sparseSoftmaxCrossEntropy(l, z),
        ref: (l, z) => tf.losses.softmaxCrossEntropy(tf.oneHot(l as TF.Tensor1D, classes), z, undefined, 0, tf.Reduction.NONE),
        tol: { rtol: 1e-5, atol: 1e-5 },
      });
    });
    it(`softmaxCrossEntropy [${rows}, ${classes}] (one-hot labels)`, () => {
      const onehot = labels.flatMap((l) => Array.from({ length: classes }, (_, j) => (j === l ? 1 : 0)));
      checkParity(tf, {
        name: `softmaxCrossEntropy [${rows}, ${classes}]`,
        inputs: [{ shape: [rows, classes], values: onehot, grad: false }, { shape: [rows, classes], lo: -4, hi: 4 }],
        ours: (l, z) => cn.softmaxCrossEntropy(l, z),
        ref: (l, z) => tf.losses.softmaxCrossEntropy(l, z, undefined, 0, tf.Reduction.NONE),
        tol: { rtol: 1e-5, atol: 1e-5 },
      });
    });
  }
  it('sparseSoftmaxCrossEntropy with a leading batch shape [2, 3, 5]', () => {
    checkParity(tf, {
      name: 'sparseSoftmaxCrossEntropy rank 3',
      inputs: [{ shape: [2, 3], dtype: 'int32', values: [0, 4, 2, 1, 3, 4] }, { shape: [2, 3, 5], lo: -4, hi: 4 }],
      ours: (l, z) => cn.sparseSoftmaxCrossEntropy(l, z),
      ref: (l, z) => tf.losses.softmaxCrossEntropy(tf.oneHot(l as TF.Tensor2D, 5), z, undefined, 0, tf.Reduction.NONE),
      tol: { rtol: 1e-5, atol: 1e-5 },
    });
  });
});

// tfjs-node has no Transform kernel; the reference is tfjs' 'cpu' backend, Google's port of
// TensorFlow's ImageProjectiveTransformV3 kernel (the same coordinate mapping and fill modes).
// That port reads only the first image correctly (4.22: images after the first come out as
// fill), so the reference transforms one image at a time.
const tfTransformEach = (
  x: TF.Tensor,
  rows: number[][],
  ...args: [('nearest' | 'bilinear')?, ('constant' | 'reflect' | 'wrap' | 'nearest')?, number?, [number, number]?]
): TF.Tensor =>
  tf.concat(
    Array.from({ length: x.shape[0] }, (_, b) =>
      tf.image.transform(tf.slice(x, [b, 0, 0, 0], [1, -1, -1, -1]) as TF.Tensor4D, tf.tensor2d([rows[rows.length === 1 ? 0 : b]]), ...args),
    ),
    0,
  );
describeBackends('parity: image.transform (ImageProjectiveTransformV3)', (backend) => {
  let prevTf = 'tensorflow';
  beforeAll(async () => {
    if (!tf) return; // replaying recorded references
    prevTf = tf.getBackend();
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    if (tf) await tf.setBackend(prevTf);
    flushReport(`parity-nn transform [${backend}]`);
  });
  beforeEach(() => cn.setBackend(backend));
  // Two images: a rotation with a shift, and a projective map (c0, c1 != 0).
  const rows = [
    [0.93, -0.37, 1.3, 0.37, 0.93, -0.7, 0, 0],
    [1.1, 0.21, -0.9, -0.13, 0.87, 1.7, 0.013, -0.021],
  ];
  for (const fillMode of ['constant', 'reflect', 'wrap', 'nearest'] as const)
    for (const interpolation of ['nearest', 'bilinear'] as const)
      it(`transform ${fillMode} / ${interpolation}, [2, 7, 9, 3] -> [8, 6]`, () => {
        checkParity(tf, {
          name: `transform ${fillMode} ${interpolation}`,
          inputs: [{ shape: [2, 7, 9, 3] }],
          ours: (x) => cn.image.transform(x, rows, interpolation, fillMode, 0.25, [8, 6]),
          ref: (x) => tfTransformEach(x, rows, interpolation, fillMode, 0.25, [8, 6]),
          tol: { rtol: 1e-5, atol: 1e-5 },
          gradTol: false,
        });
      });
  it('one transform for every image, and the default arguments (nearest, constant 0)', () => {
    checkParity(tf, {
      name: 'transform defaults',
      inputs: [{ shape: [3, 5, 5, 2] }],
      ours: (x) => cn.image.transform(x, [rows[0]]),
      ref: (x) => tfTransformEach(x, [rows[0]]),
      tol: { rtol: 1e-5, atol: 1e-5 },
      gradTol: false,
    });
  });
});
