// cudnn-node as a benchmark runner: prepares each workload with the public API (lib/index)
// and, for kernels the API composes (backward convolutions, pooling and batch-norm
// gradients), the kernels a training step runs. Loaded only in its own worker process
// (bench/runners/node-worker.ts), never next to another runner's library.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchData, buildOurs, paramCounts, prod, randomData } from '../models.js';
import { firstLine } from '../shared.js';
import type { RunnerInfo, Spec } from '../types.js';
import { type Adapter, convData, type Prepared } from './adapter.js';
import type { ConvWindow, PoolWindow } from '../../lib/kernels/windowed.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Ours = typeof import('../../lib/index.js');
type Engine = typeof import('../../lib/engine.js');

export class OursAdapter implements Adapter {
  info: RunnerInfo['info'] = {};
  note?: string;
  private readback = false;
  private constructor(private api: Ours, private engine: Engine, private forceReadback: boolean) {}

  static async create(): Promise<OursAdapter> {
    const bin = join(root, 'build', 'Release', 'cudnn_node.node');
    if (!existsSync(bin) && !process.env.CUDNN_NODE_BINARY)
      throw new Error(`the addon is not built (${bin} is missing): run \`npx cmake-js compile\` first`);
    // The public API; while parts of it are still being written (lib/models), fall back to
    // the op layer so that the primitive benchmarks still run.
    let api: Ours;
    let partial: string | undefined;
    try {
      api = await import('../../lib/index.js');
    } catch (e) {
      partial = `lib/index.js did not load (${firstLine(e)}); using lib/ops directly`;
      const [ops, eng, tensor] = await Promise.all([import('../../lib/ops/index.js'), import('../../lib/engine.js'), import('../../lib/tensor.js')]);
      api = { ...ops, ...eng, ...tensor } as unknown as Ours;
    }
    const engine = await import('../../lib/engine.js');
    const r = new OursAdapter(api, engine, engine.ENGINE.backend !== 'cpu');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const { native } = await import('../../lib/native.js');
    const cpu = native.backends().find((b) => b.name === 'cpu');
    r.info = {
      library: `cudnn-node ${pkg.version} (${engine.ENGINE.backend} backend, ${cpu?.library ?? 'oneDNN'})`,
      versions: { 'cudnn-node': pkg.version, onednn: cpu?.library ?? '?', compiler: native.buildInfo().compiler, node: process.version },
      threads: { openmp: process.env.OMP_NUM_THREADS ?? `default (${os.cpus().length})` },
      backend: engine.ENGINE.backend,
    };
    if (partial) r.note = partial;
    return r;
  }

  async prepare(s: Spec, readback: boolean): Promise<Prepared> {
    this.readback = readback || this.forceReadback;
    const { api } = this;
    const read = (t: { dataSync(): unknown }) => (this.readback ? t.dataSync() : undefined);
    // Single kernels through their typed wrappers (loaded with the library, as above).
    const [fused, windowed] = await Promise.all([import('../../lib/kernels/fused.js'), import('../../lib/kernels/windowed.js')]);
    if (s.kind === 'conv') {
      const d = convData(s);
      const x = api.tensor(d.x, d.xShape), f = api.tensor(d.f, d.fShape), dy = api.tensor(d.dy, d.yShape);
      const st = s.stride ?? 1;
      const window: ConvWindow = { strides: [st, st], dilations: [1, 1], pad: 'same' };
      const op =
        s.dir === 'fwd'
          ? () => (s.depthwise ? api.depthwiseConv2d(x, f, st, 'same') : api.conv2d(x, f, st, 'same'))
          : s.dir === 'bwd_data'
            ? () => windowed.convBackpropInput(dy, f, d.xShape, window, !!s.depthwise)
            : () => windowed.convBackpropFilter(x, dy, d.fShape, window, !!s.depthwise);
      return {
        call: () => {
          const y = op();
          read(y);
          y.dispose();
        },
        output: () => {
          const y = op();
          const v = y.dataSync() as Float32Array;
          y.dispose();
          return v;
        },
        free: () => api.dispose([x, f, dy]),
      };
    }
    if (s.kind === 'pool') {
      // The kernels the model layer runs: MaxPool, and MaxPoolGrad(dy, x) for its gradient.
      const [n, h, w, c] = s.x;
      const yShape = [n, Math.ceil(h / s.stride), Math.ceil(w / s.stride), c];
      const x = api.tensor(randomData(prod(s.x), 11), s.x), dy = api.tensor(randomData(prod(yShape), 12), yShape);
      const window: PoolWindow = { poolSize: [s.k, s.k], strides: [s.stride, s.stride], pad: 'same' };
      const op =
        s.dir === 'fwd'
          ? () => windowed.poolForward('MaxPool', x, window)
          : () => windowed.poolGrad('MaxPoolGrad', dy, x, window);
      return {
        call: () => {
          const y = op();
          read(y);
          y.dispose();
        },
        output: s.dir === 'fwd' ? () => {
          const y = op();
          const v = y.dataSync() as Float32Array;
          y.dispose();
          return v;
        } : undefined,
        free: () => api.dispose([x, dy]),
      };
    }
    if (s.kind === 'bn') {
      // The kernels BatchNormalization runs in training: BatchNormTrain (y, batch mean and
      // variance) and BatchNormGrad (dx, dgamma, dbeta).
      const c = s.x[3];
      const x = api.tensor(randomData(prod(s.x), 13), s.x), dy = api.tensor(randomData(prod(s.x), 14), s.x);
      const g = api.tensor(randomData(c, 15, 0.2).map((v) => v + 1), [c]), b = api.tensor(randomData(c, 16, 0.1), [c]);
      const fwd = () => fused.batchNormTrain(x, g, b, { epsilon: 1e-3 });
      const [y0, mean, variance] = fwd();
      y0.dispose();
      const op = s.dir === 'fwd' ? fwd : () => fused.batchNormGrad(dy, x, g, mean, variance, { epsilon: 1e-3 });
      return {
        call: () => {
          const ys = op();
          read(ys[0]);
          api.dispose(ys);
        },
        output: s.dir === 'fwd' ? () => {
          const ys = op();
          const v = ys[0].dataSync() as Float32Array;
          api.dispose(ys);
          return v;
        } : undefined,
        free: () => api.dispose([x, dy, g, b, mean, variance]),
      };
    }
    if (s.kind === 'matmul') {
      const a = api.tensor(randomData(s.m * s.k, 4), [s.m, s.k]), b = api.tensor(randomData(s.k * s.n, 5), [s.k, s.n]);
      return {
        call: () => {
          const y = api.matMul(a, b);
          read(y);
          y.dispose();
        },
        free: () => api.dispose([a, b]),
      };
    }
    if (s.kind === 'tiny_add') {
      const a = api.tensor(new Float32Array([1]), [1]), b = api.tensor(new Float32Array([2]), [1]);
      return {
        call: s.read
          ? () => {
              const y = api.add(a, b);
              y.dataSync();
              y.dispose();
            }
          : () => api.add(a, b).dispose(),
        free: () => api.dispose([a, b]),
      };
    }
    return this.prepareTrain(s);
  }

  /** A training step or inference through the model layer (lib/models, lib/applications),
   * with the models of bench/models.ts. */
  private async prepareTrain(s: Extract<Spec, { kind: 'train' | 'infer' }>): Promise<Prepared> {
    const api = this.api as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (typeof api.sequential !== 'function') {
      let why = 'lib/models is not available yet';
      try {
        await import(join(root, 'lib', 'models', 'index.js'));
      } catch (e) {
        why = `lib/models did not load: ${firstLine(e)}`;
      }
      throw new Error(why);
    }
    // A bf16 workload: mixed_bfloat16, unless this worker is our fp32 baseline (variant 'fp32').
    const precision = s.kind === 'train' && (s as { variant?: string }).variant !== 'fp32' ? (s.precision ?? 'fp32') : 'fp32';
    const { model, how } = await buildOurs(api, s, precision);
    const params = paramCounts(model);
    const d = batchData(s);
    const x = api.tensor(d.x, d.shape);
    if (s.kind === 'infer') {
      const predict = () => {
        const p = model.predictOnBatch(x);
        if (this.readback) (Array.isArray(p) ? p[0] : p).dataSync();
        api.dispose(p);
      };
      return {
        call: predict,
        note: `model.predictOnBatch, ${how}`,
        params,
        free: () => {
          api.dispose(x);
          model.dispose?.();
        },
      };
    }
    // Integer labels, as Keras takes them. The first step (plan compilation) is the
    // warm-up's first call, reported as firstCallS.
    const y = api.tensor(d.labels, [s.batch], 'int32');
    let step: () => Promise<unknown>;
    let call: string;
    if (typeof model.trainOnBatch === 'function') {
      call = 'model.trainOnBatch';
      step = () => model.trainOnBatch(x, y);
    } else {
      call = 'model.fit (one batch per call)';
      step = () => model.fit(x, y, { batchSize: s.batch, epochs: 1, shuffle: false, verbose: 0 });
    }
    return {
      call: step,
      note: `${call}, ${how}`,
      params,
      free: () => {
        api.dispose([x, y]);
        model.dispose?.();
      },
    };
  }
}
