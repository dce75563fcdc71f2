// Pipeline (d) of the reference notebook: classification and localization with one Xception
// base and two heads (softmax over the classes, 4 box coordinates), losses
// [sparse categorical cross-entropy, mse] weighted [0.8, 0.2]. The flowers have no boxes, so
// (as in the notebook) random boxes stand in for them.
//
//   npx tsx examples/localization.ts [dataDir=../shared/data/flower_photos] [imageSize=224] [cpu|cuda]
import * as cn from '../lib/index.js';
import { classifyAndLocalize } from '../lib/applications/pipelines.js';

const [dataDir = '../shared/data/flower_photos', size = '224', backend = 'cpu'] = process.argv.slice(2);
cn.setBackend(backend);
const { model, history } = await classifyAndLocalize({ dataDir, imageSize: Number(size), epochs: 2, verbose: 1 });
for (const [k, v] of Object.entries(history.history)) console.log(`${k.padEnd(24)} ${v.map((x) => x.toFixed(4)).join('  ')}`);
model.dispose();
