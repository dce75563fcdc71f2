// ZeroPadding2D (NHWC): pads height and width with zeros, as Keras' layer of that name
// (ResNet-50 names two of them conv1_pad and pool1_pad, so its layer list needs it).
import { InvalidArgumentError } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { Layer, LayerArgs, Shape, singleInput, singleShape } from './base.js';
import { checkInputRank } from './core.js';

/** Options of ZeroPadding2D. */
export interface ZeroPadding2DLayerArgs extends LayerArgs {
  /** n (all sides), [h, w] (symmetric) or [[top, bottom], [left, right]]; default 1. */
  padding?: number | [number, number] | [[number, number], [number, number]];
  dataFormat?: 'channelsLast';
}

function normPadding(p: ZeroPadding2DLayerArgs['padding']): [[number, number], [number, number]] {
  const ok = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (p === undefined) return [[1, 1], [1, 1]];
  if (ok(p)) return [[p as number, p as number], [p as number, p as number]];
  if (Array.isArray(p) && p.length === 2 && p.every(ok)) {
    const [h, w] = p as [number, number];
    return [[h, h], [w, w]];
  }
  if (Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(ok)))
    return [[...(p[0] as [number, number])], [...(p[1] as [number, number])]] as [[number, number], [number, number]];
  throw new InvalidArgumentError(
    `zeroPadding2d: expected padding as a non-negative integer, [h, w] or [[top, bottom], [left, right]] but received ${JSON.stringify(p)}`,
  );
}

/** Adds rows and columns of zeros around each image: [b, h, w, c] -> [b, h+t+b, w+l+r, c]. */
export class ZeroPadding2D extends Layer {
  static className = 'ZeroPadding2D';
  readonly padding: [[number, number], [number, number]];

  constructor(args: ZeroPadding2DLayerArgs = {}) {
    super(args);
    this.padding = normPadding(args.padding);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast')
      throw new InvalidArgumentError(`zeroPadding2d: expected dataFormat 'channelsLast' (NHWC) but received '${args.dataFormat}'`);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    checkInputRank(s, 4, this.name, 'zeroPadding2d', 'NHWC');
    const [[t, b], [l, r]] = this.padding;
    return [s[0], s[1] === null ? null : s[1] + t + b, s[2] === null ? null : s[2] + l + r, s[3]];
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    const [[t, b], [l, r]] = this.padding;
    return ops.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding, dataFormat: 'channelsLast' };
  }
}
