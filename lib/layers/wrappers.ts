// Layer wrappers: TimeDistributed applies one layer to every timestep of a sequence.
import { InvalidArgumentError, check } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { CallArgs, Layer, LayerArgs, Shape, formatShape, isShapeList, singleInput, singleShape } from './base.js';
import { deserializeLayer, serializeLayer } from './serialization.js';

/** Arguments of TimeDistributed / layers.timeDistributed() (tfjs layers.timeDistributed). */
export interface TimeDistributedLayerArgs extends LayerArgs {
  /** The layer applied to each timestep (its input is one step: [batch, ...rest]). */
  layer: Layer;
}

/**
 * Applies `layer` to every timestep: [b, t, ...rest] -> [b, t, ...layer's output without batch].
 * The wrapped layer's weights are shared across timesteps and listed as this layer's weights.
 */
export class TimeDistributed extends Layer {
  static className = 'TimeDistributed';
  readonly layer: Layer;

  constructor(args: TimeDistributedLayerArgs) {
    super(args);
    check(args && args.layer instanceof Layer, 'timeDistributed', 'layer as a Layer', args?.layer);
    this.layer = args.layer;
  }

  private stepShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    if (s.length < 3)
      throw new InvalidArgumentError(`timeDistributed: expected an input of rank >= 3 ([batch, time, ...]) but received shape ${formatShape(s)} (layer '${this.name}')`);
    return [s[0], ...s.slice(2)];
  }

  build(inputShape: Shape | Shape[]): void {
    const step = this.stepShape(inputShape);
    if (!this.layer.built) {
      this.layer.build(step);
      this.layer.built = true;
    }
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    const out = this.layer.computeOutputShape(this.stepShape(s));
    if (isShapeList(out)) throw new InvalidArgumentError(`timeDistributed: expected a wrapped layer with one output but '${this.layer.name}' has ${out.length}`);
    return [out[0], s[1], ...out.slice(1)];
  }

  /**
   * Note [time distributed by reshape]: the timesteps are folded into the batch ([b * t, ...])
   * and the wrapped layer runs once, as Keras does, rather than once per step as tfjs does.
   * Per-sample layers (dense, conv2d, activations, dropout's rate) give the same results
   * either way; a layer that pools batch statistics (batchNormalization in training) sees
   * all steps together.
   */
  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    this.stepShape(x.shape);
    const [b, t, ...rest] = x.shape;
    const y = this.layer.apply(ops.reshape(x, [b * t, ...rest]), { training: kwargs.training });
    return ops.reshape(y, [b, t, ...y.shape.slice(1)]);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: serializeLayer(this.layer) };
  }

  static fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    const spec = config.layer as { className: string; config: Record<string, unknown> };
    check(spec && typeof spec === 'object' && typeof spec.className === 'string', 'timeDistributed', 'a config with layer {className, config}', config.layer);
    return new TimeDistributed({ ...(config as object), layer: deserializeLayer(spec) } as TimeDistributedLayerArgs) as unknown as T;
  }
}
