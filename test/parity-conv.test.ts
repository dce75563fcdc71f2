// Parity with tfjs-node: conv2d, depthwiseConv2d, separableConv2d, conv2dTranspose,
// fused conv2d / depthwiseConv2d (bias + activation), maxPool, avgPool; forward and
// gradients. Tolerances: fp32 rtol 1e-4, atol 2e-5 * sqrt(K) for a reduction of K terms.
import { afterAll, beforeAll, beforeEach, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { describeBackends } from './helpers.js';
import { ParityCase, TFModule, checkParity, loadReference, convTol, flushReport } from './parity-common.js';
import { saveRecording } from './reference.js';

let tf: TFModule;
beforeAll(async () => {
  tf = await loadReference(); // a missing reference fails every test
});
afterAll(saveRecording);

type Pad = 'same' | 'valid' | number | number[][];
interface ConvCfg {
  x: number[];
  f: number[];
  strides: number | [number, number];
  pad: Pad;
  dilations?: number;
}

// Shapes: odd sizes, stride 2 with SAME padding, batch 1 and >1, channels 1, 3 and 64,
// dilation 2, explicit and numeric padding, a rank-3 (unbatched) input.
const convCases: ConvCfg[] = [
  { x: [1, 7, 7, 1], f: [3, 3, 1, 4], strides: 1, pad: 'same' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 8], strides: 2, pad: 'same' },
  { x: [2, 8, 8, 3], f: [5, 5, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 11, 10, 1], f: [2, 2, 1, 1], strides: [2, 3], pad: 'same' },
  { x: [3, 6, 6, 64], f: [3, 3, 64, 16], strides: 1, pad: 'valid' },
  { x: [1, 9, 9, 64], f: [1, 1, 64, 32], strides: 2, pad: 'valid' },
  { x: [2, 10, 10, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same', dilations: 2 },
  { x: [1, 9, 8, 3], f: [3, 2, 3, 5], strides: 1, pad: 'valid', dilations: 2 },
  { x: [2, 8, 7, 3], f: [2, 3, 3, 5], strides: [1, 2], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 6, 6, 3], f: [3, 3, 3, 2], strides: 2, pad: 1 },
  { x: [7, 7, 3], f: [3, 3, 3, 2], strides: 1, pad: 'same' },
  // 16+ input channels at stride 1: the cpu data gradient runs as a forward convolution
  // (Note [backward data as forward]): even kernels (SAME pads 0/1), dilation, a kernel
  // taller than wide, explicit pads up to and beyond the kernel's reach (the fallback).
  { x: [2, 7, 6, 32], f: [4, 4, 32, 8], strides: 1, pad: 'same' },
  { x: [2, 9, 8, 16], f: [3, 2, 16, 24], strides: 1, pad: 'same', dilations: 2 },
  { x: [1, 8, 8, 16], f: [3, 3, 16, 16], strides: 1, pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
  { x: [1, 5, 5, 16], f: [3, 3, 16, 8], strides: 1, pad: [[0, 0], [3, 0], [0, 1], [0, 0]] },
  // 1x1 stride 1: the cpu filter gradient is one matrix product (Note [1x1 filter gradient as GEMM]).
  { x: [2, 5, 4, 24], f: [1, 1, 24, 40], strides: 1, pad: 'same' },
];

const name = (c: ConvCfg) => `x ${JSON.stringify(c.x)} f ${JSON.stringify(c.f)} s ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)} d ${c.dilations ?? 1}`;

/** tfjs takes numeric pad for conv2d; explicit pads as [[0,0],[t,b],[l,r],[0,0]]. */
const tfPad = (p: Pad) => p as 'same' | 'valid' | number;

/** A depthwise filter [h,w,C,M] as the equivalent dense conv2d filter [h,w,C,C*M] (a
 * differentiable reference for the cases tfjs' depthwise gradient does not support). */
function denseFromDepthwise(tf: TFModule, f: TF.Tensor): TF.Tensor {
  const [h, w, c, m] = f.shape;
  const eye = tf.reshape(tf.eye(c), [1, 1, c, c, 1]);
  return tf.reshape(tf.mul(tf.reshape(f, [h, w, c, 1, m]), eye), [h, w, c, c * m]);
}

/**
 * tf.conv2d, differentiable where tfjs is not: explicit / numeric padding becomes tf.pad +
 * 'valid' (tfjs-node takes only 'same' / 'valid'), and dilation d > 1 becomes a
 * zero-stuffed filter of extent (k - 1) * d + 1 (tfjs has no dilated conv gradient).
 */
function convRef(tf: TFModule, x: TF.Tensor, f: TF.Tensor, strides: number | [number, number], pad: Pad, d: number): TF.Tensor {
  let xx = x.rank === 3 ? tf.expandDims(x, 0) : x;
  let p = pad;
  if (typeof pad === 'number') p = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  if (Array.isArray(p)) {
    xx = tf.pad(xx, p as Array<[number, number]>);
    p = 'valid';
  }
  let ff = f;
  if (d > 1) {
    const [kh, kw, i, o] = f.shape;
    const stuffed = tf.pad(tf.reshape(f, [kh, 1, kw, 1, i, o]), [[0, 0], [0, d - 1], [0, 0], [0, d - 1], [0, 0], [0, 0]]);
    ff = tf.slice(tf.reshape(stuffed, [kh * d, kw * d, i, o]), [0, 0, 0, 0], [(kh - 1) * d + 1, (kw - 1) * d + 1, i, o]);
  }
  const y = tf.conv2d(xx as TF.Tensor4D, ff as TF.Tensor4D, strides, p as 'same' | 'valid');
  return x.rank === 3 ? tf.squeeze(y, [0]) : y;
}

describeBackends('parity: convolution and pooling', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  afterAll(() => flushReport(`parity-conv [${backend}]`));

  for (const c of convCases) {
    const k = c.f[0] * c.f[1] * c.f[2];
    it(`conv2d ${name(c)}`, () => {
      checkParity(tf, {
        name: `conv2d ${name(c)}`,
        inputs: [{ shape: c.x }, { shape: c.f }],
        ours: (x, f) => cn.conv2d(x, f, c.strides, c.pad as never, 'NHWC', c.dilations ?? 1),
        ref: (x, f) => convRef(tf, x, f, c.strides, c.pad, c.dilations ?? 1),
        tol: convTol(k),
        // dx sums over out-channels * window, dw over batch * output pixels.
        gradTol: convTol(Math.max(k, c.f[3] * c.f[0] * c.f[1], c.x.slice(0, -1).reduce((a, b) => a * b, 1))),
      });
      if ((c.dilations ?? 1) > 1)
        checkParity(tf, {
          name: `conv2d ${name(c)} vs TF's dilated kernel (forward)`,
          inputs: [{ shape: c.x }, { shape: c.f }],
          ours: (x, f) => cn.conv2d(x, f, c.strides, c.pad as never, 'NHWC', c.dilations ?? 1),
          ref: (x, f) => tf.conv2d(x as TF.Tensor4D, f as TF.Tensor4D, c.strides, tfPad(c.pad), 'NHWC', c.dilations ?? 1),
          tol: convTol(k),
          gradTol: false,
        });
    });
  }

  it('conv2d NCHW equals NHWC transposed', () => {
    cn.tidy(() => {
      const x = cn.tensor(new Float32Array(2 * 3 * 9 * 9).map((_, i) => Math.sin(i)), [2, 9, 9, 3]);
      const f = cn.tensor(new Float32Array(3 * 3 * 3 * 4).map((_, i) => Math.cos(i)), [3, 3, 3, 4]);
      const nhwc = cn.conv2d(x, f, 2, 'same');
      const nchw = cn.conv2d(cn.transpose(x, [0, 3, 1, 2]), f, 2, 'same', 'NCHW');
      checkSame(cn.transpose(nchw, [0, 2, 3, 1]), nhwc);
    });
  });

  const fusedCases: Array<ConvCfg & { activation: 'relu' | 'linear' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' }> = [
    { x: [2, 9, 9, 3], f: [3, 3, 3, 8], strides: 2, pad: 'same', activation: 'relu' },
    { x: [1, 8, 8, 64], f: [3, 3, 64, 16], strides: 1, pad: 'same', activation: 'relu' },
    { x: [2, 7, 7, 1], f: [3, 3, 1, 4], strides: 1, pad: 'valid', activation: 'linear' },
    { x: [2, 10, 10, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same', dilations: 2, activation: 'relu' },
    { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same', activation: 'relu6' },
    { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: 2, pad: 'same', activation: 'elu' },
    { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: 'valid', activation: 'sigmoid' },
    { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: 'valid', activation: 'leakyrelu' },
  ];
  for (const c of fusedCases) {
    const k = c.f[0] * c.f[1] * c.f[2];
    it(`fused.conv2d bias + ${c.activation} ${name(c)}`, () => {
      checkParity(tf, {
        name: `fused.conv2d ${c.activation} ${name(c)}`,
        inputs: [{ shape: c.x }, { shape: c.f }, { shape: [c.f[3]] }],
        ours: (x, filter, bias) => cn.fused.conv2d({ x, filter, bias, strides: c.strides, pad: c.pad as 'same', dilations: c.dilations ?? 1, activation: c.activation, leakyreluAlpha: 0.1 }),
        ref: (x, filter, bias) =>
          (c.dilations ?? 1) > 1
            ? tf.relu(tf.add(convRef(tf, x, filter, c.strides, c.pad, c.dilations ?? 1), bias))
            : tf.fused.conv2d({ x: x as TF.Tensor4D, filter: filter as TF.Tensor4D, bias, strides: c.strides, pad: tfPad(c.pad), activation: c.activation, leakyreluAlpha: 0.1 }),
        tol: convTol(k),
        gradTol: convTol(Math.max(k, c.f[3] * c.f[0] * c.f[1], c.x.slice(0, -1).reduce((a, b) => a * b, 1))),
      });
    });
  }

  const dwCases: ConvCfg[] = [
    { x: [2, 9, 9, 3], f: [3, 3, 3, 2], strides: 2, pad: 'same' },
    { x: [1, 8, 8, 64], f: [3, 3, 64, 1], strides: 1, pad: 'same' },
    { x: [2, 7, 7, 1], f: [5, 5, 1, 3], strides: 1, pad: 'valid' },
    { x: [3, 10, 9, 3], f: [3, 3, 3, 1], strides: 2, pad: 'valid' },
  ];
  for (const c of dwCases) {
    it(`depthwiseConv2d ${name(c)}`, () => {
      checkParity(tf, {
        name: `depthwiseConv2d ${name(c)}`,
        inputs: [{ shape: c.x }, { shape: c.f }],
        ours: (x, f) => cn.depthwiseConv2d(x, f, c.strides, c.pad as 'same'),
        ref: (x, f) => tf.depthwiseConv2d(x as TF.Tensor4D, f as TF.Tensor4D, c.strides, tfPad(c.pad)),
        tol: convTol(c.f[0] * c.f[1]),
        gradTol: convTol(Math.max(c.f[0] * c.f[1] * c.f[3], c.x.slice(0, -1).reduce((a, b) => a * b, 1))),
      });
    });
  }
  // tfjs has no depthwise gradient for dilation > 1: the reference is the equivalent dense
  // conv2d (block-diagonal filter), differentiated by TensorFlow.
  const dwDilated: ConvCfg[] = [
    { x: [2, 10, 10, 3], f: [3, 3, 3, 2], strides: 1, pad: 'same', dilations: 2 },
    { x: [1, 11, 9, 4], f: [3, 3, 4, 1], strides: 1, pad: 'valid', dilations: 2 },
  ];
  for (const c of dwDilated) {
    it(`depthwiseConv2d ${name(c)} (dense reference)`, () => {
      checkParity(tf, {
        name: `depthwiseConv2d ${name(c)}`,
        inputs: [{ shape: c.x }, { shape: c.f }],
        ours: (x, f) => cn.depthwiseConv2d(x, f, c.strides, c.pad as 'same', 'NHWC', c.dilations),
        ref: (x, f) => convRef(tf, x, denseFromDepthwise(tf, f), c.strides, c.pad, c.dilations ?? 1),
        tol: convTol(c.f[0] * c.f[1] * c.f[2]),
        gradTol: convTol(c.x.slice(0, -1).reduce((a, b) => a * b, 1) * c.f[3]),
      });
    });
  }

  it('fused.depthwiseConv2d bias + relu, multiplier 2, stride 2 same', () => {
    checkParity(tf, {
      name: 'fused.depthwiseConv2d',
      inputs: [{ shape: [2, 9, 9, 3] }, { shape: [3, 3, 3, 2] }, { shape: [6] }],
      ours: (x, filter, bias) => cn.fused.depthwiseConv2d({ x, filter, bias, strides: 2, pad: 'same', activation: 'relu' }),
      ref: (x, filter, bias) => tf.fused.depthwiseConv2d({ x: x as TF.Tensor4D, filter: filter as TF.Tensor4D, bias, strides: 2, pad: 'same', activation: 'relu' }),
      tol: convTol(9),
      gradTol: convTol(2 * 81),
    });
  });

  it('separableConv2d multiplier 2, stride 1 same', () => {
    checkParity(tf, {
      name: 'separableConv2d',
      inputs: [{ shape: [2, 9, 9, 3] }, { shape: [3, 3, 3, 2] }, { shape: [1, 1, 6, 5] }],
      ours: (x, d, p) => cn.separableConv2d(x, d, p, 1, 'same'),
      ref: (x, d, p) => tf.separableConv2d(x as TF.Tensor4D, d as TF.Tensor4D, p as TF.Tensor4D, 1, 'same'),
      tol: convTol(9 * 6),
      gradTol: convTol(2 * 81 * 6),
    });
  });

  const tcases: Array<{ x: number[]; f: number[]; out: number[]; strides: number; pad: 'same' | 'valid' }> = [
    { x: [2, 5, 5, 4], f: [3, 3, 3, 4], out: [2, 9, 9, 3], strides: 2, pad: 'same' },
    { x: [2, 5, 5, 4], f: [3, 3, 3, 4], out: [2, 10, 10, 3], strides: 2, pad: 'same' },
    { x: [1, 4, 4, 8], f: [3, 3, 2, 8], out: [1, 9, 9, 2], strides: 2, pad: 'valid' },
  ];
  for (const c of tcases) {
    it(`conv2dTranspose x ${JSON.stringify(c.x)} -> ${JSON.stringify(c.out)} s ${c.strides} ${c.pad}`, () => {
      checkParity(tf, {
        name: `conv2dTranspose x ${JSON.stringify(c.x)} -> ${JSON.stringify(c.out)} s ${c.strides} ${c.pad}`,
        inputs: [{ shape: c.x }, { shape: c.f }],
        ours: (x, f) => cn.conv2dTranspose(x, f, c.out, c.strides, c.pad),
        ref: (x, f) => tf.conv2dTranspose(x as TF.Tensor4D, f as TF.Tensor4D, c.out as [number, number, number, number], c.strides, c.pad),
        tol: convTol(c.f[0] * c.f[1] * c.f[3]),
        gradTol: convTol(c.x.slice(0, -1).reduce((a, b) => a * b, 1) * 4),
      });
    });
  }

  const poolCases: Array<{ x: number[]; size: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' }> = [
    { x: [2, 9, 9, 3], size: 3, strides: 2, pad: 'same' },
    { x: [1, 8, 8, 64], size: 2, strides: 2, pad: 'valid' },
    { x: [2, 7, 7, 1], size: 3, strides: 1, pad: 'same' },
    { x: [3, 10, 11, 3], size: [2, 3], strides: [2, 1], pad: 'same' },
    { x: [2, 9, 9, 3], size: 3, strides: 2, pad: 'valid' },
    { x: [6, 6, 3], size: 2, strides: 2, pad: 'same' },
  ];
  for (const c of poolCases) {
    const label = `x ${JSON.stringify(c.x)} size ${JSON.stringify(c.size)} s ${JSON.stringify(c.strides)} ${c.pad}`;
    it(`maxPool ${label}`, () => {
      checkParity(tf, {
        name: `maxPool ${label}`,
        inputs: [{ shape: c.x }],
        ours: (x) => cn.maxPool(x, c.size, c.strides, c.pad),
        ref: (x) => tf.maxPool(x as TF.Tensor4D, c.size, c.strides, c.pad),
        tol: { rtol: 0, atol: 0 },
        gradTol: { rtol: 1e-6, atol: 1e-6 },
      });
    });
    it(`avgPool ${label}`, () => {
      checkParity(tf, {
        name: `avgPool ${label}`,
        inputs: [{ shape: c.x }],
        ours: (x) => cn.avgPool(x, c.size, c.strides, c.pad),
        ref: (x) => tf.avgPool(x as TF.Tensor4D, c.size, c.strides, c.pad),
        tol: { rtol: 1e-5, atol: 1e-6 },
        gradTol: { rtol: 1e-5, atol: 1e-6 },
      });
    });
  }

  it('globalAvgPool equals mean over H, W', () => {
    checkParity(tf, {
      name: 'globalAvgPool',
      inputs: [{ shape: [2, 7, 5, 3] }],
      ours: (x) => cn.globalAvgPool(x),
      ref: (x) => tf.mean(x, [1, 2]),
      tol: { rtol: 1e-5, atol: 1e-6 },
    });
  });
});

function checkSame(a: cn.Tensor, b: cn.Tensor): void {
  const x = a.dataSync(), y = b.dataSync();
  if (JSON.stringify(a.shape) !== JSON.stringify(b.shape)) throw new Error(`shape ${a.shape} vs ${b.shape}`);
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i] - y[i]) > 1e-5 * (1 + Math.abs(y[i]))) throw new Error(`[${i}] ${x[i]} vs ${y[i]}`);
}
