// Fashion-MNIST loading (the real files from Debian's dataset-fashion-mnist; truncated,
// corrupt and missing files) and the Dataset pipeline (fromTensors, shuffle, batch, map,
// prefetch, take, skip, repeat, generator).
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends } from './helpers.js';

const { datasets, data } = cn;
const fm = datasets.fashionMnist;
const SYS = '/usr/share/datasets/fashion-mnist';

function histogram(labels: Int32Array): number[] {
  const h = new Array(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

describe('datasets.fashionMnist', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cn-fmnist-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /** A directory with copies of the four real files, for corrupting one of them. */
  async function copyDir(name: string): Promise<string> {
    const dir = join(tmp, name);
    await mkdir(dir, { recursive: true });
    for (const f of Object.values(fm.FILES)) await copyFile(join(SYS, f), join(dir, f));
    return dir;
  }

  it('loads the real dataset from /usr/share/datasets/fashion-mnist: counts, shapes, dtypes, ranges, 6000/1000 per class', async () => {
    expect(existsSync(join(SYS, fm.FILES.trainImages)), `${SYS} must hold the dataset (apt-get install dataset-fashion-mnist)`).toBe(true);
    const before = cn.memory().numTensors;
    const d = await fm.load({ cacheDir: join(tmp, 'empty-cache'), download: false });
    expect(d.dir).toBe(SYS);
    expect(d.train.images.shape).toEqual([60000, 28, 28, 1]);
    expect(d.train.images.dtype).toBe('float32');
    expect(d.train.labels.shape).toEqual([60000]);
    expect(d.train.labels.dtype).toBe('int32');
    expect(d.test.images.shape).toEqual([10000, 28, 28, 1]);
    expect(d.test.labels.shape).toEqual([10000]);
    expect(histogram(d.train.labels.dataSync<'int32'>())).toEqual(new Array(10).fill(6000));
    expect(histogram(d.test.labels.dataSync<'int32'>())).toEqual(new Array(10).fill(1000));
    expect(cn.tidy(() => [cn.min(d.train.images).dataSync()[0], cn.max(d.train.images).dataSync()[0]])).toEqual([0, 255]);
    expect(Number.isInteger(d.test.images.dataSync()[28 * 14 + 14])).toBe(true);
    // The first training image is an ankle boot (label 9), as in Keras.
    expect(d.train.labels.dataSync()[0]).toBe(9);
    expect(fm.classNames[9]).toBe('Ankle boot');
    expect(fm.classNames).toHaveLength(10);
    cn.dispose([d.train, d.test]);
    expect(cn.memory().numTensors).toBe(before);
  });

  it('prefers the Keras cache, and reads un-gzipped IDX files too', async () => {
    const cacheRoot = join(tmp, 'keras');
    const dir = join(cacheRoot, 'datasets', 'fashion-mnist');
    await mkdir(dir, { recursive: true });
    for (const f of Object.values(fm.FILES)) await writeFile(join(dir, f.replace(/\.gz$/, '')), gunzipSync(await readFile(join(SYS, f))));
    const d = await fm.load({ cacheDir: cacheRoot, download: false });
    expect(d.dir).toBe(dir);
    expect(d.test.images.shape).toEqual([10000, 28, 28, 1]);
    expect(histogram(d.test.labels.dataSync<'int32'>())).toEqual(new Array(10).fill(1000));
    cn.dispose([d.train, d.test]);
  });

  it('an explicit path is the only place looked; a missing one is a clear error', async () => {
    const missing = join(tmp, 'nope');
    await expect(fm.load({ path: missing })).rejects.toThrow(
      `fashionMnist.load: expected train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gzipped or not) in ${missing} but the directory does not exist`,
    );
    const partial = join(tmp, 'partial');
    await mkdir(partial, { recursive: true });
    await copyFile(join(SYS, fm.FILES.testLabels), join(partial, fm.FILES.testLabels));
    await expect(fm.load({ path: partial })).rejects.toThrow(
      `in ${partial} but received a directory missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz`,
    );
    const d = await fm.load({ path: SYS });
    expect(d.dir).toBe(SYS);
    cn.dispose([d.train, d.test]);
  });

  it('with nothing found and no download, the error lists every place looked', async () => {
    const cacheRoot = join(tmp, 'no-cache');
    const sysDir = join(tmp, 'no-system');
    const err = await fm.load({ cacheDir: cacheRoot, systemDirs: [sysDir], download: false }).catch((e) => e);
    expect(err).toBeInstanceOf(fm.DatasetError);
    expect(err.message).toContain('fashionMnist.load: Fashion-MNIST not found (download disabled). Looked in:');
    expect(err.message).toContain(`  - ${join(cacheRoot, 'datasets', 'fashion-mnist')}\n  - ${sysDir}`);
    expect(err.message).toContain("Install Debian's dataset-fashion-mnist");
  });

  it('a failed download (no network) says so and lists every place looked', async () => {
    const cacheRoot = join(tmp, 'dl-cache');
    const err = await fm.load({ cacheDir: cacheRoot, systemDirs: [], origin: 'http://127.0.0.1:9/' }).catch((e) => e);
    expect(err).toBeInstanceOf(fm.DatasetError);
    expect(err.message).toContain('fashionMnist.load: Fashion-MNIST not found and the download from http://127.0.0.1:9/ failed');
    expect(err.message).toContain(`Looked in:\n  - ${join(cacheRoot, 'datasets', 'fashion-mnist')}`);
  });

  it('a truncated gzip file is named in the error', async () => {
    const dir = await copyDir('truncated-gz');
    const f = join(dir, fm.FILES.trainImages);
    const buf = await readFile(f);
    await writeFile(f, buf.subarray(0, buf.length >> 1));
    await expect(fm.load({ path: dir })).rejects.toThrow(`fashionMnist.load: ${f} is a corrupt or truncated gzip file`);
  });

  it('a truncated IDX payload is named in the error', async () => {
    const dir = await copyDir('truncated-idx');
    const f = join(dir, fm.FILES.testImages);
    const raw = gunzipSync(await readFile(f));
    await writeFile(f, gzipSync(raw.subarray(0, raw.length - 100)));
    await expect(fm.load({ path: dir })).rejects.toThrow(
      `fashionMnist.load: ${f} is not a valid IDX file: 7839900 data bytes, expected 7840000 (truncated); delete it and load again`,
    );
  });

  it('a corrupt file (bad magic number, wrong dimensions, bad labels) is named in the error', async () => {
    const dir = await copyDir('corrupt');
    const labels = join(dir, fm.FILES.trainLabels);
    await rm(labels);
    const plain = labels.replace(/\.gz$/, '');
    await writeFile(plain, Buffer.from('this is not an IDX file at all'));
    await expect(fm.load({ path: dir })).rejects.toThrow(
      `fashionMnist.load: ${plain} is not a valid IDX file: magic number 0x74686973, expected 0x00000801 (unsigned bytes, 1 dimension)`,
    );
    const raw = gunzipSync(await readFile(join(SYS, fm.FILES.trainLabels)));
    const wrongDims = Buffer.from(raw);
    wrongDims.writeUInt32BE(59999, 4);
    await writeFile(plain, wrongDims);
    await expect(fm.load({ path: dir })).rejects.toThrow(`${plain} is not a valid IDX file: dimensions [59999], expected [60000]`);
    const badLabel = Buffer.from(raw);
    badLabel[8 + 123] = 42;
    await writeFile(plain, badLabel);
    await expect(fm.load({ path: dir })).rejects.toThrow(`${plain} is not a valid label file: label 42 at index 123, expected 0..9`);
  });
});

describeBackends('data.Dataset', () => {
  const n = 10;
  const makeXY = () => ({
    xs: cn.tensor(Float32Array.from({ length: n * 2 }, (_, i) => i), [n, 2]),
    ys: cn.tensor(Int32Array.from({ length: n }, (_, i) => i), [n], 'int32'),
  });
  const ysOf = async (ds: cn.data.Dataset<{ xs: cn.Tensor; ys: cn.Tensor }>) => {
    const out: number[][] = [];
    for await (const e of ds) {
      out.push(Array.from(e.ys.dataSync()));
      cn.dispose(e);
    }
    return out;
  };

  it('fromTensors yields rows; the source tensors may be disposed afterwards', async () => {
    const src = makeXY();
    const ds = data.fromTensors(src);
    cn.dispose(src);
    expect(ds.size).toBe(n);
    const rows = await ds.toArray();
    expect(rows).toHaveLength(n);
    expect(rows[3].xs.shape).toEqual([2]);
    expect(Array.from(rows[3].xs.dataSync())).toEqual([6, 7]);
    expect(rows[3].ys.shape).toEqual([]);
    expect(rows[3].ys.dtype).toBe('int32');
    expect(rows[3].ys.dataSync()[0]).toBe(3);
    cn.dispose(rows);
  });

  it('batch: full batches and a smaller last one (or none), with sizes', async () => {
    const src = makeXY();
    const ds = data.fromTensors(src);
    expect(await ysOf(ds.batch(4))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(ds.batch(4).size).toBe(3);
    expect(await ysOf(ds.batch(4, false))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(ds.batch(4, false).size).toBe(2);
    const [b] = await ds.batch(4).take(1).toArray();
    expect(b.xs.shape).toEqual([4, 2]);
    expect(Array.from(b.xs.dataSync())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    cn.dispose([b, src]);
  });

  it('shuffle(seed) is a reproducible permutation, reshuffled each pass unless told otherwise', async () => {
    const src = makeXY();
    const ds = data.fromTensors(src);
    const perm = (a: number[][]) => a.flat().slice().sort((x, y) => x - y);
    const s1 = ds.shuffle(n, 42);
    const p1 = (await ysOf(s1)).flat();
    const p2 = (await ysOf(s1)).flat();
    expect(perm([p1])).toEqual([...Array(n).keys()]);
    expect(p1).not.toEqual([...Array(n).keys()]);
    expect(p2).not.toEqual(p1); // a new order for the second pass
    expect((await ysOf(ds.shuffle(n, 42))).flat()).toEqual(p1); // same seed, same first pass
    const fixed = ds.shuffle(n, 7, false);
    expect(await ysOf(fixed)).toEqual(await ysOf(fixed));
    // A small buffer still gives a permutation, and elements move at most a bounded way early.
    const small = (await ysOf(ds.shuffle(3, 1))).flat();
    expect(small.slice().sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    expect(small[0]).toBeLessThan(3);
    cn.dispose(src);
  });

  it('the in-memory fast path and the generic path agree (shuffle, batch, take, skip)', async () => {
    const src = makeXY();
    const fast = data.fromTensors(src);
    const generic = fast.map((e) => e); // map() leaves the lazy path
    for (const f of [
      (d: typeof fast) => d.shuffle(4, 'seed').batch(3),
      (d: typeof fast) => d.skip(2).take(5).batch(2),
      (d: typeof fast) => d.repeat(2).shuffle(20, 3).batch(7),
    ]) {
      const a = f(fast), b = f(generic);
      expect(a.size).toBe(b.size);
      expect(await ysOf(a)).toEqual(await ysOf(b));
    }
    const [x1] = await fast.shuffle(4, 9).batch(3).take(1).toArray();
    const [x2] = await generic.shuffle(4, 9).batch(3).take(1).toArray();
    expect(Array.from(x1.xs.dataSync())).toEqual(Array.from(x2.xs.dataSync()));
    cn.dispose([x1, x2, src]);
  });

  it('map runs in tidy and disposes inputs it does not return; take, skip, repeat and sizes', async () => {
    const src = makeXY();
    const ds = data.fromTensors(src);
    const before = cn.memory().numTensors;
    const mapped = ds.map(({ xs, ys }) => ({ xs: cn.div(xs, 2), ys }));
    const out = await mapped.take(2).toArray();
    expect(Array.from(out[1].xs.dataSync())).toEqual([1, 1.5]);
    expect(cn.memory().numTensors).toBe(before + 4); // only the returned tensors survive
    cn.dispose(out);
    expect(await ysOf(ds.skip(7))).toEqual([[7], [8], [9]]);
    expect(ds.skip(7).size).toBe(3);
    expect(await ysOf(ds.take(2).repeat(3))).toEqual([[0], [1], [0], [1], [0], [1]]);
    expect(ds.repeat().size).toBe(Infinity);
    expect(await ysOf(ds.repeat().take(12).skip(10))).toEqual([[0], [1]]);
    expect(ds.take(-1)).toBe(ds);
    cn.dispose(src);
  });

  it('prefetch yields the same elements; stopping early disposes what was fetched ahead', async () => {
    const src = makeXY();
    const ds = data.fromTensors(src).batch(2);
    expect(await ysOf(ds.prefetch(3))).toEqual(await ysOf(ds));
    const before = cn.memory().numTensors;
    for await (const e of ds.map((e) => e).prefetch(3)) {
      cn.dispose(e);
      break;
    }
    expect(cn.memory().numTensors).toBe(before);
    cn.dispose(src);
  });

  it('an epoch over a shuffled, batched, prefetched pipeline leaks nothing', async () => {
    const src = makeXY();
    const ds = data.fromTensors(src).shuffle(10, 1).map((e) => e).batch(3).prefetch(2);
    const before = cn.memory();
    for (let epoch = 0; epoch < 2; epoch++) for await (const e of ds) cn.dispose(e);
    // stop mid-epoch with elements in the shuffle buffer
    for await (const e of ds) {
      cn.dispose(e);
      break;
    }
    expect(cn.memory().numTensors).toBe(before.numTensors);
    expect(cn.memory().numBytes).toBe(before.numBytes);
    cn.dispose(src);
  });

  it('generator() and array(): numbers and arrays batch into tensors', async () => {
    const gen = data.generator(function* () {
      for (let i = 0; i < 5; i++) yield { x: [i, i + 1], y: i };
    });
    expect(gen.size).toBeNull();
    const batches = await gen.batch(2).toArray();
    expect(batches).toHaveLength(3);
    const b0 = batches[0] as unknown as { x: cn.Tensor; y: cn.Tensor };
    expect(b0.x.shape).toEqual([2, 2]);
    expect(Array.from(b0.x.dataSync())).toEqual([0, 1, 1, 2]);
    expect(Array.from(b0.y.dataSync())).toEqual([0, 1]);
    cn.dispose(batches);
    const asyncGen = data.generator(async function* () {
      yield cn.tensor([1, 2]);
      yield cn.tensor([3, 4]);
    });
    const [t] = await asyncGen.batch(2).toArray();
    expect(t.shape).toEqual([2, 2]);
    t.dispose();
    expect(await data.array([1, 2, 3]).shuffle(3, 5).toArray()).toHaveLength(3);
  });

  it('argument errors', () => {
    const src = makeXY();
    const ds = data.fromTensors(src);
    expect(() => ds.batch(0)).toThrow('batch: expected batchSize as an integer >= 1 but received 0');
    expect(() => ds.shuffle(0)).toThrow('shuffle: expected bufferSize as an integer >= 1 but received 0');
    expect(() => data.fromTensors({ xs: src.xs, ys: cn.tensor([1, 2, 3]) })).toThrow(
      'fromTensors: expected ys with 10 rows (the first dimension of every tensor) but received [3]',
    );
    cn.dispose(src);
  });
});
