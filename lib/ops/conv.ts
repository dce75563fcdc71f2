// Convolutions over NHWC images with HWIO filters: conv2d, depthwiseConv2d (HWCM
// filters), separableConv2d, conv2dTranspose, and the fused conv2d / depthwiseConv2d
// (bias + activation) behind tf.fused. Gradients use the native backward-data and
// backward-filter kernels; a fused ReLU's gradient goes through ReluGrad on the output.
// The gradients are themselves differentiable (convBackpropInput/Filter) for higher-order
// gradients.
import { ENGINE } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { defineOp } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { Activation, applyActivation, checkActivation } from './activations.js';
import { add, greater, mul, reshape, sum } from './basic.js';
import { transpose } from './transforms.js';
import { PadAttrs, PadSpec, TensorLike, floatArg, opScope, pairOrNHWC, parsePad, windowOutputShape } from './util.js';

type Pair = number | [number, number];
/** Image layout of conv inputs: 'NHWC' (default, native) or 'NCHW' (transposed to NHWC and back). */
export type DataFormat = 'NHWC' | 'NCHW';

interface ConvSpec {
  strides: [number, number];
  dilations: [number, number];
  pad: PadAttrs;
}

function convAttrs(s: ConvSpec): Record<string, unknown> {
  return { strides: s.strides, dilations: s.dilations, pad: s.pad.pad, pads: s.pad.pads };
}

/** Adds a batch axis to a rank-3 image and returns a function that removes it again. */
function batched(x: Tensor): [Tensor, (y: Tensor) => Tensor] {
  if (x.rank === 4) return [x, (y) => y];
  return [reshape(x, [1, ...x.shape]), (y) => reshape(y, y.shape.slice(1))];
}

function checkDataFormat(dataFormat: unknown, op: string): DataFormat {
  check(dataFormat === 'NHWC' || dataFormat === 'NCHW', op, "dataFormat 'NHWC' or 'NCHW'", dataFormat);
  return dataFormat;
}

/** Runs an NHWC body on NCHW input by transposing in and out (the backends are NHWC). */
function withLayout(x: Tensor, dataFormat: DataFormat, body: (nhwc: Tensor) => Tensor): Tensor {
  if (dataFormat === 'NHWC') return body(x);
  const nhwc = transpose(x, x.rank === 4 ? [0, 2, 3, 1] : [1, 2, 0]);
  const y = body(nhwc);
  return transpose(y, y.rank === 4 ? [0, 3, 1, 2] : [2, 0, 1]);
}

function parseConvSpec(strides: unknown, pad: unknown, dilations: unknown, op: string): ConvSpec {
  return {
    strides: pairOrNHWC(strides, 'strides', op),
    dilations: pairOrNHWC(dilations ?? 1, 'dilations', op),
    pad: parsePad(pad, op),
  };
}

/**
 * The convolution core on rank-4 NHWC input: y = act(conv(x, filter) + bias) where act is
 * relu (fused natively) or identity. Records the gradient for x, filter and bias.
 */
function convCore(x: Tensor, filter: Tensor, bias: Tensor | null, relu: boolean, spec: ConvSpec, depthwise: boolean, op: string): Tensor {
  const inC = x.shape[3];
  const [fh, fw, fin, fout] = filter.shape;
  if (fin !== inC)
    throw new InvalidArgumentError(
      `${op}: expected filter with ${inC} input channels (x's last axis) at axis 2 but received filter shape ${describe(filter.shape)}`,
    );
  const outC = depthwise ? inC * fout : fout;
  const outShape = windowOutputShape(x.shape, [fh, fw], outC, spec.strides, spec.dilations, spec.pad, op);
  if (bias) check(bias.rank === 1 && bias.shape[0] === outC, op, `bias of shape [${outC}]`, bias.shape);
  const attrs = convAttrs(spec);
  const fwd = depthwise ? 'DepthwiseConv2D' : 'Conv2D';
  const inputs: [Tensor, Tensor] | [Tensor, Tensor, Tensor] = bias ? [x, filter, bias] : [x, filter];
  return defineOp(
    inputs,
    () => ENGINE.runKernel(fwd, inputs, { ...attrs, relu }, [{ shape: outShape, dtype: 'float32' }]),
    ([dy], [y], needed) => {
      if (ENGINE.recording) {
        // A tape records this backprop (a higher-order gradient): the same gradient as ops
        // that have gradients of their own (Note [higher-order gradients]).
        const g = relu ? mul(dy, greater(y, 0)) : dy;
        const dx = needed[0] ? convBackpropInput(g, filter, x.shape, spec, depthwise) : null;
        const dw = convBackpropFilter(x, g, filter.shape, spec, depthwise);
        return bias ? [dx, dw, sum(g, [0, 1, 2])] : [dx, dw];
      }
      const g = relu ? ENGINE.runKernel('ReluGrad', [dy, y], undefined, [{ shape: y.shape, dtype: 'float32' }])[0] : dy;
      // The first layer's dx is rarely needed and is the slowest direction: skip it.
      const dx = !needed[0] ? null : ENGINE.runKernel(`${fwd}BackpropInput`, [g, filter], { ...attrs, inputShape: x.shape }, [{ shape: x.shape, dtype: 'float32' }])[0];
      const fspec = { shape: filter.shape, dtype: 'float32' as const };
      if (depthwise) {
        const [dw] = ENGINE.runKernel(`${fwd}BackpropFilter`, [x, g], { ...attrs, filterShape: filter.shape }, [fspec]);
        return bias ? [dx, dw, sum(g, [0, 1, 2])] : [dx, dw];
      }
      const outs = ENGINE.runKernel(`${fwd}BackpropFilter`, [x, g], { ...attrs, filterShape: filter.shape, bias: !!bias }, bias ? [fspec, { shape: [outC], dtype: 'float32' }] : [fspec]);
      return bias ? [dx, outs[0], outs[1]] : [dx, outs[0]];
    },
    { name: fwd, differentiableGrad: true },
  )[0];
}

/**
 * The input gradient dx = Conv2DBackpropInput(dy, filter) (or the depthwise one) as an op
 * with its own gradient: it is linear in both, the adjoint of the convolution in x, so
 * d<g, dx>/d(dy) = conv(g, filter) and d<g, dx>/d(filter) = BackpropFilter(g, dy).
 */
function convBackpropInput(dy: Tensor, filter: Tensor, xShape: number[], spec: ConvSpec, depthwise = false): Tensor {
  const kernel = depthwise ? 'DepthwiseConv2DBackpropInput' : 'Conv2DBackpropInput';
  return defineOp(
    [dy, filter],
    () => ENGINE.runKernel(kernel, [dy, filter], { ...convAttrs(spec), inputShape: xShape }, [{ shape: xShape, dtype: 'float32' }]),
    ([g]) => [convCore(g, filter, null, false, spec, depthwise, kernel), convBackpropFilter(g, dy, filter.shape, spec, depthwise)],
    { differentiableGrad: true },
  )[0];
}

/**
 * The filter gradient dw = Conv2DBackpropFilter(x, dy) (or the depthwise one) as an op with
 * its own gradient: <G, dw> = <conv(x, G), dy>, so d/dx = BackpropInput(dy, G) and
 * d/d(dy) = conv(x, G).
 */
function convBackpropFilter(x: Tensor, dy: Tensor, filterShape: number[], spec: ConvSpec, depthwise = false): Tensor {
  const kernel = depthwise ? 'DepthwiseConv2DBackpropFilter' : 'Conv2DBackpropFilter';
  const attrs = depthwise ? { ...convAttrs(spec), filterShape } : { ...convAttrs(spec), filterShape, bias: false };
  return defineOp(
    [x, dy],
    () => ENGINE.runKernel(kernel, [x, dy], attrs, [{ shape: filterShape, dtype: 'float32' }]),
    ([g]) => [convBackpropInput(dy, g, x.shape, spec, depthwise), convCore(x, g, null, false, spec, depthwise, kernel)],
    { differentiableGrad: true },
  )[0];
}

function convEntry(
  op: string,
  depthwise: boolean,
  x: TensorLike,
  filter: TensorLike,
  strides: unknown,
  pad: unknown,
  dataFormat: unknown,
  dilations: unknown,
  bias: TensorLike | undefined,
  activation: Activation,
  preluActivationWeights?: TensorLike,
  leakyreluAlpha?: number,
): Tensor {
  const $x = floatArg(x, 'x', op, [3, 4], 'NHWC');
  const $f = floatArg(filter, 'filter', op, 4, depthwise ? 'HWCM' : 'HWIO');
  const fmt = checkDataFormat(dataFormat, op);
  const spec = parseConvSpec(strides, pad, dilations, op);
  const $b = bias === undefined || bias === null ? null : floatArg(bias, 'bias', op);
  return withLayout($x, fmt, (nhwc) => {
    const [x4, unbatch] = batched(nhwc);
    const outC = depthwise ? x4.shape[3] * $f.shape[3] : $f.shape[3];
    // A bias of shape [outC] is fused natively; any other broadcastable bias is added.
    const nativeBias = $b && $b.rank === 1 && $b.shape[0] === outC ? $b : null;
    const fusedRelu = activation === 'relu';
    let y = convCore(x4, $f, nativeBias, fusedRelu, spec, depthwise, op);
    if ($b && !nativeBias) y = add(y, $b);
    if (!fusedRelu) y = applyActivation(y, activation, preluActivationWeights, leakyreluAlpha);
    return unbatch(y);
  });
}

/** tf.conv2d: 2D convolution of NHWC x (rank 3 or 4) with an HWIO filter. pad is 'same',
 * 'valid', a number (all sides) or [[0,0],[top,bottom],[left,right],[0,0]]. */
export function conv2d(x: TensorLike, filter: TensorLike, strides: Pair, pad: PadSpec, dataFormat: DataFormat = 'NHWC', dilations: Pair = 1): Tensor {
  return opScope(() => {
    return convEntry('conv2d', false, x, filter, strides, pad, dataFormat, dilations, undefined, 'linear');
  });
}

/** tf.depthwiseConv2d: per-channel convolution with an HWCM filter (M = channel multiplier). */
export function depthwiseConv2d(x: TensorLike, filter: TensorLike, strides: Pair, pad: PadSpec, dataFormat: DataFormat = 'NHWC', dilations: Pair = 1): Tensor {
  return opScope(() => {
    return convEntry('depthwiseConv2d', true, x, filter, strides, pad, dataFormat, dilations, undefined, 'linear');
  });
}

/** tf.separableConv2d: depthwiseConv2d followed by a 1x1 (pointwise) conv2d. */
export function separableConv2d(
  x: TensorLike,
  depthwiseFilter: TensorLike,
  pointwiseFilter: TensorLike,
  strides: Pair,
  pad: 'same' | 'valid',
  dilation: Pair = 1,
  dataFormat: DataFormat = 'NHWC',
): Tensor {
  return opScope(() => {
    const op = 'separableConv2d';
    const $p = floatArg(pointwiseFilter, 'pointwiseFilter', op, 4, 'HWIO');
    const $d = floatArg(depthwiseFilter, 'depthwiseFilter', op, 4, 'HWCM');
    check($p.shape[0] === 1 && $p.shape[1] === 1, op, 'pointwiseFilter of shape [1, 1, inChannels * multiplier, outChannels]', $p.shape);
    check($p.shape[2] === $d.shape[2] * $d.shape[3], op, `pointwiseFilter with ${$d.shape[2] * $d.shape[3]} input channels (depthwise in * multiplier) at axis 2`, $p.shape);
    const dw = convEntry(op, true, x, $d, strides, pad, dataFormat, dilation, undefined, 'linear');
    return convEntry(op, false, dw, $p, 1, 'valid', dataFormat, 1, undefined, 'linear');
  });
}

/** tf.conv2dTranspose: the gradient of conv2d with respect to its input, as a layer.
 * filter is [h, w, outDepth, inDepth]; outputShape is [batch, h, w, outDepth] (or rank 3). */
export function conv2dTranspose(x: TensorLike, filter: TensorLike, outputShape: number[], strides: Pair, pad: 'same' | 'valid' | number): Tensor {
  return opScope(() => {
    const op = 'conv2dTranspose';
    const $x = floatArg(x, 'x', op, [3, 4], 'NHWC');
    const $f = floatArg(filter, 'filter', op, 4, 'HW[out][in]');
    check(Array.isArray(outputShape) && outputShape.length === $x.rank && outputShape.every((d) => Number.isInteger(d) && d > 0), op, `outputShape of ${$x.rank} positive integers`, outputShape);
    const spec = parseConvSpec(strides, pad, 1, op);
    const [x4, unbatch] = batched($x);
    const out4 = outputShape.length === 4 ? outputShape.slice() : [1, ...outputShape];
    check(out4[0] === x4.shape[0], op, `outputShape with batch ${x4.shape[0]}`, outputShape);
    check($f.shape[3] === x4.shape[3], op, `filter with ${x4.shape[3]} input channels (x's last axis) at axis 3`, $f.shape);
    check($f.shape[2] === out4[3], op, `filter with outputShape's ${out4[3]} channels at axis 2`, $f.shape);
    // The forward convolution that maps outputShape to x's shape must exist.
    const fwdShape = windowOutputShape(out4, [$f.shape[0], $f.shape[1]], $f.shape[3], spec.strides, spec.dilations, spec.pad, op);
    check(fwdShape.every((d, i) => d === x4.shape[i]), op, `x of shape ${describe(fwdShape)} for outputShape ${describe(outputShape)}`, x4.shape);
    return unbatch(convBackpropInput(x4, $f, out4, spec));
  });
}

/** Arguments of fused.conv2d / fused.depthwiseConv2d (tf.fused.conv2d's object form). */
export interface FusedConv2DArgs {
  /** Input, rank 3 or 4, NHWC by default. */
  x: TensorLike;
  /** HWIO filter (HWCM for depthwise). */
  filter: TensorLike;
  /** n or [sh, sw]. */
  strides: Pair;
  /** 'same', 'valid', a number (all sides) or [[0,0],[top,bottom],[left,right],[0,0]]. */
  pad: PadSpec;
  /** Default 'NHWC'. */
  dataFormat?: DataFormat;
  /** n or [dh, dw]; default 1. */
  dilations?: Pair;
  /** Added to the output; a [outChannels] bias runs inside the kernel, others are broadcast. */
  bias?: TensorLike;
  /** Default 'linear'; 'relu' runs inside the kernel. */
  activation?: Activation;
  /** The alpha tensor for activation 'prelu'. */
  preluActivationWeights?: TensorLike;
  /** The slope for activation 'leakyrelu' (default 0.2). */
  leakyreluAlpha?: number;
}

function fusedEntry(op: string, depthwise: boolean, args: FusedConv2DArgs): Tensor {
  check(args && typeof args === 'object', op, 'an object {x, filter, strides, pad, bias?, activation?}', args);
  const activation = checkActivation(args.activation ?? 'linear', op);
  return convEntry(op, depthwise, args.x, args.filter, args.strides, args.pad, args.dataFormat ?? 'NHWC', args.dilations ?? 1, args.bias, activation, args.preluActivationWeights, args.leakyreluAlpha);
}

/** tf.fused.conv2d: conv2d + bias + activation; bias and ReLU run inside the native kernel. */
export function fusedConv2d(args: FusedConv2DArgs): Tensor {
  return opScope(() => {
    return fusedEntry('fused.conv2d', false, args);
  });
}

/** tf.fused.depthwiseConv2d: depthwiseConv2d + bias + activation. */
export function fusedDepthwiseConv2d(args: FusedConv2DArgs): Tensor {
  return opScope(() => {
    return fusedEntry('fused.depthwiseConv2d', true, args);
  });
}
