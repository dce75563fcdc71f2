// Random tensors from the backends' counter-based generators: randomUniform, randomNormal,
// truncatedNormal, and dropout (x * DropoutMask, gradient dy * mask). A given seed gives
// the same values on every call; inside a compiled plan each run draws fresh values.
import { ENGINE } from '../engine.js';
import { check } from '../errors.js';
import { DType, Tensor } from '../tensor.js';
import { checkShape } from '../validate.js';
import { abs } from './activations.js';
import { cast, greater, mul, reshape } from './basic.js';
import { clipByValue, where } from './transforms.js';
import { TensorLike, convertToTensor, floatArg, opScope } from './util.js';

/** A 32-bit seed from a number or string (hashed), or a fresh random one. */
function seedOf(seed: number | string | undefined, op: string): number {
  if (seed === undefined || seed === null) return Math.floor(Math.random() * 0x100000000);
  if (typeof seed === 'string') {
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
    return h;
  }
  check(typeof seed === 'number' && Number.isFinite(seed), op, 'seed as a finite number or a string', seed);
  return Math.abs(Math.floor(seed)) % 2 ** 52;
}


function checkDType(dtype: unknown, op: string): 'float32' | 'int32' {
  check(dtype === 'float32' || dtype === 'int32', op, "dtype 'float32' or 'int32'", dtype);
  return dtype;
}

function random(normal: boolean, shape: number[], a: number, b: number, seed: number): Tensor {
  return ENGINE.runKernel(normal ? 'RandomNormal' : 'RandomUniform', [], { shape, a, b, seed }, [{ shape, dtype: 'float32' }])[0];
}

/** tf.randomUniform(shape, minval = 0, maxval = 1, dtype, seed): values in [minval, maxval). */
export function randomUniform(shape: number[], minval = 0, maxval = 1, dtype: DType = 'float32', seed?: number | string): Tensor {
  const op = 'randomUniform';
  const s = checkShape(shape, op);
  const dt = checkDType(dtype, op);
  check(typeof minval === 'number' && typeof maxval === 'number' && minval < maxval, op, 'minval < maxval', [minval, maxval]);
  const u = random(false, s, minval, maxval, seedOf(seed, op));
  // int32 draws floor(u) as tfjs does.
  return dt === 'int32' ? cast(ENGINE.runKernel('Floor', [u], undefined, [{ shape: s, dtype: 'float32' }])[0], 'int32') : u;
}

/** tf.randomNormal(shape, mean = 0, stdDev = 1, dtype, seed). */
export function randomNormal(shape: number[], mean = 0, stdDev = 1, dtype: DType = 'float32', seed?: number): Tensor {
  const op = 'randomNormal';
  const s = checkShape(shape, op);
  const dt = checkDType(dtype, op);
  check(typeof stdDev === 'number' && stdDev > 0, op, 'stdDev > 0', stdDev);
  check(typeof mean === 'number' && Number.isFinite(mean), op, 'mean as a finite number', mean);
  const z = random(true, s, mean, stdDev, seedOf(seed, op));
  return dt === 'int32' ? cast(z, 'int32') : z;
}

/**
 * tf.truncatedNormal: normal values, redrawn where more than two standard deviations from
 * the mean. Composed from fixed rounds of redraws (so it also traces into plans): after 8
 * rounds a value is still out of range with probability 0.0455^8 ~ 2e-11, and is clipped.
 */
export function truncatedNormal(shape: number[], mean = 0, stdDev = 1, dtype: DType = 'float32', seed?: number): Tensor {
  const op = 'truncatedNormal';
  const s = checkShape(shape, op);
  const dt = checkDType(dtype, op);
  check(typeof stdDev === 'number' && stdDev > 0, op, 'stdDev > 0', stdDev);
  check(typeof mean === 'number' && Number.isFinite(mean), op, 'mean as a finite number', mean);
  const base = seedOf(seed, op);
  let z = random(true, s, 0, 1, base);
  for (let round = 1; round <= 8; round++) z = where(greater(abs(z), 2), random(true, s, 0, 1, base + round * 0x9e3779b1), z);
  const y = mul(clipByValue(z, -2, 2), stdDev);
  const r = mean === 0 ? y : ENGINE.runKernel('Add', [y, convertToTensor(mean, 'mean', op, 'float32')], undefined, [{ shape: s, dtype: 'float32' }])[0];
  return dt === 'int32' ? cast(r, 'int32') : r;
}

/**
 * tf.dropout(x, rate, noiseShape?, seed?): zeroes each element with probability rate and
 * scales the rest by 1 / (1 - rate). noiseShape (broadcast to x, null entries taking x's
 * sizes) shares one mask value along axes of size 1.
 */
export function dropout(x: TensorLike, rate: number, noiseShape?: Array<number | null>, seed?: number | string): Tensor {
  return opScope(() => {
    const op = 'dropout';
    const $x = floatArg(x, 'x', op);
    check(typeof rate === 'number' && rate >= 0 && rate < 1, op, 'rate in [0, 1)', rate);
    let ns = $x.shape.slice();
    if (noiseShape !== undefined && noiseShape !== null) {
      check(Array.isArray(noiseShape) && noiseShape.length === $x.rank, op, `noiseShape of length ${$x.rank} (x's rank)`, noiseShape);
      ns = noiseShape.map((d, i) => (d === null || d === undefined ? $x.shape[i] : d));
      check(ns.every((d, i) => d === 1 || d === $x.shape[i]), op, `noiseShape that broadcasts to x's shape [${$x.shape}]`, noiseShape);
    }
    const maskSeed = seedOf(seed, op);
    if (rate === 0) return reshape($x, $x.shape);
    // The mask is computed from x's backend (x is passed only to pick it) and is a constant
    // for the tape, so mul's gradient is dy * mask.
    const mask = ENGINE.runKernel('DropoutMask', [$x], { shape: ns, rate, seed: maskSeed }, [{ shape: ns, dtype: 'float32' }])[0];
    return mul($x, mask);
  });
}
