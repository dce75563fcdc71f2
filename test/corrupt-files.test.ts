// Every corrupt file gets a clear error (issue 19): a CudnnNodeError whose message names the
// file and what is wrong, never a raw error from a parser, and never a dead or wedged
// process. IDX files (the Fashion-MNIST loader), image folders, saved models and Keras .h5
// files, each truncated, garbled and structurally wrong. The damaged files are made from
// real ones: Debian's Fashion-MNIST, images written by sharp, models saved by model.save(),
// and the .h5 files Keras wrote (test/fixtures/keras/tiny).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { imageFolder } from '../lib/data/imageFolder.js';
import { h5wasm, readKerasWeights } from '../lib/io/h5weights.js';
import { seededRandom } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'cn-corrupt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Awaits p, expecting a CudnnNodeError whose message names file and matches what. */
async function expectClearError(p: Promise<unknown>, file: string, what: RegExp): Promise<cn.CudnnNodeError> {
  const err = await p.then(
    () => new Error(`expected an error for '${file}' but it loaded`),
    (e: unknown) => e,
  );
  expect(err, String((err as Error)?.stack)).toBeInstanceOf(cn.CudnnNodeError);
  const e = err as cn.CudnnNodeError;
  expect(e.code).toBe('ERR_INVALID_ARGUMENT');
  expect(e.message).toContain(file);
  expect(e.message).toMatch(what);
  return e;
}

describe('IDX files (fashionMnist.load)', () => {
  const SYS = '/usr/share/datasets/fashion-mnist';
  const fm = cn.datasets.fashionMnist;
  /** A directory with the real files, labels un-gzipped (so the IDX bytes can be damaged directly). */
  function dirWith(name: string, damage: (labels: Buffer) => Buffer): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const f of Object.values(fm.FILES)) if (f !== fm.FILES.trainLabels) copyFileSync(join(SYS, f), join(dir, f));
    const raw = gunzipSync(readFileSync(join(SYS, fm.FILES.trainLabels)));
    writeFileSync(join(dir, fm.FILES.trainLabels.replace(/\.gz$/, '')), damage(Buffer.from(raw)));
    return join(dir, fm.FILES.trainLabels.replace(/\.gz$/, ''));
  }
  const cases: Array<[string, (b: Buffer) => Buffer, RegExp]> = [
    ['truncated payload', (b) => b.subarray(0, b.length - 1), /not a valid IDX file: 59999 data bytes, expected 60000 \(truncated\)/],
    ['truncated header', (b) => b.subarray(0, 6), /not a valid IDX file: 6 bytes, shorter than the 8-byte header/],
    ['empty file', () => Buffer.alloc(0), /not a valid IDX file: 0 bytes, shorter than the 4-byte header/],
    ['wrong magic', (b) => (b.writeUInt32BE(0x00000d01, 0), b), /not a valid IDX file: magic number 0x00000d01, expected 0x00000801/],
    ['wrong dimensions', (b) => (b.writeUInt32BE(1 << 30, 4), b), /not a valid IDX file: dimensions \[1073741824\], expected \[60000\]/],
    ['trailing bytes', (b) => Buffer.concat([b, Buffer.from([1, 2, 3])]), /not a valid IDX file: 60003 data bytes, expected 60000/],
  ];
  for (const [name, damage, what] of cases)
    it(name, async () => {
      const file = dirWith(name.replace(/ /g, '-'), damage);
      await expectClearError(fm.load({ path: join(file, '..') }), file, what);
    });
});

describe('image folders', () => {
  let good: Buffer;
  beforeAll(async () => {
    const px = Buffer.from(Array.from(seededRandom(32 * 24 * 3, 9, 0, 255), Math.floor));
    good = await sharp(px, { raw: { width: 32, height: 24, channels: 3 } }).png().toBuffer();
  });
  /** A one-class folder with a good image and the bad one; iterating it must fail naming the bad one. */
  async function folderWith(name: string, file: string, bytes: Buffer): Promise<string> {
    const dir = join(root, 'images', name, 'cls');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a-good.png'), good);
    writeFileSync(join(dir, file), bytes);
    return join(dir, file);
  }
  async function iterate(dir: string) {
    for await (const e of await imageFolder(dir, { batchSize: 2 })) cn.dispose(e as never);
  }
  const cases: Array<[string, string, () => Promise<Buffer>, RegExp]> = [
    ['not an image (text named .jpg)', 'b.jpg', async () => Buffer.from('just some text, not a JPEG'), /decodeImage: expected a decodable image .* but '.*b\.jpg' failed/],
    ['truncated JPEG', 'b.jpg', async () => (await sharp(good).jpeg().toBuffer()).subarray(0, 300), /decodeImage: expected a decodable image .* but '.*b\.jpg' failed/],
    ['truncated PNG', 'b.png', async () => good.subarray(0, good.length >> 1), /decodeImage: expected a decodable image .* but '.*b\.png' failed/],
    ['PNG with a damaged chunk', 'b.png', async () => Buffer.from(good).fill(0x55, 40, 80), /decodeImage: expected a decodable image .* but '.*b\.png' failed/],
    ['empty file', 'b.png', async () => Buffer.alloc(0), /decodeImage: expected a decodable image .* but '.*b\.png' failed/],
  ];
  for (const [name, file, bytes, what] of cases)
    it(name, async () => {
      const path = await folderWith(name.replace(/\W+/g, '-'), file, await bytes());
      await expectClearError(iterate(join(path, '..', '..')), path, what);
    });
});

describe('saved models', () => {
  async function saved(name: string) {
    const m = cn.sequential();
    m.add(cn.layers.dense({ inputShape: [4], units: 3 }));
    const dir = join(root, 'models', name);
    await m.save(dir);
    m.dispose();
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    return { dir, modelJson: join(dir, 'model.json'), json, weights: join(dir, json.weightsManifest[0].paths[0]) };
  }
  type Case = [string, (s: Awaited<ReturnType<typeof saved>>) => string, RegExp];
  const cases: Case[] = [
    ['truncated weights', (s) => (writeFileSync(s.weights, readFileSync(s.weights).subarray(0, 7)), s.weights), /expected 60 bytes of weights .* but received 7 \(truncated file\)/],
    ['garbage appended to the weights', (s) => (writeFileSync(s.weights, Buffer.concat([readFileSync(s.weights), Buffer.alloc(13, 7)])), s.weights), /but received 73 \(trailing bytes/],
    ['weights file missing', (s) => (rmSync(s.weights), s.weights), /expected weight file '.*' \(named in '.*model\.json'\) but it cannot be read/],
    ['model.json is garbage', (s) => (writeFileSync(s.modelJson, Buffer.from(seededRandom(64, 3, 0, 255).map(Math.floor))), s.modelJson), /expected valid JSON in '.*model\.json' but it does not parse/],
    ['model.json truncated', (s) => (writeFileSync(s.modelJson, readFileSync(s.modelJson).subarray(0, 100)), s.modelJson), /expected valid JSON in '.*model\.json' but it does not parse/],
    ['model.json without a topology', (s) => (writeFileSync(s.modelJson, JSON.stringify({ weightsManifest: [] })), s.modelJson), /expected a model.json with a modelTopology at '.*model\.json'/],
    ['path traversal', (s) => ((s.json.weightsManifest[0].paths = ['../../etc/passwd']), writeFileSync(s.modelJson, JSON.stringify(s.json)), s.modelJson), /'\.\.' are refused/],
    ['absolute path', (s) => ((s.json.weightsManifest[0].paths = ['/etc/passwd']), writeFileSync(s.modelJson, JSON.stringify(s.json)), s.modelJson), /absolute paths and '\.\.' are refused/],
    ['float64 dtype', (s) => ((s.json.weightsManifest[0].weights[1].dtype = 'float64'), writeFileSync(s.modelJson, JSON.stringify(s.json)), s.modelJson), /of dtype float32 or int32 but received "float64"/],
    ['unknown dtype', (s) => ((s.json.weightsManifest[0].weights[0].dtype = 'complex64'), writeFileSync(s.modelJson, JSON.stringify(s.json)), s.modelJson), /of dtype float32 or int32 but received "complex64"/],
    ['negative shape', (s) => ((s.json.weightsManifest[0].weights[0].shape = [4, -3]), writeFileSync(s.modelJson, JSON.stringify(s.json)), s.modelJson), /a shape of non-negative integers but received \[4,-3\]/],
    ['shape that disagrees with the architecture', (s) => ((s.json.weightsManifest[0].weights[0].shape = [3, 4]), writeFileSync(s.modelJson, JSON.stringify(s.json)), s.modelJson), /expected weight '.*kernel' of shape \[4,3\] but '.*model\.json' lists '.*' of shape \[3,4\]/],
    ['a weight missing from the manifest', (s) => (s.json.weightsManifest[0].weights.pop(), writeFileSync(s.modelJson, JSON.stringify(s.json)), s.modelJson), /expected 48 bytes of weights in '.*' \(as '.*model\.json' lists them\) but received 60/],
  ];
  for (const [name, damage, what] of cases)
    it(name, async () => {
      const s = await saved(name.replace(/\W+/g, '-'));
      const file = damage(s);
      await expectClearError(cn.loadLayersModel(s.dir), file, what);
    });
});

describe('Keras .h5 files', () => {
  const FIXTURES = new URL('./fixtures/keras/tiny/', import.meta.url).pathname;
  const files = ['tiny.h5', 'tiny.weights.h5', 'tiny_keras2.h5'];
  /** The good file still reads, with the same values: the HDF5 library is not wedged. */
  async function stillReads(): Promise<void> {
    for (const f of files) {
      const r = await readKerasWeights(join(FIXTURES, f));
      expect(r.layers.length).toBeGreaterThan(0);
    }
  }

  it('truncated at 33 lengths: each a clear error naming the file', async () => {
    for (const f of files) {
      const src = readFileSync(join(FIXTURES, f));
      for (let k = 0; k < 11; k++) {
        const cut = Math.floor((src.length * k) / 11) + (k === 0 ? 5 : 0);
        const path = join(root, `trunc-${k}-${f}`);
        writeFileSync(path, src.subarray(0, cut));
        await expectClearError(readKerasWeights(path), path, /(truncated|no HDF5 signature)/);
      }
    }
    await stillReads();
  });

  const flipRand = seededRandom(30 * 8, 77, 0, 1);
  /** Seeded damage t: 8 bytes of one of the three files flipped. */
  const flipped = (t: number) => {
    const src = Buffer.from(readFileSync(join(FIXTURES, files[t % files.length])));
    for (let k = 0; k < 8; k++) src[Math.floor(flipRand[t * 8 + k] * src.length)] ^= 0xff;
    return src;
  };

  it('flipped bytes at 30 seeded places: a clear error naming the file or, where only weight values changed, a load', async () => {
    let failed = 0;
    for (let t = 0; t < 30; t++) {
      const path = join(root, `flip-${t}-${files[t % files.length]}`);
      writeFileSync(path, flipped(t));
      const err = await readKerasWeights(path, { timeoutMs: 3000 }).then(() => null, (e: unknown) => e);
      if (err === null) continue; // the flips hit raw weight data, which HDF5 does not checksum
      failed++;
      expect(err, String((err as Error)?.stack)).toBeInstanceOf(cn.CudnnNodeError);
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).not.toMatch(/name not defined|^Aborted/);
    }
    // Most damage lands in HDF5's structures (headers, B-trees, heaps), as with real corruption.
    expect(failed).toBeGreaterThan(10);
    await stillReads();
  });

  it("the HDF5 library's abort() and endless loops are contained: clear errors, and the library keeps working", async () => {
    // Damage found by a seeded search: these 8 flipped bytes of tiny.h5 make the HDF5 library
    // call abort(); these 8 of tiny_keras2.h5 make it loop forever.
    const flip = (name: string, seed: number, skipFirst: boolean) => {
      const b = Buffer.from(readFileSync(join(FIXTURES, name)));
      let s = seed;
      const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      if (skipFirst) rnd();
      for (let k = 0; k < 8; k++) b[8 + Math.floor(rnd() * (b.length - 8))] ^= 0xff;
      return b;
    };
    const aborts = join(root, 'aborts.h5');
    writeFileSync(aborts, flip('tiny.h5', 7, true));
    await expectClearError(readKerasWeights(aborts), aborts, /reading .* failed \(the HDF5 library aborted\): .* in H5\w+\(\) \(the file is damaged or truncated\)/);
    await stillReads();
    const loops = join(root, 'loops.h5');
    writeFileSync(loops, flipped(2));
    const t0 = Date.now();
    await expectClearError(readKerasWeights(loops, { timeoutMs: 3000 }), loops, /the HDF5 library did not finish reading it within 3000 ms/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await stillReads();
  });

  it('wrong structure: an HDF5 file that is not a Keras weight file, a dataset of strings, a layer without its group', async () => {
    const h5 = await h5wasm();
    const notKeras = join(root, 'not-keras.h5');
    let f = new h5.File(notKeras, 'w');
    f.create_group('stuff');
    f.create_dataset({ name: 'stuff/x', data: new Float32Array([1, 2, 3]), shape: [3] });
    f.close();
    await expectClearError(readKerasWeights(notKeras), notKeras, /expected a Keras weight file .* has groups \[stuff\]/);

    const missing = join(root, 'missing-group.h5');
    f = new h5.File(missing, 'w');
    f.create_attribute('layer_names', ['dense']);
    f.close();
    await expectClearError(readKerasWeights(missing), missing, /expected a group 'dense' \(listed in layer_names\)/);

    const strings = join(root, 'string-weights.h5');
    f = new h5.File(strings, 'w');
    f.create_attribute('layer_names', ['dense']);
    const g = f.create_group('dense');
    g.create_attribute('weight_names', ['kernel:0']);
    g.create_dataset({ name: 'kernel:0', data: ['not', 'numbers'] });
    f.close();
    await expectClearError(readKerasWeights(strings), strings, /expected numeric weights but 'kernel:0' in '.*string-weights\.h5' has dtype/);

    const text = join(root, 'text.h5');
    writeFileSync(text, 'plain text pretending to be HDF5');
    await expectClearError(readKerasWeights(text), text, /no HDF5 signature/);
    await stillReads();
  });
});
