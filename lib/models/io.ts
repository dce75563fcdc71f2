// Saving and loading whole models to a directory, in the tfjs layers-model layout:
// model.json (architecture + training config + weights manifest) and weights.bin (every
// weight in model.weights order, little-endian, concatenated).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { Layer } from '../layers/base.js';
import { deserializeLayer, serializeLayer } from '../layers/serialization.js';
import { DType } from '../tensor.js';
import type { LayersModel } from './functional.js';

/** What model.save() returns (tfjs' SaveResult, plus the paths written). */
export interface SaveResult {
  /** When and how much was written (bytes). */
  modelArtifactsInfo: {
    dateSaved: Date;
    modelTopologyType: 'JSON';
    modelTopologyBytes: number;
    weightDataBytes: number;
  };
  /** The files written. */
  paths: { modelJson: string; weights: string };
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: DType;
}

interface ModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: { className: string; config: Record<string, unknown> };
  trainingConfig?: { loss: unknown; metrics: unknown; lossWeights?: unknown; optimizerConfig: unknown } | null;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

/** 'file://out/m', 'out/m' or 'out/m/model.json' -> the directory. */
function directoryOf(path: string, op: string): string {
  check(typeof path === 'string' && path.length > 0, op, 'a directory path', path);
  let p = path.startsWith('file://') ? path.slice('file://'.length) : path;
  if (/^[a-z]+:\/\//i.test(p)) throw new InvalidArgumentError(`${op}: expected a local directory (or file://) but received '${path}'`);
  if (p.endsWith('.json')) p = dirname(p);
  return p;
}

/** Writes model.json and weights.bin into dir (created if needed). */
export async function saveModel(model: LayersModel, path: string): Promise<SaveResult> {
  const dir = directoryOf(path, 'save');
  model.ensureGraph('save');
  const weights = model.weights;
  const used = new Map<string, number>();
  const specs: WeightSpec[] = weights.map((w) => {
    const n = used.get(w.name) ?? 0;
    used.set(w.name, n + 1);
    return { name: n ? `${w.name}_${n}` : w.name, shape: w.shape.slice(), dtype: w.dtype };
  });
  const datas = await Promise.all(weights.map((w) => w.data()));
  const bytes = datas.reduce((a, d) => a + d.byteLength, 0);
  const bin = Buffer.alloc(bytes);
  let off = 0;
  for (const d of datas) {
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(bin, off);
    off += d.byteLength;
  }
  const c = model.compiled;
  const json: ModelJson = {
    format: 'layers-model',
    generatedBy: 'cudnn-node',
    convertedBy: null,
    modelTopology: serializeLayer(model),
    trainingConfig: c ? { loss: c.config.loss, metrics: c.config.metrics, lossWeights: c.config.lossWeights, optimizerConfig: c.config.optimizer } : null,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  const text = JSON.stringify(json, null, 1);
  await mkdir(dir, { recursive: true });
  const modelJson = join(dir, 'model.json');
  const weightsPath = join(dir, 'weights.bin');
  await writeFile(weightsPath, bin);
  await writeFile(modelJson, text);
  return {
    modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', modelTopologyBytes: Buffer.byteLength(text), weightDataBytes: bytes },
    paths: { modelJson, weights: weightsPath },
  };
}

/**
 * Loads a model saved by model.save(): the directory (or its model.json). Custom layers
 * must be registered with registerLayer() first. The model is compiled again when the
 * saved loss and optimizer are known by name (optimizer state is not saved).
 */
export async function loadLayersModel(path: string, opts: { compile?: boolean } = {}): Promise<LayersModel> {
  const op = 'loadLayersModel';
  const dir = directoryOf(path, op);
  const file = join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new InvalidArgumentError(`${op}: expected a readable model.json at '${file}' but received an error: ${(e as Error).message}`);
  }
  check(json && json.modelTopology && Array.isArray(json.weightsManifest), op, 'a cudnn-node model.json (modelTopology, weightsManifest)', describe(json));
  const model = deserializeLayer(json.modelTopology) as LayersModel;
  check(model instanceof Layer && 'execute' in model, op, 'a model topology (Sequential or Functional)', json.modelTopology.className);

  const specs = json.weightsManifest.flatMap((g) => g.weights.map((w) => ({ ...w, path: g.paths })));
  const files = new Map<string, Buffer>();
  for (const g of json.weightsManifest) {
    const chunks: Buffer[] = [];
    for (const p of g.paths) chunks.push(await readFile(join(dir, p)));
    files.set(g.paths.join('\n'), Buffer.concat(chunks));
  }
  const weights = model.weights;
  if (weights.length !== specs.length)
    throw new InvalidArgumentError(`${op}: expected ${weights.length} weights for the saved architecture but the manifest lists ${specs.length}`);
  const offsets = new Map<string, number>();
  const values = specs.map((s, i) => {
    const w = weights[i];
    if (s.shape.length !== w.shape.length || s.shape.some((d, k) => d !== w.shape[k]))
      throw new InvalidArgumentError(`${op}: expected weight ${i} ('${w.name}') of shape ${describe(w.shape)} but the file has '${s.name}' of shape ${describe(s.shape)}`);
    const key = s.path.join('\n');
    const buf = files.get(key)!;
    const off = offsets.get(key) ?? 0;
    const n = s.shape.reduce((a, b) => a * b, 1);
    const size = n * 4;
    if (off + size > buf.length)
      throw new InvalidArgumentError(`${op}: expected ${off + size} bytes of weights but '${s.path.join(', ')}' has ${buf.length} (truncated file?)`);
    offsets.set(key, off + size);
    const ab = buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + size);
    return s.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab);
  });
  weights.forEach((w, i) => w.assign(values[i] as Float32Array));

  const tc = json.trainingConfig;
  if (tc && opts.compile !== false) {
    try {
      model.compile({
        optimizer: (tc.optimizerConfig ?? 'rmsprop') as never,
        loss: (Array.isArray(tc.loss) && tc.loss.length === 1 ? tc.loss[0] : tc.loss) as never,
        metrics: (Array.isArray(tc.metrics) && tc.metrics.length === 1 ? tc.metrics[0] : tc.metrics) as never,
        lossWeights: tc.lossWeights as never,
      });
    } catch {
      // A custom loss or metric cannot be restored by name: the model loads uncompiled.
    }
  }
  return model;
}
