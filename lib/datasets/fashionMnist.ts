// Fashion-MNIST from the canonical IDX files (gzipped or not), found in an explicit path,
// the Keras cache, or Debian's dataset-fashion-mnist, else downloaded into the Keras cache
// from the location Keras uses.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { InvalidArgumentError, check } from '../errors.js';
import { tidy } from '../engine.js';
import { cast, tensor } from '../ops/basic.js';
import { Tensor } from '../tensor.js';

const gunzip = promisify(gunzipCb);

/** The label names, indexed by class id. */
export const classNames = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Where Keras downloads Fashion-MNIST from. */
export const ORIGIN = 'https://storage.googleapis.com/tensorflow/tf-keras-datasets/';

/** The four canonical files, as Keras names them. */
export const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

/** Debian's dataset-fashion-mnist package. */
export const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of load(): where to look for the files, and whether and where to download them. */
export interface LoadOptions {
  /** A directory holding the four files. When given, only this directory is used. */
  path?: string;
  /** Download into the Keras cache when no copy is found (default true). */
  download?: boolean;
  /** The Keras cache root (default $KERAS_HOME or ~/.keras); files go to <cacheDir>/datasets/fashion-mnist. */
  cacheDir?: string;
  /** System directories searched after the cache (default [/usr/share/datasets/fashion-mnist]). */
  systemDirs?: string[];
  /** Download location (default Keras's ORIGIN). */
  origin?: string;
}

/** One split of the dataset: images and their labels. */
export interface Split {
  /** [n, 28, 28, 1] float32 with values 0..255 (Keras returns uint8 0..255). */
  images: Tensor;
  /** [n] int32 class ids 0..9. */
  labels: Tensor;
}

/** What load() returns (keras.datasets.fashion_mnist.load_data() as tensors). */
export interface FashionMnist {
  /** The 60,000 training images. */
  train: Split;
  /** The 10,000 test images. */
  test: Split;
  /** The directory the files were read from. */
  dir: string;
}

/** Thrown when the dataset cannot be found, downloaded, or parsed. */
export class DatasetError extends InvalidArgumentError {}

const ROWS = 28;
const COLS = 28;

function cacheRoot(opts: LoadOptions): string {
  return opts.cacheDir ?? process.env.KERAS_HOME ?? join(homedir(), '.keras');
}

/** The file in dir for a canonical name, gzipped or not, if present. */
function findFile(dir: string, gzName: string): string | undefined {
  for (const name of [gzName, gzName.replace(/\.gz$/, '')]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function hasAll(dir: string): boolean {
  return Object.values(FILES).every((f) => findFile(dir, f));
}

/** Reads a file, gunzipping when it starts with the gzip magic; errors name the file. */
async function readMaybeGzip(file: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (e) {
    throw new DatasetError(`fashionMnist.load: cannot read ${file}: ${(e as Error).message}`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return await gunzip(raw);
    } catch (e) {
      throw new DatasetError(`fashionMnist.load: ${file} is a corrupt or truncated gzip file (${(e as Error).message}); delete it and load again`);
    }
  }
  return raw;
}

/**
 * Parses an IDX file of unsigned bytes: magic 0x00000800 + ndim, then ndim big-endian
 * dimensions, then the data. Checks the magic, the dimensions and the length.
 */
export function parseIdx(buf: Buffer, file: string, expectDims: number[]): Uint8Array {
  const fail = (why: string) => new DatasetError(`fashionMnist.load: ${file} is not a valid IDX file: ${why}; delete it and load again`);
  const ndim = expectDims.length;
  if (buf.length < 4) throw fail(`${buf.length} bytes, shorter than the 4-byte header`);
  const magic = buf.readUInt32BE(0);
  const want = 0x0800 + ndim;
  if (magic !== want) throw fail(`magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x${want.toString(16).padStart(8, '0')} (unsigned bytes, ${ndim} dimension${ndim > 1 ? 's' : ''})`);
  const header = 4 + 4 * ndim;
  if (buf.length < header) throw fail(`${buf.length} bytes, shorter than the ${header}-byte header`);
  const dims = expectDims.map((_, i) => buf.readUInt32BE(4 + 4 * i));
  if (dims.some((d, i) => d !== expectDims[i])) throw fail(`dimensions [${dims}], expected [${expectDims}]`);
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== header + size)
    throw fail(`${buf.length - header} data bytes, expected ${size}${buf.length < header + size ? ' (truncated)' : ''}`);
  return new Uint8Array(buf.buffer, buf.byteOffset + header, size);
}

async function readSplit(dir: string, imagesName: string, labelsName: string, n: number): Promise<{ images: Uint8Array; labels: Uint8Array }> {
  const imagesFile = findFile(dir, imagesName)!;
  const labelsFile = findFile(dir, labelsName)!;
  const [images, labels] = await Promise.all([
    readMaybeGzip(imagesFile).then((b) => parseIdx(b, imagesFile, [n, ROWS, COLS])),
    readMaybeGzip(labelsFile).then((b) => parseIdx(b, labelsFile, [n])),
  ]);
  const bad = labels.findIndex((l) => l > 9);
  if (bad >= 0) throw new DatasetError(`fashionMnist.load: ${labelsFile} is not a valid label file: label ${labels[bad]} at index ${bad}, expected 0..9; delete it and load again`);
  return { images, labels };
}

async function download(dir: string, origin: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of Object.values(FILES)) {
    if (findFile(dir, name)) continue;
    const url = origin.replace(/\/?$/, '/') + name;
    const res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    const tmp = join(dir, `${name}.part${process.pid}`);
    await writeFile(tmp, body);
    await rename(tmp, join(dir, name)).catch(async (e) => {
      await rm(tmp, { force: true });
      throw e;
    });
  }
}

/** Finds (or downloads) the directory holding the four files. */
async function locate(opts: LoadOptions): Promise<string> {
  if (opts.path !== undefined) {
    check(typeof opts.path === 'string', 'fashionMnist.load', 'path as a string', opts.path);
    const dir = resolve(opts.path);
    if (!hasAll(dir))
      throw new DatasetError(
        `fashionMnist.load: expected ${Object.values(FILES).join(', ')} (gzipped or not) in ${dir} but ` +
          `${existsSync(dir) ? `received a directory missing ${Object.values(FILES).filter((f) => !findFile(dir, f)).join(', ')}` : 'the directory does not exist'}`,
      );
    return dir;
  }
  const cache = join(cacheRoot(opts), 'datasets', 'fashion-mnist');
  const dirs = [cache, ...(opts.systemDirs ?? [SYSTEM_DIR])];
  for (const d of dirs) if (hasAll(d)) return d;
  const looked = dirs.map((d) => `  - ${d}`).join('\n');
  const install = `Install Debian's dataset-fashion-mnist, copy the four files into ${cache}, or pass {path}.`;
  if (opts.download === false)
    throw new DatasetError(`fashionMnist.load: Fashion-MNIST not found (download disabled). Looked in:\n${looked}\n${install}`);
  const origin = opts.origin ?? ORIGIN;
  try {
    await download(cache, origin);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new DatasetError(
      `fashionMnist.load: Fashion-MNIST not found and the download from ${origin} failed (${(e as Error).message}${cause ? `: ${cause}` : ''}). Looked in:\n${looked}\n${install}`,
    );
  }
  return cache;
}

function toTensors(s: { images: Uint8Array; labels: Uint8Array }, n: number): Split {
  // Note [uint8 upload]: the bytes go to the backend as a uint8 ('bool') tensor and are
  // widened there by Cast, which keeps 0..255 (converting 47M bytes in JS is slower, and on
  // cuda this moves a quarter of the bytes).
  return tidy(() => ({
    images: cast(tensor(s.images, [n, ROWS, COLS, 1], 'bool'), 'float32'),
    labels: cast(tensor(s.labels, [n], 'bool'), 'int32'),
  }));
}

/**
 * Loads Fashion-MNIST: train (60000) and test (10000) images as [n, 28, 28, 1] float32
 * 0..255 and labels as [n] int32. Looks in opts.path only when given; otherwise in
 * the Keras cache (~/.keras/datasets/fashion-mnist), then /usr/share/datasets/fashion-mnist,
 * then downloads into the cache (unless download is false).
 */
export async function load(opts: LoadOptions = {}): Promise<FashionMnist> {
  check(opts && typeof opts === 'object', 'fashionMnist.load', 'an options object', opts);
  const dir = await locate(opts);
  const [train, test] = await Promise.all([
    readSplit(dir, FILES.trainImages, FILES.trainLabels, 60000),
    readSplit(dir, FILES.testImages, FILES.testLabels, 10000),
  ]);
  const trainT = toTensors(train, 60000);
  try {
    return { train: trainT, test: toTensors(test, 10000), dir };
  } catch (e) {
    trainT.images.dispose();
    trainT.labels.dispose();
    throw e;
  }
}
