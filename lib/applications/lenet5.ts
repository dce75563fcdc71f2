// LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-Based Learning Applied to Document
// Recognition"): C1 6@5x5, S2 2x2 average pooling, C3 16@5x5, S4 2x2 average pooling, C5
// 120@5x5, F6 84, output 10; tanh activations, 32x32 grayscale input.
import { Dense, Flatten, input } from '../layers/core.js';
import { Conv2D } from '../layers/convolutional.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D } from '../layers/pooling.js';
import { LayersModel } from '../models/functional.js';
import { ApplicationArgs, loadApplicationWeights, resolveArgs } from './common.js';

/**
 * LeNet-5: await lenet5({includeTop, weights, inputShape, pooling, classes}); default input
 * [32, 32, 1] (at least 32x32), 10 classes; the top is F6 and the output layer.
 * Reading of the paper, as modern reimplementations: tanh instead of the scaled 1.7159 tanh(2a/3);
 * S2/S4 plain 2x2 average pooling (the paper's subsampling also has a trainable coefficient and
 * bias per map, 12 + 32 parameters); C3 fully connected to S2's 6 maps (the paper's Table I
 * connects each C3 map to 3, 4 or 6 of them: 1,516 parameters instead of 2,416); a dense
 * softmax output (850 parameters) instead of the paper's 84-to-10 Euclidean RBF units with fixed
 * codes. That gives 61,706 parameters against the paper's 60,000 (= 61,706 - 900 - 850 + 44);
 * C1 156, C3 2,416, C5 48,120 and F6 10,164 are the paper's own. 833,040 FLOPs per image (416,520 multiply-adds).
 */
export async function lenet5(args: ApplicationArgs = {}): Promise<LayersModel> {
  const a = args ?? {};
  const r = resolveArgs('lenet5', { ...a, classes: a.classes ?? 10, inputShape: a.inputShape ?? [32, 32, 1] }, 32, 32);
  const img = input({ shape: r.inputShape });
  let x = new Conv2D({ filters: 6, kernelSize: 5, activation: 'tanh', name: 'c1' }).apply(img);
  x = new AveragePooling2D({ poolSize: 2, strides: 2, name: 's2' }).apply(x);
  x = new Conv2D({ filters: 16, kernelSize: 5, activation: 'tanh', name: 'c3' }).apply(x);
  x = new AveragePooling2D({ poolSize: 2, strides: 2, name: 's4' }).apply(x);
  x = new Conv2D({ filters: 120, kernelSize: 5, activation: 'tanh', name: 'c5' }).apply(x);
  if (r.includeTop) {
    x = new Flatten({ name: 'flatten' }).apply(x);
    x = new Dense({ units: 84, activation: 'tanh', name: 'f6' }).apply(x);
    x = new Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).apply(x);
  } else if (r.pooling === 'avg') x = new GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
  else if (r.pooling === 'max') x = new GlobalMaxPooling2D({ name: 'max_pool' }).apply(x);
  const model = new LayersModel({ inputs: img, outputs: x, name: r.name });
  await loadApplicationWeights(model, 'lenet5', r, null, false);
  return model;
}
