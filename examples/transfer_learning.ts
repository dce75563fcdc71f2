// Pipeline (c) of the reference notebook: transfer learning on the flowers with an Xception
// base (ImageNet weights from Keras' file in ~/.keras/models when present, else random),
// global average pooling and a dense softmax head. The base is frozen for the first epochs
// (SGD lr 0.1, momentum 0.9), then layers from index 56 on are unfrozen and the model is
// recompiled with lr 0.01 and trained again; validation accuracy after every epoch.
//
//   npx tsx examples/transfer_learning.ts [dataDir=../shared/data/flower_photos] [imageSize=224]
//                                          [epochsFrozen=3] [epochsUnfrozen=10] [cpu|cuda]
import * as cn from '../lib/index.js';
import { kerasModelsDir } from '../lib/applications/common.js';
import { transferLearning } from '../lib/applications/pipelines.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const [dataDir = '../shared/data/flower_photos', size = '224', e1 = '3', e2 = '10', backend = 'cpu'] = process.argv.slice(2);
cn.setBackend(backend);
const file = join(kerasModelsDir(), 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5');
const weights = existsSync(file) ? 'imagenet' : null;
if (!weights) console.log(`note: ${file} not found (no network here): training from random weights`);
const res = await transferLearning({ dataDir, imageSize: Number(size), epochsFrozen: Number(e1), epochsUnfrozen: Number(e2), weights, verbose: 1 });
console.log(`classes ${res.classNames.join(', ')}`);
console.log(`validation accuracy: frozen base ${res.valAccuracy.frozen.toFixed(3)}, partly unfrozen ${res.valAccuracy.unfrozen.toFixed(3)}`);
console.log(`test accuracy ${res.testAccuracy.toFixed(3)}`);
res.model.dispose();
