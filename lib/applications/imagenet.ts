// ImageNet helpers shared by the applications: preprocessInput in Keras' three modes
// (caffe, tf, torch) and decodePredictions over the 1,000 ImageNet classes.
import { InvalidArgumentError, check } from '../errors.js';
import { reverseAxis } from '../layers/preprocessing.js';
import * as ops from '../ops/index.js';
import { NestedArray, Tensor } from '../tensor.js';
import { IMAGENET_CLASS_INDEX_JSON } from './imagenet_class_index.js';

/** Keras' preprocess_input modes: 'caffe' (ResNet-50), 'tf' (Xception), 'torch'. */
export type PreprocessMode = 'caffe' | 'tf' | 'torch';

/** The class index {"0": ["n01440764", "tench"], ...} (Keras' imagenet_class_index.json). */
let classIndex: Record<string, [string, string]> | undefined;
/** The ImageNet class index, parsed once: {"0": ["n01440764", "tench"], ...}. */
export function imagenetClassIndex(): Record<string, [string, string]> {
  classIndex ??= JSON.parse(IMAGENET_CLASS_INDEX_JSON) as Record<string, [string, string]>;
  return classIndex;
}

/**
 * keras.applications.imagenet_utils.preprocess_input on NHWC RGB images in [0, 255]:
 *   'caffe': RGB -> BGR, then subtract the ImageNet mean per channel (ResNet-50);
 *   'tf':    x / 127.5 - 1, to [-1, 1] (Xception);
 *   'torch': x / 255, then subtract [0.485, 0.456, 0.406] and divide by [0.229, 0.224, 0.225].
 */
export function preprocessImagenet(x: Tensor, mode: PreprocessMode): Tensor {
  const op = 'preprocessInput';
  check(x instanceof Tensor, op, 'a Tensor of images (NHWC or HWC, RGB, values in [0, 255])', x);
  let f = x.dtype === 'float32' ? x : ops.cast(x, 'float32');
  if (mode === 'tf') return ops.sub(ops.div(f, 127.5), 1);
  if (f.rank < 1 || f.shape[f.rank - 1] !== 3)
    throw new InvalidArgumentError(`${op}: expected images with 3 channels (RGB, last axis) but received shape [${x.shape}]`);
  if (mode === 'torch') {
    f = ops.div(f, 255);
    return ops.div(ops.sub(f, ops.tensor([0.485, 0.456, 0.406])), ops.tensor([0.229, 0.224, 0.225]));
  }
  check(mode === 'caffe', op, "mode 'caffe', 'tf' or 'torch'", mode);
  return ops.sub(reverseAxis(f, f.rank - 1), ops.tensor([103.939, 116.779, 123.68]));
}

/** Options of decodePredictions. */
export interface DecodeOptions {
  /** How many classes per image (default 5). */
  top?: number;
}

/** [class id, class name, score], as Keras' decode_predictions. */
export type DecodedPrediction = [string, string, number];

/**
 * keras.applications.*.decode_predictions: the top classes of each row of a [n, 1000]
 * batch of scores, best first.
 */
export function decodePredictions(preds: Tensor | NestedArray | Float32Array, opts: DecodeOptions = {}): DecodedPrediction[][] {
  const op = 'decodePredictions';
  const top = opts.top ?? 5;
  check(Number.isInteger(top) && top >= 1 && top <= 1000, op, 'top as an integer in [1, 1000]', opts.top);
  let data: ArrayLike<number>;
  let shape: number[];
  if (preds instanceof Tensor) {
    data = preds.dataSync();
    shape = preds.shape;
  } else if (preds instanceof Float32Array) {
    data = preds;
    shape = [preds.length / 1000, 1000];
  } else if (Array.isArray(preds)) {
    const rows = (Array.isArray(preds[0]) ? preds : [preds]) as number[][];
    shape = [rows.length, rows[0]?.length ?? 0];
    data = rows.flat();
  } else throw new InvalidArgumentError(`${op}: expected a batch of predictions (a Tensor or arrays of shape [samples, 1000]) but received ${typeof preds}`);
  if (shape.length !== 2 || shape[1] !== 1000 || !Number.isInteger(shape[0]))
    throw new InvalidArgumentError(`${op}: expected a batch of predictions (a 2D array of shape [samples, 1000]) but received shape [${shape}]`);
  const index = imagenetClassIndex();
  const out: DecodedPrediction[][] = [];
  for (let r = 0; r < shape[0]; r++) {
    const row = Array.from({ length: 1000 }, (_, i) => i);
    const base = r * 1000;
    row.sort((a, b) => data[base + b] - data[base + a] || b - a);
    out.push(row.slice(0, top).map((i) => [index[String(i)][0], index[String(i)][1], data[base + i]]));
  }
  return out;
}
