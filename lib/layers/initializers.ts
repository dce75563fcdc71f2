// Weight initializers (Keras names and formulas): zeros, ones, constant, randomUniform,
// randomNormal, truncatedNormal, glorotUniform/Normal, heUniform/Normal, leCunUniform/Normal,
// varianceScaling. Values are drawn on the host from a seeded generator, so a model built
// with the same seeds gets the same weights on every backend.
import { InvalidArgumentError } from '../errors.js';
import { tensor } from '../ops/basic.js';
import { Tensor } from '../tensor.js';

/** mulberry32: a small, fast, seedable 32-bit generator returning floats in [0, 1). */
export class Random {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** A seeded permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
  /** A fresh 32-bit seed. */
  seed(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}

let globalRandom = new Random((Math.random() * 4294967296) >>> 0);

/** Seeds every initializer and shuffle that is not given its own seed (keras.utils.set_random_seed). */
export function setRandomSeed(seed: number): void {
  globalRandom = new Random(seed);
}
/**
 * The next 32-bit seed from the global generator (see setRandomSeed), used when no seed is given.
 * @internal
 */
export function nextSeed(): number {
  return globalRandom.seed();
}

/** tfjs initializer names; all but 'identity' and 'orthogonal' are implemented here. */
export type InitializerName =
  | 'zeros' | 'ones' | 'constant' | 'randomUniform' | 'randomNormal' | 'truncatedNormal'
  | 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'leCunUniform' | 'leCunNormal'
  | 'varianceScaling' | 'identity' | 'orthogonal';

/** The config of a serialized initializer: its constructor arguments. */
export interface InitializerConfig {
  /** Seed of a random initializer (default: drawn from the global generator). */
  seed?: number;
  [k: string]: unknown;
}

/** Produces initial values for a weight of a shape. */
export abstract class Initializer {
  abstract readonly className: string;
  abstract values(shape: number[]): Float32Array;
  apply(shape: number[]): Tensor {
    return tensor(this.values(shape), shape.slice(), 'float32');
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Keras' fan computation: dense [in, out]; conv kernels [...spatial, in, out]. */
export function computeFans(shape: number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = sizeOf(shape.slice(0, -2));
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

/** Fills with 0 (Keras Zeros). */
export class Zeros extends Initializer {
  readonly className = 'Zeros';
  values(shape: number[]): Float32Array {
    return new Float32Array(sizeOf(shape));
  }
}
/** Fills with 1 (Keras Ones). */
export class Ones extends Initializer {
  readonly className = 'Ones';
  values(shape: number[]): Float32Array {
    return new Float32Array(sizeOf(shape)).fill(1);
  }
}
/** Fills with args.value (Keras Constant). */
export class Constant extends Initializer {
  readonly className = 'Constant';
  readonly value: number;
  constructor(args: { value: number }) {
    super();
    this.value = args.value;
  }
  values(shape: number[]): Float32Array {
    return new Float32Array(sizeOf(shape)).fill(this.value);
  }
  getConfig(): Record<string, unknown> {
    return { value: this.value };
  }
}

abstract class Seeded extends Initializer {
  readonly seed?: number;
  private rng?: Random;
  constructor(seed?: number) {
    super();
    this.seed = seed;
  }
  protected random(): Random {
    // Note [seeded initializers]: a seeded initializer is reproducible per instance (each
    // call continues its own stream), an unseeded one draws from the global generator.
    if (this.seed === undefined) return new Random(nextSeed());
    this.rng ??= new Random(this.seed);
    return this.rng;
  }
  getConfig(): Record<string, unknown> {
    return this.seed === undefined ? {} : { seed: this.seed };
  }
}

/** Uniform in [minval, maxval), default [-0.05, 0.05) (Keras RandomUniform). */
export class RandomUniform extends Seeded {
  readonly className = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;
  constructor(args: { minval?: number; maxval?: number; seed?: number } = {}) {
    super(args.seed);
    this.minval = args.minval ?? -0.05;
    this.maxval = args.maxval ?? 0.05;
  }
  values(shape: number[]): Float32Array {
    const r = this.random();
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = this.minval + (this.maxval - this.minval) * r.next();
    return out;
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), minval: this.minval, maxval: this.maxval };
  }
}

/** Normal with mean (default 0) and stddev (default 0.05) (Keras RandomNormal). */
export class RandomNormal extends Seeded {
  readonly className: string = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;
  constructor(args: { mean?: number; stddev?: number; seed?: number } = {}) {
    super(args.seed);
    this.mean = args.mean ?? 0;
    this.stddev = args.stddev ?? 0.05;
  }
  values(shape: number[]): Float32Array {
    const r = this.random();
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = this.mean + this.stddev * r.normal();
    return out;
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }
}

/** Like RandomNormal, redrawing values more than 2 stddev from the mean (Keras TruncatedNormal). */
export class TruncatedNormal extends RandomNormal {
  readonly className: string = 'TruncatedNormal';
  values(shape: number[]): Float32Array {
    const r = this.random();
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) {
      let z = r.normal();
      while (Math.abs(z) > 2) z = r.normal();
      out[i] = this.mean + this.stddev * z;
    }
    return out;
  }
}

/** VarianceScaling's mode: divide scale by fan-in, fan-out or their average. */
export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
/** VarianceScaling's distribution; 'truncatedNormal' is corrected to the wanted variance, as in Keras. */
export type Distribution = 'normal' | 'uniform' | 'truncatedNormal' | 'untruncatedNormal';

/**
 * Keras VarianceScaling: values of variance scale / n, n the fan given by mode (default scale 1,
 * 'fanIn', 'truncatedNormal'). Throws InvalidArgumentError unless scale > 0.
 */
export class VarianceScaling extends Seeded {
  readonly className: string = 'VarianceScaling';
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: Distribution;
  constructor(args: { scale?: number; mode?: FanMode; distribution?: Distribution; seed?: number } = {}) {
    super(args.seed);
    this.scale = args.scale ?? 1;
    this.mode = args.mode ?? 'fanIn';
    this.distribution = args.distribution ?? 'truncatedNormal';
    if (!(this.scale > 0)) throw new InvalidArgumentError(`varianceScaling: expected scale > 0 but received ${this.scale}`);
  }
  values(shape: number[]): Float32Array {
    const [fanIn, fanOut] = computeFans(shape);
    const n = this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
    const scale = this.scale / Math.max(1, n);
    const r = this.random();
    const out = new Float32Array(sizeOf(shape));
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * scale);
      for (let i = 0; i < out.length; i++) out[i] = limit * (2 * r.next() - 1);
    } else if (this.distribution === 'untruncatedNormal') {
      const std = Math.sqrt(scale);
      for (let i = 0; i < out.length; i++) out[i] = std * r.normal();
    } else {
      // Keras: stddev of a normal truncated at 2 sigma, corrected to the wanted variance.
      const std = Math.sqrt(scale) / 0.8796256610342398;
      for (let i = 0; i < out.length; i++) {
        let z = r.normal();
        while (Math.abs(z) > 2) z = r.normal();
        out[i] = std * z;
      }
    }
    return out;
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, mode: this.mode, distribution: this.distribution };
  }
}

/** A VarianceScaling preset (Keras' GlorotUniform, HeNormal, ...). */
abstract class Preset extends VarianceScaling {
  constructor(scale: number, mode: FanMode, distribution: Distribution, args: { seed?: number } = {}) {
    super({ scale, mode, distribution, seed: args.seed });
  }
  getConfig(): Record<string, unknown> {
    return this.seed === undefined ? {} : { seed: this.seed };
  }
}
/** Glorot (Xavier) uniform: VarianceScaling(1, 'fanAvg', 'uniform') (Keras GlorotUniform). */
export class GlorotUniform extends Preset {
  readonly className = 'GlorotUniform';
  constructor(args: { seed?: number } = {}) {
    super(1, 'fanAvg', 'uniform', args);
  }
}
/** Glorot (Xavier) normal: VarianceScaling(1, 'fanAvg', 'truncatedNormal') (Keras GlorotNormal). */
export class GlorotNormal extends Preset {
  readonly className = 'GlorotNormal';
  constructor(args: { seed?: number } = {}) {
    super(1, 'fanAvg', 'truncatedNormal', args);
  }
}
/** He uniform: VarianceScaling(2, 'fanIn', 'uniform') (Keras HeUniform). */
export class HeUniform extends Preset {
  readonly className = 'HeUniform';
  constructor(args: { seed?: number } = {}) {
    super(2, 'fanIn', 'uniform', args);
  }
}
/** He normal: VarianceScaling(2, 'fanIn', 'truncatedNormal') (Keras HeNormal). */
export class HeNormal extends Preset {
  readonly className = 'HeNormal';
  constructor(args: { seed?: number } = {}) {
    super(2, 'fanIn', 'truncatedNormal', args);
  }
}
/** LeCun uniform: VarianceScaling(1, 'fanIn', 'uniform') (Keras LecunUniform). */
export class LeCunUniform extends Preset {
  readonly className = 'LeCunUniform';
  constructor(args: { seed?: number } = {}) {
    super(1, 'fanIn', 'uniform', args);
  }
}
/** LeCun normal: VarianceScaling(1, 'fanIn', 'truncatedNormal') (Keras LecunNormal). */
export class LeCunNormal extends Preset {
  readonly className = 'LeCunNormal';
  constructor(args: { seed?: number } = {}) {
    super(1, 'fanIn', 'truncatedNormal', args);
  }
}

const byName: Record<string, new (args?: never) => Initializer> = {
  zeros: Zeros,
  ones: Ones,
  constant: Constant as never,
  randomUniform: RandomUniform,
  randomNormal: RandomNormal,
  truncatedNormal: TruncatedNormal,
  glorotUniform: GlorotUniform,
  glorotNormal: GlorotNormal,
  heUniform: HeUniform,
  heNormal: HeNormal,
  leCunUniform: LeCunUniform,
  leCunNormal: LeCunNormal,
  varianceScaling: VarianceScaling,
};

function camel(s: string): string {
  const c = s.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
  const lower = c.charAt(0).toLowerCase() + c.slice(1);
  return lower === 'lecunNormal' ? 'leCunNormal' : lower === 'lecunUniform' ? 'leCunUniform' : lower;
}

/** An initializer from a name ('heNormal', 'he_normal', 'HeNormal'), a serialized
 * {className, config}, or an instance. */
export function getInitializer(v: string | Initializer | { className: string; config?: Record<string, unknown> } | undefined, fallback: string, op = 'initializer'): Initializer {
  if (v === undefined || v === null) v = fallback;
  if (v instanceof Initializer) return v;
  const name = typeof v === 'string' ? v : v.className;
  const config = typeof v === 'string' ? {} : v.config ?? {};
  const Ctor = byName[camel(name)];
  if (!Ctor) throw new InvalidArgumentError(`${op}: expected an initializer name (${Object.keys(byName).join(', ')}) but received '${name}'`);
  return new Ctor(config as never);
}

/** Serialized form {className, config} for model.json. */
export function serializeInitializer(i: Initializer): { className: string; config: Record<string, unknown> } {
  return { className: i.className, config: i.getConfig() };
}

// Factories, tfjs style: initializers.heNormal({seed}).
/** tfjs initializers.zeros(): a Zeros initializer. */
export const zeros = () => new Zeros();
/** tfjs initializers.ones(): a Ones initializer. */
export const ones = () => new Ones();
/** tfjs initializers.constant({value}): a Constant initializer. */
export const constant = (args: { value: number }) => new Constant(args);
/** tfjs initializers.randomUniform({minval, maxval, seed}): a RandomUniform initializer. */
export const randomUniform = (args?: { minval?: number; maxval?: number; seed?: number }) => new RandomUniform(args);
/** tfjs initializers.randomNormal({mean, stddev, seed}): a RandomNormal initializer. */
export const randomNormal = (args?: { mean?: number; stddev?: number; seed?: number }) => new RandomNormal(args);
/** tfjs initializers.truncatedNormal({mean, stddev, seed}): a TruncatedNormal initializer. */
export const truncatedNormal = (args?: { mean?: number; stddev?: number; seed?: number }) => new TruncatedNormal(args);
/** tfjs initializers.glorotUniform({seed}): a GlorotUniform initializer. */
export const glorotUniform = (args?: { seed?: number }) => new GlorotUniform(args);
/** tfjs initializers.glorotNormal({seed}): a GlorotNormal initializer. */
export const glorotNormal = (args?: { seed?: number }) => new GlorotNormal(args);
/** tfjs initializers.heUniform({seed}): a HeUniform initializer. */
export const heUniform = (args?: { seed?: number }) => new HeUniform(args);
/** tfjs initializers.heNormal({seed}): a HeNormal initializer. */
export const heNormal = (args?: { seed?: number }) => new HeNormal(args);
/** tfjs initializers.leCunUniform({seed}): a LeCunUniform initializer. */
export const leCunUniform = (args?: { seed?: number }) => new LeCunUniform(args);
/** tfjs initializers.leCunNormal({seed}): a LeCunNormal initializer. */
export const leCunNormal = (args?: { seed?: number }) => new LeCunNormal(args);
/** tfjs initializers.varianceScaling({scale, mode, distribution, seed}): a VarianceScaling initializer. */
export const varianceScaling = (args?: { scale?: number; mode?: FanMode; distribution?: Distribution; seed?: number }) => new VarianceScaling(args);
