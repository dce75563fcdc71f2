// Pipeline (a) of the reference notebook (Géron, HOML ch. 14): the scikit-learn sample
// images, CenterCrop(70, 120) and Rescaling(1/225), then a Conv2D of 32 7x7 filters with
// 'valid' and with 'same' padding: the output and weight shapes.
//
//   npx tsx examples/preprocessing.ts [folder with china.jpg and flower.jpg]
import { preprocessingDemo } from '../lib/applications/pipelines.js';

const r = await preprocessingDemo({ samplePath: process.argv[2] });
console.log(`images             ${JSON.stringify(r.input)}`);
console.log(`cropped + rescaled ${JSON.stringify(r.cropped)}`);
for (const [pad, v] of Object.entries({ valid: r.valid, same: r.same }))
  console.log(`conv2d 32x7 ${pad.padEnd(5)}  output ${JSON.stringify(v.output)}  kernel ${JSON.stringify(v.kernel)}  bias ${JSON.stringify(v.bias)}`);
