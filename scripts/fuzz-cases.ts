// The fuzz's call generator: a seeded table of the public API's entry points (ops, image.*,
// gradients, compile and plans, tensor methods, variable, tidy, setBackend, layers), each
// called with random valid arguments or with some replaced by invalid ones (huge sizes,
// negative, NaN, strings, objects, disposed tensors, junk dtypes, wrong ranks). Call i of
// seed s is the same on every run, so a failure names a call that can be replayed.
import type * as CN from '../lib/index.js';

type Cn = typeof CN;
type Tensor = CN.Tensor;

/** One generated call. */
export interface FuzzCall {
  /** Entry point, e.g. 'conv2d' or 'layers.dense.apply'. */
  name: string;
  /** The arguments, for the description. */
  args: unknown[];
  /** Makes the call. */
  run: () => unknown;
  /** run() returns a promise (awaited, outside tidy()). */
  async?: boolean;
  /** An argument was replaced by one that is invalid for every entry point (a disposed
   * tensor, a string given as a number, a junk dtype ...): the call must throw. */
  mustThrow: boolean;
  /** Why mustThrow is set (the first such replacement). */
  invalid: string[];
}

/** mulberry32: a small, seedable PRNG (uniform in [0, 1)). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of call i of a run with seed s (calls are independent of each other). */
export function callSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
}

/** Formats an argument for the call's description (tensors as T<dtype>[shape]). */
export function fmt(v: unknown, cn: Cn, depth = 0): string {
  if (v instanceof cn.Tensor) return `${v.isDisposed ? 'disposed ' : ''}T<${v.dtype}>[${v.shape.map((d) => fmtNum(d)).join(',')}]`;
  if (typeof v === 'number') return fmtNum(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'fn';
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (depth > 3) return '...';
  if (Array.isArray(v)) return `[${v.map((x) => fmt(x, cn, depth + 1)).join(', ')}]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Float32Array).length})`;
  if (typeof v === 'object') return `{${Object.entries(v as object).map(([k, x]) => `${k}: ${fmt(x, cn, depth + 1)}`).join(', ')}}`;
  return String(v);
}

function fmtNum(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) >= 2 ** 20) {
    const k = Math.log2(Math.abs(n));
    if (Number.isInteger(k)) return `${n < 0 ? '-' : ''}2**${k}`;
    return n.toExponential();
  }
  return String(n);
}

/** Argument generator for one call: valid values, each replaced by an invalid one with
 * probability pMut. */
export class Gen {
  readonly r: () => number;
  readonly invalid: string[] = [];
  mustThrow = false;
  /** Tensors the generator made (freed after the call). */
  readonly made: Tensor[] = [];
  constructor(readonly cn: Cn, seed: number, readonly pMut: number) {
    this.r = rng(seed);
  }

  /** An integer in [lo, hi]. */
  i(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }
  private mutate(): boolean {
    return this.pMut > 0 && this.r() < this.pMut;
  }
  /** Takes one of the invalid candidates; those with must=true make the call mustThrow. */
  private bad<T>(what: string, cands: Array<[unknown, boolean]>): T {
    const [v, must] = this.pick(cands);
    if (must) {
      this.mustThrow = true;
      this.invalid.push(`${what} ${fmt(v, this.cn)}`);
    }
    return v as T;
  }

  /** A valid random shape of rank in ranks with dims in [lo, hi]. */
  dims(ranks: readonly number[], lo = 1, hi = 4): number[] {
    const rank = this.pick(ranks);
    return Array.from({ length: rank }, () => this.i(lo, hi));
  }

  /** A concrete tensor of shape (random values); never mutated. */
  make(shape: number[], dtype: CN.DType = 'float32'): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const cn = this.cn;
    let t: Tensor;
    if (dtype === 'int32') t = cn.tensor(Int32Array.from({ length: n }, () => this.i(0, 3)), shape, 'int32');
    else if (dtype === 'bool') t = cn.tensor(Uint8Array.from({ length: n }, () => this.i(0, 1)), shape, 'bool');
    else t = cn.tensor(Float32Array.from({ length: n }, () => Math.round((this.r() * 4 - 2) * 100) / 100), shape, 'float32');
    cn.keep(t);
    this.made.push(t);
    return t;
  }

  /** A tensor argument of the given shape (or a random one of ranks), or an invalid one. */
  t(shape: number[] | readonly number[] = [1, 2, 3, 4], dtype: CN.DType = 'float32', optional = false): Tensor {
    const s = shape as number[];
    if (!this.mutate()) return this.make(s.slice(), dtype);
    const kind = this.i(0, 5);
    if (kind === 0) {
      const d = this.make(s.slice(), dtype);
      d.dispose();
      this.mustThrow = true;
      this.invalid.push('disposed tensor');
      return d;
    }
    if (kind === 1) return this.make(s.slice(), dtype === 'float32' ? this.pick(['int32', 'bool'] as const) : 'float32');
    if (kind === 2) return this.make(this.dims([0, 1, 2, 3, 4, 5]));
    if (kind === 3) return this.make(s.map((d) => (this.r() < 0.3 ? 0 : d)), dtype);
    return this.bad('tensor', [['abc', true], [{}, true], [null, !optional], [true, true], [{ shape: [2] }, true], [Number.NaN, false], [[[1, 2], [3]], true]]);
  }

  /** An integer argument (valid v), or an invalid one. */
  int(v: number): number {
    if (!this.mutate()) return v;
    return this.bad('integer', [
      [2 ** 31, false], [2 ** 31 - 1, false], [2 ** 32, false], [2 ** 53 + 2, false], [2 ** 62, false], [1e9, false], [1e12, false], [-1, false], [-(2 ** 31), false], [0, false],
      [Number.NaN, true], [Infinity, true], [1.5, true], ['2', true], [{}, true], [true, true], [[], false],
    ]);
  }
  /** A float argument (valid v), or an invalid one. */
  num(v: number): number {
    if (!this.mutate()) return v;
    return this.bad('number', [[Number.NaN, false], [Infinity, false], [-Infinity, false], [1e300, false], ['1', true], [{}, true], [true, true], [[1], true]]);
  }
  /** A boolean argument, or an invalid one. */
  bool(v = this.r() < 0.5): boolean {
    if (!this.mutate()) return v;
    return this.bad('boolean', [['yes', true], ['false', true], [{}, true], [[], true], [2, true]]);
  }
  /** A shape argument for a new tensor (valid s), or an invalid one. */
  shape(s: number[]): number[] {
    if (!this.mutate()) return s;
    return this.bad('shape', [
      [[2 ** 32, 2 ** 32], true], [[2 ** 31, 2 ** 31, 2 ** 31], true], [[2 ** 31], true], [[2 ** 53], true], [[1e12, 1e12], true],
      [[-3, 2], true], [[Number.NaN], true], [[1.5, 2], true], [['2', 3], true], ['abc', true], [5, true], [{}, true], [[0, 3], false], [[], false],
    ]);
  }
  /** A dtype argument (valid v), or a junk one. */
  dtype(v: CN.DType = this.pick(['float32', 'int32', 'bool'] as const)): CN.DType {
    if (!this.mutate()) return v;
    return this.bad('dtype', [['int64', true], [7, true], ['float64', true], ['string', true], ['Float32', true], [{}, true], [null, true]]);
  }
  /** A callback argument, or a non-function. */
  fn<F>(f: F): F {
    if (!this.mutate()) return f;
    return this.bad('callback', [[5, true], ['f', true], [{}, true], [null, true], [[], true]]);
  }
  /** An axis for a tensor of rank (valid), or an invalid one. */
  axis(rank: number): number {
    const v = rank > 0 ? this.i(-rank, rank - 1) : 0;
    if (!this.mutate()) return v;
    return this.bad('axis', [[rank, false], [-rank - 1, false], [2 ** 31, false], [Number.NaN, true], [0.5, true], ['0', true], [{}, true]]);
  }
  /** A pad argument. */
  pad(explicit = false): 'same' | 'valid' {
    const v = this.pick(explicit ? ['same', 'valid', 0, 1] : ['same', 'valid']) as 'same';
    if (!this.mutate()) return v;
    return this.bad('pad', [['full', true], ['SAME', true], [-1, true], [Number.NaN, true], [{}, true], [2 ** 31, false], [1.5, true]]);
  }
  /** An options object, or a non-object. */
  opts<T>(o: T): T {
    if (!this.mutate()) return o;
    return this.bad('options', [[null, false], [5, true], ['x', true], [[], false], [true, true]]);
  }
  /** An array of tensors, or something else. */
  list<T>(xs: T[]): T[] {
    if (!this.mutate()) return xs;
    return this.bad('array', [[xs[0], false], [5, true], ['x', true], [{}, true], [[], false], [null, true]]);
  }
  /** A random seed (a number or a string), or an invalid one. */
  seed(): number {
    if (!this.mutate()) return this.i(0, 9);
    return this.bad('seed', [[{}, true], [[], true], [true, true], [Number.NaN, true], [1.5, false], ['abc', false], [2 ** 60, false]]);
  }
    /** A window/stride size: small valid, or huge/zero/negative. */
  size(lo = 1, hi = 3): number {
    return this.int(this.i(lo, hi));
  }
}

type Spec = (g: Gen) => { name: string; args: unknown[]; run: () => unknown; async?: boolean };

const UNARY = ['relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh', 'softplus', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'abs', 'sign', 'floor', 'ceil', 'round', 'reciprocal', 'sin', 'cos', 'neg', 'clone', 'flatten'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'squaredDifference', 'floorDiv', 'mod', 'equal', 'notEqual', 'greater', 'greaterEqual', 'less', 'lessEqual'] as const;
const REDUCE = ['sum', 'mean', 'max', 'min', 'prod'] as const;

/** Calls a function of cn by name with args. */
function call(name: string, f: (...a: never[]) => unknown, args: unknown[]) {
  return { name, args, run: () => f(...(args as never[])) };
}

/** The entry points, each with its argument generator. */
export function specs(cn: Cn): Spec[] {
  const c = cn as unknown as Record<string, (...a: never[]) => unknown>;
  const L = cn.layers as unknown as Record<string, (a: unknown) => CN.layers.Layer>;
  const layer = (name: string, g: Gen, a: unknown, x: Tensor) => {
    const args = g.opts(a);
    return {
    name: `layers.${name}.apply`,
    args: [args, x],
    run: () => {
      const l = L[name](args);
      try {
        return l.apply(x);
      } finally {
        l.dispose();
      }
    },
    };
  };
  const list: Spec[] = [
    // creation
    (g) => call('tensor', c.tensor, [g.pick([[1, 2, 3], [[1, 2], [3, 4]], 5, [[1], [2, 3]], 'abc', {}]), g.r() < 0.5 ? undefined : g.shape(g.dims([1, 2])), g.r() < 0.5 ? undefined : g.dtype()]),
    (g) => call('scalar', c.scalar, [g.r() < 0.9 ? g.i(-3, 3) : g.pick([true, 'x', {}, [1]]), g.dtype('float32')]),
    (g) => call('zeros', c.zeros, [g.shape(g.dims([0, 1, 2, 3, 4])), g.dtype()]),
    (g) => call('ones', c.ones, [g.shape(g.dims([0, 1, 2, 3])), g.dtype()]),
    (g) => call('fill', c.fill, [g.shape(g.dims([0, 1, 2, 3])), g.num(2.5), g.dtype('float32')]),
    (g) => call('zerosLike', c.zerosLike, [g.t(g.dims([0, 1, 2, 3]))]),
    (g) => call('onesLike', c.onesLike, [g.t(g.dims([0, 1, 2, 3]))]),
    (g) => call('randomUniform', c.randomUniform, [g.shape(g.dims([1, 2, 3])), g.num(0), g.num(1), g.dtype('float32'), g.seed()]),
    (g) => call('randomNormal', c.randomNormal, [g.shape(g.dims([1, 2, 3])), g.num(0), g.num(1), g.dtype('float32'), g.seed()]),
    (g) => call('truncatedNormal', c.truncatedNormal, [g.shape(g.dims([1, 2, 3])), g.num(0), g.num(1), g.dtype('float32'), g.seed()]),
    (g) => call('variable', c.variable, [g.t(g.dims([0, 1, 2])), g.bool(), g.pick([undefined, 'v']), g.r() < 0.5 ? undefined : g.dtype()]),
    (g) => call('cast', c.cast, [g.t(g.dims([0, 1, 2])), g.dtype()]),
    // shape
    (g) => {
      const s = g.dims([1, 2, 3]);
      const n = s.reduce((a, b) => a * b, 1);
      return call('reshape', c.reshape, [g.t(s), g.shape(g.pick([[n], [-1], [1, n], [n, -1], [n + 1]]))]);
    },
    (g) => {
      const s = g.dims([0, 1, 2, 3]);
      return call('expandDims', c.expandDims, [g.t(s), g.axis(s.length + 1)]);
    },
    (g) => call('squeeze', c.squeeze, [g.t(g.dims([1, 2, 3], 1, 2)), g.r() < 0.5 ? undefined : [g.axis(2)]]),
    // elementwise
    (g) => {
      const name = g.pick(UNARY);
      return call(name, c[name], [g.t(g.dims([0, 1, 2, 3, 4]))]);
    },
    (g) => {
      const name = g.pick(BINARY);
      const s = g.dims([0, 1, 2, 3]);
      const s2 = g.r() < 0.7 ? s : g.dims([0, 1, 2]);
      return call(name, c[name], [g.r() < 0.2 ? 2 : g.t(s), g.r() < 0.2 ? g.pick([3, 'x', {}]) : g.t(s2)]);
    },
    (g) => call('leakyRelu', c.leakyRelu, [g.t(g.dims([1, 2, 3])), g.num(0.2)]),
    (g) => {
      const s = g.dims([1, 2, 3]);
      const name = g.pick(['softmax', 'logSoftmax']);
      return call(name, c[name], [g.t(s), g.axis(s.length)]);
    },
    (g) => {
      const s = g.dims([1, 2, 3]);
      return call('clipByValue', c.clipByValue, [g.t(s), g.num(-1), g.num(1)]);
    },
    // reductions
    (g) => {
      const name = g.pick(REDUCE);
      const s = g.dims([0, 1, 2, 3]);
      const axis = g.pick([undefined, null, 'one', 'list']);
      const a = axis === 'one' ? g.axis(s.length) : axis === 'list' ? [g.axis(s.length), g.axis(s.length)] : axis;
      return call(name, c[name], [g.t(s), a, g.bool()]);
    },
    (g) => {
      const s = g.dims([1, 2, 3]);
      return call('argMax', c.argMax, [g.t(s), g.axis(s.length)]);
    },
    (g) => call('oneHot', c.oneHot, [g.t(g.dims([1, 2]), 'int32'), g.int(g.i(1, 5)), g.num(1), g.num(0)]),
    // transforms
    (g) => {
      const s = g.dims([1, 2, 3, 4]);
      const perm = s.map((_, i) => i).sort(() => g.r() - 0.5);
      return call('transpose', c.transpose, [g.t(s), g.r() < 0.3 ? undefined : perm.map((p) => g.int(p))]);
    },
    (g) => {
      const s = g.dims([1, 2, 3]);
      const n = g.i(1, 3);
      const name = g.pick(['concat', 'stack']);
      return call(name, c[name], [g.list(Array.from({ length: n }, () => g.t(s))), g.axis(s.length)]);
    },
    (g) => {
      const s = g.dims([1, 2, 3]);
      return call('unstack', c.unstack, [g.t(s), g.axis(s.length)]);
    },
    (g) => {
      const s = g.dims([1, 2, 3], 2, 4);
      return call('split', c.split, [g.t(s), g.r() < 0.5 ? g.int(g.pick([1, 2])) : [g.int(1), -1], g.axis(s.length)]);
    },
    (g) => {
      const s = g.dims([1, 2, 3], 2, 4);
      return call('slice', c.slice, [g.t(s), s.map(() => g.int(g.i(0, 1))), s.map(() => g.int(g.pick([-1, 1])))]);
    },
    (g) => {
      const s = g.dims([1, 2, 3]);
      return call('pad', c.pad, [g.t(s), s.map(() => [g.int(g.i(0, 2)), g.int(g.i(0, 2))]), g.num(0)]);
    },
    (g) => {
      const s = g.dims([1, 2, 3]);
      return call('tile', c.tile, [g.t(s), s.map(() => g.int(g.i(1, 3)))]);
    },
    (g) => {
      const s = g.dims([1, 2, 3]);
      return call('broadcastTo', c.broadcastTo, [g.t(s.map((d) => (g.r() < 0.5 ? 1 : d))), g.shape(s)]);
    },
    (g) => {
      const s = g.dims([1, 2, 3]);
      return call('where', c.where, [g.t(s, 'bool'), g.t(s), g.t(s)]);
    },
    // matmul
    (g) => {
      const [m, k, n] = [g.i(1, 4), g.i(1, 4), g.i(1, 4)];
      return call('matMul', c.matMul, [g.t([m, k]), g.t([g.r() < 0.8 ? k : k + 1, n]), g.bool(false), g.bool(false)]);
    },
    (g) => call('dot', c.dot, [g.t(g.dims([1, 2], 3, 3)), g.t(g.dims([1, 2], 3, 3))]),
    // conv / pool / image
    (g) => {
      const x = [g.i(1, 2), g.i(3, 7), g.i(3, 7), g.i(1, 3)];
      const f = [g.i(1, 3), g.i(1, 3), g.r() < 0.9 ? x[3] : x[3] + 1, g.i(1, 3)];
      return call('conv2d', c.conv2d, [g.t(x), g.t(f), g.size(1, 2), g.pad(true), g.pick(['NHWC', 'NHWC', 'NCHW', 'nhwc']), g.size(1, 2)]);
    },
    (g) => {
      const x = [1, g.i(3, 6), g.i(3, 6), g.i(1, 3)];
      return call('depthwiseConv2d', c.depthwiseConv2d, [g.t(x), g.t([g.i(1, 3), g.i(1, 3), x[3], g.i(1, 2)]), g.size(1, 2), g.pad(), 'NHWC', g.size(1, 2)]);
    },
    (g) => {
      const x = [1, g.i(3, 6), g.i(3, 6), g.i(1, 3)];
      const f = [g.i(1, 3), g.i(1, 3), g.i(1, 3), x[3]];
      const out = [1, x[1] * g.i(1, 2), x[2] * g.i(1, 2), f[2]];
      return call('conv2dTranspose', c.conv2dTranspose, [g.t(x), g.t(f), out.map((d) => g.int(d)), g.size(1, 2), g.pad()]);
    },
    (g) => {
      const x = [1, g.i(3, 6), g.i(3, 6), 2];
      const args = { x: g.t(x), filter: g.t([2, 2, 2, 3]), strides: g.size(1, 2), pad: g.pad(), bias: g.t([3], 'float32', true), activation: g.pick(['relu', 'linear', 'sigmoid', 'bogus'] as never[]) };
      const o = g.opts(args);
      return { name: 'fused.conv2d', args: [o], run: () => cn.fused.conv2d(o) };
    },
    (g) => {
      const s = g.dims([3, 4], 1, 6);
      const name = g.pick(['maxPool', 'avgPool']);
      return call(name, c[name], [g.t(s), g.size(1, 3), g.size(1, 3), g.pad()]);
    },
    (g) => call('image.resizeBilinear', cn.image.resizeBilinear as never, [g.t(g.dims([3, 4], 1, 4)), [g.int(g.i(1, 5)), g.int(g.i(1, 5))], g.bool(false), g.bool(false)]),
    (g) => {
      const x = [g.i(1, 2), g.i(2, 5), g.i(2, 5), g.i(1, 3)];
      return call('image.transform', cn.image.transform as never, [g.t(x), g.t([1, 8]), g.pick(['nearest', 'bilinear', 'cubic']), g.pick(['constant', 'wrap', 'bad']), g.num(0), g.r() < 0.5 ? undefined : [g.int(3), g.int(3)]]);
    },
    (g) => {
      const s = g.dims([2, 4]);
      const ch = s[s.length - 1];
      return call('batchNorm', c.batchNorm, [g.t(s), g.t([ch]), g.t([ch]), g.t([ch], 'float32', true), g.t([ch], 'float32', true), g.num(0.001)]);
    },
    (g) => call('localResponseNormalization', c.localResponseNormalization, [g.t([1, 2, 2, g.i(1, 4)]), g.int(g.i(1, 3)), g.num(1), g.num(1), g.num(0.5)]),
    (g) => call('dropout', c.dropout, [g.t(g.dims([1, 2, 3])), g.num(g.pick([0, 0.5, 0.9])), undefined, g.seed()]),
    (g) => {
      const n = g.i(1, 3);
      return call('sparseSoftmaxCrossEntropy', c.sparseSoftmaxCrossEntropy, [g.t([n], 'int32'), g.t([n, 4])]);
    },
    // tidy / gradients / compile
    (g) => {
      const x = g.t([2, 3]);
      return call('tidy', cn.tidy as never, [g.fn(() => cn.add(cn.mul(x, 2), 1))]);
    },
    (g) => {
      const x = g.t(g.dims([1, 2]));
      const f = g.fn((t: Tensor) => cn.sum(cn.square(t)));
      const name = g.pick(['grad', 'valueAndGrad'] as const);
      return { name, args: [f, x], run: () => cn[name](f)(x) };
    },
    (g) => {
      const s = g.dims([1, 2]);
      const a = g.t(s);
      const b = g.t(s);
      const f = g.fn((p: Tensor, q: Tensor) => cn.sum(cn.mul(p, q)));
      const xs = g.r() < 0.8 ? [a, b] : (g.pick([a, 'xs', {}]) as never);
      const name = g.pick(['grads', 'valueAndGrads'] as const);
      return { name, args: [f, xs], run: () => cn[name](f)(xs) };
    },
    (g) => {
      const v = cn.variable(g.make([2]));
      g.made.push(v);
      const f = g.fn(() => cn.sum(cn.square(v)));
      return { name: 'variableGrads', args: [f], run: () => cn.variableGrads(f) };
    },
    (g) => {
      const shape = g.dims([1, 2]);
      const specShape = g.shape(shape);
      const f = g.fn((x: Tensor) => [cn.relu(cn.add(x, 1))]);
      const input = g.t(shape);
      const spec = [{ shape: specShape, dtype: g.r() < 0.9 ? undefined : g.dtype() }];
      const feeds = g.r() < 0.8 ? [input] : g.pick([input, [5], ['x'], [{}], [null], []]);
      return {
        name: 'compile.runSync',
        args: [f, spec, feeds],
        run: () => {
          const plan = cn.compile(f, spec);
          try {
            return plan.runSync(feeds as never);
          } finally {
            plan.dispose();
          }
        },
      };
    },
    (g) => {
      const name = g.pick(['cpu', 'cpu', 'cuda', 'gpu', 5, {}, null] as const);
      return {
        name: 'setBackend',
        args: [name],
        run: () => {
          try {
            cn.setBackend(name as never);
          } finally {
            cn.setBackend('cpu');
          }
        },
      };
    },
    // tensor methods
    (g) => {
      const t = g.make(g.dims([0, 1, 2]), g.pick(['float32', 'int32', 'bool'] as const));
      const m = g.pick(['dataSync', 'arraySync', 'toString', 'dispose', 'data', 'array'] as const);
      if (g.r() < 0.3) {
        t.dispose();
        // Reading a disposed tensor must throw; toString and a second dispose() are fine.
        if (m === 'dataSync' || m === 'arraySync') (g.mustThrow = true), g.invalid.push('disposed tensor');
      }
      return { name: `tensor.${m}`, args: [t], run: () => (m === 'data' || m === 'array' ? undefined : t[m]()) };
    },
    (g) => {
      const t = g.make(g.dims([0, 1, 2]));
      const m = g.pick(['data', 'array'] as const);
      if (g.r() < 0.3) {
        t.dispose();
        g.mustThrow = true;
        g.invalid.push('disposed tensor');
      }
      return { name: `tensor.${m}`, args: [t], async: true, run: () => t[m]() };
    },
    (g) => {
      const shape = g.dims([1, 2]);
      const input = g.t(shape);
      const feeds = g.r() < 0.8 ? [input] : g.pick([[5], [null], [], 'x']);
      return {
        name: 'compile.run',
        args: [[{ shape }], feeds],
        async: true,
        run: async () => {
          const plan = cn.compile((x: Tensor) => [cn.sigmoid(x)], [{ shape }]);
          try {
            return await plan.run(feeds as never);
          } finally {
            plan.dispose();
          }
        },
      };
    },
    (g) => {
      const s = g.dims([1, 2]);
      const v = cn.variable(g.make(s));
      g.made.push(v);
      const val = g.t(g.r() < 0.8 ? s : g.dims([1, 2]));
      return { name: 'variable.assign', args: [v, val], run: () => v.assign(val) };
    },
    (g) => {
      const x = [1, g.i(3, 6), g.i(3, 6), g.i(1, 3)];
      return call('separableConv2d', c.separableConv2d, [g.t(x), g.t([2, 2, x[3], 2]), g.t([1, 1, x[3] * 2, g.i(1, 3)]), g.size(1, 2), g.pad(), g.size(1, 1)]);
    },
    (g) => {
      const [m, k, n] = [g.i(1, 4), g.i(1, 4), g.i(1, 4)];
      const args = { a: g.t([m, k]), b: g.t([k, n]), transposeA: g.bool(false), bias: g.t([n], 'float32', true), activation: g.pick(['relu', 'linear', 'nope']) };
      const o = g.opts(args);
      return { name: 'fused.matMul', args: [o], run: () => cn.fused.matMul(o as never) };
    },
    (g) => {
      const s = [g.i(1, 3), g.i(2, 4)];
      return call('softmaxCrossEntropy', c.softmaxCrossEntropy, [g.t(s), g.t(s), g.axis(2)]);
    },
    (g) => {
      const s = g.dims([2, 4]);
      const ch = s[s.length - 1];
      return call('batchNormTraining', c.batchNormTraining, [g.t(s), g.t([ch]), g.t([ch]), g.num(0.001)]);
    },
    (g) => call('prelu', c.prelu, [g.t([2, 3]), g.t(g.pick([[3], [2, 3], [4]]))]),
    (g) => {
      const x = g.t(g.dims([1, 2]));
      return { name: 'keep', args: [x], run: () => cn.keep(x) };
    },
    (g) => {
      const units = g.int(g.i(1, 3));
      const inDim = g.i(1, 4);
      const x = g.t([2, g.r() < 0.9 ? inDim : inDim + 1]);
      return {
        name: 'model.predict',
        args: [{ units, inputShape: [inDim] }, x],
        run: () => {
          const m = cn.sequential({ layers: [cn.layers.dense({ units, inputShape: [inDim] })] });
          try {
            return m.predict(x, { batchSize: g.int(2) });
          } finally {
            m.dispose();
          }
        },
      };
    },
    (g) => {
      const shape = g.shape(g.dims([1, 2, 3]));
      return { name: 'layers.input', args: [{ shape }], run: () => void cn.layers.input({ shape }) };
    },
    (g) => {
      const inputShape = g.shape(g.dims([1, 2]));
      const units = g.int(g.i(1, 3));
      return {
        name: 'sequential.dense',
        args: [{ units, inputShape }],
        run: () => {
          const m = cn.sequential({ layers: [cn.layers.dense({ units, inputShape })] });
          m.dispose();
        },
      };
    },
    (g) => {
      const name = g.pick(['tensor1d', 'tensor2d', 'tensor4d'] as const);
      const shape = name === 'tensor1d' ? undefined : g.shape(name === 'tensor2d' ? [2, 2] : [1, 2, 2, 1]);
      const values = g.pick([[1, 2, 3, 4], new Float32Array(4), [[1, 2], [3, 4]], ['a', 'b'], [{}, 1], [1, [2]]]);
      return call(name, c[name], name === 'tensor1d' ? [values, g.r() < 0.5 ? undefined : g.dtype()] : [values, shape, g.r() < 0.5 ? undefined : g.dtype()]);
    },
    (g) => call('globalAvgPool', c.globalAvgPool, [g.t(g.dims([3, 4])), g.bool(false)]),
    (g) => {
      const x = [1, g.i(3, 6), g.i(3, 6), 2];
      const args = { x: g.t(x), filter: g.t([2, 2, 2, g.i(1, 2)]), strides: g.size(1, 2), pad: g.pad(), dilations: g.size(1, 1), activation: g.pick(['relu', 'linear', 'elu'] as never[]) };
      return { name: 'fused.depthwiseConv2d', args: [args], run: () => cn.fused.depthwiseConv2d(args) };
    },
    (g) => {
      const name = g.pick(['meanSquaredError', 'meanAbsoluteError', 'categoricalCrossentropy', 'binaryCrossentropy', 'sparseCategoricalCrossentropy'] as const);
      const s = [g.i(1, 3), g.i(2, 4)];
      const yTrue = name === 'sparseCategoricalCrossentropy' ? g.t([s[0]], 'int32') : g.t(s);
      return call(`losses.${name}`, (cn.losses as never)[name], [yTrue, g.t(s)]);
    },
    (g) => {
      const name = g.pick(['categoricalAccuracy', 'binaryAccuracy', 'sparseCategoricalAccuracy'] as const);
      const s = [g.i(1, 3), g.i(2, 4)];
      const yTrue = name === 'sparseCategoricalAccuracy' ? g.t([s[0]], 'int32') : g.t(s);
      return call(`metrics.${name}`, (cn.metrics as never)[name], [yTrue, g.t(s)]);
    },
    (g) => {
      const v = cn.variable(g.make([3]));
      g.made.push(v);
      const name = g.pick(['sgd', 'adam', 'rmsprop'] as const);
      const lr = 0.1;
      const f = g.fn(() => cn.sum(cn.square(v)));
      return {
        name: `train.${name}.minimize`,
        args: [lr, f],
        run: () => {
          const opt = (cn.train[name] as (lr: number) => { minimize: (f: unknown, r: boolean) => unknown; dispose: () => void })(lr);
          try {
            return opt.minimize(f, true);
          } finally {
            opt.dispose();
          }
        },
      };
    },
    (g) => call('backendOf', c.backendOf, [g.t([2])]),
    (g) => {
      const n = g.i(1, 4);
      const x = g.t([n, 3]);
      const y = g.t([g.r() < 0.9 ? n : n + 1, 2]);
      const name = g.pick(['fit', 'evaluate'] as const);
      // epochs stays small, since a valid 2**31 epochs is a long run, not a hang.
      const epochs = g.pick([1, 1, 1, 0, -1, 1.5, 'x']);
      if (typeof epochs !== 'number' && name === 'fit') (g.mustThrow = true), g.invalid.push('epochs "x"');
      let opts: unknown = name === 'fit' ? { epochs, batchSize: g.int(g.i(1, 4)), verbose: 0 } : { batchSize: g.int(g.i(1, 4)), verbose: 0 };
      // Junk option objects (lib/models/training_options.ts): not an object, a coerced type,
      // an unknown key, an option tfjs has and this package refuses.
      const junk = g.pick(['none', 'none', 'none', 'number', 'shuffle', 'unknown', 'classWeight'] as const);
      if (junk === 'number') (opts = 5), (g.mustThrow = true), g.invalid.push('options 5');
      if (junk === 'shuffle' && name === 'fit') ((opts as Record<string, unknown>).shuffle = 2), (g.mustThrow = true), g.invalid.push('shuffle 2');
      if (junk === 'unknown') ((opts as Record<string, unknown>).batchSise = 2), (g.mustThrow = true), g.invalid.push('unknown option');
      if (junk === 'classWeight') ((opts as Record<string, unknown>).classWeight = { 0: 1 }), (g.mustThrow = true), g.invalid.push('classWeight');
      return {
        name: `model.${name}`,
        args: [x, y, opts],
        async: true,
        run: async () => {
          const m = cn.sequential({ layers: [cn.layers.dense({ units: 2, inputShape: [3] })] });
          try {
            m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
            const r = name === 'fit' ? await m.fit(x, y, opts as never) : m.evaluate(x, y, opts as never);
            return name === 'fit' ? undefined : r;
          } finally {
            m.dispose();
          }
        },
      };
    },
    // layers
    (g) => layer('dense', g, { units: g.int(g.i(1, 4)), activation: g.pick(['relu', 'linear', 'softmax', 'nope', 5]), useBias: g.bool(true) }, g.t([2, g.i(1, 4)])),
    (g) => layer('conv2d', g, { filters: g.int(g.i(1, 3)), kernelSize: g.int(g.i(1, 3)), strides: g.int(g.i(1, 2)), padding: g.pad(), dilationRate: g.int(1) }, g.t([1, g.i(3, 6), g.i(3, 6), g.i(1, 3)])),
    (g) => layer('depthwiseConv2d', g, { kernelSize: g.int(g.i(1, 3)), depthMultiplier: g.int(g.i(1, 2)), padding: g.pad() }, g.t([1, g.i(3, 6), g.i(3, 6), g.i(1, 3)])),
    (g) => layer(g.pick(['maxPooling2d', 'averagePooling2d']), g, { poolSize: g.int(g.i(1, 3)), strides: g.int(g.i(1, 2)), padding: g.pad() }, g.t([1, g.i(2, 6), g.i(2, 6), g.i(1, 3)])),
    (g) => layer(g.pick(['globalAveragePooling2d', 'globalMaxPooling2d', 'flatten']), g, {}, g.t([1, g.i(1, 4), g.i(1, 4), g.i(1, 3)])),
    (g) => layer('batchNormalization', g, { axis: g.int(-1), momentum: g.num(0.99), epsilon: g.num(0.001) }, g.t([2, g.i(1, 4)])),
    (g) => layer('dropout', g, { rate: g.num(0.5) }, g.t([2, 3])),
    (g) => layer('reshape', g, { targetShape: g.shape([6]) }, g.t([2, 2, 3])),
    (g) => layer('activation', g, { activation: g.pick(['relu', 'tanh', 'bogus', 5]) }, g.t([2, 3])),
    (g) => layer('zeroPadding2d', g, { padding: g.int(g.i(0, 2)) }, g.t([1, 3, 3, 1])),
    (g) => layer('rescaling', g, { scale: g.num(0.5), offset: g.num(0) }, g.t([1, 3, 3, 1])),
    (g) => layer('resizing', g, { height: g.int(g.i(1, 4)), width: g.int(g.i(1, 4)) }, g.t([1, 3, 3, 1])),
    (g) => layer('centerCrop', g, { height: g.int(g.i(1, 3)), width: g.int(g.i(1, 3)) }, g.t([1, 3, 3, 1])),
    (g) => layer('localResponseNormalization', g, { depthRadius: g.int(g.i(1, 3)) }, g.t([1, 2, 2, 3])),
  ];
  return list;
}

/** Builds call i of a run with this seed: half the calls are all-valid, the others replace
 * each argument by an invalid one with probability 0.3. */
export function makeCall(cn: Cn, seed: number, i: number): { call: FuzzCall; gen: Gen } {
  const s = callSeed(seed, i);
  const table = specs(cn);
  const pick = rng(s);
  const which = Math.floor(pick() * table.length);
  const pMut = pick() < 0.5 ? 0 : 0.3;
  const gen = new Gen(cn, s ^ 0x5bd1e995, pMut);
  const c = table[which](gen);
  return { call: { ...c, mustThrow: gen.mustThrow, invalid: gen.invalid }, gen };
}
