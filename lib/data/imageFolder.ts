// Images from disk: decodeImage() (JPEG / PNG / WebP / ... via sharp) and imageFolder(), a
// dataset over an image-folder tree (one sub-folder per class, labels from the sorted
// sub-folder names, as Keras' image_dataset_from_directory) with TFDS-style split slices
// ('train[:10%]', 'train[10%:25%]', 'train[100:]'), per-epoch seeded shuffling, resizing,
// batching and prefetch. Decoding runs on sharp's thread pool, so with prefetch it overlaps
// training (fit() runs its steps off the main thread).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InvalidArgumentError, check } from '../errors.js';
import { tidy } from '../engine.js';
import { Interpolation, resizeImages, smartResize } from '../layers/preprocessing.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { Dataset, seededRng } from './dataset.js';

/** File extensions imageFolder() reads (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.webp', '.tif', '.tiff'];

/* eslint-disable @typescript-eslint/no-explicit-any */
let sharpPromise: Promise<any> | undefined;
/** sharp, loaded on first use (a dependency; only image input needs it). */
async function sharp(): Promise<any> {
  sharpPromise ??= import('sharp')
    .then((m: any) => m.default ?? m)
    .catch((e: Error) => {
      sharpPromise = undefined;
      throw new InvalidArgumentError(`decodeImage: expected the sharp package (a dependency of cudnn-node) but it could not be loaded: ${e.message}`);
    });
  return sharpPromise;
}

/** Options of decodeImage. */
export interface DecodeImageOptions {
  /** 3 (RGB, default) or 1 (grayscale); alpha is dropped. */
  channels?: 1 | 3;
}

/** Decoded pixels: HWC, values 0..255. */
export interface RawImage {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** Decodes an image file (or its bytes) to float32 HWC pixels in [0, 255], EXIF orientation applied. */
export async function decodeImageRaw(source: string | Buffer, opts: DecodeImageOptions = {}): Promise<RawImage> {
  const channels = opts.channels ?? 3;
  check(channels === 1 || channels === 3, 'decodeImage', 'channels 1 or 3', opts.channels);
  const s = await sharp();
  let img = s(source, { failOn: 'error' }).rotate();
  img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    out = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    const what = typeof source === 'string' ? `'${source}'` : 'the given bytes';
    throw new InvalidArgumentError(`decodeImage: expected a decodable image (JPEG, PNG, WebP, ...) but ${what} failed: ${(e as Error).message}`);
  }
  const { width, height } = out.info;
  let data = Float32Array.from(out.data);
  if (out.info.channels !== channels) {
    // grayscale sources come back with one channel even when RGB was asked for
    const rgb = new Float32Array(width * height * channels);
    for (let i = 0; i < width * height; i++) for (let c = 0; c < channels; c++) rgb[i * channels + c] = data[i * out.info.channels + Math.min(c, out.info.channels - 1)];
    data = rgb;
  }
  return { data, height, width, channels };
}

/** Decodes an image to a [height, width, channels] float32 tensor with values in [0, 255]. */
export async function decodeImage(source: string | Buffer, opts: DecodeImageOptions = {}): Promise<Tensor> {
  const r = await decodeImageRaw(source, opts);
  return ops.tensor(r.data, [r.height, r.width, r.channels], 'float32');
}

// ---- splits

/**
 * Parses a TFDS-style split: 'train', 'train[:10%]', 'train[10%:20%]', 'train[-10%:]',
 * 'train[:100]'. Percent boundaries round to the closest example (TFDS' default).
 */
export function parseSplit(split: string, n: number): { name: string; start: number; end: number } {
  const m = /^\s*([A-Za-z_][\w-]*)\s*(?:\[\s*(-?\d+%?)?\s*:\s*(-?\d+%?)?\s*\])?\s*$/.exec(split);
  if (!m) throw new InvalidArgumentError(`imageFolder: expected a split like 'train', 'train[:10%]' or 'train[10%:25%]' but received '${split}'`);
  const bound = (s: string | undefined, dflt: number): number => {
    if (s === undefined) return dflt;
    let v: number;
    if (s.endsWith('%')) {
      const p = Number(s.slice(0, -1));
      if (p < -100 || p > 100) throw new InvalidArgumentError(`imageFolder: expected percent boundaries in [-100%, 100%] but received '${split}'`);
      v = Math.round((Math.abs(p) * n) / 100) * Math.sign(p);
    } else v = Number(s);
    if (v < 0) v += n;
    return Math.min(Math.max(v, 0), n);
  };
  const start = bound(m[2], 0);
  const end = bound(m[3], n);
  return { name: m[1], start, end: Math.max(start, end) };
}

// ---- the folder dataset

/** Options of imageFolder(). */
export interface ImageFolderOptions {
  /** TFDS-style split (default 'train', the whole folder; a sub-folder of that name is used when present). */
  split?: string;
  /** Resize every image to [height, width] (bilinear, tf.image.resize semantics). Needed for batching mixed sizes. */
  imageSize?: [number, number];
  /** Crop to the target aspect ratio before resizing (Keras' crop_to_aspect_ratio). */
  cropToAspectRatio?: boolean;
  interpolation?: Interpolation;
  /** Elements per batch; omit for single images ({xs: [h, w, c], ys: []}). */
  batchSize?: number;
  /** Shuffle the split's files each epoch (default true when batching, as Keras). */
  shuffle?: boolean;
  /** Seed of the shuffles (a new order per pass, reproducible). */
  seed?: number;
  channels?: 1 | 3;
  /** Batches (or images) decoded ahead of the consumer (default 2; 0 for none). */
  prefetch?: number;
  /** Keep only these class sub-folders (in this order) instead of all of them. */
  classNames?: string[];
}

/** A dataset of {xs, ys} with the folder's classes and the split's files. */
export type ImageFolderDataset = Dataset<{ xs: Tensor; ys: Tensor }> & {
  /** Sorted class (sub-folder) names; ys are indices into it. */
  classNames: string[];
  /** The split's files, in the stable pre-split order, with their labels. */
  files: string[];
  labels: number[];
};

/**
 * An image-folder dataset: `await data.imageFolder(dir, {split: 'train[:10%]', imageSize:
 * [224, 224], batchSize: 32, shuffle: true, seed: 42})`. Labels are int32 indices of the
 * sorted class sub-folders. Files are put in one stable pseudo-random order (fixed seed)
 * before slicing, so 'train[:10%]' mixes the classes and complementary slices are disjoint.
 */
export async function imageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const op = 'imageFolder';
  check(typeof dir === 'string' && existsSync(dir) && statSync(dir).isDirectory(), op, 'an existing directory', dir);
  const split = opts.split ?? 'train';
  let root = dir;
  const splitName = parseSplit(split, 0).name;
  if (existsSync(join(dir, splitName)) && statSync(join(dir, splitName)).isDirectory()) root = join(dir, splitName);
  else if (splitName !== 'train')
    throw new InvalidArgumentError(`${op}: expected split 'train' (the whole folder) or a sub-folder named '${splitName}' in '${dir}' but there is none`);
  const subdirs = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const classNames = opts.classNames ?? subdirs;
  classNames.forEach((c) => check(subdirs.includes(c), op, `class folders among [${subdirs.join(', ')}]`, c));
  const all: Array<[string, number]> = [];
  classNames.forEach((c, label) => {
    for (const f of readdirSync(join(root, c)).sort()) if (IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())) all.push([join(root, c, f), label]);
  });
  if (!all.length) throw new InvalidArgumentError(`${op}: expected images (${IMAGE_EXTENSIONS.join(', ')}) in class sub-folders of '${root}' but found none`);
  // Note [stable order]: one fixed permutation of the sorted files, independent of opts.seed.
  const rng0 = seededRng('imageFolder');
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng0() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  const { start, end } = parseSplit(split, all.length);
  const items = all.slice(start, end);
  const batchSize = opts.batchSize;
  if (batchSize !== undefined) check(Number.isInteger(batchSize) && batchSize >= 1, op, 'batchSize as a positive integer', batchSize);
  const size = opts.imageSize;
  if (size !== undefined) check(Array.isArray(size) && size.length === 2 && size.every((d) => Number.isInteger(d) && d > 0), op, 'imageSize [height, width] of positive integers', size);
  const shuffle = opts.shuffle ?? batchSize !== undefined;
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const channels = opts.channels ?? 3;
  const interpolation = opts.interpolation ?? 'bilinear';
  let pass = 0;

  const load = async (path: string): Promise<RawImage> => {
    const r = await decodeImageRaw(path, { channels });
    if (!size || (r.height === size[0] && r.width === size[1])) return r;
    const data = tidy(() => {
      const t = ops.tensor(r.data, [r.height, r.width, r.channels], 'float32');
      const y = opts.cropToAspectRatio ? smartResize(t, size[0], size[1], interpolation) : resizeImages(t, size[0], size[1], interpolation);
      return y.dataSync().slice();
    });
    return { data, height: size[0], width: size[1], channels: r.channels };
  };

  const n = items.length;
  const per = batchSize ?? 1;
  const source = async function* (): AsyncGenerator<{ xs: Tensor; ys: Tensor }> {
    const order = items.map((_, i) => i);
    if (shuffle) {
      const rng = seededRng(`${seed}:${pass++}`);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    for (let b = 0; b < n; b += per) {
      const idx = order.slice(b, b + per);
      const imgs = await Promise.all(idx.map((i) => load(items[i][0])));
      const labels = Int32Array.from(idx, (i) => items[i][1]);
      if (batchSize === undefined) {
        const r = imgs[0];
        yield { xs: ops.tensor(r.data, [r.height, r.width, r.channels], 'float32'), ys: ops.tensor(labels.subarray(0, 1), [], 'int32') };
        continue;
      }
      const { height, width } = imgs[0];
      imgs.forEach((r, k) => {
        if (r.height !== height || r.width !== width)
          throw new InvalidArgumentError(
            `${op}: expected images of one size in a batch but '${items[idx[k]][0]}' is ${r.height}x${r.width} and '${items[idx[0]][0]}' ${height}x${width} (give imageSize)`,
          );
      });
      const buf = new Float32Array(imgs.length * height * width * channels);
      imgs.forEach((r, k) => buf.set(r.data, k * r.data.length));
      yield { xs: ops.tensor(buf, [imgs.length, height, width, channels], 'float32'), ys: ops.tensor(labels, [imgs.length], 'int32') };
    }
  };
  const count = batchSize === undefined ? n : Math.ceil(n / batchSize);
  let ds = new Dataset<{ xs: Tensor; ys: Tensor }>(() => source(), count);
  const prefetch = opts.prefetch ?? 2;
  if (prefetch > 0) ds = ds.prefetch(prefetch);
  return Object.assign(ds, { classNames: classNames.slice(), files: items.map((x) => x[0]), labels: items.map((x) => x[1]) });
}
