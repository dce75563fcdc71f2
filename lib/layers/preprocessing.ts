// Image preprocessing and augmentation layers with Keras 3 semantics (NHWC, rank 3 or 4):
// Rescaling, CenterCrop, Resizing, RandomFlip, RandomRotation, RandomContrast. The random
// layers act only when called with training = true (fit(), or apply(x, {training: true})).
//
// Note [random layers in plans]: fit() traces the model into a native plan, so a random
// layer must draw its randomness from kernels: each draws per-image values with the
// RandomUniform kernel (a fresh draw at every plan run) and is composed of kernels only
// (flip = slice/concat reversal + select; rotation = transforms built from the drawn angles
// by elementwise ops, then the ImageProjectiveTransform kernel).
import { InvalidArgumentError, check } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { CallArgs, Layer, LayerArgs, Shape, formatShape, singleInput, singleShape } from './base.js';
import { nextSeed } from './initializers.js';

// ---- helpers

function imageShape(inputShape: Shape | Shape[], layer: Layer, op: string): Shape {
  const s = singleShape(inputShape, layer.name);
  if (s.length !== 3 && s.length !== 4)
    throw new InvalidArgumentError(`${op}: expected input of rank 4 (NHWC) or 3 (HWC) but received shape ${formatShape(s)} (layer '${layer.name}')`);
  return s;
}

/** Runs body on a rank-4 view of x (rank-3 images get a batch axis, removed afterwards). */
function batched(x: Tensor, op: string, body: (x4: Tensor) => Tensor): Tensor {
  if (x.rank === 4) return body(x);
  if (x.rank !== 3) throw new InvalidArgumentError(`${op}: expected input of rank 4 (NHWC) or 3 (HWC) but received shape [${x.shape}]`);
  const y = body(ops.reshape(x, [1, ...x.shape]));
  return ops.reshape(y, y.shape.slice(1));
}

function checkPositiveInt(v: unknown, arg: string, op: string): number {
  check(Number.isInteger(v) && (v as number) > 0, op, `${arg} as a positive integer`, v);
  return v as number;
}

/** Per-call seeds for a layer: each eager call and each traced plan gets its own. */
class SeedStream {
  private calls = 0;
  constructor(readonly base: number) {}
  next(): number {
    return (this.base + 7919 * this.calls++) >>> 0;
  }
}

/** x with `axis` reversed, from kernels only (pad to a power of two, swap halves log2 times). */
export function reverseAxis(x: Tensor, axis: number): Tensor {
  const n = x.shape[axis];
  if (n <= 1) return x;
  let p = 1;
  while (p < n) p *= 2;
  const pre = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const post = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  let y = ops.reshape(x, [pre, n, post]);
  if (p > n) y = ops.pad(y, [[0, 0], [0, p - n], [0, 0]]);
  for (let bs = p / 2; bs >= 1; bs /= 2) {
    const nb = p / (2 * bs);
    const y4 = ops.reshape(y, [pre, nb, 2, bs * post]);
    const a = ops.slice(y4, [0, 0, 0, 0], [pre, nb, 1, bs * post]);
    const b = ops.slice(y4, [0, 0, 1, 0], [pre, nb, 1, bs * post]);
    y = ops.reshape(ops.concat([b, a], 2), [pre, p, post]);
  }
  if (p > n) y = ops.slice(y, [0, p - n, 0], [pre, n, post]);
  return ops.reshape(y, x.shape);
}

/** Rows (or columns) `indices` of x along axis, from slices of consecutive runs + concat. */
function gatherStatic(x: Tensor, axis: number, indices: number[]): Tensor {
  const parts: Tensor[] = [];
  let i = 0;
  while (i < indices.length) {
    let j = i + 1;
    while (j < indices.length && indices[j] === indices[j - 1] + 1) j++;
    const begin = x.shape.map((_, k) => (k === axis ? indices[i] : 0));
    const size = x.shape.map((d, k) => (k === axis ? j - i : d));
    parts.push(ops.slice(x, begin, size));
    i = j;
  }
  return parts.length === 1 ? parts[0] : ops.concat(parts, axis);
}

/** Resampling of Resizing and RandomRotation. */
export type Interpolation = 'bilinear' | 'nearest';

/**
 * tf.image.resize (TF 2, antialias off) on NHWC x: 'bilinear' is ResizeBilinear with half-pixel
 * centers; 'nearest' is ResizeNearestNeighbor with half-pixel centers (index floor((i + 0.5) * in / out)).
 */
export function resizeImages(x: Tensor, height: number, width: number, interpolation: Interpolation = 'bilinear'): Tensor {
  return batched(x, 'resize', (x4) => {
    if (x4.shape[1] === height && x4.shape[2] === width) return x4;
    if (interpolation === 'bilinear') return ops.image.resizeBilinear(x4, [height, width], false, true);
    const idx = (inSize: number, outSize: number) => {
      const scale = Math.fround(inSize / outSize);
      return Array.from({ length: outSize }, (_, i) => Math.min(Math.floor(Math.fround((i + 0.5) * scale)), inSize - 1));
    };
    let y = x4.shape[1] === height ? x4 : gatherStatic(x4, 1, idx(x4.shape[1], height));
    y = x4.shape[2] === width ? y : gatherStatic(y, 2, idx(x4.shape[2], width));
    return y;
  });
}

/** Keras' crop box for crop_to_aspect_ratio / smart_resize (float32 arithmetic, as TF). */
export function aspectCropBox(height: number, width: number, targetHeight: number, targetWidth: number): { top: number; left: number; height: number; width: number } {
  const f = Math.fround;
  let ch = Math.trunc(f(f(width * targetHeight) / targetWidth));
  ch = Math.max(Math.min(height, ch), 1);
  let cw = Math.trunc(f(f(height * targetWidth) / targetHeight));
  cw = Math.max(Math.min(width, cw), 1);
  return { top: Math.trunc(f(height - ch) / 2), left: Math.trunc(f(width - cw) / 2), height: ch, width: cw };
}

/** keras.utils.smart_resize: the largest centered crop of the target's aspect ratio, resized. */
export function smartResize(x: Tensor, height: number, width: number, interpolation: Interpolation = 'bilinear'): Tensor {
  return batched(x, 'smartResize', (x4) => {
    const box = aspectCropBox(x4.shape[1], x4.shape[2], height, width);
    const cropped = ops.slice(x4, [0, box.top, box.left, 0], [x4.shape[0], box.height, box.width, x4.shape[3]]);
    return resizeImages(cropped, height, width, interpolation);
  });
}

// ---- Rescaling

/** Options of Rescaling. */
export interface RescalingLayerArgs extends LayerArgs {
  scale: number;
  offset?: number;
}

/** x * scale + offset (e.g. scale 1/255 maps [0, 255] to [0, 1]). */
export class Rescaling extends Layer {
  static className = 'Rescaling';
  readonly scale: number;
  readonly offset: number;
  constructor(args: RescalingLayerArgs) {
    super(args);
    check(args && typeof args.scale === 'number' && Number.isFinite(args.scale), 'rescaling', 'scale as a finite number', args?.scale);
    check(args.offset === undefined || (typeof args.offset === 'number' && Number.isFinite(args.offset)), 'rescaling', 'offset as a finite number', args.offset);
    this.scale = args.scale;
    this.offset = args.offset ?? 0;
  }
  computeOutputShape(s: Shape | Shape[]): Shape {
    return singleShape(s, this.name);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    let x = singleInput(inputs, this.name);
    if (x.dtype !== 'float32') x = ops.cast(x, 'float32');
    const y = ops.mul(x, this.scale);
    return this.offset === 0 ? y : ops.add(y, this.offset);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

// ---- CenterCrop

/** Options of CenterCrop: the target size. */
export interface CenterCropLayerArgs extends LayerArgs {
  height: number;
  width: number;
}

/**
 * The central height x width window (start floor((in - out) / 2)). An image smaller than
 * the target on either side is smart-resized instead (largest centered crop of the target's
 * aspect ratio, resized bilinearly), as Keras 3 does.
 */
export class CenterCrop extends Layer {
  static className = 'CenterCrop';
  readonly height: number;
  readonly width: number;
  constructor(args: CenterCropLayerArgs) {
    super(args);
    this.height = checkPositiveInt(args?.height, 'height', 'centerCrop');
    this.width = checkPositiveInt(args.width, 'width', 'centerCrop');
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = imageShape(inputShape, this, 'centerCrop').slice();
    s[s.length - 3] = this.height;
    s[s.length - 2] = this.width;
    return s;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    return batched(x, 'centerCrop', (x4) => {
      const [b, h, w, c] = x4.shape;
      const dh = h - this.height;
      const dw = w - this.width;
      if (dh >= 0 && dw >= 0) return ops.slice(x4, [0, Math.floor(dh / 2), Math.floor(dw / 2), 0], [b, this.height, this.width, c]);
      return smartResize(x4, this.height, this.width);
    });
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}

// ---- Resizing

/** Options of Resizing. */
export interface ResizingLayerArgs extends LayerArgs {
  height: number;
  width: number;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** Take the largest centered crop of the target aspect ratio before resizing (no distortion). */
  cropToAspectRatio?: boolean;
}

/** Resizes images to height x width (tf.image.resize semantics, half-pixel centers). */
export class Resizing extends Layer {
  static className = 'Resizing';
  readonly height: number;
  readonly width: number;
  readonly interpolation: Interpolation;
  readonly cropToAspectRatio: boolean;
  constructor(args: ResizingLayerArgs) {
    super(args);
    this.height = checkPositiveInt(args?.height, 'height', 'resizing');
    this.width = checkPositiveInt(args.width, 'width', 'resizing');
    this.interpolation = args.interpolation ?? 'bilinear';
    check(this.interpolation === 'bilinear' || this.interpolation === 'nearest', 'resizing', "interpolation 'bilinear' or 'nearest'", args.interpolation);
    this.cropToAspectRatio = args.cropToAspectRatio ?? false;
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = imageShape(inputShape, this, 'resizing').slice();
    s[s.length - 3] = this.height;
    s[s.length - 2] = this.width;
    return s;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    return this.cropToAspectRatio ? smartResize(x, this.height, this.width, this.interpolation) : resizeImages(x, this.height, this.width, this.interpolation);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation, cropToAspectRatio: this.cropToAspectRatio };
  }
}

// ---- random layers

interface RandomArgs extends LayerArgs {
  /** Seed of the layer's draws (each call draws anew; the same seed repeats the sequence). */
  seed?: number;
}

abstract class RandomImageLayer extends Layer {
  readonly seed?: number;
  protected readonly seeds: SeedStream;
  constructor(args: RandomArgs) {
    super(args);
    check(args.seed === undefined || (Number.isInteger(args.seed) && args.seed >= 0), this.getClassName(), 'seed as a non-negative integer', args.seed);
    this.seed = args.seed;
    this.seeds = new SeedStream(args.seed ?? nextSeed());
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return imageShape(inputShape, this, this.getClassName());
  }
  getConfig(): Record<string, unknown> {
    const c = super.getConfig();
    if (this.seed !== undefined) c.seed = this.seed;
    return c;
  }
}

/** Which flips RandomFlip makes (Keras' spelling). */
export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';

/** Options of RandomFlip. */
export interface RandomFlipLayerArgs extends RandomArgs {
  /** 'horizontal', 'vertical' or 'horizontal_and_vertical' (default, Keras' spelling; camelCase accepted). */
  mode?: FlipMode | 'horizontalAndVertical';
}

/**
 * Flips each image with probability 1/2 when training. As in Keras, one draw per image
 * decides both flips in 'horizontal_and_vertical' mode.
 */
export class RandomFlip extends RandomImageLayer {
  static className = 'RandomFlip';
  readonly mode: FlipMode;
  constructor(args: RandomFlipLayerArgs = {}) {
    super(args);
    const m = args.mode === 'horizontalAndVertical' ? 'horizontal_and_vertical' : (args.mode ?? 'horizontal_and_vertical');
    check(m === 'horizontal' || m === 'vertical' || m === 'horizontal_and_vertical', 'randomFlip', "mode 'horizontal', 'vertical' or 'horizontal_and_vertical'", args.mode);
    this.mode = m;
  }
  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    if (!kwargs.training) return x;
    return batched(x, 'randomFlip', (x4) => {
      const u = ops.randomUniform([x4.shape[0], 1, 1, 1], 0, 1, 'float32', this.seeds.next());
      return flipImages(x4, ops.lessEqual(u, 0.5), this.mode);
    });
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mode: this.mode };
  }
}

/** Flips the images of x4 where mask ([b, 1, 1, 1], 1 or 0) is 1. */
export function flipImages(x4: Tensor, mask: Tensor, mode: FlipMode): Tensor {
  let y = x4;
  if (mode !== 'vertical') y = ops.where(mask, reverseAxis(y, 2), y);
  if (mode !== 'horizontal') y = ops.where(mask, reverseAxis(y, 1), y);
  return y;
}

/** Keras' factor argument: f -> [-|f|, |f|] clipped to bounds, [a, b] -> sorted. */
function factorRange(factor: number | [number, number], bounds: [number, number], op: string): [number, number] {
  const msg = `factor as a number or a pair of numbers in [${bounds[0]}, ${bounds[1]}]`;
  if (Array.isArray(factor)) {
    check(factor.length === 2 && factor.every((v) => typeof v === 'number' && Number.isFinite(v)), op, msg, factor);
    if (factor[0] > bounds[1] || factor[1] < bounds[0]) throw new InvalidArgumentError(`${op}: expected ${msg} but received [${factor}]`);
    const [a, b] = factor.slice().sort((p, q) => p - q);
    return [a, b];
  }
  check(typeof factor === 'number' && factor >= bounds[0] && factor <= bounds[1], op, msg, factor);
  const f = Math.abs(factor);
  return [Math.max(-f, bounds[0]), f];
}

/** How RandomRotation fills points outside the image (TensorFlow's ImageProjectiveTransform modes). */
export type FillMode = 'reflect' | 'wrap' | 'constant' | 'nearest';

/** Options of RandomRotation. */
export interface RandomRotationLayerArgs extends RandomArgs {
  /** Fraction of a full turn: f rotates by an angle in [-f, f] * 360 degrees; [a, b] by [a, b] * 360. */
  factor: number | [number, number];
  fillMode?: FillMode;
  interpolation?: Interpolation;
  fillValue?: number;
}

/**
 * Rotates each image by a random angle about its center when training (Keras 3:
 * ImageProjectiveTransformV3 with the fill mode and interpolation given). Works eagerly and
 * inside compiled plans (see Note [random layers in plans]).
 */
export class RandomRotation extends RandomImageLayer {
  static className = 'RandomRotation';
  readonly factor: [number, number];
  readonly fillMode: FillMode;
  readonly interpolation: Interpolation;
  readonly fillValue: number;
  constructor(args: RandomRotationLayerArgs) {
    super(args);
    check(args && args.factor !== undefined, 'randomRotation', 'a factor', args?.factor);
    this.factor = factorRange(args.factor, [-1, 1], 'randomRotation');
    this.fillMode = args.fillMode ?? 'reflect';
    check(['reflect', 'wrap', 'constant', 'nearest'].includes(this.fillMode), 'randomRotation', "fillMode 'reflect', 'wrap', 'constant' or 'nearest'", args.fillMode);
    this.interpolation = args.interpolation ?? 'bilinear';
    check(this.interpolation === 'bilinear' || this.interpolation === 'nearest', 'randomRotation', "interpolation 'bilinear' or 'nearest'", args.interpolation);
    this.fillValue = args.fillValue ?? 0;
    check(typeof this.fillValue === 'number', 'randomRotation', 'fillValue as a number', args.fillValue);
  }
  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    if (!kwargs.training) return x;
    return batched(x, 'randomRotation', (x4) => {
      // Keras: angle = uniform(factor[0], factor[1]) * 2 pi, one per image.
      const [lo, hi] = [this.factor[0] * 2 * Math.PI, this.factor[1] * 2 * Math.PI];
      const angles = hi > lo ? ops.randomUniform([x4.shape[0]], lo, hi, 'float32', this.seeds.next()) : ops.fill([x4.shape[0]], lo);
      const t = rotationTransforms(angles, x4.shape[1], x4.shape[2]);
      return ops.image.transform(x4, t, this.interpolation, this.fillMode, this.fillValue);
    });
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue };
  }
}

/** Keras 3's rotation about the image center as an 8-parameter projective transform (output -> input). */
export function rotationTransform(degrees: number, height: number, width: number): number[] {
  const t = (degrees * Math.PI) / 180;
  const cx = 0.5 * (width - 1);
  const cy = 0.5 * (height - 1);
  const [c, s] = [Math.cos(t), Math.sin(t)];
  const a0 = c, a1 = -s, b0 = s, b1 = c;
  return [a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1, 0, 0].map(Math.fround);
}

/**
 * Keras 3's rotation transforms for angles ([b], radians) as a [b, 8] tensor built from
 * kernels, so it works inside compiled plans: [cos, -sin, x_offset, sin, cos, y_offset, 0, 0].
 */
export function rotationTransforms(angles: Tensor, height: number, width: number): Tensor {
  const cx = 0.5 * (width - 1);
  const cy = 0.5 * (height - 1);
  const b = angles.shape[0];
  const c = ops.reshape(ops.cos(angles), [b, 1]);
  const s = ops.reshape(ops.sin(angles), [b, 1]);
  const a2 = ops.add(ops.sub(cx, ops.mul(c, cx)), ops.mul(s, cy));
  const b2 = ops.sub(ops.sub(cy, ops.mul(s, cx)), ops.mul(c, cy));
  const zero = ops.zeros([b, 1]);
  return ops.concat([c, ops.neg(s), a2, s, c, b2, zero, zero], 1);
}

/**
 * ImageProjectiveTransformV3 (the ImageProjectiveTransform kernel): out[b, y, x] = image[b]
 * sampled at the point that transforms[b] ([a0, a1, a2, b0, b1, b2, c0, c1]) maps (x, y) to.
 * transforms: [b, 8] or [1, 8] as numbers or a tensor. Defaults as Keras' layers: constant
 * fill with 0, bilinear.
 */
export function projectiveTransform(
  images: Tensor,
  transforms: number[][] | Tensor,
  opts: { fillMode?: FillMode; interpolation?: Interpolation; fillValue?: number } = {},
): Tensor {
  const op = 'projectiveTransform';
  check(images.rank === 4, op, 'images of rank 4 (NHWC)', images.shape);
  if (!(transforms instanceof Tensor))
    check(Array.isArray(transforms) && transforms.every((r) => Array.isArray(r) && r.length === 8), op, 'transforms as rows of 8 numbers', transforms);
  const t = transforms instanceof Tensor ? transforms : ops.tensor(transforms.flat(), [transforms.length, 8], 'float32');
  const interp = opts.interpolation ?? 'bilinear';
  check(interp === 'bilinear' || interp === 'nearest', op, "interpolation 'bilinear' or 'nearest'", interp);
  const x = images.dtype === 'float32' ? images : ops.cast(images, 'float32');
  return ops.image.transform(x, t, interp, opts.fillMode ?? 'constant', opts.fillValue ?? 0);
}

/** Rotates each image of x4 by degrees[b] about its center (Keras' RandomRotation transform). */
export function rotateImages(x4: Tensor, degrees: number[], opts: { fillMode?: FillMode; interpolation?: Interpolation; fillValue?: number } = {}): Tensor {
  const [, H, W] = x4.shape;
  return projectiveTransform(x4, degrees.map((d) => rotationTransform(d, H, W)), { fillMode: 'reflect', ...opts });
}

/** Options of RandomContrast. */
export interface RandomContrastLayerArgs extends RandomArgs {
  /** f or [lower, upper] in [0, 1]: the contrast factor is drawn from [1 - lower, 1 + upper]. */
  factor: number | [number, number];
  /** Outputs are clipped to this range (default [0, 255]). */
  valueRange?: [number, number];
}

/**
 * Scales each image's deviation from its per-channel mean by a random factor when training:
 * (x - mean) * factor + mean, clipped to valueRange.
 * Note [contrast factor]: Keras 3 turns a single number f into the range [max(-f, 0), f], so
 * the factor is drawn from [1, 1 + f]; we keep Keras' behaviour ([a, b] gives [1 - a, 1 + b]).
 */
export class RandomContrast extends RandomImageLayer {
  static className = 'RandomContrast';
  readonly factor: [number, number];
  readonly valueRange: [number, number];
  constructor(args: RandomContrastLayerArgs) {
    super(args);
    check(args && args.factor !== undefined, 'randomContrast', 'a factor', args?.factor);
    this.factor = factorRange(args.factor, [0, 1], 'randomContrast');
    this.valueRange = args.valueRange ?? [0, 255];
    check(Array.isArray(this.valueRange) && this.valueRange.length === 2 && this.valueRange[0] <= this.valueRange[1], 'randomContrast', 'valueRange [min, max]', args.valueRange);
  }
  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    if (!kwargs.training) return x;
    return batched(x, 'randomContrast', (x4) => {
      const lo = 1 - this.factor[0];
      const hi = 1 + this.factor[1];
      const factor = hi > lo ? ops.randomUniform([x4.shape[0], 1, 1, 1], lo, hi, 'float32', this.seeds.next()) : ops.fill([x4.shape[0], 1, 1, 1], lo);
      return adjustContrast(x4, factor, this.valueRange);
    });
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange };
  }
}

/** (x - mean over height and width) * factor + mean, clipped to valueRange. */
export function adjustContrast(x4: Tensor, factor: Tensor | number, valueRange: [number, number] = [0, 255]): Tensor {
  const m = ops.mean(ops.mean(x4, 1, true), 2, true);
  return ops.clipByValue(ops.add(ops.mul(ops.sub(x4, m), factor), m), valueRange[0], valueRange[1]);
}
