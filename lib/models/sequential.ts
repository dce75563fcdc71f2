// Sequential: a linear stack of single-input, single-output layers. Its graph is built as
// soon as the input shape is known (an InputLayer or a first layer with inputShape), or
// from the data at the first fit / predict, or by build(shape).
import { InvalidArgumentError, check } from '../errors.js';
import { Layer, Shape, SymbolicTensor } from '../layers/base.js';
import { InputLayer } from '../layers/core.js';
import { deserializeLayer, serializeLayer } from '../layers/serialization.js';
import { LayersModel } from './functional.js';

/** Arguments of sequential() / new Sequential() (tfjs tf.sequential). */
export interface SequentialArgs {
  /** Layers to add(), in order; the first needs inputShape (or an InputLayer) unless the model is built later. */
  layers?: Layer[];
  /** Model name. */
  name?: string;
}

/** A model made of a stack of layers: sequential({layers: [...]}) and add(). */
export class Sequential extends LayersModel {
  static className = 'Sequential';
  private stack: Layer[] = [];
  private inputLayer: InputLayer | null = null;

  constructor(args: SequentialArgs = {}) {
    super({ name: args.name });
    check(args.layers === undefined || Array.isArray(args.layers), 'sequential', 'layers as an array', args.layers);
    for (const l of args.layers ?? []) this.add(l);
  }

  /** Appends a layer (or an InputLayer first). */
  add(layer: Layer): void {
    check(layer instanceof Layer, 'sequential.add', 'a Layer', layer);
    if (layer instanceof InputLayer) {
      if (this.inputLayer || this.stack.length)
        throw new InvalidArgumentError(`sequential.add: expected an InputLayer only as the first layer but '${this.name}' already has layers`);
      this.inputLayer = layer;
      this.rebuild();
      return;
    }
    if (this.stack.includes(layer)) throw new InvalidArgumentError(`sequential.add: expected a new layer but '${layer.name}' is already in '${this.name}'`);
    if (!this.inputLayer && this.stack.length === 0) {
      const shape = layer.batchInputShape ?? (layer instanceof LayersModel && layer.inputs.length === 1 ? layer.inputs[0].shape : undefined);
      if (shape) this.inputLayer = new InputLayer({ batchInputShape: shape, dtype: layer instanceof LayersModel ? layer.inputs[0].dtype : undefined });
    }
    this.stack.push(layer);
    if (!this.inputLayer) return;
    const current = this.outputs.length ? this.outputs[0] : this.inputLayer.output;
    const out = this.applyOne(layer, current);
    this.initGraph([this.inputLayer.output], [out]);
  }

  /** Removes the last layer. */
  pop(): void {
    check(this.stack.length > 0, 'sequential.pop', 'a model with layers', 'an empty one');
    this.stack.pop();
    this.rebuild();
  }

  private applyOne(layer: Layer, x: SymbolicTensor): SymbolicTensor {
    const out = layer.applyMulti(x);
    if (out.length !== 1)
      throw new InvalidArgumentError(`sequential.add: expected layers with one output but '${layer.name}' has ${out.length}`);
    return out[0];
  }

  private rebuild(): void {
    if (!this.inputLayer) return;
    let x = this.inputLayer.output;
    for (const l of this.stack) x = this.applyOne(l, x);
    this.initGraph([this.inputLayer.output], [x]);
  }

  /** Builds the graph for an input shape (batch dimension included, may be null). */
  build(inputShape: Shape | Shape[]): void {
    if (this.inputs.length) return;
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    this.inputLayer = new InputLayer({ batchInputShape: [null, ...s.slice(1)] });
    this.rebuild();
  }

  /** @internal builds from the first batch's shape when no input shape was given. */
  autoBuild(shapes: number[][]): void {
    if (!this.inputs.length && shapes.length === 1) this.build([null, ...shapes[0].slice(1)]);
  }

  /** The layers (the InputLayer is not listed, as in Keras). */
  get layers(): Layer[] {
    return this.stack.slice();
  }
  /** @internal */
  protected trackedLayers(): Layer[] {
    return this.stack;
  }

  getConfig(): Record<string, unknown> {
    const layers = this.stack.map(serializeLayer);
    if (this.inputLayer) layers.unshift(serializeLayer(this.inputLayer));
    return { name: this.name, trainable: this.trainable, layers };
  }

  static fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    const specs = (Array.isArray(config) ? config : config.layers) as Array<{ className: string; config: Record<string, unknown> }>;
    check(Array.isArray(specs), 'loadLayersModel', 'a Sequential config with layers', config);
    const m = new Sequential({ name: (config as { name?: string }).name });
    for (const s of specs) m.add(deserializeLayer(s));
    if ((config as { trainable?: boolean }).trainable === false) m.trainable = false;
    return m as unknown as T;
  }
}
