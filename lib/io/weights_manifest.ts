// The weightsManifest of a model.json: checked against what is on disk before any weight is
// used. Paths stay inside the model's directory (no '..', no absolute path, no symlink out),
// dtypes are ones we hold (float32, int32), and each group's shard files together hold
// exactly the bytes its weights need: a truncated shard or trailing garbage is an error.
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** One weight as listed in a manifest group. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/** A manifest group: shard files (concatenated in order) and the weights they hold. */
export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A weight read from disk. */
export interface LoadedWeight extends WeightSpec {
  values: Float32Array | Int32Array;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4 };

function fail(file: string, what: string): never {
  throw new InvalidArgumentError(`loadLayersModel: expected ${what} in '${file}'`);
}

/** The manifest's shape, checked field by field; errors name model.json and the entry. */
export function checkManifest(manifest: unknown, file: string): WeightsGroup[] {
  if (!Array.isArray(manifest)) fail(file, `a weightsManifest array but received ${typeof manifest}`);
  return manifest.map((g: unknown, gi: number) => {
    const group = g as { paths?: unknown; weights?: unknown };
    if (!group || typeof group !== 'object' || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      fail(file, `weightsManifest[${gi}] with 'paths' and 'weights' arrays but received ${JSON.stringify(g)?.slice(0, 100)}`);
    const paths = (group.paths as unknown[]).map((p, pi) => {
      if (typeof p !== 'string' || p.length === 0) fail(file, `weightsManifest[${gi}].paths[${pi}] to be a file name but received ${JSON.stringify(p)}`);
      // Note [confined paths]: a manifest names files relative to model.json. We refuse
      // absolute paths and any '..' segment outright, not only those that happen to escape,
      // so a model directory can be checked by reading its model.json alone.
      if (isAbsolute(p) || /^[a-zA-Z]:/.test(p) || p.split(/[\\/]/).includes('..') || p.includes('\0'))
        fail(file, `weightsManifest[${gi}].paths[${pi}] to be a path inside the model's directory but received '${p}' (absolute paths and '..' are refused)`);
      return p;
    });
    const weights = (group.weights as unknown[]).map((w, wi) => {
      const s = w as { name?: unknown; shape?: unknown; dtype?: unknown; quantization?: unknown };
      const where = `weightsManifest[${gi}].weights[${wi}]`;
      if (!s || typeof s !== 'object' || typeof s.name !== 'string') fail(file, `${where} with a name but received ${JSON.stringify(w)?.slice(0, 100)}`);
      if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
        fail(file, `${where} ('${s.name}') to have a shape of non-negative integers but received ${JSON.stringify(s.shape)}`);
      if (s.quantization !== undefined) fail(file, `${where} ('${s.name}') unquantized (float32 or int32) but it is quantized (${JSON.stringify(s.quantization)})`);
      if (s.dtype !== 'float32' && s.dtype !== 'int32') fail(file, `${where} ('${s.name}') of dtype float32 or int32 but received ${JSON.stringify(s.dtype)}`);
      return { name: s.name, shape: (s.shape as number[]).slice(), dtype: s.dtype as WeightSpec['dtype'] };
    });
    return { paths, weights };
  });
}

/** Reads every group's shards from dir, checking confinement and byte counts; errors name the files. */
export async function readWeights(dir: string, groups: WeightsGroup[], file: string): Promise<LoadedWeight[]> {
  const root = await realpath(dir);
  const out: LoadedWeight[] = [];
  for (const g of groups) {
    const chunks: Buffer[] = [];
    for (const p of g.paths) {
      const full = join(dir, p);
      let real: string;
      try {
        real = await realpath(full);
      } catch (e) {
        throw new InvalidArgumentError(`loadLayersModel: expected weight file '${full}' (named in '${file}') but it cannot be read: ${(e as Error).message}`);
      }
      const rel = relative(root, real);
      if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel))
        throw new InvalidArgumentError(`loadLayersModel: expected weight file '${p}' (named in '${file}') inside '${dir}' but it resolves to '${resolve(real)}'`);
      chunks.push(await readFile(real));
    }
    const buf = Buffer.concat(chunks);
    const need = g.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * BYTES[w.dtype], 0);
    if (buf.length !== need)
      throw new InvalidArgumentError(
        `loadLayersModel: expected ${need} bytes of weights in '${g.paths.map((p) => join(dir, p)).join("', '")}' (as '${file}' lists them) but received ${buf.length}` +
          (buf.length < need ? ' (truncated file)' : ' (trailing bytes: the file does not belong to this model.json)'),
      );
    let off = 0;
    for (const w of g.weights) {
      const size = w.shape.reduce((x, y) => x * y, 1) * BYTES[w.dtype];
      const ab = buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + size);
      off += size;
      out.push({ ...w, values: w.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab) });
    }
  }
  return out;
}
