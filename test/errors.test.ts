// Bad input gets typed errors with one message shape, `op: expected X but received Y`,
// naming the argument; native failures come back as errors with a .code. One test per
// class of error: wrong rank, wrong shape, wrong dtype, bad option values, disposed
// tensors, native errors (sync and async).
import { spawnSync } from 'node:child_process';
import { beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends } from './helpers.js';

/** Runs f, expects it to throw an instance of cls whose message matches every pattern. */
function expectError(f: () => unknown, cls: new (...args: never[]) => Error, ...patterns: Array<string | RegExp>): Error {
  let err: unknown;
  try {
    cn.tidy(() => {
      f();
    });
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error to be thrown').toBeInstanceOf(cls);
  const e = err as Error & { code?: string };
  for (const p of patterns) expect(e.message).toMatch(p);
  expect(e.code, 'errors carry a code').toMatch(/^ERR_/);
  return e;
}

describeBackends('errors', (backend) => {
  beforeEach(() => cn.setBackend(backend));
  const img = () => cn.zeros([2, 8, 8, 3]);
  const filt = () => cn.zeros([3, 3, 3, 4]);

  describe('wrong rank', () => {
    it('conv2d with a rank-2 input names x, the expected rank and the received shape', () => {
      const e = expectError(() => cn.conv2d(cn.zeros([28, 28]), filt(), 1, 'same'), cn.InvalidArgumentError, 'conv2d: expected x of rank 3 or 4 (NHWC) but received shape [28,28]');
      expect((e as cn.CudnnNodeError).code).toBe('ERR_INVALID_ARGUMENT');
    });
    it('conv2d with a rank-3 filter', () => {
      expectError(() => cn.conv2d(img(), cn.zeros([3, 3, 3]), 1, 'same'), cn.InvalidArgumentError, 'conv2d: expected filter of rank 4 (HWIO) but received shape [3,3,3]');
    });
    it('maxPool / resizeBilinear / matMul / dot', () => {
      expectError(() => cn.maxPool(cn.zeros([4, 4]), 2, 2, 'valid'), cn.InvalidArgumentError, 'maxPool: expected x of rank 3 or 4 (NHWC) but received shape [4,4]');
      expectError(() => cn.image.resizeBilinear(cn.zeros([4]), [2, 2]), cn.InvalidArgumentError, 'resizeBilinear: expected images of rank 3 or 4', 'received shape [4]');
      expectError(() => cn.matMul(cn.zeros([3]), cn.zeros([3, 2])), cn.InvalidArgumentError, 'matMul: expected a of rank >= 2 but received [3]');
      expectError(() => cn.dot(cn.zeros([2, 2, 2]), cn.zeros([2])), cn.InvalidArgumentError, 'dot: expected t1 of rank 1 or 2 but received shape [2,2,2]');
    });
  });

  describe('wrong shape', () => {
    it('conv2d filter in-channels differ from x channels', () => {
      expectError(() => cn.conv2d(img(), cn.zeros([3, 3, 5, 4]), 1, 'same'), cn.InvalidArgumentError, 'conv2d: expected filter with 3 input channels', 'but received filter shape [3,3,5,4]');
    });
    it('matMul inner dimensions', () => {
      expectError(() => cn.matMul(cn.zeros([2, 3]), cn.zeros([4, 5])), cn.InvalidArgumentError, 'matMul: expected inner dimensions to match', 'but received 3 and 4');
    });
    it('broadcasting', () => {
      expectError(() => cn.add(cn.zeros([2, 3]), cn.zeros([4])), cn.InvalidArgumentError, 'add: expected shapes that broadcast but received [2,3] and [4]');
    });
    it('reshape to a different size', () => {
      expectError(() => cn.reshape(cn.zeros([2, 3]), [4, 2]), cn.InvalidArgumentError, 'reshape: expected a shape with 6 elements', 'but received [4,2]');
    });
    it('window larger than the input', () => {
      expectError(() => cn.conv2d(cn.zeros([1, 2, 2, 3]), filt(), 1, 'valid'), cn.InvalidArgumentError, 'conv2d: expected an input at least as large as the window [3,3] but received shape [1,2,2,3]');
    });
    it('concat shapes differing outside the axis', () => {
      expectError(() => cn.concat([cn.zeros([2, 3]), cn.zeros([3, 3])], 1), cn.InvalidArgumentError, 'concat: expected tensors[1] of shape', 'but received [3,3]');
    });
    it('batchNormTraining gamma of the wrong length', () => {
      expectError(() => cn.batchNormTraining(cn.zeros([4, 3]), cn.ones([2]), cn.zeros([3])), cn.InvalidArgumentError, 'batchNormTraining: expected gamma of shape [3]', 'but received [2]');
    });
    it('sparse labels of the wrong shape', () => {
      expectError(() => cn.sparseSoftmaxCrossEntropy(cn.tensor(new Int32Array([0, 1, 2])), cn.zeros([2, 4])), cn.InvalidArgumentError, 'sparseSoftmaxCrossEntropy: expected labels of shape [2]', 'but received [3]');
    });
    it('slice out of bounds', () => {
      expectError(() => cn.slice(cn.zeros([4, 5]), [2, 0], [3, 5]), cn.InvalidArgumentError, 'slice: expected begin [2,0] and size [3,5] within shape [4,5]');
    });
  });

  describe('wrong dtype', () => {
    it('conv2d with an int32 input', () => {
      const e = expectError(() => cn.conv2d(cn.zeros([1, 4, 4, 1], 'int32'), cn.zeros([2, 2, 1, 1]), 1, 'same'), cn.DTypeError, 'conv2d: expected x of dtype float32 but received int32');
      expect((e as cn.CudnnNodeError).code).toBe('ERR_INVALID_DTYPE');
    });
    it('sparse labels must be int32', () => {
      expectError(() => cn.sparseSoftmaxCrossEntropy(cn.zeros([2]), cn.zeros([2, 3])), cn.DTypeError, 'sparseSoftmaxCrossEntropy: expected labels of dtype int32 but received float32');
    });
    it('mixed dtypes in arithmetic and concat', () => {
      expectError(() => cn.add(cn.zeros([2], 'int32'), cn.zeros([2])), cn.DTypeError, "add: expected b of a's dtype int32 but received float32");
      expectError(() => cn.concat([cn.zeros([2]), cn.zeros([2], 'int32')]), cn.DTypeError, 'concat: expected tensors[1] of dtype float32 but received int32');
    });
  });

  describe('bad option values', () => {
    it('strides 0', () => {
      expectError(() => cn.conv2d(img(), filt(), 0, 'same'), cn.InvalidArgumentError, 'conv2d: expected strides as a positive integer or a pair of them but received 0');
      expectError(() => cn.maxPool(img(), 2, [1, 0], 'same'), cn.InvalidArgumentError, 'maxPool: expected strides', 'but received [1,0]');
    });
    it("pad 'foo'", () => {
      expectError(() => cn.conv2d(img(), filt(), 1, 'foo' as 'same'), cn.InvalidArgumentError, "conv2d: expected pad 'same', 'valid'", "but received 'foo'");
      expectError(() => cn.avgPool(img(), 2, 2, 'foo' as 'same'), cn.InvalidArgumentError, "avgPool: expected pad 'same' or 'valid' but received 'foo'");
    });
    it('dropout rate 1.5', () => {
      expectError(() => cn.dropout(img(), 1.5), cn.InvalidArgumentError, 'dropout: expected rate in [0, 1) but received 1.5');
    });
    it('dilations, dataFormat, activation, axis, perm, clip range, resize size and modes', () => {
      expectError(() => cn.conv2d(img(), filt(), 1, 'same', 'NHWC', -1), cn.InvalidArgumentError, 'conv2d: expected dilations', 'but received -1');
      expectError(() => cn.conv2d(img(), filt(), 1, 'same', 'NWHC' as 'NHWC'), cn.InvalidArgumentError, "conv2d: expected dataFormat 'NHWC' or 'NCHW' but received 'NWHC'");
      expectError(() => cn.fused.conv2d({ x: img(), filter: filt(), strides: 1, pad: 'same', activation: 'swish' as 'relu' }), cn.InvalidArgumentError, 'fused.conv2d: expected activation one of', "but received 'swish'");
      expectError(() => cn.softmax(img(), 4), cn.InvalidArgumentError, 'softmax: expected dim in [-4, 4) but received 4');
      expectError(() => cn.transpose(cn.zeros([2, 3]), [0, 0]), cn.InvalidArgumentError, 'transpose: expected perm as a permutation of [0..1] but received [0,0]');
      expectError(() => cn.clipByValue(cn.zeros([2]), 1, 0), cn.InvalidArgumentError, 'clipByValue: expected clipValueMin <= clipValueMax but received');
      expectError(() => cn.image.resizeBilinear(img(), [0, 4]), cn.InvalidArgumentError, 'resizeBilinear: expected size [newHeight, newWidth] of positive integers but received [0,4]');
      expectError(() => cn.image.resizeBilinear(img(), [4, 4], true, true), cn.InvalidArgumentError, 'resizeBilinear: expected alignCorners false when halfPixelCenters is true');
      expectError(() => cn.split(cn.zeros([5]), 2), cn.InvalidArgumentError, 'split: expected numOrSizeSplits dividing axis 0 of size 5 but received 2');
      expectError(() => cn.randomNormal([2, 2], 0, -1), cn.InvalidArgumentError, 'randomNormal: expected stdDev > 0 but received -1');
    });
  });

  describe('disposed tensors', () => {
    it('an op on a disposed input names the op and the tensor', () => {
      const x = cn.ones([2, 3]);
      x.dispose();
      const e = expectError(() => cn.relu(x), cn.DisposedError, /relu: expected a live tensor but received a disposed tensor \(id \d+, shape \[2,3\]\)/);
      expect((e as cn.CudnnNodeError).code).toBe('ERR_TENSOR_DISPOSED');
      expectError(() => cn.conv2d(x, filt(), 1, 'same'), cn.DisposedError, 'conv2d: expected a live tensor but received a disposed tensor');
      expectError(() => x.dataSync(), cn.DisposedError, 'dataSync: expected a live tensor');
    });
    it('data() on a disposed tensor rejects', async () => {
      const x = cn.ones([2]);
      x.dispose();
      await expect(x.data()).rejects.toBeInstanceOf(cn.DisposedError);
    });
  });

  // Issue 19: sizes with checked arithmetic, no coercion, documented dtypes, callbacks, and
  // the calls that crashed or hung the process.
  describe('sizes are checked before anything is allocated', () => {
    it('a shape over the element limit (or one that overflows) is refused, naming the function and the argument', () => {
      expectError(() => cn.zeros([2 ** 32, 2 ** 32]), cn.InvalidArgumentError, 'zeros: expected shape of at most 2147483647 elements but received [4294967296,4294967296]');
      expectError(() => cn.ones([2 ** 31, 2 ** 31, 2 ** 31]), cn.InvalidArgumentError, 'ones: expected shape of at most 2147483647 elements');
      expectError(() => cn.fill([2 ** 53], 1), cn.InvalidArgumentError, 'fill: expected shape as an array of non-negative integers but received [9007199254740992]');
      expectError(() => cn.randomUniform([1e12, 1e12]), cn.InvalidArgumentError, 'randomUniform: expected shape of at most');
      expectError(() => cn.tensor([1], [2 ** 32, 2 ** 32]), cn.InvalidArgumentError, 'tensor: expected shape of at most');
      expectError(() => cn.reshape(cn.zeros([0]), [2 ** 32, 2 ** 32, 0]), cn.InvalidArgumentError, 'reshape: expected shape of at most');
      expectError(() => cn.broadcastTo(cn.zeros([1]), [2 ** 32, 2 ** 32]), cn.InvalidArgumentError, 'broadcastTo: expected shape of at most');
      expectError(() => cn.zeros([-1, 2]), cn.InvalidArgumentError, 'zeros: expected shape as an array of non-negative integers but received [-1,2]');
      expectError(() => cn.zeros([1.5]), cn.InvalidArgumentError, 'zeros: expected shape as an array of non-negative integers but received [1.5]');
      expectError(() => cn.zeros(5 as never), cn.InvalidArgumentError, 'zeros: expected shape as an array of non-negative integers but received 5');
      expectError(() => cn.zeros(['2'] as never), cn.InvalidArgumentError, "zeros: expected shape as an array of non-negative integers but received ['2']");
    });
    it('a zero-size shape with a large dimension is fine and its buffer agrees with it', () => {
      const t = cn.zeros([0, 2 ** 20]);
      expect(t.size).toBe(0);
      expect(t.dataSync().length).toBe(0);
      t.dispose();
    });
    it('ops whose output would pass the limit refuse it before running', () => {
      expectError(() => cn.image.resizeBilinear(cn.zeros([1, 2, 2, 1]), [2 ** 62, 3]), cn.InvalidArgumentError, 'resizeBilinear: expected');
      expectError(() => cn.image.resizeBilinear(cn.zeros([1, 2, 2, 1]), [2 ** 30, 4]), cn.InvalidArgumentError, 'resizeBilinear: expected an output of at most 2147483647 elements but received shape [1,1073741824,4,1]');
      expectError(() => cn.tile(cn.zeros([1, 3]), [1e12, 1]), cn.InvalidArgumentError, 'tile: expected an output of at most 2147483647 elements');
      expectError(() => cn.oneHot(cn.tensor(new Int32Array([0, 1])), 2 ** 31), cn.InvalidArgumentError, 'oneHot: expected an output of at most');
      expectError(() => cn.pad(cn.zeros([2]), [[2 ** 31, 0]]), cn.InvalidArgumentError, 'pad: expected an output of at most');
      expectError(() => cn.unstack(cn.zeros([2 ** 21])), cn.InvalidArgumentError, 'unstack: expected at most 1048576 slices on axis 0 but received [2097152]');
    });
    it('tile by doubling gives n copies (as tfjs) and its gradient sums them', () => {
      const x = cn.tensor([1, 2]);
      expect(Array.from(cn.tile(x, [5]).dataSync())).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
      // d/dx sum(tile(x, 7)^2) = 7 * 2x.
      expect(Array.from(cn.grad((t) => cn.sum(cn.mul(cn.tile(t, [7]), cn.tile(t, [7]))))(x).dataSync())).toEqual([14, 28]);
      expect(cn.tile(cn.zeros([0, 2]), [1e6, 3]).shape).toEqual([0, 6]);
    });
    it('layer sizes over the limit are refused when the layer is made', () => {
      expectError(() => cn.layers.dense({ units: 1e12 }), cn.InvalidArgumentError, 'dense: expected units of at most 2147483647 but received 1000000000000');
      expectError(() => cn.layers.conv2d({ filters: 1e12, kernelSize: 3 }), cn.InvalidArgumentError, 'conv2d: expected filters of at most 2147483647');
      expectError(() => cn.layers.dense({ units: 2, inputShape: [2 ** 31, 2 ** 31] }), cn.InvalidArgumentError, 'Dense: expected inputShape of at most 2147483647 elements');
      expectError(() => cn.layers.input({ shape: 5 as never }), cn.InvalidArgumentError, 'input: expected shape as an array of non-negative integers or null but received 5');
      // A layer whose weights would pass the limit (4 * 2^30 inputs x 2^30 units) refuses in build.
      expectError(() => cn.layers.dense({ units: 2 ** 30 }).apply(cn.zeros([1, 4])), cn.InvalidArgumentError, "addWeight: expected the shape of 'kernel' of at most 2147483647 elements");
    });
  });

  describe('calls that crashed or hung the process now throw', () => {
    it('a reduction over axis 0 of a scalar (as tfjs, a scalar has no axis)', () => {
      for (const f of [cn.sum, cn.mean, cn.max, cn.min, cn.prod])
        expectError(() => f(cn.scalar(3), 0), cn.InvalidArgumentError, /^\w+: expected no axis for a scalar \(rank 0\) but received 0$/);
      expectError(() => cn.argMax(cn.scalar(3), 0), cn.InvalidArgumentError, 'argMax: expected x of rank >= 1 but received []');
      // No axis (all of them) is still a scalar's sum.
      expect(cn.sum(cn.scalar(3)).dataSync()[0]).toBe(3);
    });
    it("pooling windows and dilations far larger than the input with 'same' padding", () => {
      expectError(() => cn.maxPool(cn.zeros([1, 4, 4, 1]), 2 ** 31, 1, 'same'), cn.InvalidArgumentError, 'maxPool: expected filterSize as a positive integer or a pair of them but received 2147483648');
      // A SAME window larger than the input pools the whole image, as TensorFlow does (the
      // native core trims it to what can touch the input); a dilation that would pad by billions
      // is refused by the native padding limit before any work.
      expect(cn.avgPool(cn.ones([1, 4, 4, 1]), 2 ** 31 - 1, 1, 'same').dataSync()).toEqual(new Float32Array(16).fill(1));
      expectError(() => cn.conv2d(cn.zeros([1, 1, 6, 1]), cn.zeros([1, 3, 1, 4]), 2, 'same', 'NHWC', 1e9), cn.InvalidArgumentError, 'conv2d: expected padding of at most 65536 per side');
      // The everyday cases stay valid: a 3x3 window on a 1x1 map, ResNet's 3x3/2 max pool.
      expect(cn.maxPool(cn.ones([1, 1, 1, 2]), 3, 1, 'same').shape).toEqual([1, 1, 1, 2]);
      expect(cn.maxPool(cn.ones([1, 112, 112, 1]), 3, 2, 'same').shape).toEqual([1, 56, 56, 1]);
      expect(cn.conv2d(cn.ones([1, 2, 2, 1]), cn.ones([5, 5, 1, 1]), 1, 'same').shape).toEqual([1, 2, 2, 1]);
    });
  });

  describe('argument types: no coercion, documented dtypes, callbacks', () => {
    it('strings and objects given as numbers or booleans are refused', () => {
      expectError(() => cn.sum(cn.zeros([2]), 0, 'yes' as never), cn.InvalidArgumentError, "sum: expected keepDims as a boolean but received 'yes'");
      expectError(() => cn.oneHot(cn.tensor(new Int32Array([0])), 2, '1' as never), cn.InvalidArgumentError, "oneHot: expected onValue as a finite number but received '1'");
      expectError(() => cn.scalar('3' as never), cn.InvalidArgumentError, "scalar: expected value as a number or a boolean but received '3'");
      expectError(() => cn.tensor(['a', 'b'] as never), cn.InvalidArgumentError, "tensor: expected values as numbers, booleans, (nested) arrays of them or a typed array but received ['a','b']");
      expectError(() => cn.fill([2], '1' as never), cn.InvalidArgumentError, "fill: expected value as a number but received '1'");
      expectError(() => cn.variable(cn.zeros([2]), 'yes' as never), cn.InvalidArgumentError, "variable: expected trainable as a boolean but received 'yes'");
      expectError(() => cn.layers.dense({ units: 2, useBias: 'false' as never }), cn.InvalidArgumentError, "dense: expected useBias as a boolean but received 'false'");
      expectError(() => cn.expandDims(cn.zeros([2]), '0' as never), cn.InvalidArgumentError, "expandDims: expected axis as an integer but received '0'");
    });
    it('dtypes come from the documented set', () => {
      const e = expectError(() => cn.zeros([2], 'int64' as never), cn.DTypeError, "zeros: expected dtype 'float32', 'int32', 'bool', 'bfloat16' or 'float16' but received 'int64'");
      expect((e as cn.CudnnNodeError).code).toBe('ERR_INVALID_DTYPE');
      expectError(() => cn.cast(cn.zeros([2]), 7 as never), cn.DTypeError, "cast: expected dtype 'float32', 'int32', 'bool', 'bfloat16' or 'float16' but received 7");
      expectError(() => cn.tensor([1, 2], undefined, 'float64' as never), cn.DTypeError, "tensor: expected dtype 'float32', 'int32', 'bool', 'bfloat16' or 'float16' but received 'float64'");
      expectError(() => cn.compile((x) => [x], [{ shape: [2], dtype: 'int8' as never }]), cn.DTypeError, "compile: expected inputs[0].dtype 'float32', 'int32', 'bool', 'bfloat16' or 'float16' but received 'int8'");
    });
    it('callbacks must be functions', () => {
      expectError(() => cn.tidy(5 as never), cn.InvalidArgumentError, 'tidy: expected fn to be a function but received 5');
      expectError(() => cn.grad('f' as never), cn.InvalidArgumentError, "grad: expected f to be a function but received 'f'");
      expectError(() => cn.grads(null as never), cn.InvalidArgumentError, 'grads: expected f to be a function but received null');
      expectError(() => cn.valueAndGrad({} as never), cn.InvalidArgumentError, 'valueAndGrad: expected f to be a function but received Object');
      expectError(() => cn.valueAndGrads(5 as never), cn.InvalidArgumentError, 'valueAndGrads: expected f to be a function');
      expectError(() => cn.variableGrads(5 as never), cn.InvalidArgumentError, 'variableGrads: expected f to be a function');
      expectError(() => cn.defineOp([], 5 as never, () => []), cn.InvalidArgumentError, 'defineOp: expected forward to be a function');
      expectError(() => cn.compile(null as never, []), cn.InvalidArgumentError, 'compile: expected fn to be a function but received null');
      expectError(() => cn.train.sgd(0.1).minimize(5 as never), cn.InvalidArgumentError, 'SGD.minimize: expected f to be a function but received 5');
    });
    it('compiled plans refuse non-tensor and disposed inputs', () => {
      const f = cn.compile((x) => [cn.relu(x)], [{ shape: [2] }]);
      try {
        expectError(() => f.runSync([5 as never]), cn.InvalidArgumentError, 'CompiledFunction: expected inputs[0] to be a Tensor but received 5');
        expectError(() => f.runSync(null as never), cn.InvalidArgumentError, 'CompiledFunction: expected inputs as an array of tensors but received null');
        const x = cn.ones([2]);
        x.dispose();
        expectError(() => f.runSync([x]), cn.DisposedError, 'CompiledFunction: expected inputs[0] to be a live tensor but received a disposed tensor');
      } finally {
        f.dispose();
      }
    });
    it('disposed tensors are refused by layers, models, variables and gradients', () => {
      const x = cn.ones([2, 3]);
      x.dispose();
      const dense = cn.layers.dense({ units: 2 });
      expectError(() => dense.apply(x), cn.DisposedError, /^dense(_\d+)?: expected input to be a live tensor but received a disposed tensor/);
      // Dropout at inference is the identity: it must still refuse a disposed input.
      expectError(() => cn.layers.dropout({ rate: 0.5 }).apply(x), cn.DisposedError, 'expected input to be a live tensor');
      const m = cn.sequential({ layers: [cn.layers.dense({ units: 2, inputShape: [3] })] });
      expect(() => m.predict(x)).toThrow(cn.DisposedError);
      m.dispose();
      expectError(() => cn.variable(x), cn.DisposedError, 'variable: expected initialValue to be a live tensor');
      expectError(() => cn.grad((t) => cn.sum(t))(x), cn.DisposedError, 'grad: expected xs[0] to be a live tensor');
      expectError(() => cn.zerosLike(x), cn.DisposedError, 'zerosLike: expected a live tensor');
      expectError(() => cn.keep(x), cn.DisposedError, 'keep: expected a live tensor');
      const v = cn.variable(cn.zeros([2]));
      expectError(() => v.assign(cn.tensor(new Uint8Array([1, 0]), [2], 'bool')), cn.DTypeError, 'assign: expected values of dtype float32 but received bool');
      expectError(() => v.assign([1, 2] as never), cn.InvalidArgumentError, 'assign: expected values as a Tensor or a Float32Array but received [1,2]');
      v.dispose();
    });
  });

  describe('native errors carry a code', () => {
    // The cpu kernel throws at the call; the cuda kernel records the bad label and the error
    // comes at the next synchronization (the read-back), as device-side errors do.
    it('sparse label out of range fails in the kernel with ERR_INVALID_ARGUMENT', () => {
      const e = expectError(
        () => cn.sparseSoftmaxCrossEntropy(cn.tensor(new Int32Array([0, 7])), cn.zeros([2, 4])).dataSync(),
        cn.CudnnNodeError,
        /sparseSoftmaxCrossEntropy|label/i,
      ) as cn.CudnnNodeError;
      expect(e.code).toBe('ERR_INVALID_ARGUMENT');
      // The error has the caller's stack, not only native frames.
      expect(e.stack).toMatch(/errors\.test\.ts/);
    });
    it('a native error leaves no tensors behind', () => {
      const before = cn.memory().numTensors;
      expect(() => cn.tidy(() => void cn.sparseSoftmaxCrossEntropy(cn.tensor(new Int32Array([-1])), cn.zeros([1, 3])).dataSync())).toThrow(/label/);
      expect(cn.memory().numTensors).toBe(before);
    });
    it('compiled plans reject with coded errors', async () => {
      const labels = cn.tensor(new Int32Array([0, 9]));
      const f = cn.compile((z) => [cn.sparseSoftmaxCrossEntropy(labels, z)], [{ shape: [2, 4] }]);
      const z = cn.zeros([2, 4]);
      try {
        const err = await f.run([z]).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(cn.CudnnNodeError);
        expect((err as cn.CudnnNodeError).code).toBe('ERR_INVALID_ARGUMENT');
      } finally {
        f.dispose();
        cn.dispose([labels, z]);
      }
    });
  });
});

describe('error classes', () => {
  it('share CudnnNodeError and a code', () => {
    for (const [C, code] of [
      [cn.InvalidArgumentError, 'ERR_INVALID_ARGUMENT'],
      [cn.DTypeError, 'ERR_INVALID_DTYPE'],
      [cn.DisposedError, 'ERR_TENSOR_DISPOSED'],
      [cn.BackendUnavailableError, 'ERR_BACKEND_UNAVAILABLE'],
    ] as const) {
      const e = new C('x: expected a but received b');
      expect(e).toBeInstanceOf(cn.CudnnNodeError);
      expect(e.code).toBe(code);
      expect(e.name).toBe(C.name);
    }
  });
  it('setBackend names what it expected', () => {
    expect(() => cn.setBackend('tpu')).toThrow("setBackend: expected 'cpu' or 'cuda' but received 'tpu'");
  });
});

describe('cuda options', () => {
  it('setCudaOptions validates, merges and returns the previous options', () => {
    const before = cn.getCudaOptions();
    expect(Object.keys(before).sort()).toEqual(['allowTF32', 'autotune', 'convApi']);
    expect(() => cn.setCudaOptions({ allowTF32: 'no' } as never)).toThrow('setCudaOptions: expected allowTF32 as a boolean but received "no"');
    expect(() => cn.setCudaOptions({ tf32: true } as never)).toThrow("setCudaOptions: expected the options allowTF32, autotune or convApi but received 'tf32'");
    expect(() => cn.setCudaOptions({ convApi: 'v8' } as never)).toThrow(`setCudaOptions: expected convApi 'legacy' or 'graph' but received "v8"`);
    expect(() => cn.setCudaOptions(null as never)).toThrow(cn.InvalidArgumentError);
    const prev = cn.setCudaOptions({ autotune: !before.autotune });
    expect(prev).toEqual(before);
    expect(cn.getCudaOptions()).toEqual({ ...before, autotune: !before.autotune });
    expect(cn.setCudaOptions({ convApi: 'graph' })).toEqual({ ...before, autotune: !before.autotune });
    expect(cn.getCudaOptions().convApi).toBe('graph');
    cn.setCudaOptions(before);
    expect(cn.getCudaOptions()).toEqual(before);
  });
  it('the environment sets the defaults (CUDNN_NODE_TF32, CUDNN_NODE_AUTOTUNE, CUDNN_NODE_CONV_API) and bad values are named', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./lib/index.ts').then((cn) => console.log(JSON.stringify(cn.getCudaOptions())), (e) => { console.log(e.message); })"], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      }).stdout.trim();
    expect(JSON.parse(run({ CUDNN_NODE_TF32: '0', CUDNN_NODE_AUTOTUNE: '1', CUDNN_NODE_CONV_API: 'graph' }))).toEqual({ allowTF32: false, autotune: true, convApi: 'graph' });
    expect(JSON.parse(run({ CUDNN_NODE_TF32: '', CUDNN_NODE_AUTOTUNE: '', CUDNN_NODE_CONV_API: '' }))).toEqual({ allowTF32: true, autotune: false, convApi: 'legacy' });
    expect(run({ CUDNN_NODE_TF32: 'maybe' })).toBe("CUDNN_NODE_TF32: expected 0, 1, true or false but received 'maybe'");
    expect(run({ CUDNN_NODE_CONV_API: 'v7' })).toBe("CUDNN_NODE_CONV_API: expected 'legacy' or 'graph' but received 'v7'");
  });
});
