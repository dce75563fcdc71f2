// FLOPs of the benchmarked networks' training steps and forward passes, counted layer by
// layer from their architectures: 2 FLOPs per multiply-add of every convolution and dense
// layer (batch norm, activations and pooling are left out: they are memory-bound and a few
// percent of the arithmetic). A training step is the forward pass, the gradient with respect
// to each layer's input (skipped where nothing upstream trains: the first layer, a frozen
// base) and with respect to its weights (trainable layers only). Shared by bench/workloads.ts
// and bench/gpu.ts.
import type { ModelName } from './types.js';

interface Layer {
  /** Multiply-adds of the forward pass for one image. */
  macs: number;
  trainable: boolean;
}

/** Builds a network's layer list while tracking the activation's height, width, channels. */
class Walker {
  layers: Layer[] = [];
  constructor(public h: number, public w: number, public c: number, private trainable = true) {}
  setTrainable(t: boolean): this {
    this.trainable = t;
    return this;
  }
  /** A k x k convolution (depthwise: one filter per channel), SAME or VALID padding. */
  conv(cout: number, k: number, stride = 1, pad: 'same' | 'valid' = 'same', depthwise = false): this {
    const out = (n: number) => (pad === 'same' ? Math.ceil(n / stride) : Math.floor((n - k) / stride) + 1);
    const [oh, ow] = [out(this.h), out(this.w)];
    const oc = depthwise ? this.c : cout;
    this.layers.push({ macs: oh * ow * oc * k * k * (depthwise ? 1 : this.c), trainable: this.trainable });
    [this.h, this.w, this.c] = [oh, ow, oc];
    return this;
  }
  /** A side branch (a residual shortcut) from a saved activation; the main path is unchanged. */
  branch(from: [number, number, number], f: (b: Walker) => void): this {
    const b = new Walker(...from, this.trainable);
    f(b);
    this.layers.push(...b.layers);
    return this;
  }
  /** Keras's SeparableConv2D: a 3x3 depthwise then a 1x1 pointwise convolution. */
  sep(cout: number): this {
    return this.conv(0, 3, 1, 'same', true).conv(cout, 1);
  }
  /** Max pooling k x k with stride k (Keras's MaxPooling2D default, VALID) or SAME. */
  pool(k: number, stride = k, pad: 'same' | 'valid' = 'valid'): this {
    const out = (n: number) => (pad === 'same' ? Math.ceil(n / stride) : Math.floor((n - k) / stride) + 1);
    [this.h, this.w] = [out(this.h), out(this.w)];
    return this;
  }
  dense(units: number, inputs = this.h * this.w * this.c): this {
    this.layers.push({ macs: inputs * units, trainable: this.trainable });
    [this.h, this.w, this.c] = [1, 1, units];
    return this;
  }
  get shape(): [number, number, number] {
    return [this.h, this.w, this.c];
  }
}

function fashionCnn(): Walker {
  const m = new Walker(28, 28, 1).conv(64, 7).pool(2).conv(128, 3).conv(128, 3).pool(2).conv(256, 3).conv(256, 3).pool(2);
  return m.dense(128).dense(64).dense(10);
}

/** The reference notebook's ResNet-34 (SAME convolutions, no bias; the shortcut a 1x1/2). */
function resnet34(size: number, classes: number): Walker {
  const m = new Walker(size, size, 3).conv(64, 7, 2).pool(3, 2, 'same');
  let prev = 64;
  for (const filters of [...Array(3).fill(64), ...Array(4).fill(128), ...Array(6).fill(256), ...Array(3).fill(512)]) {
    const stride = filters === prev ? 1 : 2;
    const input = m.shape;
    m.conv(filters, 3, stride).conv(filters, 3);
    if (stride > 1) m.branch(input, (b) => b.conv(filters, 1, stride));
    prev = filters;
  }
  return m.dense(classes, m.c); // global average pooling first
}

/** keras.applications.Xception without its top, + GlobalAveragePooling2D + Dense. */
function xception(size: number, classes: number, frozen: boolean): Walker {
  const m = new Walker(size, size, 3, !frozen).conv(32, 3, 2, 'valid').conv(64, 3, 1, 'valid');
  const down = (c1: number, c2: number) => {
    const input = m.shape;
    m.sep(c1).sep(c2).pool(3, 2, 'same');
    m.branch(input, (b) => b.conv(c2, 1, 2));
  };
  down(128, 128);
  down(256, 256);
  down(728, 728);
  for (let i = 0; i < 8; i++) m.sep(728).sep(728).sep(728);
  down(728, 1024);
  m.sep(1536).sep(2048);
  return m.setTrainable(true).dense(classes, m.c);
}

function trainFlops(layers: Layer[]): number {
  let macs = 0, upstreamTrains = false;
  for (const l of layers) {
    macs += l.macs * (1 + (upstreamTrains ? 1 : 0) + (l.trainable ? 1 : 0));
    upstreamTrains ||= l.trainable;
  }
  return 2 * macs;
}

export interface ModelFlops {
  /** FLOPs of one image's forward pass. */
  forward: number;
  /** FLOPs of one image's training step (forward and backward). */
  train: number;
}

/** FLOPs per image of a benchmarked network (size: the square input side; frozen: Xception's
 * base frozen, only its head training). */
export function modelFlops(model: ModelName, opts: { size?: number; classes?: number; frozen?: boolean } = {}): ModelFlops {
  const classes = opts.classes ?? 10;
  const m =
    model === 'fashion_cnn' ? fashionCnn() : model === 'resnet34' ? resnet34(opts.size ?? 224, classes) : xception(opts.size ?? 299, classes, !!opts.frozen);
  return { forward: 2 * m.layers.reduce((a, l) => a + l.macs, 0), train: trainFlops(m.layers) };
}

/** A training step of the Fashion-MNIST CNN: about 532 MFLOP per image (issue 4). */
export const TRAIN_FLOPS_PER_IMAGE = modelFlops('fashion_cnn').train;
