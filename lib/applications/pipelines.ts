// The reference notebook's image pipelines as functions (examples/ and the CLI call them):
//   (a) preprocessingDemo: CenterCrop(70, 120) + Rescaling(1/225) of the sample images, then
//       Conv2D 32x7 with 'valid' and 'same' padding: output and weight shapes;
//   (c) transferLearning: Xception base (no top) + global average pooling + dense softmax on
//       an image folder, base frozen, SGD(0.1, momentum 0.9), then layers from index 56 on
//       unfrozen, recompiled with SGD(0.01, momentum 0.9), validation each epoch;
//   (d) classifyAndLocalize: the same base with a softmax head and a 4-unit box head, losses
//       [sparse categorical cross-entropy, mse], lossWeights [0.8, 0.2].
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dispose } from '../engine.js';
import { Layer, SymbolicTensor } from '../layers/base.js';
import { Conv2D } from '../layers/convolutional.js';
import { Dense } from '../layers/core.js';
import { GlobalAveragePooling2D } from '../layers/pooling.js';
import { precisionPolicy, withGlobalPolicy } from '../mixed_precision/policy.js';
import type { Precision } from '../mixed_precision/policy.js';
import { CenterCrop, RandomContrast, RandomFlip, RandomRotation, Rescaling } from '../layers/preprocessing.js';
import { History } from '../models/callbacks.js';
import { LayersModel } from '../models/functional.js';
import * as ops from '../ops/index.js';
import { SGD } from '../optimizers/sgd.js';
import { Tensor } from '../tensor.js';
import { Dataset } from '../data/dataset.js';
import { imageFolder } from '../data/imageFolder.js';
import { sampleImages } from '../datasets/sampleImages.js';
import { kerasModelsDir } from './common.js';
import type { ImagePipeline } from './pipeline_names.js';
import { resnet34 } from './resnet34.js';
import { XCEPTION_FILES, xception, preprocessInput as xceptionPreprocess } from './xception.js';

// ---- (a)

/** Shapes reported by pipeline (a). */
export interface PreprocessingDemoResult {
  input: number[];
  cropped: number[];
  valid: { output: number[]; kernel: number[]; bias: number[] };
  same: { output: number[]; kernel: number[]; bias: number[] };
}

/** Pipeline (a) on the given images (default: the scikit-learn sample images). */
export async function preprocessingDemo(opts: { images?: Tensor; samplePath?: string } = {}): Promise<PreprocessingDemoResult> {
  const images = opts.images ?? (await sampleImages({ path: opts.samplePath })).images;
  const crop = new CenterCrop({ height: 70, width: 120 });
  const rescale = new Rescaling({ scale: 1 / 225 });
  const valid = new Conv2D({ filters: 32, kernelSize: 7 });
  const same = new Conv2D({ filters: 32, kernelSize: 7, padding: 'same' });
  const cropped = rescale.apply(crop.apply(images)) as Tensor;
  const a = valid.apply(cropped) as Tensor;
  const b = same.apply(cropped) as Tensor;
  const res: PreprocessingDemoResult = {
    input: images.shape,
    cropped: cropped.shape,
    valid: { output: a.shape, kernel: valid.kernel!.shape, bias: valid.bias!.shape },
    same: { output: b.shape, kernel: same.kernel!.shape, bias: same.bias!.shape },
  };
  dispose([cropped, a, b]);
  if (!opts.images) images.dispose();
  valid.dispose();
  same.dispose();
  return res;
}

// ---- (c) / (d) shared

/** The image folder and its preparation for pipelines (b)-(d). */
export interface FlowerDataOptions {
  /** Image folder (one sub-folder per class), e.g. flower_photos. */
  dataDir: string;
  /** Square image side (default 224; Xception needs >= 71). */
  imageSize?: number;
  batchSize?: number;
  seed?: number;
  /** TFDS-style splits of the folder (the notebook's: test 10%, validation 15%, train 75%). */
  splits?: { train: string; valid: string; test: string };
  /**
   * Augment the training images with the notebook's layers (RandomFlip horizontal,
   * RandomRotation 0.05, RandomContrast 0.2, seed 42), applied in the input pipeline on the
   * [0, 255] images before preprocessInput.
   */
  augment?: boolean;
}

/** The train / validation / test datasets of an image folder, preprocessed for Xception. */
export interface FlowerData {
  train: Dataset<{ xs: Tensor; ys: Tensor }>;
  valid: Dataset<{ xs: Tensor; ys: Tensor }>;
  test: Dataset<{ xs: Tensor; ys: Tensor }>;
  classNames: string[];
  sizes: { train: number; valid: number; test: number };
}

/** The notebook's flower datasets: crop-to-aspect resize, xception.preprocessInput, shuffled train batches. */
export async function flowerDatasets(opts: FlowerDataOptions): Promise<FlowerData> {
  const size = opts.imageSize ?? 224;
  const batchSize = opts.batchSize ?? 32;
  const splits = opts.splits ?? { test: 'train[:10%]', valid: 'train[10%:25%]', train: 'train[25%:]' };
  const common = { imageSize: [size, size] as [number, number], cropToAspectRatio: true, batchSize, prefetch: 0 };
  const prep = ({ xs, ys }: { xs: Tensor; ys: Tensor }) => ({ xs: xceptionPreprocess(xs), ys });
  const augmentation = opts.augment
    ? [
        // Input-pipeline layers: float32 whatever the policy (they run on the data, not in the model).
        new RandomFlip({ mode: 'horizontal', seed: 42, dtype: 'float32' }),
        new RandomRotation({ factor: 0.05, seed: 42, dtype: 'float32' }),
        new RandomContrast({ factor: 0.2, seed: 42, dtype: 'float32' }),
      ]
    : [];
  const trainPrep = ({ xs, ys }: { xs: Tensor; ys: Tensor }) => prep({ xs: augmentation.reduce((x, l) => l.apply(x, { training: true }) as Tensor, xs), ys });
  const train = await imageFolder(opts.dataDir, { ...common, split: splits.train, shuffle: true, seed: opts.seed ?? 42 });
  const valid = await imageFolder(opts.dataDir, { ...common, split: splits.valid, shuffle: false });
  const test = await imageFolder(opts.dataDir, { ...common, split: splits.test, shuffle: false });
  return {
    train: train.map(trainPrep).prefetch(2),
    valid: valid.map(prep).prefetch(2),
    test: test.map(prep).prefetch(2),
    classNames: train.classNames,
    sizes: { train: train.files.length, valid: valid.files.length, test: test.files.length },
  };
}

/** Sets trainable on the layers of base from index `from` on, and the opposite before it. */
export function setTrainableFrom(base: LayersModel, from: number): void {
  base.layers.forEach((l, i) => (l.trainable = i >= from));
}

/** Xception base (no top) + global average pooling + heads; returns the model and its base. */
export async function xceptionWithHeads(
  nClasses: number,
  opts: { weights?: 'imagenet' | string | null; imageSize?: number; boxHead?: boolean },
): Promise<{ model: LayersModel; base: LayersModel }> {
  const size = opts.imageSize ?? 224;
  const base = await xception({ weights: opts.weights ?? null, includeTop: false, inputShape: [size, size, 3] });
  const avg = new GlobalAveragePooling2D().apply(base.outputs[0]) as SymbolicTensor;
  // Note [float32 heads]: as Keras' mixed-precision guide advises, the output layers compute in
  // float32 under any policy (a float32 layer is a float32 layer under the default policy too).
  const cls = new Dense({ units: nClasses, activation: 'softmax', dtype: 'float32' }).apply(avg) as SymbolicTensor;
  const outputs = opts.boxHead ? [cls, new Dense({ units: 4, dtype: 'float32' }).apply(avg) as SymbolicTensor] : cls;
  return { model: new LayersModel({ inputs: base.inputs, outputs }), base };
}

// ---- (c)

/** Options of transferLearning() (pipeline c). */
export interface TransferLearningOptions extends FlowerDataOptions {
  /** Base weights: 'imagenet' (Keras' file in ~/.keras/models), a file path, or null (random). */
  weights?: 'imagenet' | string | null;
  /** Epochs with the base frozen (notebook: 3) and after unfreezing (notebook: 10). */
  epochsFrozen?: number;
  epochsUnfrozen?: number;
  /** Base layers from this index on are unfrozen in phase 2 (notebook: 56). */
  unfreezeFrom?: number;
  verbose?: 0 | 1 | 2;
  /** Called before each phase's training (e.g. to snapshot weights). */
  onPhase?: (phase: 'frozen' | 'unfrozen', model: LayersModel, base: LayersModel) => void | Promise<void>;
}

/** transferLearning()'s result: the trained model, its histories and accuracies. */
export interface TransferLearningResult {
  model: LayersModel;
  base: LayersModel;
  classNames: string[];
  history: { frozen: History; unfrozen: History };
  /** Validation accuracy after the last epoch of each phase. */
  valAccuracy: { frozen: number; unfrozen: number };
  testAccuracy: number;
}

function lastOf(h: History, key: string): number {
  const v = h.history[key];
  return v && v.length ? Number(v[v.length - 1]) : NaN;
}

/** Pipeline (c): transfer learning of Xception on an image folder, the notebook's settings. */
export async function transferLearning(opts: TransferLearningOptions): Promise<TransferLearningResult> {
  const data = await flowerDatasets(opts);
  const { model, base } = await xceptionWithHeads(data.classNames.length, { weights: opts.weights, imageSize: opts.imageSize });
  const verbose = opts.verbose ?? 1;
  for (const l of base.layers) l.trainable = false;
  model.compile({ optimizer: new SGD({ learningRate: 0.1, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  await opts.onPhase?.('frozen', model, base);
  const frozen = await model.fitDataset(data.train, { epochs: opts.epochsFrozen ?? 3, validationData: data.valid, verbose });
  setTrainableFrom(base, opts.unfreezeFrom ?? 56);
  model.compile({ optimizer: new SGD({ learningRate: 0.01, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  await opts.onPhase?.('unfrozen', model, base);
  const unfrozen = await model.fitDataset(data.train, { epochs: opts.epochsUnfrozen ?? 10, validationData: data.valid, verbose });
  const test = (await model.evaluateDataset(data.test)) as Tensor[];
  const testAccuracy = test[1].dataSync()[0];
  dispose(test);
  return {
    model,
    base,
    classNames: data.classNames,
    history: { frozen, unfrozen },
    valAccuracy: { frozen: lastOf(frozen, 'val_accuracy'), unfrozen: lastOf(unfrozen, 'val_accuracy') },
    testAccuracy,
  };
}

// ---- (d)

/** Options of classifyAndLocalize() (pipeline d). */
export interface LocalizationOptions extends FlowerDataOptions {
  weights?: 'imagenet' | string | null;
  epochs?: number;
  /** Batches of the training set used (the notebook trains on 5 batches, twice, with fake boxes). */
  batches?: number;
  verbose?: 0 | 1 | 2;
}

/**
 * Pipeline (d): classification + localization. The flowers have no boxes, so as in the
 * notebook the box targets are random (uniform in [0, 1)); the point is the two-head model
 * and its weighted losses.
 */
export async function classifyAndLocalize(opts: LocalizationOptions): Promise<{ model: LayersModel; history: History; lossNames: string[] }> {
  const data = await flowerDatasets(opts);
  const { model } = await xceptionWithHeads(data.classNames.length, { weights: opts.weights, imageSize: opts.imageSize, boxHead: true });
  model.compile({
    optimizer: new SGD({ learningRate: 0.01, momentum: 0.9 }),
    loss: ['sparseCategoricalCrossentropy', 'meanSquaredError'],
    lossWeights: [0.8, 0.2],
    metrics: [['accuracy'], []],
  });
  let k = 0;
  const withBoxes = data.train
    .take(opts.batches ?? 5)
    .repeat(2)
    .map(({ xs, ys }) => ({ xs, ys: [ys, ops.randomUniform([xs.shape[0], 4], 0, 1, 'float32', 1000 + k++)] }));
  const history = await model.fitDataset(withBoxes, { epochs: opts.epochs ?? 2, verbose: opts.verbose ?? 1 });
  return { model, history, lossNames: Object.keys(history.history) };
}

/** Layers of a model whose weights should not move (trainable false) and those that should. */
export function splitByTrainable(layers: Layer[]): { frozen: Layer[]; trainable: Layer[] } {
  return { frozen: layers.filter((l) => !l.trainable && l.weights.length), trainable: layers.filter((l) => l.trainable && l.weights.length) };
}

// ---- (b)

/** Options of resnet34Training() (pipeline b). */
export interface ResNet34TrainingOptions extends FlowerDataOptions {
  epochs?: number;
  verbose?: 0 | 1 | 2;
}

/** Pipeline (b): the notebook's ResNet-34 trained on an image folder (images scaled to [0, 1], Adam). */
export async function resnet34Training(opts: ResNet34TrainingOptions): Promise<{ model: LayersModel; history: History; valAccuracy: number }> {
  const s = opts.imageSize ?? 224;
  const common = { imageSize: [s, s] as [number, number], cropToAspectRatio: true, batchSize: opts.batchSize ?? 32, prefetch: 0 };
  const splits = opts.splits ?? { test: 'train[:10%]', valid: 'train[10%:25%]', train: 'train[25%:]' };
  const train = await imageFolder(opts.dataDir, { ...common, split: splits.train, shuffle: true, seed: opts.seed ?? 42 });
  const valid = await imageFolder(opts.dataDir, { ...common, split: splits.valid, shuffle: false });
  const scale = ({ xs, ys }: { xs: Tensor; ys: Tensor }) => ({ xs: ops.div(xs, 255), ys });
  const model = resnet34({ inputShape: [s, s, 3], classes: train.classNames.length });
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const history = await model.fitDataset(train.map(scale).prefetch(2), { epochs: opts.epochs ?? 5, validationData: valid.map(scale).prefetch(2), verbose: opts.verbose ?? 1 });
  return { model, history, valAccuracy: lastOf(history, 'val_accuracy') };
}

// ---- CLI entry

export { IMAGE_PIPELINES } from './pipeline_names.js';
export type { ImagePipeline } from './pipeline_names.js';

/** Options of runImagePipeline() (the CLI's flags). */
export interface ImagePipelineOptions {
  /** Image folder (default ../shared/data/flower_photos relative to the working directory). */
  data?: string;
  /** Folder with china.jpg / flower.jpg (preprocessing). */
  samples?: string;
  imageSize?: number;
  batchSize?: number;
  /** Epochs (transfer: of the frozen phase). */
  epochs?: number;
  /** transfer: epochs after unfreezing. */
  epochsUnfrozen?: number;
  /** 'imagenet', 'none' or a weight file path (transfer, localization; default 'imagenet' when the file exists, else none). */
  weights?: string;
  seed?: number;
  verbose?: 0 | 1 | 2;
  /** transfer / localization: the notebook's flip, rotation and contrast augmentation. */
  augment?: boolean;
  /** 'fp32' (default), 'bf16' ('mixed_bfloat16') or 'fp16' ('mixed_float16'): the policy the models are built under. */
  precision?: Precision;
}

/**
 * Runs one of the notebook's image pipelines for the CLI (`cudnn-node train <pipeline>`) and
 * returns the lines to print.
 */
export async function runImagePipeline(name: ImagePipeline, o: ImagePipelineOptions = {}): Promise<string[]> {
  const policy = precisionPolicy(o.precision ?? 'fp32', `train ${name}`);
  return withGlobalPolicy(policy, () => runImagePipelineUnderPolicy(name, o));
}

async function runImagePipelineUnderPolicy(name: ImagePipeline, o: ImagePipelineOptions): Promise<string[]> {
  const dataDir = o.data ?? '../shared/data/flower_photos';
  const base = { dataDir, imageSize: o.imageSize, batchSize: o.batchSize, seed: o.seed, verbose: o.verbose, augment: o.augment };
  const weights = async (): Promise<string | null> => {
    if (o.weights === 'none') return null;
    if (o.weights && o.weights !== 'imagenet') return o.weights;
    const found = existsSync(join(kerasModelsDir(), XCEPTION_FILES.notop.file));
    if (o.weights === 'imagenet' || found) return 'imagenet';
    return null;
  };
  switch (name) {
    case 'preprocessing': {
      const r = await preprocessingDemo({ samplePath: o.samples });
      return [
        `images ${JSON.stringify(r.input)} -> CenterCrop(70, 120) + Rescaling(1/225) ${JSON.stringify(r.cropped)}`,
        `Conv2D 32x7 valid: output ${JSON.stringify(r.valid.output)}, kernel ${JSON.stringify(r.valid.kernel)}, bias ${JSON.stringify(r.valid.bias)}`,
        `Conv2D 32x7 same:  output ${JSON.stringify(r.same.output)}, kernel ${JSON.stringify(r.same.kernel)}, bias ${JSON.stringify(r.same.bias)}`,
      ];
    }
    case 'resnet34': {
      const r = await resnet34Training({ ...base, epochs: o.epochs });
      r.model.dispose();
      return [`ResNet-34: validation accuracy ${r.valAccuracy.toFixed(4)}`];
    }
    case 'transfer': {
      const w = await weights();
      const r = await transferLearning({ ...base, weights: w, epochsFrozen: o.epochs, epochsUnfrozen: o.epochsUnfrozen });
      r.model.dispose();
      return [
        `Xception base weights: ${w ?? 'random (no ImageNet file)'}; classes ${r.classNames.join(', ')}`,
        `validation accuracy: frozen base ${r.valAccuracy.frozen.toFixed(4)}, unfrozen from layer 56 ${r.valAccuracy.unfrozen.toFixed(4)}`,
        `test accuracy ${r.testAccuracy.toFixed(4)}`,
      ];
    }
    case 'localization': {
      const w = await weights();
      const r = await classifyAndLocalize({ ...base, weights: w, epochs: o.epochs });
      r.model.dispose();
      return Object.entries(r.history.history).map(([k, v]) => `${k}: ${v.map((x) => x.toFixed(4)).join(' ')}`);
    }
  }
}
