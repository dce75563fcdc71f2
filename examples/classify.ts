// Classifies images with ImageNet-pretrained ResNet-50 or Xception (Keras' weight files in
// ~/.keras/models; the error says where to get them when missing): resize to the model's
// size keeping the aspect ratio, preprocessInput, predict, decodePredictions top 3.
//
//   npx tsx examples/classify.ts [resnet50|xception] [image ...]   (default: the sklearn sample images)
import * as cn from '../lib/index.js';
import * as applications from '../lib/applications/index.js';
import { decodeImage } from '../lib/data/imageFolder.js';
import { sampleImages } from '../lib/datasets/sampleImages.js';
import { smartResize } from '../lib/layers/preprocessing.js';

const [arch = 'xception', ...files] = process.argv.slice(2);
const app = arch === 'resnet50' ? applications.resnet50 : applications.xception;
const size = arch === 'resnet50' ? 224 : 299;
const images = files.length ? cn.stack(await Promise.all(files.map((f) => decodeImage(f)))) : (await sampleImages()).images;
const model = await app({ weights: 'imagenet' });
const x = app.preprocessInput(smartResize(images, size, size));
for (const [i, top] of app.decodePredictions(model.predict(x) as cn.Tensor, { top: 3 }).entries())
  console.log(`image ${i}: ${top.map(([, name, p]) => `${name} ${(100 * p).toFixed(1)}%`).join(', ')}`);
