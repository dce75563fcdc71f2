// Preprocessing and augmentation layers (lib/layers/preprocessing.ts) against hand
// computation and tfjs-node's tf.image ops (TensorFlow's kernels), on every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { readFileSync } from 'node:fs';
import { FillMode, flipImages, projectiveTransform, reverseAxis, rotationTransform } from '../lib/layers/preprocessing.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';
import { loadTfjs } from './tfjs.js';
import type * as TF from '@tensorflow/tfjs-node';

const L = cn.layers;
const SMALL = JSON.parse(readFileSync(new URL('./fixtures/keras/small.json', import.meta.url), 'utf8')) as {
  rotation: { image: number[]; shape: number[]; degrees: number[]; transforms: number[][]; fillValue: number; outputs: Record<string, number[]> };
};

/** Disposes the outputs that are not the input itself (layers may return their input). */
function disposeExcept(keep: cn.Tensor, ts: cn.Tensor[]): void {
  cn.dispose(ts.filter((t) => t !== keep));
}

function rand(shape: number[], seed: number, lo = 0, hi = 255): cn.Tensor {
  return cn.tensor(seededRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape);
}

let tf: typeof TF;
beforeAll(async () => {
  tf = await loadTfjs();
});

describeBackends('preprocessing layers', () => {
  it('rescaling: x * scale + offset, shape kept', () => {
    const x = rand([2, 3, 4, 3], 1);
    const y = L.rescaling({ scale: 1 / 127.5, offset: -1 }).apply(x) as cn.Tensor;
    expect(y.shape).toEqual([2, 3, 4, 3]);
    expectClose(y.dataSync(), Array.from(x.dataSync(), (v) => v * (1 / 127.5) - 1), { rtol: 1e-6, atol: 1e-6 });
    cn.dispose([x, y]);
  });

  it('centerCrop: the central window, start floor((in - out) / 2)', () => {
    const x = rand([2, 7, 10, 3], 2);
    const y = L.centerCrop({ height: 4, width: 5 }).apply(x) as cn.Tensor;
    expect(y.shape).toEqual([2, 4, 5, 3]);
    const want = tf.tidy(() => tf.slice(tf.tensor(x.dataSync(), x.shape as never), [0, 1, 2, 0], [2, 4, 5, 3]).dataSync());
    expect(Array.from(y.dataSync())).toEqual(Array.from(want));
    // Rank 3 works too, and the symbolic shape matches.
    const y3 = L.centerCrop({ height: 4, width: 5 }).apply(cn.reshape(cn.slice(x, [0], [1]), [7, 10, 3])) as cn.Tensor;
    expect(y3.shape).toEqual([4, 5, 3]);
    const inp = cn.input({ shape: [null, null, 3] as never });
    expect((L.centerCrop({ height: 70, width: 120 }).apply(inp) as cn.SymbolicTensor).shape).toEqual([null, 70, 120, 3]);
    cn.dispose([x, y, y3]);
  });

  it('centerCrop on a smaller image: smart resize (largest centered crop of the aspect ratio, bilinear)', () => {
    const x = rand([1, 6, 9, 2], 3);
    const y = L.centerCrop({ height: 8, width: 8 }).apply(x) as cn.Tensor;
    expect(y.shape).toEqual([1, 8, 8, 2]);
    // Keras: crop 6x6 starting at column 1, then tf.image.resize (half-pixel centers).
    const want = tf.tidy(() => tf.image.resizeBilinear(tf.slice(tf.tensor(x.dataSync(), x.shape as never), [0, 0, 1, 0], [1, 6, 6, 2]) as TF.Tensor4D, [8, 8], false, true).dataSync());
    expectClose(y.dataSync(), want, { rtol: 1e-5, atol: 1e-4 });
    cn.dispose([x, y]);
  });

  it('resizing: bilinear and nearest as tf.image.resize; cropToAspectRatio', () => {
    const x = rand([2, 5, 8, 3], 4);
    const tx = tf.tensor(x.dataSync(), x.shape as never) as TF.Tensor4D;
    for (const [h, w] of [[3, 4], [10, 7], [5, 8]]) {
      const yb = L.resizing({ height: h, width: w }).apply(x) as cn.Tensor;
      expectClose(yb.dataSync(), tf.image.resizeBilinear(tx, [h, w], false, true).dataSync(), { rtol: 1e-5, atol: 1e-3, what: `bilinear ${h}x${w}` });
      const yn = L.resizing({ height: h, width: w, interpolation: 'nearest' }).apply(x) as cn.Tensor;
      expect(Array.from(yn.dataSync())).toEqual(Array.from(tf.image.resizeNearestNeighbor(tx, [h, w], false, true).dataSync()));
      disposeExcept(x, [yb, yn]);
    }
    const yc = L.resizing({ height: 4, width: 4, cropToAspectRatio: true }).apply(x) as cn.Tensor;
    const want = tf.image.resizeBilinear(tf.slice(tx, [0, 0, 1, 0], [2, 5, 5, 3]) as TF.Tensor4D, [4, 4], false, true);
    expectClose(yc.dataSync(), want.dataSync(), { rtol: 1e-5, atol: 1e-3, what: 'cropToAspectRatio' });
    cn.dispose([x, yc]);
  });

  it('reverseAxis reverses any length exactly (kernel composition)', () => {
    for (const n of [1, 2, 3, 5, 8, 13]) {
      const x = rand([2, n, 3], 10 + n);
      const y = reverseAxis(x, 1);
      const want = tf.reverse(tf.tensor(x.dataSync(), x.shape as never), 1).dataSync();
      expect(Array.from(y.dataSync())).toEqual(Array.from(want));
      cn.dispose([x, y]);
    }
  });

  it('randomFlip: identity unless training; each image flipped or not, seeded, both outcomes occur', () => {
    const x = rand([16, 4, 5, 3], 5);
    const tx = tf.tensor(x.dataSync(), x.shape as never) as TF.Tensor4D;
    const per = 4 * 5 * 3;
    const flipped = { horizontal: tf.reverse(tx, 2).dataSync(), vertical: tf.reverse(tx, 1).dataSync(), horizontal_and_vertical: tf.reverse(tx, [1, 2]).dataSync() };
    for (const mode of ['horizontal', 'vertical', 'horizontal_and_vertical'] as const) {
      const layer = L.randomFlip({ mode, seed: 42 });
      const same = layer.apply(x) as cn.Tensor;
      expect(Array.from(same.dataSync())).toEqual(Array.from(x.dataSync()));
      const y = layer.apply(x, { training: true }) as cn.Tensor;
      const yd = y.dataSync();
      const xd = x.dataSync();
      let nFlip = 0;
      for (let b = 0; b < 16; b++) {
        const got = Array.from(yd.subarray(b * per, (b + 1) * per));
        const isSame = got.every((v, i) => v === xd[b * per + i]);
        const isFlip = got.every((v, i) => v === flipped[mode][b * per + i]);
        expect(isSame || isFlip).toBe(true);
        if (isFlip && !isSame) nFlip++;
      }
      expect(nFlip).toBeGreaterThan(0);
      expect(nFlip).toBeLessThan(16);
      // Same seed, same first draw; the next call draws anew.
      const again = L.randomFlip({ mode, seed: 42 }).apply(x, { training: true }) as cn.Tensor;
      expect(Array.from(again.dataSync())).toEqual(Array.from(yd));
      disposeExcept(x, [same, y, again]);
    }
    cn.dispose(x);
  });

  it('randomFlip and randomContrast run inside a compiled plan, drawing anew each run', () => {
    const x = rand([8, 3, 4, 2], 6);
    const flip = L.randomFlip({ mode: 'horizontal', seed: 1 });
    const contrast = L.randomContrast({ factor: 0.5, seed: 2 });
    const f = cn.compile((t: cn.Tensor) => [flip.apply(contrast.apply(t, { training: true }), { training: true }) as cn.Tensor], [{ shape: [8, 3, 4, 2] }]);
    try {
      const [a] = f.runSync([x]);
      const [b] = f.runSync([x]);
      expect(a.shape).toEqual([8, 3, 4, 2]);
      expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync()));
      cn.dispose([a, b]);
    } finally {
      f.dispose();
      x.dispose();
    }
  });

  it('flipImages with a given mask equals tf.reverse where the mask is 1', () => {
    const x = rand([3, 4, 6, 2], 7);
    const mask = cn.tensor([1, 0, 1], [3, 1, 1, 1]);
    const y = flipImages(x, mask, 'horizontal');
    const tx = tf.tensor(x.dataSync(), x.shape as never) as TF.Tensor4D;
    const r = tf.reverse(tx, 2);
    const want = tf.concat([tf.slice(r, [0], [1]), tf.slice(tx, [1], [1]), tf.slice(r, [2], [1])]).dataSync();
    expect(Array.from(y.dataSync())).toEqual(Array.from(want));
    cn.dispose([x, mask, y]);
  });

  it("rotation: Keras' transform matrices and TF's ImageProjectiveTransformV3 outputs (committed reference)", () => {
    const ref = SMALL.rotation;
    const x = cn.tensor(Float32Array.from(ref.image), ref.shape);
    const [, h, w] = ref.shape;
    ref.degrees.forEach((d, i) => expectClose(rotationTransform(d, h, w), ref.transforms[i], { rtol: 1e-6, atol: 1e-6, what: `transform ${d} deg` }));
    for (const [key, want] of Object.entries(ref.outputs)) {
      const [fillMode, interpolation] = key.split('/') as [FillMode, 'bilinear' | 'nearest'];
      const y = projectiveTransform(x, ref.transforms, { fillMode, interpolation, fillValue: ref.fillValue });
      expectClose(y.dataSync(), want, { rtol: 1e-5, atol: 1e-3, what: key });
      y.dispose();
    }
    x.dispose();
  });

  it('randomRotation: identity unless training; angles within factor * 360 degrees; seeded; fresh angles at each run of a compiled plan', async () => {
    const x = rand([4, 6, 6, 1], 9);
    const layer = L.randomRotation({ factor: 0.05, seed: 42 });
    const same = layer.apply(x) as cn.Tensor;
    expect(Array.from(same.dataSync())).toEqual(Array.from(x.dataSync()));
    const y = layer.apply(x, { training: true }) as cn.Tensor;
    expect(y.shape).toEqual([4, 6, 6, 1]);
    expect(Array.from(y.dataSync())).not.toEqual(Array.from(x.dataSync()));
    const again = L.randomRotation({ factor: 0.05, seed: 42 }).apply(x, { training: true }) as cn.Tensor;
    expect(Array.from(again.dataSync())).toEqual(Array.from(y.dataSync()));
    // A factor of [0.25, 0.25] is exactly a quarter turn: out[y][x] = in[x][W-1-y] (Keras' sense).
    const q = L.randomRotation({ factor: [0.25, 0.25], seed: 1, interpolation: 'nearest' }).apply(x, { training: true }) as cn.Tensor;
    const xd = x.dataSync();
    const want = Array.from({ length: 4 * 36 }, (_, k) => {
      const b = Math.floor(k / 36), yy = Math.floor((k % 36) / 6), xx = k % 6;
      return xd[b * 36 + xx * 6 + (5 - yy)];
    });
    expectClose(q.dataSync(), want, { rtol: 0, atol: 1e-4, what: 'quarter turn' });
    // Inside a compiled plan (as in fit()): the quarter turn is the same, and a random
    // factor draws new angles at every run.
    const quarter = L.randomRotation({ factor: [0.25, 0.25], seed: 1, interpolation: 'nearest' });
    const fq = cn.compile((t: cn.Tensor) => [quarter.apply(t, { training: true }) as cn.Tensor], [{ shape: [4, 6, 6, 1] }]);
    const [pq] = await fq.run([x]);
    expectClose(pq.dataSync(), want, { rtol: 0, atol: 1e-4, what: 'quarter turn in a plan' });
    const fr = cn.compile((t: cn.Tensor) => [layer.apply(t, { training: true }) as cn.Tensor], [{ shape: [4, 6, 6, 1] }]);
    const [r1] = await fr.run([x]);
    const [r2] = await fr.run([x]);
    expect(Array.from(r1.dataSync())).not.toEqual(Array.from(r2.dataSync()));
    expect(Array.from(r1.dataSync())).not.toEqual(Array.from(x.dataSync()));
    fq.dispose();
    fr.dispose();
    disposeExcept(x, [same, y, again, q, pq, r1, r2]);
    x.dispose();
  });

  it('randomContrast: (x - mean) * f + mean clipped, f per image in [1 - lower, 1 + upper]', () => {
    const x = rand([6, 4, 4, 3], 10, 50, 200);
    // Keras sorts the pair: [0.3, 0.2] is (lower 0.2, upper 0.3), factors in [0.8, 1.3].
    const layer = L.randomContrast({ factor: [0.3, 0.2], seed: 3, valueRange: [0, 1000] });
    expect(layer.apply(x)).toBe(x);
    const y = layer.apply(x, { training: true }) as cn.Tensor;
    const xd = x.dataSync(), yd = y.dataSync();
    const per = 4 * 4 * 3;
    for (let b = 0; b < 6; b++) {
      const mean = [0, 0, 0];
      for (let i = 0; i < 16; i++) for (let c = 0; c < 3; c++) mean[c] += xd[b * per + i * 3 + c] / 16;
      let num = 0, den = 0;
      for (let k = 0; k < per; k++) {
        const dx = xd[b * per + k] - mean[k % 3];
        num += (yd[b * per + k] - mean[k % 3]) * dx;
        den += dx * dx;
      }
      const f = num / den;
      expect(f).toBeGreaterThanOrEqual(0.8 - 1e-3);
      expect(f).toBeLessThanOrEqual(1.3 + 1e-3);
      const want = Array.from({ length: per }, (_, k) => (xd[b * per + k] - mean[k % 3]) * f + mean[k % 3]);
      expectClose(yd.subarray(b * per, (b + 1) * per), want, { rtol: 1e-3, atol: 1e-2, what: `image ${b}` });
    }
    // Keras' single-number factor gives [1, 1 + f]; values are clipped to [0, 255].
    const z = L.randomContrast({ factor: 0.9, seed: 4 }).apply(cn.mul(x, 2), { training: true }) as cn.Tensor;
    expect(Math.max(...z.dataSync())).toBeLessThanOrEqual(255);
    cn.dispose([x, y, z]);
  });

  it('errors name the layer and argument', () => {
    expect(() => L.randomFlip({ mode: 'diagonal' as never })).toThrow(/randomFlip: expected mode 'horizontal', 'vertical' or 'horizontal_and_vertical'/);
    expect(() => L.randomRotation({ factor: 2 })).toThrow(/randomRotation: expected factor/);
    expect(() => L.centerCrop({ height: 0, width: 3 })).toThrow(/centerCrop: expected height as a positive integer/);
    expect(() => L.resizing({ height: 2, width: 2, interpolation: 'bicubic' as never })).toThrow(/resizing: expected interpolation/);
    expect(() => (L.centerCrop({ height: 2, width: 2 }).apply(cn.zeros([4, 4])) as cn.Tensor)).toThrow(/centerCrop: expected input of rank 4/);
  });

  it('layers serialize and deserialize (getConfig round trip)', () => {
    for (const l of [L.rescaling({ scale: 0.5, offset: 1 }), L.centerCrop({ height: 2, width: 3 }), L.resizing({ height: 4, width: 5, cropToAspectRatio: true }), L.randomFlip({ mode: 'vertical', seed: 1 }), L.randomRotation({ factor: 0.1, fillMode: 'wrap' }), L.randomContrast({ factor: 0.2 }), L.zeroPadding2d({ padding: [[1, 0], [2, 3]] })]) {
      const back = cn.layers.deserializeLayer(cn.layers.serializeLayer(l));
      expect(back.getClassName()).toBe(l.getClassName());
      const { name: _a, ...c1 } = back.getConfig();
      const { name: _b, ...c2 } = l.getConfig();
      expect(c1).toEqual(c2);
    }
  });
});

describe('preprocessing in a model (notebook pipeline a)', () => {
  it('CenterCrop(70, 120) + Rescaling(1/225) + Conv2D 32x7: valid and same padding shapes', () => {
    const images = rand([2, 427, 640, 3], 11);
    const crop = L.centerCrop({ height: 70, width: 120 }).apply(images) as cn.Tensor;
    const scaled = L.rescaling({ scale: 1 / 225 }).apply(crop) as cn.Tensor;
    expect(scaled.shape).toEqual([2, 70, 120, 3]);
    const valid = L.conv2d({ filters: 32, kernelSize: 7 });
    const same = L.conv2d({ filters: 32, kernelSize: 7, padding: 'same' });
    const a = valid.apply(scaled) as cn.Tensor;
    const b = same.apply(scaled) as cn.Tensor;
    expect(a.shape).toEqual([2, 64, 114, 32]);
    expect(b.shape).toEqual([2, 70, 120, 32]);
    expect(valid.getWeights().map((w) => w.shape)).toEqual([[7, 7, 3, 32], [32]]);
    cn.dispose([images, crop, scaled, a, b]);
    valid.dispose();
    same.dispose();
  });
});
