// LayersModel: a functional graph of layers (model({inputs, outputs})), itself a Layer.
// Holds the topologically sorted nodes, runs them on tensors, and carries the training
// API (compile / fit / evaluate / predict in trainer.ts), summary() and save().
import { InvalidArgumentError, check } from '../errors.js';
import { CallArgs, Layer, Node, Shape, SymbolicTensor, formatShape, isShapeList } from '../layers/base.js';
import { InputLayer } from '../layers/core.js';
import { deserializeLayer, serializeLayer } from '../layers/serialization.js';
import { Tensor } from '../tensor.js';
import type { History } from './callbacks.js';
import { saveModel } from './io.js';
import type { SaveResult } from './io.js';
import { summary, SummaryOptions } from './summary.js';
import * as training from './trainer.js';
import type { CompileArgs, DatasetLike, EvaluateArgs, FitArgs, FitDatasetArgs, PredictArgs, TensorInputs } from './trainer.js';

/** Arguments of model() / new LayersModel() (tfjs tf.model). */
export interface ModelArgs {
  /** The symbolic inputs, from input(). */
  inputs: SymbolicTensor | SymbolicTensor[];
  /** The symbolic outputs, computed from inputs by applying layers. */
  outputs: SymbolicTensor | SymbolicTensor[];
  /** Model name. */
  name?: string;
}

/** @internal options of LayersModel.execute(). */
export interface ExecuteOptions {
  training: boolean;
  /** Per output: return pre-activation logits (the activation is fused into the loss). */
  logits?: boolean[];
}

/** A model: a graph of layers from inputs to outputs, trainable with compile() + fit(). */
export class LayersModel extends Layer {
  static className = 'Functional';
  /** The model's symbolic inputs and outputs. */
  inputs: SymbolicTensor[] = [];
  outputs: SymbolicTensor[] = [];
  /** Set by a callback to end fit() after the current epoch. */
  stopTraining = false;
  /** @internal training state set by compile(). */
  compiled: training.CompiledState | null = null;
  /** The History of the last fit(). */
  history?: History;
  /** @internal layers of the graph, input layers first (Keras order). */
  protected graphLayers: Layer[] = [];
  /** @internal nodes in execution order (input layers excluded). */
  protected graphNodes: Node[] = [];
  /** @internal the nodes of each layer that belong to this graph, in creation order. */
  protected layerNodes = new Map<Layer, Node[]>();

  constructor(args?: Partial<ModelArgs>) {
    super({ name: args?.name });
    this.autocast = false; // Note [autocast]: each layer casts its own inputs
    if (args?.inputs !== undefined || args?.outputs !== undefined) {
      check(args.inputs !== undefined && args.outputs !== undefined, 'model', '{inputs, outputs}', args);
      this.initGraph(toList(args.inputs), toList(args.outputs));
    }
  }

  /** @internal (re)builds the graph from inputs to outputs. */
  protected initGraph(inputs: SymbolicTensor[], outputs: SymbolicTensor[]): void {
    inputs.forEach((t, i) => {
      check(t instanceof SymbolicTensor, 'model', `inputs that are SymbolicTensors (input ${i})`, t);
      if (!(t.sourceLayer instanceof InputLayer))
        throw new InvalidArgumentError(`model: expected inputs made by input() but received input ${i} from layer '${t.sourceLayer.name}'`);
    });
    outputs.forEach((t, i) => check(t instanceof SymbolicTensor, 'model', `outputs that are SymbolicTensors (output ${i})`, t));
    check(new Set(inputs).size === inputs.length, 'model', 'distinct inputs', inputs.map((t) => t.name));

    // Post-order DFS from the outputs: a topological order of the nodes.
    const order: Node[] = [];
    const seen = new Set<Node>();
    const inputSet = new Set(inputs.map((t) => t.id));
    const visit = (t: SymbolicTensor, path: Set<Node>) => {
      const node = t.sourceLayer.inboundNodes[t.nodeIndex];
      if (seen.has(node)) return;
      if (path.has(node)) throw new InvalidArgumentError(`model: expected an acyclic graph but layer '${t.sourceLayer.name}' feeds itself`);
      if (node.outboundLayer instanceof InputLayer && !inputSet.has(t.id))
        throw new InvalidArgumentError(
          `model: expected every input the outputs depend on among inputs but '${t.sourceLayer.name}' is not (graph disconnected)`,
        );
      path.add(node);
      for (const x of node.inputTensors) visit(x, path);
      path.delete(node);
      seen.add(node);
      order.push(node);
    };
    for (const t of outputs) visit(t, new Set());
    for (const t of inputs) if (!seen.has(t.sourceLayer.inboundNodes[0])) order.unshift(t.sourceLayer.inboundNodes[0]);

    // Depths (outputs 0, producers deeper), then Keras' order: deepest first, ties by DFS order.
    const depth = new Map<Node, number>();
    for (let i = order.length - 1; i >= 0; i--) {
      const n = order[i];
      const d = depth.get(n) ?? 0;
      depth.set(n, d);
      for (const x of n.inputTensors) {
        const p = x.sourceLayer.inboundNodes[x.nodeIndex];
        depth.set(p, Math.max(depth.get(p) ?? 0, d + 1));
      }
    }
    const index = new Map(order.map((n, i) => [n, i]));
    const sorted = order.slice().sort((a, b) => depth.get(b)! - depth.get(a)! || index.get(a)! - index.get(b)!);
    const layerDepth = new Map<Layer, number>();
    const layerFirst = new Map<Layer, number>();
    for (const n of order) {
      const l = n.outboundLayer;
      layerDepth.set(l, Math.max(layerDepth.get(l) ?? 0, depth.get(n)!));
      if (!layerFirst.has(l)) layerFirst.set(l, index.get(n)!);
    }
    const layers = [...layerFirst.keys()].sort((a, b) => layerDepth.get(b)! - layerDepth.get(a)! || layerFirst.get(a)! - layerFirst.get(b)!);
    const names = new Set<string>();
    for (const l of layers) {
      if (names.has(l.name)) throw new InvalidArgumentError(`model: expected unique layer names but '${l.name}' is used by two layers`);
      names.add(l.name);
    }
    const layerNodes = new Map<Layer, Node[]>();
    for (const l of layers) layerNodes.set(l, l.inboundNodes.filter((n) => seen.has(n)));

    this.inputs = inputs.slice();
    this.outputs = outputs.slice();
    this.graphLayers = layers;
    this.graphNodes = sorted.filter((n) => !(n.outboundLayer instanceof InputLayer));
    this.layerNodes = layerNodes;
    this.built = true;
    this.resetCompiledPlans();
  }

  /** @internal drops compiled plans (the graph or the trainable set changed). */
  resetCompiledPlans(): void {
    training.disposePlans(this);
  }

  /** The layers, input layers first (Keras' model.layers). */
  get layers(): Layer[] {
    return this.graphLayers.slice();
  }
  /** @internal */
  protected trackedLayers(): Layer[] {
    return this.graphLayers;
  }

  /** A layer by name or index. */
  getLayer(name?: string, index?: number): Layer {
    if (index !== undefined) {
      check(Number.isInteger(index) && index >= 0 && index < this.layers.length, 'getLayer', `an index in [0, ${this.layers.length})`, index);
      return this.layers[index];
    }
    const l = this.graphLayers.find((x) => x.name === name);
    if (!l) throw new InvalidArgumentError(`getLayer: expected a layer name in [${this.graphLayers.map((x) => x.name).join(', ')}] but received '${name}'`);
    return l;
  }

  /** Output names (the output layers' names), used as History keys for several outputs. */
  get outputNames(): string[] {
    return this.outputs.map((t) => t.sourceLayer.name);
  }
  get inputNames(): string[] {
    return this.inputs.map((t) => t.sourceLayer.name);
  }

  /** @internal the graph's nodes in execution order. */
  get nodes(): Node[] {
    return this.graphNodes;
  }
  /** @internal this graph's nodes of a layer. */
  nodesOf(layer: Layer): Node[] {
    return this.layerNodes.get(layer) ?? [];
  }

  /** @internal checks the model has a graph (a Sequential without input shape has none yet). */
  ensureGraph(op: string): void {
    if (!this.inputs.length)
      throw new InvalidArgumentError(
        `${op}: expected a built model but received '${this.name}' without an input shape (give the first layer inputShape, or call build([null, ...shape]))`,
      );
  }

  /** @internal builds the graph from the data's shapes when it has none (Sequential). */
  autoBuild(_shapes: number[][]): void {}

  /** @internal runs the graph on concrete (or traced) tensors. */
  execute(inputs: Tensor[], opts: ExecuteOptions): Tensor[] {
    this.ensureGraph(this.name);
    check(inputs.length === this.inputs.length, this.name, `${this.inputs.length} input tensor(s)`, `${inputs.length}`);
    inputs.forEach((t, i) => {
      check(t instanceof Tensor, this.name, `Tensor inputs (input ${i})`, t);
      const want = this.inputs[i].shape;
      if (t.rank !== want.length || want.some((d, k) => d !== null && d !== t.shape[k]))
        throw new InvalidArgumentError(
          `${this.name}: expected input ${i} ('${this.inputs[i].sourceLayer.name}') of shape [${want.map((d) => (d === null ? 'null' : d)).join(',')}] but received shape [${t.shape.join(',')}]`,
        );
    });
    const values = new Map<number, Tensor>();
    this.inputs.forEach((s, i) => values.set(s.id, inputs[i]));
    const logitsOut = new Set<number>();
    opts.logits?.forEach((l, i) => l && logitsOut.add(this.outputs[i].id));
    for (const node of this.graphNodes) {
      const ins = node.inputTensors.map((t) => {
        const v = values.get(t.id);
        if (!v) throw new InvalidArgumentError(`${this.name}: internal error, no value for ${t.name}`);
        return v;
      });
      const kwargs: CallArgs = { ...node.callArgs, training: opts.training };
      if (node.outputTensors.some((t) => logitsOut.has(t.id))) kwargs.skipActivation = true;
      const layer = node.outboundLayer;
      const out = layer.apply((node.singleInput ? ins[0] : ins) as Tensor, kwargs) as Tensor | Tensor[];
      const outs = Array.isArray(out) ? out : [out];
      check(outs.length === node.outputTensors.length, layer.name, `${node.outputTensors.length} output(s)`, `${outs.length}`);
      outs.forEach((o, i) => values.set(node.outputTensors[i].id, o));
    }
    return this.outputs.map((t) => values.get(t.id)!);
  }

  // ---- Layer interface (a model used as a layer)

  build(inputShape: Shape | Shape[]): void {
    this.built = true;
    void inputShape;
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    this.ensureGraph(this.name);
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape as Shape];
    check(shapes.length === this.inputs.length, this.name, `${this.inputs.length} input(s)`, `${shapes.length}`);
    shapes.forEach((s, i) => {
      const want = this.inputs[i].shape;
      if (s.length !== want.length || want.some((d, k) => k > 0 && d !== null && s[k] !== null && d !== s[k]))
        throw new InvalidArgumentError(`${this.name}: expected input ${i} of shape ${formatShape(want)} but received ${formatShape(s)}`);
    });
    const batch = shapes[0][0];
    const outs = this.outputs.map((t) => [batch, ...t.shape.slice(1)]);
    return outs.length === 1 ? outs[0] : outs;
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor | Tensor[] {
    const outs = this.execute(Array.isArray(inputs) ? inputs : [inputs], { training: kwargs.training ?? false });
    return outs.length === 1 ? outs[0] : outs;
  }

  getConfig(): Record<string, unknown> {
    this.ensureGraph('getConfig');
    const nodeIndex = (t: SymbolicTensor): number => this.nodesOf(t.sourceLayer).indexOf(t.sourceLayer.inboundNodes[t.nodeIndex]);
    const ref = (t: SymbolicTensor) => [t.sourceLayer.name, nodeIndex(t), t.tensorIndex];
    const layers = this.graphLayers.map((l) => ({
      ...serializeLayer(l),
      name: l.name,
      inboundNodes: l instanceof InputLayer ? [] : this.nodesOf(l).map((n) => ({ args: n.inputTensors.map(ref), single: n.singleInput, kwargs: n.callArgs })),
    }));
    return { name: this.name, trainable: this.trainable, layers, inputLayers: this.inputs.map(ref), outputLayers: this.outputs.map(ref) };
  }

  static fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    return functionalFromConfig(config) as unknown as T;
  }

  // ---- training API (trainer.ts)

  /** Sets the optimizer, loss(es) and metrics; plans are traced at the first fit/evaluate/predict. */
  compile(args: CompileArgs): void {
    training.compile(this, args);
  }
  /** Trains for `epochs` over x / y; resolves to the History. */
  fit(x: TensorInputs, y: TensorInputs, args: FitArgs = {}): Promise<History> {
    return training.fit(this, x, y, args);
  }
  /** Trains over a Dataset of {xs, ys} batches. */
  fitDataset(dataset: DatasetLike, args: FitDatasetArgs = {}): Promise<History> {
    return training.fitDataset(this, dataset, args);
  }
  /** Loss and metrics over x / y: a scalar, or [loss, ...metrics] when there are metrics. */
  evaluate(x: TensorInputs, y: TensorInputs, args: EvaluateArgs = {}): Tensor | Tensor[] {
    return training.evaluate(this, x, y, args);
  }
  /** evaluate() off the main thread. */
  evaluateAsync(x: TensorInputs, y: TensorInputs, args: EvaluateArgs = {}): Promise<Tensor | Tensor[]> {
    return training.evaluateAsync(this, x, y, args);
  }
  /** Loss and metrics over a Dataset of {xs, ys} batches. */
  evaluateDataset(dataset: DatasetLike, args: { batches?: number; verbose?: number } = {}): Promise<Tensor | Tensor[]> {
    return training.evaluateDataset(this, dataset, args);
  }
  /** Outputs for x, in batches (inference mode). */
  predict(x: TensorInputs, args: PredictArgs = {}): Tensor | Tensor[] {
    return training.predict(this, x, args);
  }
  /** predict() off the main thread. */
  predictAsync(x: TensorInputs, args: PredictArgs = {}): Promise<Tensor | Tensor[]> {
    return training.predictAsync(this, x, args);
  }
  /** Outputs for one batch. */
  predictOnBatch(x: TensorInputs): Tensor | Tensor[] {
    return training.predict(this, x, { batchSize: Number.MAX_SAFE_INTEGER });
  }
  /** One training step on one batch; resolves to [loss, ...metrics]. */
  trainOnBatch(x: TensorInputs, y: TensorInputs): Promise<number | number[]> {
    return training.trainOnBatch(this, x, y);
  }

  /** Prints the Keras table (layer, output shape, params, totals). Returns the text too. */
  summary(lineLength?: number | SummaryOptions, positions?: number[], printFn?: (line: string) => void): string {
    const opts: SummaryOptions = typeof lineLength === 'object' ? lineLength : { lineLength, positions, printFn };
    return summary(this, opts);
  }

  /** Saves architecture (model.json) and weights (weights.<hash>.bin) to a directory, atomically, in the tfjs-layers format (docs/saving.md). */
  save(dir: string): Promise<SaveResult> {
    return saveModel(this, dir);
  }

  /** Frees weights, compiled plans and the optimizer's state. */
  dispose(): void {
    training.disposePlans(this);
    if (this.compiled) training.disposeCompiled(this.compiled);
    this.compiled = null;
    super.dispose();
  }
}

function toList<T>(x: T | T[]): T[] {
  return Array.isArray(x) ? x : [x];
}

type Ref = [string, number, number];
interface LayerSpec {
  className: string;
  name?: string;
  config: Record<string, unknown>;
  inboundNodes?: Array<{ args: Ref[]; single?: boolean; kwargs?: Record<string, unknown> }>;
}

/** Rebuilds a functional model from getConfig() output. */
export function functionalFromConfig(config: Record<string, unknown>, ctor: new (args: Partial<ModelArgs>) => LayersModel = LayersModel): LayersModel {
  const specs = config.layers as LayerSpec[];
  check(Array.isArray(specs), 'loadLayersModel', 'a functional config with layers', config);
  const byName = new Map<string, Layer>();
  for (const s of specs) {
    const layer = deserializeLayer({ className: s.className, config: s.config });
    byName.set(s.name ?? (s.config.name as string), layer);
  }
  const tensors = new Map<string, SymbolicTensor>();
  const key = (r: Ref) => `${r[0]}:${r[1]}:${r[2]}`;
  for (const [name, l] of byName) if (l instanceof InputLayer) tensors.set(key([name, 0, 0]), l.output);
  const done = new Map<string, number>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const s of specs) {
      const name = s.name ?? (s.config.name as string);
      const layer = byName.get(name)!;
      const nodes = s.inboundNodes ?? [];
      let k = done.get(name) ?? 0;
      while (k < nodes.length) {
        const n = nodes[k];
        const ins = n.args.map((r) => tensors.get(key(r)));
        if (ins.some((t) => !t)) break;
        const out = layer.applyMulti(n.single === false ? (ins as SymbolicTensor[]) : ins.length === 1 ? ins[0]! : (ins as SymbolicTensor[]), n.kwargs ?? {});
        out.forEach((t, i) => tensors.set(key([name, k, i]), t));
        k++;
        progress = true;
      }
      done.set(name, k);
    }
  }
  const pick = (refs: Ref[]) =>
    refs.map((r) => {
      const t = tensors.get(key(r));
      if (!t) throw new InvalidArgumentError(`loadLayersModel: expected the saved graph to reach ${r[0]}[${r[1]}][${r[2]}] but it does not`);
      return t;
    });
  return new ctor({ name: config.name as string, inputs: pick(config.inputLayers as Ref[]), outputs: pick(config.outputLayers as Ref[]) });
}
