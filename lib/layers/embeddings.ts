// Embedding: integer indices -> rows of a learned [inputDim, outputDim] table.
import { InvalidArgumentError, check } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor, Variable } from '../tensor.js';
import { Layer, LayerArgs, Shape, formatShape, singleInput, singleShape } from './base.js';
import { InitializerIdentifier } from './core.js';
import { Initializer, getInitializer, serializeInitializer } from './initializers.js';

/** Arguments of Embedding / layers.embedding() (tfjs layers.embedding). */
export interface EmbeddingLayerArgs extends LayerArgs {
  /** Vocabulary size: indices lie in [0, inputDim). */
  inputDim: number;
  /** Size of each embedding vector. */
  outputDim: number;
  /** Initializer of the table (default 'randomUniform', [-0.05, 0.05)). */
  embeddingsInitializer?: InitializerIdentifier;
  /** Whether index 0 is padding (recorded in the config; masks are not propagated yet). */
  maskZero?: boolean;
  /** Length of the index sequences (a number, or one per non-batch axis; null entries unknown). */
  inputLength?: number | Array<number | null>;
}

/**
 * Looks up rows of a learned table: [b, ...] indices -> [b, ..., outputDim]. Inputs are int32
 * indices (float inputs are truncated to int32, as tfjs does).
 */
export class Embedding extends Layer {
  static className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  readonly maskZero?: boolean;
  readonly inputLength?: number | Array<number | null>;
  embeddings: Variable | null = null;

  constructor(args: EmbeddingLayerArgs) {
    // inputDim is the vocabulary here, not the base class's Keras spelling of inputShape.
    super({ ...args, inputDim: undefined });
    check(args && Number.isInteger(args.inputDim) && args.inputDim > 0, 'embedding', 'inputDim as a positive integer', args?.inputDim);
    check(Number.isInteger(args.outputDim) && args.outputDim > 0, 'embedding', 'outputDim as a positive integer', args.outputDim);
    const len = args.inputLength;
    check(
      len === undefined || len === null || Number.isInteger(len) || (Array.isArray(len) && len.every((d) => d === null || Number.isInteger(d))),
      'embedding', 'inputLength as an integer or an array of integers', len,
    );
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
    this.embeddingsInitializer = getInitializer(args.embeddingsInitializer, 'randomUniform', 'embedding');
    check(args.maskZero === undefined || args.maskZero === null || typeof args.maskZero === 'boolean', 'embedding', 'maskZero as a boolean', args.maskZero);
    if (typeof args.maskZero === 'boolean') this.maskZero = args.maskZero;
    if (len !== undefined && len !== null) this.inputLength = Array.isArray(len) ? len.slice() : len;
    // As tfjs: without inputShape, the expected input is [batchSize, ...inputLength] (or
    // [batchSize, null]), so an embedding can start a Sequential model by itself.
    if (!this.batchInputShape) {
      const lens = this.inputLength === undefined ? [null] : Array.isArray(this.inputLength) ? this.inputLength : [this.inputLength];
      this.batchInputShape = [args.batchSize ?? null, ...lens];
    }
  }

  build(): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], 'float32', this.embeddingsInitializer);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    if (this.inputLength === undefined) return [...s, this.outputDim];
    const lens = Array.isArray(this.inputLength) ? this.inputLength.slice() : [this.inputLength];
    if (lens.length !== s.length - 1 || lens.some((d, k) => d !== null && s[k + 1] !== null && d !== s[k + 1]))
      throw new InvalidArgumentError(`embedding: expected an input of shape [batch, ${lens.join(', ')}] (inputLength) but received shape ${formatShape(s)} (layer '${this.name}')`);
    return [s[0], ...lens.map((d, k) => d ?? s[k + 1]), this.outputDim];
  }

  /**
   * Note [embedding as one-hot matMul]: no gather kernel exists on either backend, so the
   * lookup is oneHot(indices, inputDim) @ table. Forward values are exact (a row times 1 plus
   * zeros), and the table's gradient oneHot^T @ dy sums the rows of repeated indices, as
   * TensorFlow's gather gradient does. It costs [positions, inputDim] floats, fine for
   * vocabularies of thousands; indices outside [0, inputDim) give zero vectors (TensorFlow
   * raises an error).
   */
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    const idx = x.dtype === 'int32' ? x : ops.cast(x, 'int32');
    const flat = ops.reshape(idx, [x.size]);
    const rows = ops.matMul(this.computeValue(ops.oneHot(flat, this.inputDim)), this.computeValue(this.embeddings!));
    return ops.reshape(rows, [...x.shape, this.outputDim]);
  }

  getConfig(): Record<string, unknown> {
    // As tfjs: maskZero and inputLength appear when they were given.
    const c: Record<string, unknown> = {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: serializeInitializer(this.embeddingsInitializer),
    };
    if (this.maskZero !== undefined) c.maskZero = this.maskZero;
    if (this.inputLength !== undefined) c.inputLength = this.inputLength;
    return c;
  }
}
