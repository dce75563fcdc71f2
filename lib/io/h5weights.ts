// Keras weight files (HDF5, parsed with h5wasm) into a model, with Keras' own matching rules:
//   - the legacy layout (Keras 2 model.save_weights('x.h5'), model.save('x.h5') under
//     'model_weights', and the applications' *_weights_tf_dim_ordering_tf_kernels*.h5 files):
//     root attribute layer_names, one group per layer with attribute weight_names, a dataset
//     per weight name. Layers with weights are matched in order (or by name with byName).
//   - the Keras 3 layout (model.save_weights('x.weights.h5')): layers/<key>/vars/0, 1, ...
//     where key is the layer's class in snake_case with a per-class counter in model.layers
//     order ('conv2d', 'conv2d_1', ...); nested models recurse into layers/<key>/layers.
// Per layer, weights are in Keras order: trainable then non-trainable (kernel, bias;
// gamma, beta, moving_mean, moving_variance; depthwise_kernel, pointwise_kernel, bias).
import fs, { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CudnnNodeError, InvalidArgumentError, describe } from '../errors.js';
import { checkHdf5Superblock } from './hdf5_superblock.js';
import { Layer, toSnakeCase } from '../layers/base.js';
import { Variable } from '../tensor.js';

// ---- h5wasm

/* eslint-disable @typescript-eslint/no-explicit-any */
type H5Module = any;
let h5Promise: Promise<H5Module> | undefined;

// Note [ESM-only h5wasm]: h5wasm exports only an ESM entry ('import' condition). The
// CommonJS build turns import() into require(), which cannot load it, so there we find the
// file through require's search paths and import it by URL (a Function keeps the real import()).
const importUrl = new Function('u', 'return import(u)') as (u: string) => Promise<H5Module>;

/** What readKerasWeights is reading, for its error message ('group 'dense_1''). */
let reading = '';

/** Where h5wasm's console messages go while collectingStderr runs (else to console.error). */
let consoleLog: string[] | null = null;

/** The h5wasm module (node build, reads files directly from disk), loaded once. */
export async function h5wasm(): Promise<H5Module> {
  h5Promise ??= (async () => {
    let mod: H5Module;
    // h5wasm binds console.error once, as it starts (its abort() message goes there): we
    // start it with one that collectingStderr can divert.
    const consoleError = console.error;
    console.error = (...args: unknown[]) => (consoleLog ? consoleLog.push(args.map(String).join(' ')) : consoleError(...args));
    try {
      // A non-literal specifier: the ESM build keeps a real import(); tsc does not try to
      // resolve the types under the CommonJS build's Node10 resolution (which cannot).
      const spec: string = 'h5wasm/node';
      try {
        mod = await import(spec);
      } catch (e) {
        const req = typeof require === 'function' ? require : undefined;
        const dir = req?.resolve.paths('h5wasm')?.map((d) => join(d, 'h5wasm', 'dist', 'node', 'hdf5_hl.js')).find((p) => existsSync(p));
        if (!dir) throw new InvalidArgumentError(`loadKerasWeights: expected the h5wasm package (a dependency of cudnn-node) but it could not be loaded: ${(e as Error).message}`);
        mod = await importUrl(pathToFileURL(dir).href);
      }
      await mod.ready;
    } catch (e) {
      h5Promise = undefined;
      throw e;
    } finally {
      console.error = consoleError;
    }
    return mod;
  })();
  return h5Promise;
}

/**
 * Runs fn (synchronous h5wasm calls) with what the HDF5 library writes to stderr collected
 * into log instead of printed.
 *
 * Note [HDF5 diagnostics]: on a damaged file the HDF5 library prints a 20-line error stack
 * to stderr, which h5wasm's node build writes with fs.writeSync(2, ...). We collect it while
 * our synchronous h5wasm calls run (no other JavaScript can run then) and put its innermost
 * message into our error instead ('message size exceeds buffer end').
 */
function collectingStderr<T>(log: string[], fn: () => T): T {
  const write = fs.writeSync;
  (fs as { writeSync: unknown }).writeSync = (fd: number, buffer: unknown, offset?: unknown, length?: unknown, ...rest: unknown[]) => {
    if (fd !== 2 || !ArrayBuffer.isView(buffer)) return (write as (...a: unknown[]) => number)(fd, buffer, offset, length, ...rest);
    const start = typeof offset === 'number' ? offset : 0;
    const n = typeof length === 'number' ? length : buffer.byteLength - start;
    log.push(Buffer.from(buffer.buffer, buffer.byteOffset + start, n).toString('utf8'));
    return n;
  };
  consoleLog = log;
  try {
    return fn();
  } finally {
    fs.writeSync = write;
    consoleLog = null;
  }
}

/** The innermost HDF5 diagnostic of a collected error stack ('message size exceeds buffer end'). */
function hdf5Reason(lines: string[]): string | undefined {
  const text = lines.join('');
  const calls = [...text.matchAll(/#\d+: .*? in (\w+\(\)): (.*)/g)];
  const last = calls[calls.length - 1];
  return last ? `${last[2].trim()} in ${last[1]}` : undefined;
}

// ---- reading

/** One weight of a Keras file. */
export interface H5Weight {
  /** The weight's name in the file ('conv1_conv/kernel:0', or the index in Keras 3 files). */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** One layer of a Keras file. */
export interface H5Layer {
  /** The layer name (legacy files), or the vars 'name' attribute (Keras 3 files, when present). */
  name: string;
  /** Keras 3 files: the path key ('conv2d_1'); legacy files: the name. */
  key: string;
  weights: H5Weight[];
  /** Keras 3 files: layers of a nested model. */
  layers?: H5Layer[];
}

/** The weights of a Keras HDF5 file, by layer, in file order. */
export interface KerasWeightFile {
  format: 'legacy' | 'keras3';
  layers: H5Layer[];
  /** Attributes of the legacy root (keras_version, backend), when present. */
  attrs: Record<string, unknown>;
}

function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const one = (s: unknown) => (s instanceof Uint8Array ? Buffer.from(s).toString('utf8') : String(s));
  if (typeof v === 'string' || v instanceof Uint8Array) return [one(v)];
  return Array.from(v as ArrayLike<unknown>).map(one);
}

function readDataset(ds: any, name: string, file: string): H5Weight {
  if (!ds || typeof ds.shape === 'undefined') throw new InvalidArgumentError(`loadKerasWeights: expected '${name}' in '${file}' to be a dataset but it is not (a damaged file?)`);
  const shape: number[] = (ds.shape ?? []).map(Number);
  const v = ds.value;
  let values: Float32Array;
  if (v instanceof Float32Array) values = v;
  else if (ArrayBuffer.isView(v) && !(v instanceof BigInt64Array || v instanceof BigUint64Array)) values = Float32Array.from(v as unknown as ArrayLike<number>);
  else if (typeof v === 'number') values = Float32Array.of(v);
  else throw new InvalidArgumentError(`loadKerasWeights: expected numeric weights but '${name}' in '${file}' has dtype ${describe(ds.dtype)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || values.length !== n)
    throw new InvalidArgumentError(`loadKerasWeights: expected ${n} values for '${name}' of shape [${shape}] in '${file}' but read ${values.length} (a damaged file?)`);
  return { name, shape, values };
}

/** A string-list attribute, also when Keras 2 split it into chunks (name0, name1, ...). */
function attrStrings(obj: any, name: string): string[] {
  if (obj.attrs[name] !== undefined) return strings(obj.attrs[name].value);
  const out: string[] = [];
  for (let i = 0; obj.attrs[`${name}${i}`] !== undefined; i++) out.push(...strings(obj.attrs[`${name}${i}`].value));
  return out;
}

function hasAttr(obj: any, name: string): boolean {
  return obj.attrs[name] !== undefined || obj.attrs[`${name}0`] !== undefined;
}

function readLegacy(root: any, file: string): H5Layer[] {
  const names = attrStrings(root, 'layer_names');
  return names.map((ln) => {
    reading = `group '${ln}'`;
    const g = root.get(ln);
    if (!g) throw new InvalidArgumentError(`loadKerasWeights: expected a group '${ln}' (listed in layer_names) in '${file}' but found none`);
    const wnames = attrStrings(g, 'weight_names');
    return {
      name: ln,
      key: ln,
      weights: wnames.map((wn) => {
        reading = `dataset '${ln}/${wn}'`;
        const ds = g.get(wn);
        if (!ds) throw new InvalidArgumentError(`loadKerasWeights: expected dataset '${ln}/${wn}' in '${file}' but found none`);
        return readDataset(ds, wn, file);
      }),
    };
  });
}

function readKeras3(group: any, file: string, path: string): H5Layer[] {
  const layersGroup = group.get('layers');
  if (!layersGroup) return [];
  return (layersGroup.keys() as string[]).map((key) => {
    reading = `group '${path}layers/${key}'`;
    const g = layersGroup.get(key);
    const vars = g.get('vars');
    const idx = vars ? (vars.keys() as string[]).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b)) : [];
    const nameAttr = vars?.attrs?.['name']?.value;
    const layer: H5Layer = {
      name: nameAttr === undefined ? key : String(nameAttr),
      key,
      weights: idx.map((i) => readDataset(vars.get(i), `${path}layers/${key}/vars/${i}`, file)),
    };
    if ((g.keys() as string[]).includes('layers')) layer.layers = readKeras3(g, file, `${path}layers/${key}/`);
    return layer;
  });
}

/**
 * Reads every weight of a Keras HDF5 weight file (either layout) into host memory. A damaged
 * file gets an InvalidArgumentError naming it and what is wrong, never h5wasm's own error.
 *
 * Note [h5wasm aborts]: on some damaged files the HDF5 library calls abort(), which h5wasm
 * turns into a thrown WebAssembly RuntimeError ("Aborted(native code called abort())"); the
 * process goes on and later files read normally (test/corrupt-files.test.ts reads a good
 * file after every damaged one). We catch it like any other error of the library.
 */
export async function readKerasWeights(path: string): Promise<KerasWeightFile> {
  if (typeof path !== 'string' || !existsSync(path)) throw new InvalidArgumentError(`loadKerasWeights: expected an existing HDF5 file but received '${path}'`);
  checkHdf5Superblock(path);
  const h5 = await h5wasm();
  const log: string[] = [];
  let f: any;
  reading = 'the file';
  try {
    return collectingStderr(log, () => {
      f = new h5.File(path, 'r');
      reading = 'the root group';
      const keys: string[] = f.keys();
      const root = hasAttr(f, 'layer_names') ? f : keys.includes('model_weights') ? f.get('model_weights') : null;
      const attrs: Record<string, unknown> = {};
      if (root) {
        reading = 'the layer list';
        for (const k of Object.keys(root.attrs)) if (!k.startsWith('layer_names')) attrs[k] = root.attrs[k].value;
        return { format: 'legacy', layers: readLegacy(root, path), attrs };
      }
      if (keys.includes('layers')) return { format: 'keras3', layers: readKeras3(f, path, ''), attrs };
      throw new InvalidArgumentError(
        `loadKerasWeights: expected a Keras weight file (a 'layer_names' attribute, a 'model_weights' group, or a Keras 3 'layers' group) but '${path}' has groups [${keys.join(', ')}]`,
      );
    });
  } catch (e) {
    if (e instanceof CudnnNodeError) throw e;
    const reason = hdf5Reason(log);
    const msg = (e as Error)?.message ?? String(e);
    const aborted = /Aborted\(/.test(msg) ? ' (the HDF5 library aborted)' : '';
    throw new InvalidArgumentError(
      `loadKerasWeights: expected a readable HDF5 file at '${path}' but reading ${reading} failed${aborted}: ${reason ?? msg} (the file is damaged or truncated)`,
    );
  } finally {
    collectingStderr(log, () => {
      try {
        f?.close();
      } catch {
        // Closing a damaged file can fail too; the handle is gone either way.
      }
    });
  }
}

// ---- assigning

/** Keras order of a layer's weights for the legacy layout: trainable, then non-trainable. */
function legacyWeights(layer: Layer): Variable[] {
  return [...layer.trainableWeights, ...layer.nonTrainableWeights];
}

function subLayers(model: Layer): Layer[] {
  const layers = (model as unknown as { layers?: Layer[] }).layers;
  if (!Array.isArray(layers)) throw new InvalidArgumentError(`loadKerasWeights: expected a model (with layers) but received '${model.name}'`);
  const input = (model as unknown as { inputs?: Array<{ sourceLayer: Layer }> }).inputs;
  // A Sequential's layers omit its InputLayer; Keras files list it (it has no weights).
  if (input && input.length === 1 && !layers.includes(input[0].sourceLayer)) return [input[0].sourceLayer, ...layers];
  return layers;
}

function assign(layer: Layer, vars: Variable[], ws: H5Weight[], file: string): void {
  if (vars.length !== ws.length)
    throw new InvalidArgumentError(`loadKerasWeights: expected ${vars.length} weights for layer '${layer.name}' but '${file}' has ${ws.length} (${ws.map((w) => w.name).join(', ')})`);
  vars.forEach((v, i) => {
    const w = ws[i];
    if (w.shape.length !== v.shape.length || w.shape.some((d, k) => d !== v.shape[k]))
      throw new InvalidArgumentError(
        `loadKerasWeights: expected weight '${v.name}' of shape [${v.shape}] but '${file}' has '${w.name}' of shape [${w.shape}] (layer '${layer.name}')`,
      );
  });
  vars.forEach((v, i) => v.assign(ws[i].values));
}

function assignKeras3(model: Layer, fileLayers: H5Layer[], file: string): number {
  const byKey = new Map(fileLayers.map((l) => [l.key, l]));
  const counts = new Map<string, number>();
  let n = 0;
  for (const layer of subLayers(model)) {
    const base = toSnakeCase(layer.getClassName());
    const c = counts.get(base) ?? 0;
    counts.set(base, c + 1);
    const key = c === 0 ? base : `${base}_${c}`;
    const fl = byKey.get(key);
    const nested = Array.isArray((layer as unknown as { layers?: unknown }).layers);
    if (nested) {
      if (!fl?.layers) throw new InvalidArgumentError(`loadKerasWeights: expected nested layers at 'layers/${key}' for model '${layer.name}' in '${file}' but found none`);
      n += assignKeras3(layer, fl.layers, file);
      continue;
    }
    const vars = layer.weights;
    if (!vars.length) continue;
    if (!fl) throw new InvalidArgumentError(`loadKerasWeights: expected 'layers/${key}/vars' for layer '${layer.name}' in '${file}' but found none (file keys: ${[...byKey.keys()].join(', ')})`);
    assign(layer, vars, fl.weights, file);
    n += vars.length;
  }
  return n;
}

/** Options of loadKerasWeights. */
export interface LoadWeightsOptions {
  /** Legacy files: match layers by name instead of order (Keras' by_name). */
  byName?: boolean;
}

/** What loadKerasWeights did: the file's layout and the number of weights assigned. */
export interface LoadWeightsResult {
  format: 'legacy' | 'keras3';
  /** Number of weight tensors assigned. */
  weights: number;
}

/**
 * Loads a Keras weight file (.h5 legacy or .weights.h5 Keras 3) into model, as Keras'
 * model.load_weights does: same architecture, weights matched by Keras' rules, shapes checked.
 */
export async function loadKerasWeights(model: Layer, path: string, opts: LoadWeightsOptions = {}): Promise<LoadWeightsResult> {
  const file = await readKerasWeights(path);
  if (file.format === 'keras3') return { format: 'keras3', weights: assignKeras3(model, file.layers, path) };
  const withWeights = subLayers(model).filter((l) => l.weights.length > 0);
  const fileLayers = file.layers.filter((l) => l.weights.length > 0);
  let n = 0;
  if (opts.byName) {
    const byName = new Map(fileLayers.map((l) => [l.name, l]));
    for (const layer of withWeights) {
      const fl = byName.get(layer.name);
      if (!fl) continue;
      assign(layer, legacyWeights(layer), fl.weights, path);
      n += fl.weights.length;
    }
    return { format: 'legacy', weights: n };
  }
  if (withWeights.length !== fileLayers.length)
    throw new InvalidArgumentError(
      `loadKerasWeights: expected a file with ${withWeights.length} layers with weights (the model's) but '${path}' has ${fileLayers.length} (${fileLayers
        .slice(0, 5)
        .map((l) => l.name)
        .join(', ')}${fileLayers.length > 5 ? ', ...' : ''})`,
    );
  withWeights.forEach((layer, i) => {
    assign(layer, legacyWeights(layer), fileLayers[i].weights, path);
    n += fileLayers[i].weights.length;
  });
  return { format: 'legacy', weights: n };
}
