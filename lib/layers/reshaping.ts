// Layers that move or resample values without weights: UpSampling2D, Cropping2D (NHWC),
// RepeatVector and Permute. (Reshape and Flatten live in core.ts, ZeroPadding2D in padding.ts.)
import { InvalidArgumentError, check } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { Layer, LayerArgs, Shape, formatShape, singleInput, singleShape } from './base.js';
import { checkInputRank } from './core.js';

function checkChannelsLast(f: string | undefined, op: string): void {
  if (f !== undefined && f !== null && f !== 'channelsLast')
    throw new InvalidArgumentError(`${op}: expected dataFormat 'channelsLast' (NHWC) but received '${f}'`);
}

// ---- UpSampling2D

/** Arguments of UpSampling2D / layers.upSampling2d() (tfjs layers.upSampling2d). */
export interface UpSampling2DLayerArgs extends LayerArgs {
  /** Row and column factors [sh, sw] (default [2, 2]). */
  size?: number[];
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
  /** 'nearest' (default: each pixel repeated) or 'bilinear' (tf.image.resizeBilinear, TF 1 sampling as tfjs). */
  interpolation?: 'nearest' | 'bilinear';
}

/** Repeats rows and columns (or resizes bilinearly): [b, h, w, c] -> [b, h * sh, w * sw, c]. */
export class UpSampling2D extends Layer {
  static className = 'UpSampling2D';
  readonly size: [number, number];
  readonly interpolation: 'nearest' | 'bilinear';

  constructor(args: UpSampling2DLayerArgs = {}) {
    super(args);
    const s = args.size ?? [2, 2];
    check(Array.isArray(s) && s.length === 2 && s.every((v) => Number.isInteger(v) && v >= 1), 'upSampling2d', 'size as [rows, cols] of positive integers', args.size);
    this.size = [s[0], s[1]];
    checkChannelsLast(args.dataFormat, 'upSampling2d');
    const i = args.interpolation ?? 'nearest';
    check(i === 'nearest' || i === 'bilinear', 'upSampling2d', "interpolation 'nearest' or 'bilinear'", args.interpolation);
    this.interpolation = i;
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    checkInputRank(s, 4, this.name, 'upSampling2d', 'NHWC');
    return [s[0], s[1] === null ? null : s[1] * this.size[0], s[2] === null ? null : s[2] * this.size[1], s[3]];
  }

  /**
   * 'nearest' is tf.image.resizeNearestNeighbor without half-pixel centers, which for an
   * integer factor is source index floor(i / s): every pixel repeated, composed here as a
   * broadcast (whose gradient sums each block, as TensorFlow's). 'bilinear' is resizeBilinear
   * with alignCorners and halfPixelCenters false, as tfjs.
   */
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    this.computeOutputShape(x.shape);
    const [b, h, w, c] = x.shape;
    const [sh, sw] = this.size;
    if (this.interpolation === 'bilinear') return ops.image.resizeBilinear(x, [h * sh, w * sw]);
    if (sh === 1 && sw === 1) return x;
    const x6 = ops.reshape(x, [b, h, 1, w, 1, c]);
    return ops.reshape(ops.broadcastTo(x6, [b, h, sh, w, sw, c]), [b, h * sh, w * sw, c]);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size, dataFormat: 'channelsLast', interpolation: this.interpolation };
  }
}

// ---- Cropping2D

type Pair2 = [[number, number], [number, number]];

/** Arguments of Cropping2D / layers.cropping2d() (tfjs layers.cropping2d). */
export interface Cropping2DLayerArgs extends LayerArgs {
  /** n (all sides), [h, w] (symmetric) or [[top, bottom], [left, right]]. */
  cropping: number | [number, number] | [[number, number], [number, number]];
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

function normCropping(p: unknown): Pair2 {
  const ok = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (ok(p)) return [[p as number, p as number], [p as number, p as number]];
  if (Array.isArray(p) && p.length === 2 && p.every(ok)) return [[p[0], p[0]], [p[1], p[1]]];
  if (Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(ok)))
    return [[p[0][0], p[0][1]], [p[1][0], p[1][1]]];
  throw new InvalidArgumentError(`cropping2d: expected cropping as a non-negative integer, [h, w] or [[top, bottom], [left, right]] but received ${JSON.stringify(p)}`);
}

/** Removes rows and columns at the edges: [b, h, w, c] -> [b, h - top - bottom, w - left - right, c]. */
export class Cropping2D extends Layer {
  static className = 'Cropping2D';
  readonly cropping: Pair2;

  constructor(args: Cropping2DLayerArgs) {
    super(args);
    this.cropping = normCropping(args?.cropping);
    checkChannelsLast(args.dataFormat, 'cropping2d');
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    checkInputRank(s, 4, this.name, 'cropping2d', 'NHWC');
    const [[t, b], [l, r]] = this.cropping;
    const h = s[1] === null ? null : s[1] - t - b;
    const w = s[2] === null ? null : s[2] - l - r;
    if ((h !== null && h <= 0) || (w !== null && w <= 0))
      throw new InvalidArgumentError(`cropping2d: expected an input larger than the cropping ${JSON.stringify(this.cropping)} but received shape ${formatShape(s)} (layer '${this.name}')`);
    return [s[0], h, w, s[3]];
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    const [, h, w] = this.computeOutputShape(x.shape) as number[];
    return ops.slice(x, [0, this.cropping[0][0], this.cropping[1][0], 0], [x.shape[0], h, w, x.shape[3]]);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cropping: this.cropping, dataFormat: 'channelsLast' };
  }
}

// ---- RepeatVector

/** Arguments of RepeatVector / layers.repeatVector() (tfjs layers.repeatVector). */
export interface RepeatVectorLayerArgs extends LayerArgs {
  /** Number of repetitions. */
  n: number;
}

/** Repeats each sample n times: [b, f] -> [b, n, f]. */
export class RepeatVector extends Layer {
  static className = 'RepeatVector';
  readonly n: number;
  constructor(args: RepeatVectorLayerArgs) {
    super(args);
    check(args && Number.isInteger(args.n) && args.n >= 1, 'repeatVector', 'n as a positive integer', args?.n);
    this.n = args.n;
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    checkInputRank(s, 2, this.name, 'repeatVector');
    return [s[0], this.n, s[1]];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    this.computeOutputShape(x.shape);
    return ops.broadcastTo(ops.reshape(x, [x.shape[0], 1, x.shape[1]]), [x.shape[0], this.n, x.shape[1]]);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), n: this.n };
  }
}

// ---- Permute

/** Arguments of Permute / layers.permute() (tfjs layers.permute). */
export interface PermuteLayerArgs extends LayerArgs {
  /** A permutation of 1..rank-1 (the batch axis 0 stays first), e.g. [2, 1] swaps two axes. */
  dims: number[];
}

/** Permutes the non-batch axes: output axis i + 1 is input axis dims[i]. */
export class Permute extends Layer {
  static className = 'Permute';
  readonly dims: number[];
  constructor(args: PermuteLayerArgs) {
    super(args);
    const d = args?.dims;
    check(Array.isArray(d) && d.length > 0 && [...d].sort((a, b) => a - b).every((v, i) => v === i + 1), 'permute', 'dims as a permutation of 1..n (the batch axis 0 excluded)', d);
    this.dims = d.slice();
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    checkInputRank(s, this.dims.length + 1, this.name, 'permute');
    return [s[0], ...this.dims.map((d) => s[d])];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    this.computeOutputShape(x.shape);
    return ops.transpose(x, [0, ...this.dims]);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dims: this.dims };
  }
}
