// Fashion-MNIST with cudnn-node, step by step, as in the reference notebook (Géron,
// Hands-On Machine Learning, chapter 14). `npx cudnn-node train fashion-mnist` runs the
// same pipeline; this file shows it written against the public API.
//
//   npx tsx examples/fashion_mnist.ts [epochs] [cpu|cuda]
import * as cn from '../lib/index.js';

const epochs = Number(process.argv[2] ?? 10);
cn.setBackend(process.argv[3] ?? 'cpu');

// Data: 60000 training images (the last 5000 held out for validation) and 10000 test
// images, standardized per pixel with the training set's mean and std (X_mean, X_std).
const { train, test } = await cn.datasets.fashionMnist.load();
const images = train.images.dataSync();
const labels = train.labels.dataSync();
const nTrain = 55000;
const stats = cn.pixelStats(images.subarray(0, nTrain * 784), nTrain);
const prep = (data: Float32Array, start: number, end: number) => cn.tensor(cn.standardize(data, start, end, stats), [end - start, 28, 28, 1]);
const xTrain = prep(images, 0, nTrain);
const xValid = prep(images, nTrain, 60000);
const xTest = prep(test.images.dataSync(), 0, 10000);
const yTrain = cn.tensor(Int32Array.from(labels.subarray(0, nTrain)), [nTrain], 'int32');
const yValid = cn.tensor(Int32Array.from(labels.subarray(nTrain)), [5000], 'int32');
const yTest = test.labels;
cn.dispose([train, test.images]);

// The model: he_normal ReLU convolutions with 'same' padding, max pooling, two dropout-
// regularized dense layers, softmax over the 10 classes.
const conv = (filters: number, kernelSize = 3, extra = {}) =>
  cn.layers.conv2d({ filters, kernelSize, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal', ...extra });
const model = cn.sequential({
  layers: [
    conv(64, 7, { inputShape: [28, 28, 1] }),
    cn.layers.maxPooling2d({ poolSize: 2 }),
    conv(128),
    conv(128),
    cn.layers.maxPooling2d({ poolSize: 2 }),
    conv(256),
    conv(256),
    cn.layers.maxPooling2d({ poolSize: 2 }),
    cn.layers.flatten(),
    cn.layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
    cn.layers.dropout({ rate: 0.5 }),
    cn.layers.dense({ units: 64, activation: 'relu', kernelInitializer: 'heNormal' }),
    cn.layers.dropout({ rate: 0.5 }),
    cn.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.summary();

model.compile({ loss: 'sparseCategoricalCrossentropy', optimizer: 'nadam', metrics: ['accuracy'] });
const history = await model.fit(xTrain, yTrain, { epochs, validationData: [xValid, yValid] });
const [loss, accuracy] = (await model.evaluateAsync(xTest, yTest)) as cn.Tensor[];
console.log(`test loss ${loss.dataSync()[0].toFixed(4)}, test accuracy ${(accuracy.dataSync()[0] * 100).toFixed(2)}%`);

await model.save('out/fashion-mnist-example');
await cn.plot.writeHistoryPlot(history, 'out/fashion-mnist-example/history.svg');
