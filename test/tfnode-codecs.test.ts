// tf.node image codecs against tfjs-node (TensorFlow's DecodeJpeg / DecodePng / DecodeGif /
// EncodeJpeg / EncodePng): real photographs (scikit-learn's china.jpg and flower.jpg,
// installed by scripts/setup.sh as python3-sklearn) and PNG / JPEG / GIF variants made from
// them with sharp (gray, gray+alpha, palette with transparency, 16-bit, interlaced,
// progressive, CMYK, animated GIF with partial frames).
// Decoded pixels must be equal, not close; corrupt and truncated data must be an
// ERR_INVALID_IMAGE error, never a crash.
import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { loadTfjs } from './tfjs.js';

type TF = Awaited<ReturnType<typeof loadTfjs>>;
let tf: TF;

const SAMPLES = '/usr/lib/python3/dist-packages/sklearn/datasets/images';
const photos: Record<string, Buffer> = {};
const pngs: Record<string, Buffer> = {};
const jpegs: Record<string, Buffer> = {};
const gifs: Record<string, Buffer> = {};

/** Decoded tensors equal in shape, dtype and every value; both disposed. */
function expectSame(ours: cn.Tensor, theirs: { shape: number[]; dtype: string; dataSync(): ArrayLike<number>; dispose(): void }, what: string) {
  try {
    expect(ours.shape, `${what}: shape`).toEqual(theirs.shape);
    expect(ours.dtype, `${what}: dtype`).toBe(theirs.dtype);
    const a = ours.dataSync();
    const b = theirs.dataSync();
    let first = -1;
    let count = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        if (first < 0) first = i;
        count++;
      }
    }
    expect(count, `${what}: ${count} values differ, the first at ${first} (${a[first]} vs ${b[first]})`).toBe(0);
  } finally {
    ours.dispose();
    theirs.dispose();
  }
}

function codeOf(f: () => unknown): { code?: string; message: string; ok: boolean; cls?: string } {
  try {
    f();
    return { ok: true, message: '' };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, code: err.code, message: err.message, cls: err instanceof cn.CudnnNodeError ? 'CudnnNodeError' : err.constructor.name };
  }
}

beforeAll(async () => {
  tf = await loadTfjs();
  for (const f of ['china.jpg', 'flower.jpg']) {
    const p = `${SAMPLES}/${f}`;
    if (!existsSync(p)) throw new Error(`${p} is missing: apt-get install python3-sklearn (scripts/setup.sh does)`);
    photos[f] = readFileSync(p);
  }
  const src = sharp(photos['china.jpg']).resize(160, 107);
  pngs.rgb = await src.clone().png().toBuffer();
  pngs.rgba = await src.clone().ensureAlpha(0.5).png().toBuffer();
  pngs.gray = await src.clone().toColourspace('b-w').png().toBuffer();
  pngs.grayAlpha = await src.clone().toColourspace('b-w').ensureAlpha(0.25).png().toBuffer();
  pngs.palette = await src.clone().ensureAlpha(0.6).png({ palette: true, colours: 64 }).toBuffer();
  pngs.sixteenBit = await src.clone().toColourspace('rgb16').png().toBuffer();
  pngs.interlaced = await src.clone().png({ progressive: true }).toBuffer();
  jpegs.progressive = await src.clone().jpeg({ progressive: true, quality: 80 }).toBuffer();
  jpegs.gray = await src.clone().toColourspace('b-w').jpeg().toBuffer();
  jpegs.cmyk = await src.clone().toColourspace('cmyk').jpeg().toBuffer();
  jpegs.noSubsampling = await src.clone().jpeg({ chromaSubsampling: '4:4:4' }).toBuffer();
  // GIFs (sharp's cgif): one frame, and an animation whose later frames change only part of
  // the canvas, which cgif stores as sub-rectangles with a transparent index.
  const frame = (img: sharp.Sharp) => img.resize(80, 60).png().toBuffer();
  const f1 = await frame(sharp(photos['china.jpg']));
  const f2 = await frame(sharp(photos['china.jpg']).flop());
  const box = await sharp({ create: { width: 12, height: 9, channels: 3, background: { r: 250, g: 20, b: 20 } } }).png().toBuffer();
  const f3 = await sharp(f2).composite([{ input: box, left: 30, top: 20 }]).png().toBuffer();
  const f4 = await frame(sharp(photos['flower.jpg']).negate());
  gifs.single = await sharp(f1).gif().toBuffer();
  gifs.animated = await sharp([f1, f2, f3, f2, f4], { join: { animated: true } }).gif({ delay: 100 }).toBuffer();
});

describe('tf.node image decoding equals tfjs-node', () => {
  it('decodeJpeg of real photographs: every channels / ratio / dctMethod / fancyUpscaling', () => {
    for (const [name, bytes] of Object.entries(photos)) {
      for (const channels of [0, 1, 3]) {
        for (const ratio of [1, 2, 8]) {
          for (const dct of ['', 'INTEGER_ACCURATE']) {
            for (const fancy of [true, false]) {
              const what = `${name} channels=${channels} ratio=${ratio} dct='${dct}' fancy=${fancy}`;
              expectSame(cn.node.decodeJpeg(bytes, channels, ratio, fancy, false, 1, dct), tf.node.decodeJpeg(bytes, channels, ratio, fancy, false, 1, dct), what);
            }
          }
        }
      }
    }
  });

  it('decodeJpeg of progressive, grayscale, CMYK and 4:4:4 JPEGs', () => {
    const meta = { cmyk: 0 };
    for (const [name, bytes] of Object.entries(jpegs)) {
      for (const channels of [0, 1, 3]) {
        if (name === 'cmyk' && channels === 1) {
          meta.cmyk++;
          continue; // checked below: TensorFlow and libjpeg both refuse CMYK -> gray
        }
        expectSame(cn.node.decodeJpeg(bytes, channels), tf.node.decodeJpeg(bytes, channels), `${name} channels=${channels}`);
      }
    }
    expect(meta.cmyk).toBe(1);
  });

  it('decodePng of RGB, RGBA, gray, gray+alpha, palette+tRNS, 16-bit and interlaced PNGs, channels 0/1/3/4', () => {
    // The stored channel counts the variants were made with (channels 0 keeps them).
    const stored = { rgb: 3, rgba: 4, gray: 1, grayAlpha: 2, palette: 4, sixteenBit: 3, interlaced: 3 };
    for (const [name, c] of Object.entries(stored)) {
      const t = cn.node.decodePng(pngs[name]);
      expect(t.shape[2], name).toBe(c);
      t.dispose();
    }
    for (const [name, bytes] of Object.entries(pngs)) {
      for (const channels of [0, 1, 3, 4]) {
        expectSame(cn.node.decodePng(bytes, channels), tf.node.decodePng(bytes, channels), `${name} channels=${channels}`);
      }
    }
  });

  it('decodeGif: every frame composed as TensorFlow composes them, single and animated', () => {
    for (const [name, bytes] of Object.entries(gifs)) {
      const ours = cn.node.decodeGif(bytes);
      expect(ours.shape, name).toEqual([name === 'animated' ? 5 : 1, 60, 80, 3]);
      expectSame(ours, tf.node.decodeGif(bytes), `${name} gif`);
    }
    // expandAnimations: all frames (4D), or the first frame (3D), as tfjs-node's decodeImage.
    expectSame(cn.node.decodeImage(gifs.animated), tf.node.decodeImage(gifs.animated) as never, 'decodeImage gif');
    expectSame(cn.node.decodeImage(gifs.animated, 0, 'int32', false), tf.node.decodeImage(gifs.animated, 0, 'int32', false) as never, 'decodeImage gif first frame');
  });

  it('truncated JPEGs: tryRecoverTruncated and acceptableFraction as TensorFlow (both refuse, or the same pixels)', () => {
    let accepted = 0;
    let refused = 0;
    for (const [name, src] of [['baseline', photos['flower.jpg']], ['progressive', jpegs.progressive]] as const) {
      for (const fraction of [0.3, 0.5, 0.9]) {
        const cut = src.subarray(0, Math.floor(src.length * fraction));
        for (const recover of [false, true]) {
          for (const acceptable of [0, 0.3, 1]) {
            const what = `${name} cut to ${fraction}, tryRecoverTruncated=${recover}, acceptableFraction=${acceptable}`;
            let theirs: ReturnType<TF['node']['decodeJpeg']> | undefined;
            try {
              theirs = tf.node.decodeJpeg(cut, 3, 1, true, recover, acceptable);
            } catch {
              theirs = undefined;
            }
            const ours = codeOf(() => cn.node.decodeJpeg(cut, 3, 1, true, recover, acceptable).dispose());
            if (!theirs) {
              expect(ours.code, `${what}: tfjs-node refuses it`).toBe('ERR_INVALID_IMAGE');
              expect(ours.message).toMatch(/premature end of JPEG data/);
              refused++;
            } else {
              expectSame(cn.node.decodeJpeg(cut, 3, 1, true, recover, acceptable), theirs, what);
              accepted++;
            }
          }
        }
      }
    }
    expect(accepted, 'some truncated cases decode').toBeGreaterThan(10);
    expect(refused, 'some truncated cases are refused').toBeGreaterThan(5);
  });

  it('decodeImage tells JPEG from PNG and returns what decodeJpeg / decodePng return', () => {
    expectSame(cn.node.decodeImage(photos['flower.jpg']), tf.node.decodeImage(photos['flower.jpg']) as never, 'decodeImage jpeg');
    expectSame(cn.node.decodeImage(pngs.rgba, 3), tf.node.decodeImage(pngs.rgba, 3) as never, 'decodeImage png rgba->3');
    expectSame(cn.node.decodeImage(pngs.gray, 0), tf.node.decodeImage(pngs.gray, 0) as never, 'decodeImage png gray');
    // tfjs-node's ImageType values (it does not export getImageType itself).
    expect(cn.node.getImageType(photos['china.jpg'])).toBe('jpeg');
    expect(cn.node.getImageType(pngs.rgb)).toBe('png');
  });
});

describe('tf.node image encoding against tfjs-node', () => {
  it('encodePng: the same bytes as tfjs-node (same zlib settings) for 1-4 channels and compression levels, and lossless', async () => {
    for (const [name, channels] of [['gray', 1], ['grayAlpha', 2], ['rgb', 3], ['rgba', 4]] as const) {
      const ours = cn.node.decodePng(pngs[name]);
      const theirs = tf.node.decodePng(pngs[name]);
      expect(ours.shape[2]).toBe(channels);
      for (const level of [1, 6, 9, -1]) {
        const a = await cn.node.encodePng(ours, level);
        const b = await tf.node.encodePng(theirs as never, level);
        expect(a).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(a).equals(Buffer.from(b)), `${name} compression=${level}: bytes differ (${a.length} vs ${b.length})`).toBe(true);
        expectSame(cn.node.decodePng(a), tf.node.decodePng(b), `${name} round trip`);
      }
      ours.dispose();
      theirs.dispose();
    }
  });

  it('encodeJpeg: decodes to the same pixels as tfjs-node\'s encoding, for the options TensorFlow has', async () => {
    const image = cn.node.decodeJpeg(photos['flower.jpg'], 3, 4);
    const ref = tf.node.decodeJpeg(photos['flower.jpg'], 3, 4);
    const gray = cn.node.decodeJpeg(photos['china.jpg'], 1, 4);
    const refGray = tf.node.decodeJpeg(photos['china.jpg'], 1, 4);
    const cases: Array<[string, cn.Tensor, unknown, unknown[]]> = [
      ['defaults', image, ref, []],
      ['quality 50', image, ref, ['', 50]],
      ['progressive, optimized', image, ref, ['rgb', 90, true, true]],
      ['no chroma downsampling, cm density', image, ref, ['', 95, false, false, false, 'cm', 72, 96]],
      ['grayscale', gray, refGray, ['grayscale', 80]],
      ['xmp', image, ref, ['', 95, false, false, true, 'in', 300, 300, '<x:xmpmeta>cudnn-node</x:xmpmeta>']],
    ];
    for (const [what, ours, theirs, args] of cases) {
      const a = await (cn.node.encodeJpeg as (...x: unknown[]) => Promise<Uint8Array>)(ours, ...args);
      const b = await (tf.node.encodeJpeg as (...x: unknown[]) => Promise<Uint8Array>)(theirs, ...args);
      expect(a).toBeInstanceOf(Uint8Array);
      // Same library and settings: the same bytes; decoding both with TensorFlow proves the pixels too.
      expect(Buffer.from(a).equals(Buffer.from(b)), `${what}: bytes differ (${a.length} vs ${b.length})`).toBe(true);
      expectSame(cn.node.decodeJpeg(a), tf.node.decodeJpeg(b), `${what} decoded`);
    }
    const xmp = await cn.node.encodeJpeg(image, '', 95, false, false, true, 'in', 300, 300, '<x:xmpmeta>cudnn-node</x:xmpmeta>');
    expect(Buffer.from(xmp).includes('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>cudnn-node</x:xmpmeta>')).toBe(true);
    for (const t of [image, ref, gray, refGray]) t.dispose();
  });

  it('encodes float32 tensors with integer-valued pixels as tfjs-node does', async () => {
    const ints = cn.node.decodePng(pngs.rgb);
    const floats = cn.cast(ints, 'float32');
    const a = await cn.node.encodePng(floats);
    const b = await cn.node.encodePng(ints);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    ints.dispose();
    floats.dispose();
  });
});

describe('tf.node codec errors', () => {
  it('corrupt and truncated JPEG / PNG / GIF data: ERR_INVALID_IMAGE naming the function, never a crash', () => {
    const jpg = photos['flower.jpg'];
    const cases: Array<[string, () => unknown, RegExp]> = [
      ['jpeg truncated to half', () => cn.node.decodeJpeg(jpg.subarray(0, jpg.length >> 1)), /decodeJpeg: expected valid JPEG data .*premature end of JPEG data/],
      ['jpeg header only', () => cn.node.decodeJpeg(jpg.subarray(0, 40)), /decodeJpeg: expected valid JPEG data/],
      ['png as jpeg', () => cn.node.decodeJpeg(pngs.rgb), /decodeJpeg: expected valid JPEG data .*Not a JPEG file/],
      ['empty', () => cn.node.decodeJpeg(new Uint8Array(0)), /decodeJpeg: expected valid JPEG data .*empty/],
      // tfjs-node never returns from this one (TensorFlow's source answers "more data" forever).
      ['ff d8 ff, recovering', () => cn.node.decodeJpeg(Uint8Array.of(0xff, 0xd8, 0xff), 0, 1, true, true), /decodeJpeg: expected valid JPEG data/],
      ['png truncated', () => cn.node.decodePng(pngs.rgb.subarray(0, pngs.rgb.length >> 1)), /decodePng: expected valid PNG data .*premature end of PNG data/],
      ['png with a bad CRC', () => cn.node.decodePng(Buffer.concat([pngs.rgb.subarray(0, 20), Buffer.from([pngs.rgb[20] ^ 0xff]), pngs.rgb.subarray(21)])), /decodePng: expected valid PNG data .*CRC/i],
      ['jpeg as png', () => cn.node.decodePng(jpg), /decodePng: expected valid PNG data .*signature/],
      ['cmyk to gray', () => cn.node.decodeJpeg(jpegs.cmyk, 1), /decodeJpeg: expected valid JPEG data .*color conversion/i],
      ['gif truncated', () => cn.node.decodeGif(gifs.animated.subarray(0, gifs.animated.length >> 1)), /decodeGif: expected valid GIF data/],
      ['gif header only', () => cn.node.decodeGif(gifs.single.subarray(0, 13)), /decodeGif: expected valid GIF data/],
      ['png as gif', () => cn.node.decodeGif(pngs.rgb), /decodeGif: expected valid GIF data .*not in GIF format/],
    ];
    for (const [what, f, pattern] of cases) {
      const r = codeOf(f);
      expect(r.ok, `${what}: expected an error`).toBe(false);
      expect(r.cls, what).toBe('CudnnNodeError');
      expect(r.code, what).toBe('ERR_INVALID_IMAGE');
      expect(r.message, what).toMatch(pattern);
    }
    // Random bytes with a JPEG / PNG magic number: errors, and the process lives on.
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let k = 0; k < 50; k++) {
      const junk = Uint8Array.from({ length: 2000 }, rand);
      junk.set([0xff, 0xd8, 0xff]);
      expect(codeOf(() => cn.node.decodeImage(junk)).code).toBe('ERR_INVALID_IMAGE');
      junk.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(codeOf(() => cn.node.decodeImage(junk)).code).toBe('ERR_INVALID_IMAGE');
      junk.set([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x40, 0x00, 0x30, 0x00]); // GIF89a, 64x48
      expect(codeOf(() => cn.node.decodeImage(junk)).code).toBe('ERR_INVALID_IMAGE');
    }
  });

  it('bad arguments: InvalidArgumentError / DTypeError / NotSupportedError with the argument named', async () => {
    const jpg = photos['flower.jpg'];
    const cases: Array<[() => unknown, new (...a: never[]) => Error, RegExp]> = [
      [() => cn.node.decodeJpeg('abc' as never), cn.InvalidArgumentError, /decodeJpeg: expected contents as a Uint8Array \(or Buffer\) but received 'abc'/],
      [() => cn.node.decodeJpeg(jpg, 4), cn.InvalidArgumentError, /decodeJpeg: expected channels in \{0, 1, 3\} but received 4/],
      [() => cn.node.decodeJpeg(jpg, 3, 3), cn.InvalidArgumentError, /decodeJpeg: expected ratio in \{1, 2, 4, 8\} but received 3/],
      [() => cn.node.decodeJpeg(jpg, 3, 1, true, false, 1, 'FLOAT'), cn.InvalidArgumentError, /dctMethod/],
      [() => cn.node.decodePng(pngs.rgb, 2), cn.InvalidArgumentError, /decodePng: expected channels in \{0, 1, 3, 4\} but received 2/],
      [() => cn.node.decodePng(pngs.rgb, 0, 'float32'), cn.DTypeError, /decodePng: expected dtype 'int32'/],
      [() => cn.node.decodeImage(Buffer.from('BM\x00\x00\x00\x00')), cn.NotSupportedError, /decodeImage: expected a JPEG, PNG or GIF image but received a BMP image \(cudnn-node has no BMP decoder/],
      [() => cn.node.decodeBmp(Buffer.from('BM\x00\x00\x00\x00')), cn.NotSupportedError, /decodeBmp: expected a JPEG, PNG or GIF image but received a BMP image/],
      [() => cn.node.decodeImage(Buffer.from('hello world')), cn.InvalidArgumentError, /getImageType: expected image bytes \(BMP, JPEG, PNG or GIF\) but received bytes starting with 68 65 6c 6c/],
    ];
    for (const [f, cls, pattern] of cases) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(pattern);
    }
    const img = cn.zeros([4, 4, 3]);
    await expect(cn.node.encodePng(cn.zeros([4, 4]))).rejects.toThrow(/encodePng: expected image of rank 3 \[height, width, channels\] but received \[4,4\]/);
    await expect(cn.node.encodeJpeg(cn.zeros([4, 4, 4]))).rejects.toThrow(/encodeJpeg: expected image with 1, 3 channels but received \[4,4,4\]/);
    await expect(cn.node.encodeJpeg(img, 'grayscale')).rejects.toThrow(/encodeJpeg: expected image with 1 channels/);
    await expect(cn.node.encodeJpeg(img, '', 101)).rejects.toThrow(/quality an integer in \[0, 100\] but received 101/);
    await expect(cn.node.encodePng(cn.fill([2, 2, 1], 300))).rejects.toThrow(/encodePng: expected pixel values in \[0, 255\] but received 300 at index 0/);
    await expect(cn.node.encodePng(cn.fill([2, 2, 1], -0.5))).rejects.toThrow(/pixel values in \[0, 255\]/);
    await expect(cn.node.encodePng(img, 10)).rejects.toThrow(/compression an integer in \[-1, 9\]/);
    img.dispose();
  });
});
