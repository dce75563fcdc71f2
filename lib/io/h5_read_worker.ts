// Reads a Keras HDF5 weight file with h5wasm in a worker thread, so that a damaged file
// cannot hurt the process: the HDF5 library may abort() (h5wasm throws, and its state is
// then suspect), or loop forever on a corrupt B-tree (a blocked event loop, for good). The
// worker is terminated on a deadline and discarded after every read; the caller gets the
// weights (transferred, not copied) or a description of what went wrong.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { libraryModuleUrl } from '../native.js';

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

/** How a read in the worker ended. */
export type WorkerOutcome =
  | { ok: true; file: KerasWeightFile }
  /** structural: the file is valid HDF5 but not a Keras weight file we can read (message says why). */
  | { ok: false; kind: 'structure'; message: string }
  /** library: the HDF5 library failed (or aborted) while reading `reading`; diagnostic is its innermost message. */
  | { ok: false; kind: 'library'; message: string; reading: string; diagnostic?: string; aborted: boolean }
  | { ok: false; kind: 'timeout'; reading: string }
  | { ok: false; kind: 'crash'; message: string };

let h5wasmUrl: string | undefined;
/** hdf5_hl.js of the h5wasm package (ESM-only, so found through the resolution paths). */
function findH5wasm(): string {
  if (h5wasmUrl) return h5wasmUrl;
  const req = createRequire(libraryModuleUrl);
  const paths = [...(req.resolve.paths('h5wasm') ?? []), join(dirname(process.execPath), 'node_modules')];
  const file = paths.map((d) => join(d, 'h5wasm', 'dist', 'node', 'hdf5_hl.js')).find((p) => existsSync(p));
  if (!file) throw new Error('the h5wasm package (a dependency of cudnn-node) was not found');
  h5wasmUrl = pathToFileURL(file).href;
  return h5wasmUrl;
}

// Note [worker source]: the worker is plain JavaScript evaluated from this string, so it
// runs the same from the TypeScript sources, the ESM build and the CommonJS build, without a
// separate file to locate. It reads both Keras layouts (lib/io/h5weights.ts has the rules).
// The HDF5 library prints a 20-line error stack to stderr (fs.writeSync(2, ...)) and its
// abort() message through console.error; the worker collects both, and we report the
// innermost message ('message size exceeds buffer end') instead of printing them.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const log = [];
const write = fs.writeSync;
fs.writeSync = function (fd, buf, off, len, ...rest) {
  if (fd !== 2 || !ArrayBuffer.isView(buf)) return write.call(fs, fd, buf, off, len, ...rest);
  const s = typeof off === 'number' ? off : 0;
  const n = typeof len === 'number' ? len : buf.byteLength - s;
  log.push(Buffer.from(buf.buffer, buf.byteOffset + s, n).toString('utf8'));
  return n;
};
console.error = (...a) => log.push(a.map(String).join(' ') + '\n');
const file = workerData.path;
let reading = 'the file';
class Structure extends Error {}
const strings = (v) => {
  if (v === undefined || v === null) return [];
  const one = (s) => (s instanceof Uint8Array ? Buffer.from(s).toString('utf8') : String(s));
  if (typeof v === 'string' || v instanceof Uint8Array) return [one(v)];
  return Array.from(v).map(one);
};
const attrStrings = (obj, name) => {
  if (obj.attrs[name] !== undefined) return strings(obj.attrs[name].value);
  const out = [];
  for (let i = 0; obj.attrs[name + i] !== undefined; i++) out.push(...strings(obj.attrs[name + i].value));
  return out;
};
const hasAttr = (obj, name) => obj.attrs[name] !== undefined || obj.attrs[name + '0'] !== undefined;
const transfer = [];
const readDataset = (ds, name) => {
  if (!ds || typeof ds.shape === 'undefined') throw new Structure("expected '" + name + "' in '" + file + "' to be a dataset but it is not (a damaged file?)");
  const shape = (ds.shape || []).map(Number);
  const v = ds.value;
  let values;
  if (v instanceof Float32Array) values = v;
  else if (ArrayBuffer.isView(v) && !(v instanceof BigInt64Array || v instanceof BigUint64Array) && !(v instanceof DataView)) values = Float32Array.from(v);
  else if (typeof v === 'number') values = Float32Array.of(v);
  else throw new Structure("expected numeric weights but '" + name + "' in '" + file + "' has dtype " + JSON.stringify(ds.dtype));
  const n = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || values.length !== n)
    throw new Structure('expected ' + n + " values for '" + name + "' of shape [" + shape + "] in '" + file + "' but read " + values.length + ' (a damaged file?)');
  if (values.byteOffset !== 0 || values.byteLength !== values.buffer.byteLength) values = values.slice();
  transfer.push(values.buffer);
  return { name, shape, values };
};
const readLegacy = (root) =>
  attrStrings(root, 'layer_names').map((ln) => {
    reading = "group '" + ln + "'";
    const g = root.get(ln);
    if (!g) throw new Structure("expected a group '" + ln + "' (listed in layer_names) in '" + file + "' but found none");
    return {
      name: ln,
      key: ln,
      weights: attrStrings(g, 'weight_names').map((wn) => {
        reading = "dataset '" + ln + '/' + wn + "'";
        const ds = g.get(wn);
        if (!ds) throw new Structure("expected dataset '" + ln + '/' + wn + "' in '" + file + "' but found none");
        return readDataset(ds, wn);
      }),
    };
  });
const readKeras3 = (group, path) => {
  const layersGroup = group.get('layers');
  if (!layersGroup) return [];
  return layersGroup.keys().map((key) => {
    reading = "group '" + path + 'layers/' + key + "'";
    const g = layersGroup.get(key);
    const vars = g.get('vars');
    const idx = vars ? vars.keys().filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b)) : [];
    const nameAttr = vars && vars.attrs && vars.attrs['name'] ? vars.attrs['name'].value : undefined;
    const layer = {
      name: nameAttr === undefined ? key : String(nameAttr),
      key,
      weights: idx.map((i) => readDataset(vars.get(i), path + 'layers/' + key + '/vars/' + i)),
    };
    if (g.keys().includes('layers')) layer.layers = readKeras3(g, path + 'layers/' + key + '/');
    return layer;
  });
};
(async () => {
  let f;
  try {
    const h5 = await import(workerData.h5url);
    await h5.ready;
    f = new h5.File(file, 'r');
    reading = 'the root group';
    const keys = f.keys();
    const root = hasAttr(f, 'layer_names') ? f : keys.includes('model_weights') ? f.get('model_weights') : null;
    const attrs = {};
    let result;
    if (root) {
      reading = 'the layer list';
      for (const k of Object.keys(root.attrs)) if (!k.startsWith('layer_names')) attrs[k] = root.attrs[k].value;
      result = { format: 'legacy', layers: readLegacy(root), attrs };
    } else if (keys.includes('layers')) result = { format: 'keras3', layers: readKeras3(f, ''), attrs };
    else
      throw new Structure(
        "expected a Keras weight file (a 'layer_names' attribute, a 'model_weights' group, or a Keras 3 'layers' group) but '" + file + "' has groups [" + keys.join(', ') + ']',
      );
    for (const k of Object.keys(attrs)) if (typeof attrs[k] === 'bigint' || ArrayBuffer.isView(attrs[k])) attrs[k] = String(attrs[k]);
    parentPort.postMessage({ ok: true, file: result }, transfer);
  } catch (e) {
    const message = String((e && e.message) || e);
    if (e instanceof Structure) parentPort.postMessage({ ok: false, kind: 'structure', message });
    else {
      const calls = [...log.join('').matchAll(/#\d+: .*? in (\w+\(\)): (.*)/g)];
      const last = calls[calls.length - 1];
      parentPort.postMessage({ ok: false, kind: 'library', message, reading, diagnostic: last ? last[2].trim() + ' in ' + last[1] : undefined, aborted: /Aborted\(/.test(message) });
    }
  }
})();
`;

/** Reads path in a fresh worker; never throws, never outlives timeoutMs. */
export function readInWorker(path: string, timeoutMs: number): Promise<WorkerOutcome> {
  return new Promise((resolve) => {
    let reading = 'the file';
    let settled = false;
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, h5url: findH5wasm() }, stdout: true, stderr: true });
    } catch (e) {
      resolve({ ok: false, kind: 'crash', message: (e as Error).message });
      return;
    }
    const done = (o: WorkerOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(o);
    };
    const timer = setTimeout(() => done({ ok: false, kind: 'timeout', reading }), timeoutMs);
    worker.on('message', (m: WorkerOutcome) => {
      if (!m.ok && m.kind === 'library') reading = m.reading;
      done(m);
    });
    worker.on('error', (e) => done({ ok: false, kind: 'crash', message: e.message }));
    worker.on('exit', (code) => done({ ok: false, kind: 'crash', message: `the reading thread exited with code ${code}` }));
  });
}
