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
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, describe } from '../errors.js';
import { H5Layer, H5Weight, KerasWeightFile, readInWorker } from './h5_read_worker.js';
import { checkHdf5Superblock } from './hdf5_superblock.js';
import { Layer, toSnakeCase } from '../layers/base.js';
import { Variable } from '../tensor.js';

export type { H5Layer, H5Weight, KerasWeightFile } from './h5_read_worker.js';

// ---- h5wasm

/* eslint-disable @typescript-eslint/no-explicit-any */
type H5Module = any;
let h5Promise: Promise<H5Module> | undefined;

// Note [ESM-only h5wasm]: h5wasm exports only an ESM entry ('import' condition). The
// CommonJS build turns import() into require(), which cannot load it, so there we find the
// file through require's search paths and import it by URL (a Function keeps the real import()).
const importUrl = new Function('u', 'return import(u)') as (u: string) => Promise<H5Module>;

/** The h5wasm module (node build, reads files directly from disk), loaded once, for writing HDF5 files. */
export async function h5wasm(): Promise<H5Module> {
  h5Promise ??= (async () => {
    let mod: H5Module;
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
    return mod;
  })();
  return h5Promise;
}

// ---- reading

/** Options of readKerasWeights. */
export interface ReadWeightsOptions {
  /** Give up on a file the HDF5 library has not read after this many milliseconds (default 120000). */
  timeoutMs?: number;
}

/**
 * Reads every weight of a Keras HDF5 weight file (either layout) into host memory. A damaged
 * file gets an InvalidArgumentError naming it and what is wrong, never h5wasm's own error.
 *
 * Note [h5wasm isolation]: the signature and superblock are checked here first
 * (hdf5_superblock.ts: truncation, not HDF5); the file is then read by h5wasm in a worker
 * thread (h5_read_worker.ts) that is discarded after the read, because on some damaged files
 * the HDF5 library calls abort() (after which its state is suspect) or loops forever.
 */
export async function readKerasWeights(path: string, opts: ReadWeightsOptions = {}): Promise<KerasWeightFile> {
  if (typeof path !== 'string' || !existsSync(path)) throw new InvalidArgumentError(`loadKerasWeights: expected an existing HDF5 file but received '${path}'`);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  if (!(timeoutMs > 0)) throw new InvalidArgumentError(`loadKerasWeights: expected timeoutMs > 0 but received ${describe(opts.timeoutMs)}`);
  checkHdf5Superblock(path);
  const r = await readInWorker(path, timeoutMs);
  if (r.ok) return r.file;
  const damaged = '(the file is damaged or truncated)';
  switch (r.kind) {
    case 'structure':
      throw new InvalidArgumentError(`loadKerasWeights: ${r.message}`);
    case 'library':
      throw new InvalidArgumentError(
        `loadKerasWeights: expected a readable HDF5 file at '${path}' but reading ${r.reading} failed${r.aborted ? ' (the HDF5 library aborted)' : ''}: ${r.diagnostic ?? r.message} ${damaged}`,
      );
    case 'timeout':
      throw new InvalidArgumentError(`loadKerasWeights: expected a readable HDF5 file at '${path}' but the HDF5 library did not finish reading it within ${timeoutMs} ms ${damaged}`);
    default:
      throw new InvalidArgumentError(`loadKerasWeights: expected a readable HDF5 file at '${path}' but the reading thread failed: ${r.message}`);
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
export interface LoadWeightsOptions extends ReadWeightsOptions {
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
  const file = await readKerasWeights(path, { timeoutMs: opts.timeoutMs });
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
