// What the TensorFlow parity suites (test/parity-*.test.ts) share: the parity driver
// (test/parity-driver.ts), which each suite gives tfjs-node's module as its reference
// (checkParity(tf, case): live, or replayed from a recording where tfjs-node cannot be
// installed, test/reference.ts), and the tolerances and TensorFlow forms several suites use.
import type * as TF from '@tensorflow/tfjs-node';
import type { TFModule, Tol } from './parity-driver.js';

export { checkParity, flushReport, loadReference, requireTf } from './parity-driver.js';
export type { ParityCase, ParityInput, TFModule, Tol } from './parity-driver.js';

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
