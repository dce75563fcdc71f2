// tfjs-node as a benchmark runner, as it comes (the tensorflow backend, TensorFlow's CPU
// kernels): primitives through tf ops and kernels, the Fashion-MNIST CNN through
// tfjs-layers. Loaded only in its own worker process (bench/runners/node-worker.ts).
import os from 'node:os';
import { batchData, fashionCnnLayers, prod, randomData } from '../models.js';
import type { RunnerInfo, Spec } from '../types.js';
import { type Adapter, convData, type Prepared } from './adapter.js';

type TF = typeof import('@tensorflow/tfjs-node');

export class TfjsAdapter implements Adapter {
  info: RunnerInfo['info'] = {};
  private readback = false;
  private constructor(private tf: TF) {}
  static async create(): Promise<TfjsAdapter> {
    // Logging only (TensorFlow's allocator warnings on stderr); no effect on the kernels.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    const tf = (await import('@tensorflow/tfjs-node')) as unknown as TF;
    const r = new TfjsAdapter(tf);
    const v = tf.version as Record<string, string>;
    r.info = {
      library: `tfjs-node ${v['tfjs-node']} (libtensorflow from tensorflow-cpu 2.21)`,
      versions: { 'tfjs-node': v['tfjs-node'], 'tfjs-core': v['tfjs-core'] },
      threads: { intra_op: `TF default (${os.cpus().length})` },
      TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '(unset: TF default, oneDNN on for x86)',
    };
    return r;
  }
  async prepare(s: Spec, readback: boolean): Promise<Prepared> {
    this.readback = readback;
    const tf = this.tf;
    const read = (t: { dataSync(): unknown }) => (this.readback ? t.dataSync() : undefined);
    type S4 = [number, number, number, number];
    type T = import('@tensorflow/tfjs-node').Tensor;
    const eng = tf.engine();
    const asOutput = (op: () => T) => () => {
      const y = op();
      const v = y.dataSync() as Float32Array;
      y.dispose();
      return v;
    };
    if (s.kind === 'conv') {
      const d = convData(s);
      const x = tf.tensor4d(d.x, d.xShape as S4), f = tf.tensor4d(d.f, d.fShape as S4), dy = tf.tensor4d(d.dy, d.yShape as S4);
      const st = s.stride ?? 1;
      const attrs = { strides: [st, st], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
      const bwd = s.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
      const op =
        s.dir === 'fwd'
          ? () => (s.depthwise ? tf.depthwiseConv2d(x, f as never, st, 'same') : tf.conv2d(x, f, st, 'same'))
          : s.dir === 'bwd_data'
            ? () => eng.runKernel(`${bwd}BackpropInput`, { dy, filter: f }, { ...attrs, inputShape: d.xShape } as never) as T
            : () => eng.runKernel(`${bwd}BackpropFilter`, { x, dy }, { ...attrs, filterShape: d.fShape } as never) as T;
      return {
        call: () => {
          const y = op();
          read(y);
          y.dispose();
        },
        output: asOutput(op),
        free: () => tf.dispose([x, f, dy]),
      };
    }
    if (s.kind === 'pool') {
      const [n, h, w, c] = s.x;
      const yShape = [n, Math.ceil(h / s.stride), Math.ceil(w / s.stride), c] as S4;
      const x = tf.tensor4d(randomData(prod(s.x), 11), s.x), dy = tf.tensor4d(randomData(prod(yShape), 12), yShape);
      const fwd = () => tf.maxPool(x, s.k, s.stride, 'same');
      const y = fwd();
      // tfjs-node's MaxPool gradient kernel (what tf.grad of maxPool runs): MaxPoolGrad(dy, x, y).
      const op = s.dir === 'fwd' ? fwd : () => eng.runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: s.k, strides: s.stride, pad: 'same' } as never) as T;
      return {
        call: () => {
          const r = op();
          read(r);
          r.dispose();
        },
        output: s.dir === 'fwd' ? asOutput(op) : undefined,
        free: () => tf.dispose([x, dy, y]),
      };
    }
    if (s.kind === 'bn') {
      // tfjs has no training-mode batch-norm kernel: tfjs-layers computes tf.moments and
      // tf.batchNorm, and differentiates them op by op (not a comparable "backward" kernel).
      if (s.dir === 'bwd') throw new Error('tfjs has no batch-norm gradient kernel (tfjs-layers differentiates moments + batchNorm op by op)');
      const c = s.x[3];
      const x = tf.tensor4d(randomData(prod(s.x), 13), s.x);
      const g = tf.tensor1d(randomData(c, 15, 0.2).map((v) => v + 1)), b = tf.tensor1d(randomData(c, 16, 0.1));
      const op = () =>
        tf.tidy(() => {
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          return tf.batchNorm(x, mean, variance, b, g, 1e-3);
        });
      return {
        call: () => {
          const r = op();
          read(r);
          r.dispose();
        },
        note: 'tf.moments + tf.batchNorm (what tfjs-layers runs in training)',
        output: asOutput(op),
        free: () => tf.dispose([x, g, b]),
      };
    }
    if (s.kind === 'matmul') {
      const a = tf.tensor2d(randomData(s.m * s.k, 4), [s.m, s.k]), b = tf.tensor2d(randomData(s.k * s.n, 5), [s.k, s.n]);
      return {
        call: () => {
          const y = tf.matMul(a, b);
          read(y);
          y.dispose();
        },
        free: () => tf.dispose([a, b]),
      };
    }
    if (s.kind === 'tiny_add') {
      const a = tf.tensor1d([1]), b = tf.tensor1d([2]);
      return {
        call: s.read
          ? () => {
              const y = tf.add(a, b);
              y.dataSync();
              y.dispose();
            }
          : () => tf.add(a, b).dispose(),
        free: () => tf.dispose([a, b]),
      };
    }
    // The Fashion-MNIST CNN through tfjs-layers (ResNet-34 and Xception are not written for
    // tfjs-node: issue 5 makes tfjs optional there).
    if (s.model !== 'fashion_cnn') throw new Error(`${s.model} is not written for tfjs-node (optional)`);
    tf.setBackend('tensorflow');
    const model = tf.sequential({ layers: fashionCnnLayers(tf.layers) as never });
    const d = batchData(s);
    const x = tf.tensor4d(d.x, d.shape as S4);
    const params = { total: model.countParams(), trainable: model.trainableWeights.reduce((a, w) => a + prod(w.shape as number[]), 0) };
    if (s.kind === 'infer')
      return {
        call: () => {
          const p = model.predictOnBatch(x) as T;
          read(p);
          p.dispose();
        },
        note: 'model.predictOnBatch',
        params,
        free: () => {
          tf.dispose(x);
          model.dispose();
        },
      };
    model.compile({ optimizer: s.optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const y = tf.tensor1d(Float32Array.from(d.labels));
    return {
      call: () => model.trainOnBatch(x, y),
      note: 'model.trainOnBatch',
      params,
      free: () => {
        tf.dispose([x, y]);
        model.dispose();
      },
    };
  }
}
