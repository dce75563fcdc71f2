// A fresh process for bench/run.ts's start-up and memory measurement: imports one library
// (cudnn-node or tfjs-node), builds and compiles a model, runs `steps` training steps on
// random data, and reports its peak resident memory. Writes one JSON line per event on
// stdout ({"event": "imported" | "built" | "first_step" | "done", ...}); run.ts timestamps
// the lines as they arrive, from the moment it spawned the process. "imported" carries the
// RSS then (the library's share), "done" the VmHWM and, for cudnn-node, the native
// allocator's peak (memory().peakBytes). The spec's precision and variant choose the
// configuration as in the worker (mixed_bf16 with variant 'fp32': our fp32 step).
// bench/peers.py --child does the same for Keras and PyTorch.
//
//   node --import tsx bench/child.ts cudnn-node|tfjs-node '{"kind":"train","model":"fashion_cnn","batch":128,"optimizer":"adam"}' STEPS
import { existsSync, readFileSync } from 'node:fs';
import { batchData, buildOurs, fashionCnnLayers, paramCounts } from './models.js';
import type { Spec } from './types.js';

const emit = (event: string, extra: object = {}) =>
  process.stdout.write(JSON.stringify({ event, t: performance.now() / 1e3, ...extra }) + '\n');

/** RSS now in MiB (VmRSS), undefined without /proc. */
function rssMiB(): number | undefined {
  if (!existsSync('/proc/self/status')) return undefined;
  const m = readFileSync('/proc/self/status', 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) / 1024 : undefined;
}

/** Peak RSS in MiB: VmHWM from /proc, else getrusage's maxrss. */
function peakRssMiB(): number {
  if (existsSync('/proc/self/status')) {
    const m = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+)\s+kB/m);
    if (m) return Number(m[1]) / 1024;
  }
  return process.resourceUsage().maxRSS / 1024;
}

async function main() {
  const [who, specJson, stepsArg] = process.argv.slice(2);
  const spec = JSON.parse(specJson) as Extract<Spec, { kind: 'train' }> & { variant?: string };
  const steps = Math.max(2, Number(stepsArg ?? 5));
  const { x, shape, labels } = batchData(spec);
  let step: () => Promise<unknown>;
  let params: number;
  let nativePeak: (() => number) | undefined;
  if (who === 'cudnn-node') {
    const api = await import('../lib/index.js');
    emit('imported', { rssMiB: rssMiB() });
    nativePeak = () => api.memory().peakBytes / 2 ** 20;
    const { model } = await buildOurs(api, spec, spec.variant === 'fp32' ? 'fp32' : (spec.precision ?? 'fp32'));
    params = paramCounts(model).total;
    const xs = api.tensor(x, shape), ys = api.tensor(labels, [spec.batch], 'int32');
    emit('built');
    step = () => model.trainOnBatch(xs, ys);
  } else if (who === 'tfjs-node') {
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    const tf = await import('@tensorflow/tfjs-node');
    emit('imported', { rssMiB: rssMiB() });
    if (spec.model !== 'fashion_cnn') throw new Error(`${spec.model} is not written for tfjs-node`);
    const model = tf.sequential({ layers: fashionCnnLayers(tf.layers) as never });
    model.compile({ optimizer: spec.optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    params = model.countParams();
    const xs = tf.tensor(x, shape), ys = tf.tensor1d(Float32Array.from(labels));
    emit('built');
    step = () => model.trainOnBatch(xs, ys);
  } else throw new Error(`unknown runner ${who}`);
  await step();
  emit('first_step');
  const times: number[] = [];
  for (let i = 1; i < steps; i++) {
    const t0 = performance.now();
    await step();
    times.push((performance.now() - t0) / 1e3);
  }
  times.sort((a, b) => a - b);
  emit('done', { stepS: times[Math.floor(times.length / 2)], steps, params, peakRssMiB: peakRssMiB(), peakNativeMiB: nativePeak?.() });
}

main().then(
  () => process.exit(0),
  (e) => {
    emit('error', { error: (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300) });
    process.exit(1);
  },
);
