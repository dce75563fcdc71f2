// The zoo's Keras architectures against Keras 3 (test/fixtures/keras/zoo.json, made by
// scripts/keras_reference.py zoo): per layer the name, class, output shape and parameter
// count, and the totals, of vgg16 (with the top at 224: 138,357,544 parameters; headless with
// max pooling), vgg19 (with a 10-class top at 32x32; headless at any size: 20,024,384),
// resnet101 (44,707,176) and resnet152 (60,419,944). Building the 224x224 VGG-16 with its
// dense layers takes most of this file's time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import * as applications from '../lib/applications/index.js';

type RefLayer = [string, string, Array<number | null>, number];
interface RefModel {
  application: 'vgg16' | 'vgg19' | 'resnet101' | 'resnet152';
  args: { include_top: boolean; input_shape?: number[]; pooling?: 'avg' | 'max'; classes?: number };
  totalParams: number;
  trainableParams: number;
  layers: RefLayer[];
}
const REF = JSON.parse(readFileSync(new URL('./fixtures/keras/zoo.json', import.meta.url), 'utf8')) as { kerasVersion: string; models: RefModel[] };

// Keras' automatic names carry session-wide counters ('global_max_pooling2d_3'): compare the stem.
const AUTO = /^(input_layer|global_max_pooling2d|global_average_pooling2d)(?:_\d+)?$/;
const stem = (n: string) => AUTO.exec(n)?.[1] ?? n;

describe(`zoo vs Keras ${REF.kerasVersion}: layer tables and parameter counts`, () => {
  for (const ref of REF.models) {
    it(`${ref.application} ${JSON.stringify(ref.args)}: ${ref.totalParams.toLocaleString('en-US')} parameters`, async () => {
      const before = cn.memory().numTensors;
      const m = await applications[ref.application]({
        includeTop: ref.args.include_top,
        inputShape: ref.args.input_shape as number[] | undefined,
        pooling: ref.args.pooling,
        classes: ref.args.classes,
      });
      try {
        expect(m.countParams()).toBe(ref.totalParams);
        expect(m.trainableWeights.reduce((a, w) => a + w.size, 0)).toBe(ref.trainableParams);
        expect(m.layers.length).toBe(ref.layers.length);
        m.layers.forEach((l, i) => {
          const [name, cls, shape, params] = ref.layers[i];
          const at = `${ref.application} layer ${i} (${name})`;
          expect(stem(l.name), at).toBe(stem(name));
          expect(l.getClassName(), at).toBe(cls);
          expect(l.outputShape, at).toEqual(shape);
          expect(l.countParams(), at).toBe(params);
        });
      } finally {
        m.dispose();
      }
      expect(cn.memory().numTensors).toBe(before);
    }, 120_000);
  }
});
