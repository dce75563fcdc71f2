// The notebook's transfer-learning pipeline (c) and the two-head model (d), end to end on a
// small image folder this test writes with sharp (Xception at its minimum size, 71x71):
// frozen weights are bit-identical after an epoch, unfrozen ones have moved, validation
// accuracy is reported. Pipeline (a)'s shapes.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { classifyAndLocalize, preprocessingDemo, transferLearning } from '../lib/applications/pipelines.js';

let root = '';
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'flowers-'));
  const colors = [{ r: 230, g: 40, b: 40 }, { r: 40, g: 200, b: 60 }, { r: 50, g: 60, b: 220 }];
  for (const [c, name] of ['red', 'green', 'blue'].entries()) {
    mkdirSync(join(root, name));
    for (let i = 0; i < 4; i++)
      await sharp({ create: { width: 80 + 8 * i, height: 72, channels: 3, background: colors[c] } })
        .composite([{ input: { create: { width: 20, height: 20, channels: 3, background: { r: 8 * i, g: 100, b: 200 - 10 * i } } }, left: 5 * i, top: 10 }])
        .jpeg()
        .toFile(join(root, name, `${i}.jpg`));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const snapshot = (layers: cn.Layer[]) => new Map(layers.map((l) => [l, l.getWeights().map((w) => { const d = w.dataSync().slice(); w.dispose(); return d; })]));
const same = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((x, i) => x.length === b[i].length && x.every((v, k) => Object.is(v, b[i][k])));

describe('pipeline (c): transfer learning with a frozen, then partly unfrozen Xception base', () => {
  it('frozen weights bit-identical after an epoch, unfrozen ones moved, validation accuracy reported', async () => {
    let before: Map<cn.Layer, Float32Array[]> = new Map();
    let afterFrozen: Map<cn.Layer, Float32Array[]> = new Map();
    let baseLayers: cn.Layer[] = [];
    const res = await transferLearning({
      dataDir: root,
      imageSize: 71,
      batchSize: 4,
      epochsFrozen: 1,
      epochsUnfrozen: 1,
      verbose: 0,
      augment: true, // the notebook's flip / rotation / contrast, in the input pipeline
      onPhase: (phase, model, base) => {
        baseLayers = base.layers;
        if (phase === 'frozen') before = snapshot(model.layers);
        else afterFrozen = snapshot(model.layers);
      },
    });
    const { model, base } = res;
    const head = model.layers.filter((l) => !baseLayers.includes(l) && l.weights.length);
    // Phase 1: every base weight (BN moving statistics included) is bit-identical; the head moved.
    for (const l of baseLayers) expect(same(before.get(l)!, afterFrozen.get(l)!), `frozen ${l.name}`).toBe(true);
    for (const l of head) expect(same(before.get(l)!, afterFrozen.get(l)!), `head ${l.name}`).toBe(false);
    // Phase 2: base layers before index 56 unchanged, from 56 on (with weights) moved.
    const end = snapshot(model.layers);
    baseLayers.forEach((l, i) => {
      if (!l.weights.length) return;
      expect(same(afterFrozen.get(l)!, end.get(l)!), `${i} ${l.name}`).toBe(i < 56);
    });
    expect(base.layers[56].trainable).toBe(true);
    expect(base.layers[55].trainable).toBe(false);
    expect(res.history.frozen.history.val_accuracy).toHaveLength(1);
    expect(res.history.unfrozen.history.val_accuracy).toHaveLength(1);
    expect(res.valAccuracy.unfrozen).toBeGreaterThanOrEqual(0);
    expect(res.valAccuracy.unfrozen).toBeLessThanOrEqual(1);
    expect(res.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(res.classNames).toEqual(['blue', 'green', 'red']);
    model.dispose();
  }, 300_000);
});

describe('pipeline (d): classification + localization heads', () => {
  it('losses [sparseCE, mse] weighted [0.8, 0.2]: per-output losses and their weighted sum', async () => {
    const { model, history } = await classifyAndLocalize({ dataDir: root, imageSize: 71, batchSize: 4, batches: 1, epochs: 1, verbose: 0 });
    expect(model.outputs.map((o) => o.shape)).toEqual([[null, 3], [null, 4]]);
    const h = history.history;
    const names = model.outputNames;
    expect(Object.keys(h)).toEqual(expect.arrayContaining(['loss', `${names[0]}_loss`, `${names[1]}_loss`]));
    expect(h.loss[0]).toBeCloseTo(0.8 * h[`${names[0]}_loss`][0] + 0.2 * h[`${names[1]}_loss`][0], 4);
    model.dispose();
  }, 300_000);
});

describe('pipeline (a): preprocessing shapes', () => {
  it('CenterCrop(70, 120) + Rescaling(1/225) + Conv2D 32x7 valid / same', async () => {
    const images = cn.randomUniform([2, 427, 640, 3], 0, 255, 'float32', 3);
    const r = await preprocessingDemo({ images });
    expect(r).toEqual({
      input: [2, 427, 640, 3],
      cropped: [2, 70, 120, 3],
      valid: { output: [2, 64, 114, 32], kernel: [7, 7, 3, 32], bias: [32] },
      same: { output: [2, 70, 120, 32], kernel: [7, 7, 3, 32], bias: [32] },
    });
    images.dispose();
  });
});
