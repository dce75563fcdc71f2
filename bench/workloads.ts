// The benchmark's workloads: the sgemm ceiling; conv2d forward / backward-data /
// backward-filter on the layer shapes of the Fashion-MNIST CNN (batch 128), ResNet-34 and
// Xception (batch 8; depthwise and pointwise halves of Xception's separable convs); max
// pooling, batch norm (training) and a dense layer; per-op overhead; training steps of the
// Fashion-MNIST CNN (batch 32, 128; Adam), ResNet-34 (224x224, batch 8) and Xception (batch
// 8, base frozen and fine-tune; SGD 0.01 momentum 0.9); inference; and the same training
// steps in bf16 mixed precision (issue 21: the CNN at batch 128, ResNet-34, the Xception
// fine-tune; ids ending in _bf16). Quick mode takes a subset.
import { modelFlops, TRAIN_FLOPS_PER_IMAGE } from './flops.js';
import type { ConvDir, Mode, ModelName, Precision, Spec, Workload } from './types.js';

/** The arithmetic a workload computes in: float32 unless its spec says otherwise. */
export const precisionOf = (w: Pick<Workload, 'spec'>): Precision => (w.spec.kind === 'train' && w.spec.precision) || 'fp32';

/** The id suffix of each precision's workloads (fp32 has none). */
export const PRECISION_SUFFIX: Record<Precision, string> = { fp32: '', mixed_bf16: '_bf16', mixed_fp16: '_fp16' };

/** The self-check's reference workload (issue 18): always measured, alone and in the suite. */
export const SELF_CHECK_WORKLOAD = 'train_fashion_cnn_b128';
/** Its bf16 twin: the reference of a second self-check, measured whenever a run has bf16 steps. */
export const MIXED_SELF_CHECK_WORKLOAD = 'train_fashion_cnn_b128_bf16';

type Shape4 = [number, number, number, number];
interface ConvShape { x: Shape4; k: number; oc: number; stride?: number; depthwise?: boolean; name?: string; dirs?: ConvDir[] }

/** The Fashion-MNIST CNN's conv layers at batch 128 (NHWC, SAME, stride 1). */
const CONV_SHAPES: ConvShape[] = [
  { x: [128, 28, 28, 1], k: 7, oc: 64 },
  { x: [128, 14, 14, 64], k: 3, oc: 128 },
  { x: [128, 14, 14, 128], k: 3, oc: 128 },
  { x: [128, 7, 7, 128], k: 3, oc: 256 },
  { x: [128, 7, 7, 256], k: 3, oc: 256 },
];
/** ResNet-34 layers at batch 8, 224x224 input (quick: the first two). */
const RESNET_SHAPES: ConvShape[] = [
  { x: [8, 56, 56, 64], k: 3, oc: 64, name: 'stage 1 3x3' },
  { x: [8, 56, 56, 64], k: 1, oc: 128, stride: 2, name: 'stage 2 shortcut 1x1/2' },
  { x: [8, 224, 224, 3], k: 7, oc: 64, stride: 2, name: 'stem 7x7/2', dirs: ['fwd', 'bwd_filter'] },
  { x: [8, 56, 56, 64], k: 3, oc: 128, stride: 2, name: 'stage 2 first 3x3/2' },
  { x: [8, 28, 28, 128], k: 3, oc: 128, name: 'stage 2 3x3' },
  { x: [8, 14, 14, 256], k: 3, oc: 256, name: 'stage 3 3x3' },
  { x: [8, 7, 7, 512], k: 3, oc: 512, name: 'stage 4 3x3' },
];
/** Xception layers at batch 8, 299x299 input: the separable convs' depthwise and pointwise
 * halves (quick: the middle flow's, 24 of its 34 separable convs). */
const XCEPTION_SHAPES: ConvShape[] = [
  { x: [8, 19, 19, 728], k: 3, oc: 728, depthwise: true, name: 'middle flow depthwise 3x3' },
  { x: [8, 19, 19, 728], k: 1, oc: 728, name: 'middle flow pointwise 1x1' },
  { x: [8, 147, 147, 64], k: 3, oc: 64, depthwise: true, name: 'block2 depthwise 3x3' },
  { x: [8, 147, 147, 64], k: 1, oc: 128, name: 'block2 pointwise 1x1' },
  { x: [8, 74, 74, 128], k: 3, oc: 128, depthwise: true, name: 'block3 depthwise 3x3' },
  { x: [8, 74, 74, 128], k: 1, oc: 256, name: 'block3 pointwise 1x1' },
];
const DIRS: ConvDir[] = ['fwd', 'bwd_data', 'bwd_filter'];
/** Xception's input side per mode (the application's default is 299; quick mode trains on a
 * smaller image, which Xception accepts down to 71, to fit the time budget). */
export const XCEPTION_SIZE: Record<Mode, number> = { quick: 150, full: 299 };
/** The fresh-process measurement (time to first step, peak memory): steps and repeats. */
export const CHILD: Record<Mode, { steps: number; repeats: number; runners: string[] }> = {
  quick: { steps: 3, repeats: 1, runners: ['cudnn-node', 'keras', 'torch'] },
  full: { steps: 10, repeats: 3, runners: ['cudnn-node', 'tfjs-node', 'keras', 'torch'] },
};

const convLabel = (s: ConvShape, dir: ConvDir) =>
  `${s.name ? `${s.name} ` : ''}[${s.x.join(',')}]->${s.oc} ${s.depthwise ? 'dw ' : ''}k${s.k}${(s.stride ?? 1) > 1 ? `/${s.stride}` : ''} ${dir}`;

function convWorkload(s: ConvShape, dir: ConvDir, model: ModelName, full: boolean): Workload {
  const [n, h, w, c] = s.x;
  const st = s.stride ?? 1;
  const oh = Math.ceil(h / st), ow = Math.ceil(w / st);
  const spec: Spec = { kind: 'conv', dir, x: s.x, k: s.k, oc: s.oc };
  if (st > 1) spec.stride = st;
  if (s.depthwise) spec.depthwise = true;
  return {
    id: `conv_${h}x${w}x${c}_${s.depthwise ? 'dw' : ''}k${s.k}${st > 1 ? `s${st}` : ''}_${s.oc}${n === 128 ? '' : `_b${n}`}_${dir}`,
    group: 'conv', model,
    label: convLabel(s, dir),
    spec,
    flops: 2 * n * oh * ow * s.oc * s.k * s.k * (s.depthwise ? 1 : c),
    inner: 1, warmup: 2, samples: full ? 15 : 6, perTurn: 1,
  };
}

export function workloads(mode: Mode): Workload[] {
  const full = mode === 'full';
  const ws: Workload[] = [];
  const mm = full ? [2048, 4096] : [2048];
  for (const n of mm)
    ws.push({
      id: `sgemm_${n}`, group: 'matmul', label: `sgemm ${n}x${n}x${n}`,
      spec: { kind: 'matmul', m: n, k: n, n },
      flops: 2 * n * n * n, inner: 1, warmup: 2, samples: full ? 15 : 6, perTurn: 1,
    });
  for (const s of CONV_SHAPES) for (const dir of DIRS) ws.push(convWorkload(s, dir, 'fashion_cnn', full));
  // ResNet-34 and Xception layer shapes: quick mode takes the first two of each.
  for (const [model, shapes] of [['resnet34', RESNET_SHAPES], ['xception', XCEPTION_SHAPES]] as const)
    for (const s of full ? shapes : shapes.slice(0, 2)) for (const dir of s.dirs ?? DIRS) ws.push(convWorkload(s, dir, model, full));
  // Max pooling (ResNet-34's stem pool), batch norm (training mode) and a dense layer.
  const prim = { inner: 1, warmup: 2, samples: full ? 15 : 6, perTurn: 1, group: 'prim' as const };
  const poolX: Shape4 = [8, 112, 112, 64];
  for (const dir of ['fwd', 'bwd'] as const)
    ws.push({ ...prim, id: `maxpool_112x112x64_k3s2_b8_${dir}`, model: 'resnet34', label: `max pool 3x3/2 SAME [${poolX.join(',')}] ${dir}`, spec: { kind: 'pool', dir, x: poolX, k: 3, stride: 2 } });
  const bnShapes: Array<[Shape4, ModelName]> = [[[8, 56, 56, 64], 'resnet34'], ...(full ? ([[[8, 19, 19, 728], 'xception'], [[8, 147, 147, 128], 'xception']] as Array<[Shape4, ModelName]>) : [])];
  for (const [x, model] of bnShapes)
    for (const dir of ['fwd', 'bwd'] as const)
      ws.push({ ...prim, id: `batchnorm_${x.slice(1).join('x')}_b${x[0]}_${dir}`, model, label: `batch norm (training) [${x.join(',')}] ${dir}`, spec: { kind: 'bn', dir, x } });
  ws.push({
    ...prim, id: 'dense_128x2304x128', model: 'fashion_cnn', label: 'dense matmul [128,2304]x[2304,128]',
    spec: { kind: 'matmul', m: 128, k: 2304, n: 128 }, flops: 2 * 128 * 2304 * 128,
  });
  ws.push({
    id: 'tiny_add', group: 'tiny', label: '1-element add (sync, per op)',
    spec: { kind: 'tiny_add' }, inner: full ? 20000 : 4000, warmup: 1, samples: full ? 11 : 5, perTurn: 1,
  });
  ws.push({
    id: 'tiny_add_read', group: 'tiny', label: '1-element add + read back (per op)',
    spec: { kind: 'tiny_add', read: true }, inner: full ? 10000 : 2000, warmup: 1, samples: full ? 11 : 5, perTurn: 1,
  });
  for (const batch of [32, 128])
    ws.push({
      id: `train_fashion_cnn_b${batch}`, group: 'train', model: 'fashion_cnn', label: `Fashion-MNIST CNN train step, batch ${batch}`,
      spec: { kind: 'train', model: 'fashion_cnn', batch, optimizer: 'adam' },
      flops: TRAIN_FLOPS_PER_IMAGE * batch, images: batch,
      inner: 1, warmup: full ? 3 : 2, samples: full ? 15 : 6, perTurn: 1,
    });
  // The big models: a step is seconds on 2 cores, so few samples (the budget caps them
  // anyway); quick mode takes the median of 2 after one warm-up step.
  const big = { group: 'train' as const, inner: 1, warmup: full ? 2 : 1, samples: full ? 8 : 2, perTurn: 1, images: 8 };
  ws.push({
    ...big, id: 'train_resnet34_224_b8', model: 'resnet34', label: 'ResNet-34 train step, 224x224, batch 8',
    spec: { kind: 'train', model: 'resnet34', batch: 8, size: 224, optimizer: 'sgd' }, flops: 8 * modelFlops('resnet34', { size: 224 }).train,
  });
  const xs = XCEPTION_SIZE[mode];
  for (const freeze of [true, false])
    ws.push({
      ...big, id: `train_xception_${xs}_b8_${freeze ? 'frozen' : 'finetune'}`, model: 'xception',
      label: `Xception train step, ${xs}x${xs}, batch 8, ${freeze ? 'base frozen' : 'fine-tune (all trainable)'}`,
      spec: { kind: 'train', model: 'xception', batch: 8, size: xs, optimizer: 'sgd', freeze },
      flops: 8 * modelFlops('xception', { size: xs, frozen: freeze }).train,
    });
  // Issue 21's bf16 mixed-precision steps: the same models, data and optimizers as the fp32
  // steps above (the same FLOPs), each runner in its own mixed-precision recipe
  // (bench/runners/variants.ts). Their section of the report compares them with our fp32 step.
  const fp32Steps = ws.filter((w) => ['train_fashion_cnn_b128', 'train_resnet34_224_b8', `train_xception_${xs}_b8_finetune`].includes(w.id));
  const bf16Steps = fp32Steps.map((w): Workload => ({
    ...w, id: `${w.id}${PRECISION_SUFFIX.mixed_bf16}`, label: `${w.label}, bf16 mixed precision`,
    spec: { ...(w.spec as Extract<Spec, { kind: 'train' }>), precision: 'mixed_bf16' },
  }));
  ws.push({
    id: 'infer_fashion_cnn_b128', group: 'infer', model: 'fashion_cnn', label: 'Fashion-MNIST CNN inference, batch 128',
    spec: { kind: 'infer', model: 'fashion_cnn', batch: 128 }, images: 128, flops: modelFlops('fashion_cnn').forward * 128,
    inner: 1, warmup: 2, samples: full ? 15 : 6, perTurn: 1,
  });
  ws.push({
    id: 'infer_resnet34_224_b8', group: 'infer', model: 'resnet34', label: 'ResNet-34 inference, 224x224, batch 8',
    spec: { kind: 'infer', model: 'resnet34', batch: 8, size: 224 }, images: 8, flops: 8 * modelFlops('resnet34', { size: 224 }).forward,
    inner: 1, warmup: full ? 2 : 1, samples: full ? 10 : 2, perTurn: 1,
  });
  ws.push(...bf16Steps); // last: after every fp32 workload (the self-check's among them)
  return ws;
}
