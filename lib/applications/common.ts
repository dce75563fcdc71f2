// What the applications share: Keras' input-shape rules (obtain_input_shape), argument
// checks, and the 'imagenet' weight files (found in Keras' cache, ~/.keras/models, or
// downloaded from Keras' address when a network is reachable).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, check } from '../errors.js';
import { Shape } from '../layers/base.js';
import { loadKerasWeights } from '../io/h5weights.js';
import type { LayersModel } from '../models/functional.js';

/** Global pooling of a headless application's output: 'avg', 'max' or none. */
export type Pooling = 'avg' | 'max' | null | undefined;

/** Options of the Keras applications (tfjs-style camelCase of Keras' arguments). */
export interface ApplicationArgs {
  /** Include the classifier (global average pooling + dense softmax); default true. */
  includeTop?: boolean;
  /** null (random), 'imagenet' (Keras' files), or the path of a Keras weight file (.h5 or .weights.h5). */
  weights?: 'imagenet' | string | null;
  /** Image shape [height, width, channels] without the batch dimension. */
  inputShape?: Shape;
  /** Without the top: 'avg' or 'max' global pooling of the last feature map, or none (4-D output). */
  pooling?: Pooling;
  /** Classes of the top (1000 for 'imagenet'). */
  classes?: number;
  /** Activation of the top layer ('softmax' default, or 'linear' / null for logits). */
  classifierActivation?: string | null;
  /** Model name (Keras' default: the application's name). */
  name?: string;
  /** 'imagenet' only: try to download a missing file (default true; false or CUDNN_NODE_OFFLINE=1 to never). */
  download?: boolean;
}

export interface ImagenetFiles {
  /** Keras' file names and hashes, with and without the top. */
  top: { file: string; url: string; md5: string };
  notop: { file: string; url: string; md5: string };
}

/** Validated arguments with Keras' defaults. */
export interface Resolved {
  includeTop: boolean;
  weights: string | null;
  inputShape: Shape;
  pooling: Pooling;
  classes: number;
  classifierActivation: string;
  name: string;
}

/** keras.applications' argument checks and imagenet_utils.obtain_input_shape. */
export function resolveArgs(app: string, args: ApplicationArgs, defaultSize: number, minSize: number): Resolved {
  check(args === undefined || (args !== null && typeof args === 'object'), app, 'an options object', args);
  const a = args ?? {};
  const includeTop = a.includeTop ?? true;
  const weights = a.weights === undefined ? null : a.weights;
  const classes = a.classes ?? 1000;
  check(typeof includeTop === 'boolean', app, 'includeTop as a boolean', a.includeTop);
  if (!(weights === null || weights === 'imagenet' || (typeof weights === 'string' && existsSync(weights))))
    throw new InvalidArgumentError(
      `${app}: expected weights null (random initialization), 'imagenet' (pre-training on ImageNet), or the path to the weights file to be loaded but received ${JSON.stringify(weights)}`,
    );
  check(Number.isInteger(classes) && classes >= 1, app, 'classes as a positive integer', a.classes);
  if (weights === 'imagenet' && includeTop && classes !== 1000)
    throw new InvalidArgumentError(`${app}: expected classes 1000 when using weights 'imagenet' with includeTop true but received ${classes}`);
  const pooling = a.pooling ?? null;
  check(pooling === null || pooling === 'avg' || pooling === 'max', app, "pooling 'avg', 'max' or null", a.pooling);

  // obtain_input_shape (channels last).
  let inputShape = a.inputShape;
  const defaultShape: Shape = [defaultSize, defaultSize, inputShape && inputShape.length === 3 && weights !== 'imagenet' ? inputShape[2] : 3];
  if (weights === 'imagenet' && includeTop) {
    if (inputShape && (inputShape.length !== 3 || inputShape.some((d, i) => d !== defaultShape[i])))
      throw new InvalidArgumentError(`${app}: expected inputShape [${defaultShape}] when includeTop is true with weights 'imagenet' but received [${inputShape}]`);
    inputShape = defaultShape;
  } else if (inputShape) {
    check(Array.isArray(inputShape) && inputShape.length === 3, app, 'inputShape [height, width, channels]', inputShape);
    if (weights === 'imagenet' && inputShape[2] !== 3)
      throw new InvalidArgumentError(`${app}: expected inputShape with 3 channels for weights 'imagenet' but received [${inputShape}]`);
    for (const d of inputShape.slice(0, 2))
      if (d !== null && (!Number.isInteger(d) || d < minSize))
        throw new InvalidArgumentError(`${app}: expected an input size of at least ${minSize}x${minSize} but received inputShape [${inputShape}]`);
  } else inputShape = includeTop ? defaultShape : [null, null, 3];
  if (includeTop && inputShape.some((d) => d === null))
    throw new InvalidArgumentError(`${app}: expected a static inputShape when includeTop is true but received [${inputShape.map((d) => (d === null ? 'null' : d))}]`);
  const act = a.classifierActivation === undefined ? 'softmax' : a.classifierActivation === null ? 'linear' : a.classifierActivation;
  if (weights !== null && includeTop && act !== 'softmax' && act !== 'linear')
    throw new InvalidArgumentError(`${app}: expected classifierActivation 'softmax' or null with pretrained weights but received '${act}'`);
  return { includeTop, weights, inputShape: inputShape.slice(), pooling, classes, classifierActivation: act, name: a.name ?? app };
}

/** Keras' cache directory for application weights: $KERAS_HOME/models or ~/.keras/models. */
export function kerasModelsDir(): string {
  return join(process.env.KERAS_HOME ?? join(homedir(), '.keras'), 'models');
}

function md5(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/**
 * The local path of an application's ImageNet weights: Keras' file in its cache (or the same
 * stem with Keras 3's .weights.h5), else downloaded there when allowed and possible, else an
 * error naming the file, its address and where to put it.
 */
export async function imagenetWeightsPath(app: string, spec: { file: string; url: string; md5: string }, download: boolean): Promise<string> {
  const dir = kerasModelsDir();
  const path = join(dir, spec.file);
  const alt = join(dir, spec.file.replace(/\.h5$/, '.weights.h5'));
  if (existsSync(path)) return path;
  if (existsSync(alt)) return alt;
  let reason = 'downloads are off (download: false or CUDNN_NODE_OFFLINE=1)';
  if (download && process.env.CUDNN_NODE_OFFLINE !== '1') {
    try {
      const res = await fetch(spec.url, { signal: AbortSignal.timeout(600_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const buf = Buffer.from(await res.arrayBuffer());
      mkdirSync(dir, { recursive: true });
      const tmp = `${path}.part`;
      writeFileSync(tmp, buf);
      const got = await md5(tmp);
      if (got !== spec.md5) {
        unlinkSync(tmp);
        throw new Error(`MD5 ${got}, expected ${spec.md5}`);
      }
      renameSync(tmp, path);
      return path;
    } catch (e) {
      const err = e as Error & { cause?: Error };
      reason = `downloading ${spec.url} failed: ${err.cause?.message ?? err.message}`;
    }
  }
  throw new InvalidArgumentError(
    `${app}: expected ImageNet weights '${spec.file}' in ${dir} but it is not there and ${reason}. ` +
      `Download ${spec.url} (MD5 ${spec.md5}) where a network is reachable and put it at ${path} (or set KERAS_HOME), or pass weights: '/path/to/${spec.file}'`,
  );
}

/** Loads weights ('imagenet' or a path) into a freshly built application model. */
export async function loadApplicationWeights(model: LayersModel, app: string, r: Resolved, files: ImagenetFiles | null, download: boolean): Promise<void> {
  if (r.weights === null) return;
  try {
    let path = r.weights;
    if (r.weights === 'imagenet') {
      if (!files) throw new InvalidArgumentError(`${app}: expected weights null or a file path (there are no ImageNet weights for ${app}) but received 'imagenet'`);
      path = await imagenetWeightsPath(app, r.includeTop ? files.top : files.notop, download);
    }
    await loadKerasWeights(model, path);
  } catch (e) {
    model.dispose();
    throw e;
  }
}
