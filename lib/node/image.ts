// tf.node's image codecs: decodeImage / decodeJpeg / decodePng / decodeGif (synchronous,
// int32 tensors [height, width, channels], [frames, height, width, 3] for GIF, as tfjs-node)
// and encodeJpeg / encodePng (Uint8Array, returned in a Promise as tfjs-node returns it).
// Pixels go through libjpeg-turbo, libpng and giflib in the addon (native/codec), set up as
// TensorFlow sets them up, so results equal tfjs-node's. BMP is refused (no BMP codec).
import { CudnnNodeError, InvalidArgumentError, NotSupportedError, DTypeError, check, describe } from '../errors.js';
import { codecs as nativeCodecs } from '../native.js';
import type { Codecs } from '../native.js';
import { Tensor } from '../tensor.js';
import { makeTensor } from '../ops/util.js';

function codecs(op: string): Codecs {
  const c = nativeCodecs();
  if (!c) {
    throw new NotSupportedError(`${op}: expected an addon built with the image codecs but received one without them; rebuild it (npm run build:native)`);
  }
  return c;
}

/** Calls a codec, turning its failure into `op: expected valid <format> data but received ... (<codec message>)`. */
function runCodec<T>(op: string, format: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err?.code === 'ERR_INVALID_IMAGE') {
      throw new CudnnNodeError(`${op}: expected valid ${format} data but received data the ${format} codec rejects (${err.message})`, 'ERR_INVALID_IMAGE');
    }
    throw e;
  }
}

/** The image formats tfjs-node tells apart by their first bytes (TensorFlow's decode_image rules). */
export enum ImageType {
  JPEG = 'jpeg',
  PNG = 'png',
  GIF = 'gif',
  BMP = 'BMP',
}

/** The format of encoded image bytes, from their magic number, as tfjs-node's getImageType. */
export function getImageType(content: Uint8Array): string {
  checkBytes(content, 'getImageType');
  const c = content;
  if (c.length > 3 && c[0] === 0xff && c[1] === 0xd8 && c[2] === 0xff) return ImageType.JPEG;
  if (c.length > 4 && c[0] === 0x47 && c[1] === 0x49 && c[2] === 0x46 && c[3] === 0x38) return ImageType.GIF;
  if (c.length > 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => c[i] === b)) return ImageType.PNG;
  if (c.length > 3 && c[0] === 0x42 && c[1] === 0x4d) return ImageType.BMP;
  const head = Array.from(c.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new InvalidArgumentError(`getImageType: expected image bytes (BMP, JPEG, PNG or GIF) but received bytes starting ${head ? `with ${head}` : 'with nothing (empty)'}`);
}

function checkBytes(content: unknown, op: string): asserts content is Uint8Array {
  check(content instanceof Uint8Array, op, 'contents as a Uint8Array (or Buffer)', content);
}

function checkChannels(channels: number, allowed: number[], op: string): void {
  check(allowed.includes(channels), op, `channels in {${allowed.join(', ')}}`, channels);
}

function checkInt32(dtype: string, op: string): void {
  if (dtype !== 'int32') throw new DTypeError(`${op}: expected dtype 'int32' (the only one tfjs-node decodes to) but received ${describe(dtype)}`);
}

function toTensor(p: { data: Uint8Array; shape: number[] }, op: string): Tensor {
  return makeTensor(Int32Array.from(p.data), p.shape.slice(), 'int32', op);
}

/**
 * Decodes a JPEG image to an int32 tensor [height, width, channels].
 * channels: 0 (as stored), 1 (grayscale) or 3 (RGB). ratio: 1, 2, 4 or 8 (downscale while
 * decoding). dctMethod: '' or 'INTEGER_FAST' (TensorFlow's default), or 'INTEGER_ACCURATE'.
 */
export function decodeJpeg(contents: Uint8Array, channels = 0, ratio = 1, fancyUpscaling = true, tryRecoverTruncated = false, acceptableFraction = 1, dctMethod = ''): Tensor {
  const op = 'decodeJpeg';
  checkBytes(contents, op);
  checkChannels(channels, [0, 1, 3], op);
  check([1, 2, 4, 8].includes(ratio), op, 'ratio in {1, 2, 4, 8}', ratio);
  check(typeof acceptableFraction === 'number' && acceptableFraction >= 0 && acceptableFraction <= 1, op, 'acceptableFraction in [0, 1]', acceptableFraction);
  check(['', 'INTEGER_FAST', 'INTEGER_ACCURATE'].includes(dctMethod), op, "dctMethod '', 'INTEGER_FAST' or 'INTEGER_ACCURATE'", dctMethod);
  const c = codecs(op);
  const px = runCodec(op, 'JPEG', () => c.codecDecodeJpeg(contents, channels, ratio, !!fancyUpscaling, !!tryRecoverTruncated, acceptableFraction, dctMethod === 'INTEGER_ACCURATE'));
  return toTensor(px, op);
}

/** Decodes a PNG image to an int32 tensor [height, width, channels]; channels 0 (as stored), 1, 3 or 4. */
export function decodePng(contents: Uint8Array, channels = 0, dtype = 'int32'): Tensor {
  const op = 'decodePng';
  checkBytes(contents, op);
  checkChannels(channels, [0, 1, 3, 4], op);
  checkInt32(dtype, op);
  const c = codecs(op);
  return toTensor(runCodec(op, 'PNG', () => c.codecDecodePng(contents, channels)), op);
}

/**
 * Decodes every frame of a GIF to an int32 tensor [frames, height, width, 3] (RGB), each
 * frame composed over the previous one as TensorFlow composes them.
 */
export function decodeGif(contents: Uint8Array): Tensor {
  const op = 'decodeGif';
  checkBytes(contents, op);
  const c = codecs(op);
  return toTensor(runCodec(op, 'GIF', () => c.codecDecodeGif(contents, false)), op);
}

/** tfjs-node's decodeBmp; cudnn-node has no BMP codec, so it throws ERR_NOT_SUPPORTED. */
export function decodeBmp(contents: Uint8Array, channels = 0): Tensor {
  checkBytes(contents, 'decodeBmp');
  void channels;
  throw new NotSupportedError('decodeBmp: expected a JPEG, PNG or GIF image but received a BMP image (cudnn-node has no BMP decoder; convert the image to PNG)');
}

/**
 * Decodes a JPEG, PNG or GIF image (told apart by its first bytes) to an int32 tensor:
 * [height, width, channels] for JPEG and PNG; for a GIF [frames, height, width, 3], or its
 * first frame [height, width, 3] when expandAnimations is false. BMP is refused with
 * ERR_NOT_SUPPORTED (no BMP codec is built in).
 */
export function decodeImage(content: Uint8Array, channels = 0, dtype = 'int32', expandAnimations = true): Tensor {
  const op = 'decodeImage';
  checkBytes(content, op);
  checkInt32(dtype, op);
  switch (getImageType(content)) {
    case ImageType.JPEG:
      checkChannels(channels, [0, 1, 3], op);
      return decodeJpeg(content, channels);
    case ImageType.PNG:
      return decodePng(content, channels);
    case ImageType.GIF: {
      // tfjs-node ignores channels for GIF (always RGB).
      const c = codecs(op);
      const px = runCodec(op, 'GIF', () => c.codecDecodeGif(content, !expandAnimations));
      return toTensor(expandAnimations ? px : { data: px.data, shape: px.shape.slice(1) }, op);
    }
    default:
      throw new NotSupportedError(`${op}: expected a JPEG, PNG or GIF image but received a BMP image (cudnn-node has no BMP decoder; convert the image to PNG)`);
  }
}

/** Uint8 pixels of a rank-3 image tensor, as tfjs-node takes them (values truncated to integers). */
function pixelsOf(image: Tensor, op: string, allowed: number[]): { pixels: Uint8Array; shape: number[] } {
  check(image instanceof Tensor, op, 'image to be a Tensor', image);
  check(image.shape.length === 3, op, 'image of rank 3 [height, width, channels]', image.shape);
  const [h, w, ch] = image.shape;
  check(h > 0 && w > 0, op, 'image with at least one pixel', image.shape);
  check(allowed.includes(ch), op, `image with ${allowed.join(', ')} channels`, image.shape);
  const values = image.dataSync<'float32'>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v < 256)) {
      throw new InvalidArgumentError(`${op}: expected pixel values in [0, 255] but received ${v} at index ${i} (scale images in [0, 1] by 255 first)`);
    }
  }
  return { pixels: Uint8Array.from(values), shape: image.shape };
}

/** Encodes a [height, width, 1 | 3] image tensor (values 0-255) as JPEG; resolves to the bytes. */
export async function encodeJpeg(
  image: Tensor,
  format: '' | 'grayscale' | 'rgb' = '',
  quality = 95,
  progressive = false,
  optimizeSize = false,
  chromaDownsampling = true,
  densityUnit: 'in' | 'cm' = 'in',
  xDensity = 300,
  yDensity = 300,
  xmpMetadata = '',
): Promise<Uint8Array> {
  const op = 'encodeJpeg';
  check(['', 'grayscale', 'rgb'].includes(format), op, "format '', 'grayscale' or 'rgb'", format);
  const allowed = format === 'grayscale' ? [1] : format === 'rgb' ? [3] : [1, 3];
  const { pixels, shape } = pixelsOf(image, op, allowed);
  check(Number.isInteger(quality) && quality >= 0 && quality <= 100, op, 'quality an integer in [0, 100]', quality);
  check(densityUnit === 'in' || densityUnit === 'cm', op, "densityUnit 'in' or 'cm'", densityUnit);
  for (const [name, d] of [['xDensity', xDensity], ['yDensity', yDensity]] as const) {
    check(Number.isInteger(d) && d >= 0 && d <= 65535, op, `${name} an integer in [0, 65535]`, d);
  }
  check(typeof xmpMetadata === 'string', op, 'xmpMetadata a string', xmpMetadata);
  const c = codecs(op);
  return runCodec(op, 'JPEG', () =>
    c.codecEncodeJpeg(pixels, shape[0], shape[1], shape[2], { quality, progressive, optimizeSize, chromaDownsampling, densityInCm: densityUnit === 'cm', xDensity, yDensity, xmpMetadata }),
  );
}

/** Encodes a [height, width, 1-4] image tensor (values 0-255) as PNG; compression -1 (zlib default) or 0-9. */
export async function encodePng(image: Tensor, compression = 1): Promise<Uint8Array> {
  const op = 'encodePng';
  const { pixels, shape } = pixelsOf(image, op, [1, 2, 3, 4]);
  check(Number.isInteger(compression) && compression >= -1 && compression <= 9, op, 'compression an integer in [-1, 9]', compression);
  const c = codecs(op);
  return runCodec(op, 'PNG', () => c.codecEncodePng(pixels, shape[0], shape[1], shape[2], compression));
}
