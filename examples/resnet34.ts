// Pipeline (b) of the reference notebook: the ResNet-34 built from residual units, trained
// on the flowers (images crop-resized to imageSize, scaled to [0, 1], Adam), with
// validation each epoch.
//
//   npx tsx examples/resnet34.ts [dataDir=../shared/data/flower_photos] [imageSize=224] [epochs=5] [cpu|cuda]
import * as cn from '../lib/index.js';
import { resnet34Training } from '../lib/applications/pipelines.js';

const [dataDir = '../shared/data/flower_photos', size = '224', epochs = '5', backend = 'cpu'] = process.argv.slice(2);
cn.setBackend(backend);
const { model, valAccuracy } = await resnet34Training({ dataDir, imageSize: Number(size), epochs: Number(epochs), verbose: 1 });
model.summary();
console.log(`validation accuracy ${valAccuracy.toFixed(3)}`);
model.dispose();
