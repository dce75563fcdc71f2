// Saving and loading whole models to a directory in the tfjs-layers format, the one
// tfjs-node's model.save('file://...') writes and tfjs-converter writes for Keras models:
// model.json (class_name / snake_case topology, weightsManifest) and a weights file.
// Saves are atomic (Note [atomic save]); loads are confined to the model's directory and
// checked against the manifest (lib/io/weights_manifest.ts). Models saved by earlier
// cudnn-node versions (camelCase className topology, weights.bin) still load.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { fsyncDirectory, removeStaleTempFiles, writeFileAtomic } from '../io/atomic_write.js';
import { isTfjsTopology, LayerSpecTs, tfjsRoundTripIsExact, toCamelCase, topologyFromTfjs, topologyToTfjs, toSnakeCase, tsToPythonic } from '../io/tfjs_layers_format.js';
import { checkManifest, LoadedWeight, readWeights, WeightSpec } from '../io/weights_manifest.js';
import { Layer } from '../layers/base.js';
import { deserializeLayer, serializeLayer } from '../layers/serialization.js';
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

/** Our training configuration (compile() arguments by name). */
interface OurTrainingConfig {
  loss: unknown;
  metrics: unknown;
  lossWeights?: unknown;
  optimizerConfig: unknown;
}

/** What cudnn-node adds to a tfjs model.json (tfjs ignores unknown top-level keys). */
interface CudnnNodeExtension {
  /** Our topology, when tfjs' string conversion would not give it back exactly. */
  modelTopology?: LayerSpecTs;
  /** compile() arguments as given (tfjs' trainingConfig holds only what tfjs can load). */
  trainingConfig?: OurTrainingConfig;
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: unknown;
  trainingConfig?: Record<string, unknown> | null;
  weightsManifest: unknown;
  cudnnNode?: CudnnNodeExtension;
}

const MODEL_JSON = 'model.json';
/** Our weight file names: content-addressed, so a new save never overwrites the file the current model.json names. */
const WEIGHTS_FILE = /^weights\.[0-9a-f]{16}\.bin$/;

/** 'file://out/m', 'out/m' or 'out/m/model.json' -> the directory. */
function directoryOf(path: string, op: string): string {
  check(typeof path === 'string' && path.length > 0, op, 'a directory path', path);
  let p = path.startsWith('file://') ? path.slice('file://'.length) : path;
  if (/^[a-z]+:\/\//i.test(p)) throw new InvalidArgumentError(`${op}: expected a local directory (or file://) but received '${path}'`);
  if (p.endsWith('.json')) p = dirname(p);
  return p;
}

/** tfjs' trainingConfig (loaded by tfjs-node's loadLayersModel), when tfjs can represent ours. */
function tfjsTrainingConfig(c: OurTrainingConfig): Record<string, unknown> | undefined {
  const opt = c.optimizerConfig as { className?: string; config?: Record<string, unknown> } | undefined;
  const losses = c.loss as unknown[];
  const metrics = c.metrics as unknown[][];
  const weighted = Array.isArray(c.lossWeights) ? c.lossWeights.some((w) => w !== 1) : c.lossWeights !== undefined && c.lossWeights !== null;
  if (!opt || !Array.isArray(losses) || losses.length !== 1 || typeof losses[0] !== 'string' || weighted) return undefined;
  if (!Array.isArray(metrics) || metrics.length > 1 || (metrics[0] ?? []).some((m) => typeof m !== 'string')) return undefined;
  // tfjs' optimizers that take our config as is (tfjs' SGD has no momentum).
  const cfg = opt.config ?? {};
  if (!(opt.className === 'Adam' || (opt.className === 'SGD' && !cfg.momentum))) return undefined;
  return {
    loss: toSnakeCase(losses[0]),
    metrics: (metrics[0] ?? []).map((m) => toSnakeCase(m as string)),
    optimizer_config: { class_name: opt.className, config: tsToPythonic(opt.className === 'SGD' ? { learningRate: cfg.learningRate } : cfg) },
  };
}

/** Saves in progress, by directory: a save waits for the one before it (Note [one save per directory]). */
const savesInProgress = new Map<string, Promise<unknown>>();

/** Weight files named by a model.json in dir, when it parses and its paths are confined. */
async function previousWeightFiles(dir: string): Promise<string[]> {
  try {
    const file = join(dir, MODEL_JSON);
    const json = JSON.parse(await readFile(file, 'utf8')) as ModelJson;
    return checkManifest(json.weightsManifest, file).flatMap((g) => g.paths);
  } catch {
    return [];
  }
}

/**
 * Writes model.json and the weights into dir (created if needed), atomically.
 *
 * Note [atomic save]: the weights go to a new file named by their content hash
 * (weights.<sha256:16>.bin), written to a temporary file, fsynced and renamed; the directory
 * is fsynced; then model.json, which names that file, replaces the old model.json the same
 * way; the directory is fsynced again; only then are the weight files the old model.json
 * named (and leftovers of killed saves) removed. A process killed at any point leaves a
 * model.json that names complete weights: the old pair before model.json's rename, the new
 * pair after it. (Writing model.json and weights.bin in place, as before, lost the model in
 * 17 of 40 kills during a save.)
 */
export async function saveModel(model: LayersModel, path: string): Promise<SaveResult> {
  const dir = directoryOf(path, 'save');
  // Note [one save per directory]: a save removes the weight files its model.json does not
  // name, so two saves into one directory at once (a checkpoint and a manual save) could
  // remove each other's; within a process they run one after the other.
  const key = resolve(dir);
  const before = savesInProgress.get(key) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(() => saveNow(model, dir));
  savesInProgress.set(key, run);
  try {
    return await run;
  } finally {
    if (savesInProgress.get(key) === run) savesInProgress.delete(key);
  }
}

async function saveNow(model: LayersModel, dir: string): Promise<SaveResult> {
  const op = 'save';
  model.ensureGraph(op);
  const weights = model.weights;
  const used = new Map<string, number>();
  const specs: WeightSpec[] = weights.map((w) => {
    const n = used.get(w.name) ?? 0;
    used.set(w.name, n + 1);
    check(w.dtype === 'float32' || w.dtype === 'int32', op, `weights of dtype float32 or int32 ('${w.name}')`, w.dtype);
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
  const weightsName = `weights.${createHash('sha256').update(bin).digest('hex').slice(0, 16)}.bin`;

  const topology = serializeLayer(model) as LayerSpecTs;
  const c = model.compiled;
  const ours: OurTrainingConfig | undefined = c
    ? { loss: c.config.loss, metrics: c.config.metrics, lossWeights: c.config.lossWeights, optimizerConfig: c.config.optimizer }
    : undefined;
  const extension: CudnnNodeExtension = {};
  if (!tfjsRoundTripIsExact(topology)) extension.modelTopology = topology;
  if (ours) extension.trainingConfig = ours;
  const tfjsTopology = topologyToTfjs(topology) as Record<string, unknown>;
  const json: ModelJson = {
    modelTopology: { ...tfjsTopology, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    format: 'layers-model',
    generatedBy: 'cudnn-node',
    convertedBy: null,
    weightsManifest: [{ paths: [weightsName], weights: specs }],
  };
  const tc = ours && tfjsTrainingConfig(ours);
  if (tc) json.trainingConfig = tc;
  if (Object.keys(extension).length) json.cudnnNode = extension;
  const text = JSON.stringify(json);

  await mkdir(dir, { recursive: true });
  const previous = await previousWeightFiles(dir);
  const modelJson = join(dir, MODEL_JSON);
  const weightsPath = join(dir, weightsName);
  await writeFileAtomic(weightsPath, bin);
  await fsyncDirectory(dir);
  await writeFileAtomic(modelJson, text);
  await fsyncDirectory(dir);
  // The new model.json is durable: the old weights and any killed save's leftovers can go.
  const stale = new Set(previous.filter((p) => p !== weightsName && !p.includes('/') && !p.includes('\\')));
  for (const name of await readdir(dir)) if (WEIGHTS_FILE.test(name) && name !== weightsName) stale.add(name);
  for (const name of stale) await rm(join(dir, name), { force: true });
  await removeStaleTempFiles(dir);
  return {
    modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', modelTopologyBytes: Buffer.byteLength(text), weightDataBytes: bytes },
    paths: { modelJson, weights: weightsPath },
  };
}

/** compile() arguments from a model.json: ours when present, else tfjs' trainingConfig. */
function trainingConfigOf(json: ModelJson): OurTrainingConfig | undefined {
  if (json.cudnnNode?.trainingConfig) return json.cudnnNode.trainingConfig;
  const tc = json.trainingConfig as Record<string, unknown> | null | undefined;
  if (!tc) return undefined;
  if ('optimizerConfig' in tc) return tc as unknown as OurTrainingConfig; // earlier cudnn-node saves
  const opt = tc.optimizer_config as { class_name?: string; config?: Record<string, unknown> } | undefined;
  const camel = (v: unknown): unknown =>
    typeof v === 'string' ? toCamelCase(v) : Array.isArray(v) ? v.map(camel) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, camel(x)])) : v;
  const optConfig = Object.fromEntries(Object.entries(opt?.config ?? {}).map(([k, v]) => [toCamelCase(k), v]));
  return {
    loss: camel(tc.loss),
    metrics: camel(tc.metrics),
    lossWeights: tc.loss_weights ?? undefined,
    optimizerConfig: opt?.class_name ? { className: opt.class_name, config: optConfig } : 'rmsprop',
  };
}

/** Assigns loaded weights: by name when every name matches (tfjs orders weights its own way), else in order. */
function assignWeights(model: LayersModel, loaded: LoadedWeight[], file: string): void {
  const op = 'loadLayersModel';
  const weights = model.weights;
  if (weights.length !== loaded.length)
    throw new InvalidArgumentError(`${op}: expected ${weights.length} weights for the architecture in '${file}' but its weightsManifest lists ${loaded.length}`);
  const byName = new Map<string, number>();
  const seen = new Map<string, number>();
  weights.forEach((w, i) => {
    const n = seen.get(w.name) ?? 0;
    seen.set(w.name, n + 1);
    byName.set(n ? `${w.name}_${n}` : w.name, i);
  });
  const targets = loaded.every((l) => byName.has(l.name)) && new Set(loaded.map((l) => l.name)).size === loaded.length ? loaded.map((l) => byName.get(l.name)!) : loaded.map((_, i) => i);
  targets.forEach((t, i) => {
    const w = weights[t];
    const s = loaded[i];
    if (s.shape.length !== w.shape.length || s.shape.some((d, k) => d !== w.shape[k]))
      throw new InvalidArgumentError(`${op}: expected weight '${w.name}' of shape ${describe(w.shape)} but '${file}' lists '${s.name}' of shape ${describe(s.shape)}`);
    if (s.dtype !== w.dtype) throw new InvalidArgumentError(`${op}: expected weight '${w.name}' of dtype ${w.dtype} but '${file}' lists '${s.name}' as ${s.dtype}`);
  });
  targets.forEach((t, i) => weights[t].assign(loaded[i].values as Float32Array));
}

/**
 * Loads a model saved by model.save(), by tfjs-node's model.save('file://...') or by
 * tfjs-converter (Keras models): the directory, or its model.json. Custom layers must be
 * registered with registerLayer() first. The model is compiled again when the saved loss and
 * optimizer are known by name (optimizer state is not saved).
 */
export async function loadLayersModel(path: string, opts: { compile?: boolean } = {}): Promise<LayersModel> {
  const op = 'loadLayersModel';
  const dir = directoryOf(path, op);
  const file = join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(`${op}: expected a readable model.json at '${file}' but received an error: ${(e as Error).message}`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (e) {
    throw new InvalidArgumentError(`${op}: expected valid JSON in '${file}' but it does not parse (${(e as Error).message}; ${text.length} bytes)`);
  }
  check(json && typeof json === 'object' && json.modelTopology && typeof json.modelTopology === 'object', op, `a model.json with a modelTopology at '${file}'`, json);
  const groups = checkManifest(json.weightsManifest, file);

  let spec: LayerSpecTs;
  if (json.cudnnNode?.modelTopology) spec = json.cudnnNode.modelTopology;
  else if (isTfjsTopology(json.modelTopology)) {
    const r = topologyFromTfjs(json.modelTopology, file);
    spec = r.spec;
    if (r.dropped.length)
      console.warn(
        `${op}: '${file}' has regularizers or constraints, which cudnn-node layers do not apply (inference is unaffected; training differs): ` +
          r.dropped.map((d) => `${d.layer}.${d.key} = ${d.className}`).join(', '),
      );
  } else spec = json.modelTopology as LayerSpecTs;
  check(typeof spec.className === 'string', op, `a modelTopology with a className or class_name in '${file}'`, spec.className);
  const model = deserializeLayer(spec) as LayersModel;
  check(model instanceof Layer && 'execute' in model, op, `a model topology (Sequential or functional) in '${file}'`, spec.className);
  try {
    assignWeights(model, await readWeights(dir, groups, file), file);
  } catch (e) {
    model.dispose();
    throw e;
  }

  const tc = trainingConfigOf(json);
  if (tc && opts.compile !== false) {
    try {
      model.compile({
        optimizer: (tc.optimizerConfig ?? 'rmsprop') as never,
        loss: (Array.isArray(tc.loss) && tc.loss.length === 1 ? tc.loss[0] : tc.loss) as never,
        metrics: (Array.isArray(tc.metrics) && tc.metrics.length === 1 && Array.isArray(tc.metrics[0]) ? tc.metrics[0] : tc.metrics) as never,
        lossWeights: (tc.lossWeights ?? undefined) as never,
      });
    } catch {
      // A custom loss or metric cannot be restored by name: the model loads uncompiled.
    }
  }
  return model;
}
