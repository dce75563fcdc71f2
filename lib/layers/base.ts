// The layer lifecycle (Keras): build(inputShape) creates weights, call(inputs, {training})
// computes, computeOutputShape() infers shapes, getConfig() serializes. apply() on
// SymbolicTensors records a Node in the functional graph (shape inference only, no
// kernels run); apply() on Tensors runs call(). The Layer base class is public so user
// layers (residual units, custom pooling) are plain subclasses.
import { ENGINE, endTrace, placeholder, startTrace, tidy } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { variable } from '../ops/basic.js';
import { DType, Tensor, Variable } from '../tensor.js';
import { checkBoolean, checkLayerShape, checkShape, checkTensor } from '../validate.js';
import { Initializer, getInitializer } from './initializers.js';
import { isFloatDType } from '../dtypes.js';
import { castAllFloatTo, castFloatTo } from '../mixed_precision/autocast.js';
import { DTypePolicy, globalPolicy, toPolicy } from '../mixed_precision/policy.js';
import type { PolicyName } from '../mixed_precision/policy.js';

/** A shape whose batch (or other) dimensions may be unknown (null). */
export type Shape = Array<number | null>;

let symbolicCount = 0;

/** A placeholder in a functional graph: a shape and dtype, and the layer that makes it. */
export class SymbolicTensor {
  readonly id = symbolicCount++;
  constructor(
    readonly dtype: DType,
    readonly shape: Shape,
    /** The layer whose output this is. */
    readonly sourceLayer: Layer,
    /** Index of the producing node in sourceLayer.inboundNodes. */
    readonly nodeIndex: number,
    /** Index among that node's outputs. */
    readonly tensorIndex: number,
    readonly name: string,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  toString(): string {
    return `SymbolicTensor(${this.name}, shape ${formatShape(this.shape)}, ${this.dtype})`;
  }
}

/** One application of a layer to symbolic inputs. */
export class Node {
  constructor(
    readonly outboundLayer: Layer,
    readonly inputTensors: SymbolicTensor[],
    readonly outputTensors: SymbolicTensor[],
    /** Extra call arguments given to apply() (passed again at every execution). */
    readonly callArgs: Record<string, unknown>,
    /** Whether apply() received one tensor rather than an array. */
    readonly singleInput: boolean,
  ) {}
  get inboundLayers(): Layer[] {
    return this.inputTensors.map((t) => t.sourceLayer);
  }
}

/** Arguments of call(): `training` switches dropout and batch statistics. */
export interface CallArgs {
  training?: boolean;
  /** @internal set by the model for an output whose softmax is fused into the loss. */
  skipActivation?: boolean;
  [key: string]: unknown;
}

/** Options every layer accepts (tfjs-layers names). */
export interface LayerArgs {
  name?: string;
  trainable?: boolean;
  /** Input shape without the batch dimension (first layer of a model). */
  inputShape?: Shape;
  /** Input shape with the batch dimension. */
  batchInputShape?: Shape;
  batchSize?: number;
  /**
   * The layer's dtype policy (Keras): a policy name ('mixed_bfloat16', 'mixed_float16'), a
   * dtype ('float32', ...) or a DTypePolicy. Default: the global policy
   * (mixedPrecision.setGlobalPolicy), 'float32' unless set.
   */
  dtype?: DType | PolicyName | DTypePolicy;
  /** Keras spelling of inputShape. */
  inputDim?: number;
}

const nameCounts = new Map<string, number>();

/** Keras naming: the first 'conv2d', then 'conv2d_1', 'conv2d_2', ... */
export function uniqueName(prefix: string): string {
  const n = nameCounts.get(prefix) ?? 0;
  nameCounts.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

/** Keras' to_snake_case: 'BatchNormalization' -> 'batch_normalization', 'Conv2D' -> 'conv2d'. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export function formatShape(s: Shape): string {
  return `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
}

/** True for a list of shapes, false for one shape. */
export function isShapeList(s: Shape | Shape[]): s is Shape[] {
  return Array.isArray(s) && s.length > 0 && Array.isArray(s[0]);
}

/** The one shape of a layer's input shape(s), or an error naming the layer. */
export function singleShape(s: Shape | Shape[], layer: string): Shape {
  if (!isShapeList(s)) return s as Shape;
  check(s.length === 1, layer, 'exactly one input', `${s.length} inputs`);
  return s[0];
}

/** The one tensor of inputs, or an error naming the layer. */
export function singleInput<T>(inputs: T | T[], layer: string): T {
  if (!Array.isArray(inputs)) return inputs;
  check(inputs.length === 1, layer, 'exactly one input tensor', `${inputs.length} tensors`);
  return inputs[0];
}

/** Training flag of the enclosing model call, inherited by nested apply() calls. */
let callTraining: boolean | undefined;

/** Base class of every layer, and of user-defined layers. */
export class Layer {
  /** Serialized class name; user layers set their own (and registerLayer() them to load). */
  static className = 'Layer';

  name: string;
  /** Set by build(). */
  built = false;
  /** Shape of the expected input, batch dimension included (from inputShape). */
  batchInputShape?: Shape;
  /** The layer's dtype policy: the dtype it computes in and the dtype of its variables. */
  readonly dtypePolicy: DTypePolicy;
  /**
   * Note [autocast]: whether apply() casts floating inputs to the compute dtype (Keras'
   * autocast). Models leave it to their layers; InputLayer passes its input through.
   */
  protected autocast = true;
  /** @internal applications of this layer to symbolic inputs. */
  inboundNodes: Node[] = [];
  /** @internal nodes that consume this layer's outputs. */
  outboundNodes: Node[] = [];
  /** Whether this layer only works as part of a graph (InputLayer). */
  protected _trainable: boolean;
  private readonly _trainableWeights: Variable[] = [];
  private readonly _nonTrainableWeights: Variable[] = [];
  private _disposed = false;

  constructor(args: LayerArgs = {}) {
    const cls = this.getClassName();
    check(args !== null && typeof args === 'object' && !Array.isArray(args), cls, 'an options object', args);
    this.name = args.name ?? uniqueName(toSnakeCase(cls));
    check(typeof this.name === 'string' && this.name.length > 0, cls, 'a non-empty name', args.name);
    this._trainable = checkBoolean(args.trainable, cls, 'trainable', true);
    // Keras 3 configs spell the dtype as a policy {class_name: 'DTypePolicy', config: {name}}.
    this.dtypePolicy = args.dtype === undefined || args.dtype === null ? globalPolicy() : toPolicy(args.dtype, cls);
    if (args.batchInputShape) this.batchInputShape = checkLayerShape(args.batchInputShape, cls, 'batchInputShape');
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...checkLayerShape(args.inputShape, cls, 'inputShape')];
    else if (args.inputDim !== undefined) this.batchInputShape = [args.batchSize ?? null, args.inputDim];
    if (this.batchInputShape) checkLayerShape(this.batchInputShape, cls, 'batchInputShape');
  }

  /** The dtype of the layer's variables (Keras' layer.dtype): float32 under the mixed policies. */
  get dtype(): DType {
    return this.dtypePolicy.variableDtype;
  }
  /** The dtype the layer computes in: its floating inputs are cast to it, its outputs are in it. */
  get computeDtype(): DType {
    return this.dtypePolicy.computeDtype;
  }
  /** The dtype of the layer's variables. */
  get variableDtype(): DType {
    return this.dtypePolicy.variableDtype;
  }

  /**
   * A variable as the layer computes with it: cast to the compute dtype under a mixed
   * policy (a differentiable cast: the gradient reaches the float32 variable in float32),
   * else the variable itself. Biases and batch-norm parameters are passed in float32: the
   * kernels read them so (docs/mixed-precision.md).
   */
  protected computeValue(v: Tensor): Tensor {
    return castFloatTo(v, this.computeDtype);
  }

  /** The serialized class name: the static className when the class sets its own, else the constructor name. */
  getClassName(): string {
    const ctor = this.constructor as typeof Layer;
    return Object.prototype.hasOwnProperty.call(ctor, 'className') ? ctor.className : ctor.name;
  }

  // ---- lifecycle (override in subclasses)

  /** Creates weights for an input shape (batch dimension first, possibly null). */
  build(_inputShape: Shape | Shape[]): void {
    this.built = true;
  }

  /** Computes outputs from concrete (or traced) tensors. */
  call(inputs: Tensor | Tensor[], _kwargs: CallArgs): Tensor | Tensor[] {
    return inputs;
  }

  /**
   * Output shape for an input shape. The default runs call() symbolically (a trace that
   * records kernels without running them), so user layers need not write one.
   */
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    if (this.call === Layer.prototype.call) return inputShape;
    return inferOutputShape(this, inputShape);
  }

  /** Constructor arguments that recreate this layer (without weights). */
  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: this.dtypePolicy.name };
    if (this.batchInputShape) c.batchInputShape = this.batchInputShape;
    return c;
  }

  /** Creates a layer from getConfig() output (overridable for custom arguments). */
  static fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    return new this(config as never);
  }

  // ---- weights

  /**
   * Creates a weight variable named `<layer>/<name>`, initialized by initializer (a name
   * such as 'heNormal' or an Initializer). Trainable weights are updated by fit().
   */
  addWeight(
    name: string,
    shape: number[],
    dtype: DType = 'float32',
    initializer: string | Initializer = 'glorotUniform',
    trainable = true,
  ): Variable {
    shape = checkShape(shape, `${this.name}.addWeight`, `the shape of '${name}'`);
    const init = getInitializer(initializer, 'glorotUniform', `${this.name}.addWeight`);
    const v = outsideTrace(() => {
      const t = init.apply(shape);
      try {
        return variable(t, trainable && this._trainable, `${this.name}/${name}`, dtype);
      } finally {
        t.dispose();
      }
    });
    (trainable ? this._trainableWeights : this._nonTrainableWeights).push(v);
    return v;
  }

  /** Layers held in this layer's properties (Keras auto-tracking), for nested weights. */
  protected trackedLayers(): Layer[] {
    const out: Layer[] = [];
    for (const [k, v] of Object.entries(this)) {
      if (k === 'inboundNodes' || k === 'outboundNodes') continue;
      if (v instanceof Layer && v !== this) out.push(v);
      else if (Array.isArray(v)) for (const x of v) if (x instanceof Layer && x !== this) out.push(x);
    }
    return [...new Set(out)];
  }

  /** Whether fit() updates this layer's weights. Set it before compile(). */
  get trainable(): boolean {
    return this._trainable;
  }
  set trainable(v: boolean) {
    this._trainable = v;
    for (const w of this._trainableWeights) w.trainable = v;
    for (const l of this.trackedLayers()) l.trainable = v;
  }

  /** Every weight in Keras order: this layer's (trainable, then non-trainable), then nested layers'. */
  get weights(): Variable[] {
    const out: Variable[] = [...this._trainableWeights, ...this._nonTrainableWeights];
    for (const l of this.trackedLayers()) out.push(...l.weights);
    return [...new Set(out)];
  }
  get trainableWeights(): Variable[] {
    if (!this._trainable) return [];
    const out: Variable[] = [...this._trainableWeights];
    for (const l of this.trackedLayers()) out.push(...l.trainableWeights);
    return [...new Set(out)];
  }
  get nonTrainableWeights(): Variable[] {
    if (!this._trainable) return this.weights;
    const out: Variable[] = [...this._nonTrainableWeights];
    for (const l of this.trackedLayers()) out.push(...l.nonTrainableWeights);
    return [...new Set(out)];
  }

  /** Copies of the weights' values, in Keras order. */
  getWeights(trainableOnly = false): Tensor[] {
    const ws = trainableOnly ? this.trainableWeights : this.weights;
    return ws.map((w) => ENGINE.runKernel('Copy', [w], undefined, [{ shape: w.shape.slice(), dtype: w.dtype }])[0]);
  }

  /** Overwrites the weights, in getWeights() order and shapes. */
  setWeights(values: Array<Tensor | Float32Array>): void {
    const ws = this.weights;
    check(Array.isArray(values) && values.length === ws.length, `${this.name}.setWeights`, `${ws.length} weights`, Array.isArray(values) ? `${values.length}` : values);
    ws.forEach((w, i) => {
      const v = values[i];
      if (v instanceof Tensor) {
        if (v.shape.length !== w.shape.length || v.shape.some((d, k) => d !== w.shape[k]))
          throw new InvalidArgumentError(`${this.name}.setWeights: expected weight ${i} ('${w.name}') of shape ${describe(w.shape)} but received ${describe(v.shape)}`);
      }
      w.assign(v);
    });
  }

  /** Number of weight values. */
  countParams(): number {
    return this.weights.reduce((a, w) => a + w.size, 0);
  }

  // ---- application

  /** Builds once, with the first input shape seen. */
  protected maybeBuild(inputShape: Shape | Shape[]): void {
    if (this.built) return;
    this.build(inputShape);
    this.built = true;
  }

  /**
   * Applies the layer. On SymbolicTensors it records a graph node and returns symbolic
   * outputs; on Tensors it runs call(). Options (e.g. {training}) go to call().
   */
  apply(inputs: SymbolicTensor | SymbolicTensor[], kwargs?: CallArgs): SymbolicTensor;
  apply(inputs: Tensor | Tensor[], kwargs?: CallArgs): Tensor;
  apply(inputs: SymbolicTensor | SymbolicTensor[] | Tensor | Tensor[], kwargs: CallArgs = {}): SymbolicTensor | Tensor {
    return this.applyAny(inputs, kwargs) as never;
  }

  /** apply() for layers with several outputs: always returns an array. */
  applyMulti(inputs: SymbolicTensor | SymbolicTensor[], kwargs?: CallArgs): SymbolicTensor[];
  applyMulti(inputs: Tensor | Tensor[], kwargs?: CallArgs): Tensor[];
  applyMulti(inputs: SymbolicTensor | SymbolicTensor[] | Tensor | Tensor[], kwargs: CallArgs = {}): SymbolicTensor[] | Tensor[] {
    const out = this.applyAny(inputs, kwargs);
    return (Array.isArray(out) ? out : [out]) as never;
  }

  private applyAny(inputs: unknown, kwargs: CallArgs): unknown {
    this.checkLive('apply');
    const list = (Array.isArray(inputs) ? inputs : [inputs]) as unknown[];
    check(list.length > 0, this.name, 'at least one input', inputs);
    const nSym = list.filter((x) => x instanceof SymbolicTensor).length;
    if (nSym === list.length) return this.applySymbolic(list as SymbolicTensor[], !Array.isArray(inputs), kwargs);
    if (nSym > 0) throw new InvalidArgumentError(`${this.name}: expected inputs that are all SymbolicTensors or all Tensors but received a mix`);
    list.forEach((x, i) => {
      check(x instanceof Tensor, this.name, 'Tensor or SymbolicTensor inputs', x);
      checkTensor(x, this.name, list.length > 1 ? `inputs[${i}]` : 'input');
    });
    let tensors = list as Tensor[];
    const shapes = tensors.map((t) => t.shape as Shape);
    this.maybeBuild(Array.isArray(inputs) ? shapes : shapes[0]);
    const prev = callTraining;
    const training = kwargs.training ?? callTraining ?? false;
    callTraining = training;
    try {
      // As tfjs: a layer's intermediate tensors are freed when apply() returns.
      // Note [autocast] on the way in; Note [outputs in the compute dtype] on the way out: an
      // op that computed in float32 inside the layer (global pooling's reduction) is cast back.
      if (!this.autocast) return tidy(() => this.call(Array.isArray(inputs) ? tensors : tensors[0], { ...kwargs, training }));
      return tidy(() => {
        tensors = castAllFloatTo(tensors, this.computeDtype);
        return castAllFloatTo(this.call(Array.isArray(inputs) ? tensors : tensors[0], { ...kwargs, training }), this.computeDtype);
      });
    } finally {
      callTraining = prev;
    }
  }

  private applySymbolic(list: SymbolicTensor[], single: boolean, kwargs: CallArgs): SymbolicTensor | SymbolicTensor[] {
    const shapes = list.map((t) => t.shape.slice());
    const inShape = single ? shapes[0] : shapes;
    this.maybeBuild(inShape);
    const outShape = this.computeOutputShape(inShape);
    const multi = isShapeList(outShape);
    const outShapes = multi ? outShape : [outShape as Shape];
    const nodeIndex = this.inboundNodes.length;
    const outs = outShapes.map(
      (s, i) => new SymbolicTensor(this.outputDType(list), s.slice(), this, nodeIndex, i, `${this.name}/out${outShapes.length > 1 ? `_${i}` : ''}`),
    );
    const { training: _t, ...callArgs } = kwargs;
    const node = new Node(this, list, outs, callArgs, single);
    this.inboundNodes.push(node);
    for (const t of list) t.sourceLayer.outboundNodes.push(node);
    return multi ? outs : outs[0];
  }

  /** dtype of symbolic outputs: the compute dtype when floating, else float32 (unless overridden). */
  protected outputDType(_inputs: SymbolicTensor[]): DType {
    return isFloatDType(this.computeDtype) ? this.computeDtype : 'float32';
  }

  /** Output shape of the first application (tfjs layer.outputShape). */
  get outputShape(): Shape | Shape[] {
    const n = this.inboundNodes[0];
    if (!n) throw new InvalidArgumentError(`${this.name}.outputShape: expected a layer applied to a SymbolicTensor but received an unconnected layer`);
    const s = n.outputTensors.map((t) => t.shape);
    return s.length === 1 ? s[0] : s;
  }
  /** Input shape of the first application. */
  get inputShape(): Shape | Shape[] {
    const n = this.inboundNodes[0];
    if (!n) throw new InvalidArgumentError(`${this.name}.inputShape: expected a layer applied to a SymbolicTensor but received an unconnected layer`);
    const s = n.inputTensors.map((t) => t.shape);
    return s.length === 1 ? s[0] : s;
  }

  /**
   * @internal the activation this layer applies last and leaves out when called with
   * `skipActivation`, or null if it has none to leave out. Training fuses that activation
   * into the loss (Note [fused logits] in models/compile_args.ts).
   */
  skippableActivation(): string | null {
    return null;
  }

  /** Frees the weights (and nested layers' weights). */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    for (const w of [...this._trainableWeights, ...this._nonTrainableWeights]) w.dispose();
    for (const l of this.trackedLayers()) l.dispose();
  }
  get isDisposed(): boolean {
    return this._disposed;
  }
  protected checkLive(op: string): void {
    if (this._disposed) throw new InvalidArgumentError(`${this.name}.${op}: expected a live layer but received a disposed one`);
  }
}

/** Runs layer.call() on traced placeholders (unknown dims as 1) to learn its output shapes. */
export function inferOutputShape(layer: Layer, inputShape: Shape | Shape[]): Shape | Shape[] {
  const single = !isShapeList(inputShape);
  const shapes = single ? [inputShape as Shape] : (inputShape as Shape[]);
  const batchUnknown = shapes.some((s) => s[0] === null);
  if (ENGINE.trace)
    throw new InvalidArgumentError(`${layer.name}.computeOutputShape: expected no compile in progress but received a call while tracing (write computeOutputShape for this layer)`);
  startTrace(ENGINE.backend);
  ENGINE.startScope();
  try {
    const phs = shapes.map((s) => placeholder(s.map((d) => (d === null ? 1 : d)), 'float32'));
    const out = layer.call(single ? phs[0] : phs, { training: false });
    const outs = Array.isArray(out) ? out : [out];
    const res = outs.map((t) => (t.shape as Shape).map((d, i) => (i === 0 && batchUnknown ? null : d)));
    return Array.isArray(out) ? res : res[0];
  } finally {
    endTrace();
    ENGINE.endScope(undefined);
  }
}

/**
 * Runs fn with tracing suspended, for state a layer creates in build().
 * Note [weights while tracing]: a layer first applied inside a shape-inference trace
 * builds there; its weights are real buffers, so the trace is suspended meanwhile.
 */
export function outsideTrace<T>(fn: () => T): T {
  const trace = ENGINE.trace;
  ENGINE.trace = null;
  try {
    return fn();
  } finally {
    ENGINE.trace = trace;
  }
}

/** Writes value into v in place (recorded as a plan step while tracing). */
export function assignVariable(v: Variable, value: Tensor): void {
  ENGINE.runKernel('Assign', [v, value], undefined, []);
}

/** v = v * momentum + value * (1 - momentum) in place, one kernel (the result of
 * assignVariable(v, add(mul(v, momentum), mul(value, 1 - momentum))), bit for bit). */
export function movingAverageUpdate(v: Variable, value: Tensor, momentum: number): void {
  ENGINE.runKernel('MovingAverageUpdate', [v, value], { momentum }, []);
}
