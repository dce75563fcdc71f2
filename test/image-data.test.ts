// Image input: decodeImage, data.imageFolder (labels from sub-folders, TFDS-style splits,
// seeded shuffles, resize, batches, prefetch) and datasets.sampleImages, on small images
// this test writes with sharp.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { decodeImage, imageFolder, parseSplit } from '../lib/data/imageFolder.js';
import { sampleImages } from '../lib/datasets/sampleImages.js';

let root = '';
const CLASSES = ['cats', 'dogs', 'zebras'];
const PER_CLASS = 10;

/** A w x h RGB image whose pixels encode (class, index): R = 20 * class, G = index, B = x. */
function pixels(w: number, h: number, cls: number, idx: number): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      b[o] = 20 * cls;
      b[o + 1] = idx;
      b[o + 2] = x;
    }
  return b;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'imgfolder-'));
  for (const [c, name] of CLASSES.entries()) {
    mkdirSync(join(root, name));
    for (let i = 0; i < PER_CLASS; i++) {
      const [w, h] = i % 2 ? [8, 6] : [12, 9];
      const img = sharp(pixels(w, h, c, i), { raw: { width: w, height: h, channels: 3 } });
      // PNGs are lossless (exact pixels); a few JPEGs check the lossy path decodes too.
      if (i < 8) await img.png().toFile(join(root, name, `img${i}.png`));
      else await img.jpeg({ quality: 95 }).toFile(join(root, name, `img${i}.jpg`));
    }
  }
  writeFileSync(join(root, 'cats', 'notes.txt'), 'not an image');
  mkdirSync(join(root, 'sk'));
  for (const f of ['china.jpg', 'flower.jpg']) await sharp({ create: { width: 640, height: 427, channels: 3, background: { r: 10, g: 200, b: 30 } } }).jpeg().toFile(join(root, 'sk', f));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('decodeImage', () => {
  it('PNG to [h, w, 3] float32 0..255, exact', async () => {
    const t = await decodeImage(join(root, 'dogs', 'img3.png'));
    expect(t.shape).toEqual([6, 8, 3]);
    expect(Array.from(t.dataSync().slice(0, 6))).toEqual([20, 3, 0, 20, 3, 1]);
    const g = await decodeImage(join(root, 'dogs', 'img3.png'), { channels: 1 });
    expect(g.shape).toEqual([6, 8, 1]);
    cn.dispose([t, g]);
  });
  it('a file that is no image: a clear error', async () => {
    await expect(decodeImage(join(root, 'cats', 'notes.txt'))).rejects.toThrow(/decodeImage: expected a decodable image .* but '.*notes.txt' failed/);
  });
});

describe('imageFolder', () => {
  it('TFDS split parsing (closest rounding, negative and absolute bounds)', () => {
    expect(parseSplit('train', 30)).toEqual({ name: 'train', start: 0, end: 30 });
    expect(parseSplit('train[:10%]', 30)).toEqual({ name: 'train', start: 0, end: 3 });
    expect(parseSplit('train[10%:25%]', 30)).toEqual({ name: 'train', start: 3, end: 8 });
    expect(parseSplit('train[-20%:]', 30)).toEqual({ name: 'train', start: 24, end: 30 });
    expect(parseSplit('train[5:]', 30)).toEqual({ name: 'train', start: 5, end: 30 });
    expect(() => parseSplit('train[:10', 30)).toThrow(/imageFolder: expected a split like 'train', 'train\[:10%\]'/);
  });

  it('labels from sorted sub-folders; complementary slices are disjoint and mix classes', async () => {
    const a = await imageFolder(root, { split: 'train[:30%]', classNames: CLASSES });
    const b = await imageFolder(root, { split: 'train[30%:]', classNames: CLASSES });
    expect(a.classNames).toEqual(CLASSES);
    expect(a.files.length).toBe(9);
    expect(b.files.length).toBe(21);
    expect(new Set([...a.files, ...b.files]).size).toBe(30);
    expect(new Set(b.labels).size).toBe(3);
    a.files.forEach((f, i) => expect(f).toContain(`/${CLASSES[a.labels[i]]}/`));
    // Unbatched elements: {xs: [h, w, 3], ys: scalar int32}; the label matches the pixels.
    for await (const { xs, ys } of a) {
      expect(ys.dtype).toBe('int32');
      expect(ys.shape).toEqual([]);
      expect(Math.round(xs.dataSync()[0] / 20)).toBe(ys.dataSync()[0]);
      cn.dispose([xs, ys]);
    }
    const all = await imageFolder(root);
    expect(all.classNames).toEqual(['cats', 'dogs', 'sk', 'zebras']);
  });

  it('batches of resized images; seeded shuffles: reproducible, new order each epoch', async () => {
    const ds = await imageFolder(root, { split: 'train', classNames: CLASSES, imageSize: [6, 8], batchSize: 4, shuffle: true, seed: 7 });
    expect(ds.size).toBe(8);
    const epoch = async () => {
      const labels: number[] = [];
      const greens: number[] = [];
      for await (const { xs, ys } of ds) {
        expect(xs.shape.slice(1)).toEqual([6, 8, 3]);
        expect(xs.shape[0]).toBe(ys.shape[0]);
        labels.push(...ys.dataSync());
        const d = xs.dataSync();
        for (let k = 0; k < xs.shape[0]; k++) greens.push(Math.round(d[k * 144 + 1]));
        cn.dispose([xs, ys]);
      }
      return labels.map((l, i) => `${l}:${greens[i]}`);
    };
    const e1 = await epoch();
    const e2 = await epoch();
    expect(e1.length).toBe(30);
    expect(new Set(e1).size).toBe(30);
    expect(e2).not.toEqual(e1);
    const again = await imageFolder(root, { split: 'train', classNames: CLASSES, imageSize: [6, 8], batchSize: 4, shuffle: true, seed: 7 });
    const a1: string[] = [];
    for await (const { xs, ys } of again) {
      const d = xs.dataSync();
      ys.dataSync().forEach((l, k) => a1.push(`${l}:${Math.round(d[k * 144 + 1])}`));
      cn.dispose([xs, ys]);
    }
    expect(a1).toEqual(e1);
  });

  it('trains a model with fitDataset (decoding prefetched while it trains)', async () => {
    const ds = await imageFolder(root, { classNames: CLASSES, imageSize: [6, 8], batchSize: 10, seed: 1, prefetch: 2 });
    const m = cn.sequential({ layers: [cn.layers.rescaling({ scale: 1 / 255, inputShape: [6, 8, 3] }), cn.layers.flatten(), cn.layers.dense({ units: 3, activation: 'softmax' })] });
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fitDataset(ds, { epochs: 2, verbose: 0 });
    expect(h.history.loss.length).toBe(2);
    m.dispose();
  });

  it('errors: mixed sizes without imageSize, unknown split folder, no images', async () => {
    const ds = await imageFolder(root, { classNames: CLASSES, batchSize: 30, shuffle: false });
    await expect((async () => {
      for await (const _ of ds) void _;
    })()).rejects.toThrow(/imageFolder: expected images of one size in a batch .* \(give imageSize\)/);
    await expect(imageFolder(root, { split: 'test[:10%]' })).rejects.toThrow(/imageFolder: expected split 'train' \(the whole folder\) or a sub-folder named 'test'/);
    const empty = mkdtempSync(join(tmpdir(), 'empty-'));
    mkdirSync(join(empty, 'a'));
    await expect(imageFolder(empty)).rejects.toThrow(/imageFolder: expected images .* in class sub-folders/);
    rmSync(empty, { recursive: true });
  });
});

describe('sampleImages', () => {
  it('china.jpg and flower.jpg from a given folder: [2, 427, 640, 3]', async () => {
    const { images, filenames } = await sampleImages({ path: join(root, 'sk') });
    expect(images.shape).toEqual([2, 427, 640, 3]);
    expect(filenames.map((f) => f.split('/').pop())).toEqual(['china.jpg', 'flower.jpg']);
    const d = images.dataSync();
    expect(Math.abs(d[1] - 200)).toBeLessThan(3);
    images.dispose();
  });
  it('a folder without them: an error saying where it looked and how to install them', async () => {
    await expect(sampleImages({ path: join(root, 'cats') })).rejects.toThrow(/sampleImages: expected china.jpg and flower.jpg .* found them in none of: .*cats.*apt-get install python3-sklearn/);
  });
});
