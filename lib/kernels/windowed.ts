// Typed internal wrappers of the windowed kernels one direction at a time (convolution
// forward / backprop-input / backprop-filter, pooling and its gradient), for benchmarks and
// tests that time or check a single kernel without the op's gradient bookkeeping. Output
// shapes come from the same windowOutputShape the ops use; the attributes are typed by
// lib/kernels/kernel_names.ts.
import { ENGINE } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { windowOutputShape, type PadAttrs } from '../ops/util.js';

/** A convolution's window: strides, dilations (default 1) and padding. */
export interface ConvWindow extends PadAttrs {
  strides: [number, number];
  dilations?: [number, number];
}

/** A pooling window ('same' | 'valid'). */
export interface PoolWindow {
  poolSize: [number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
}

const f32 = (shape: readonly number[]) => ({ shape: shape.slice(), dtype: 'float32' as const });
const convAttrs = (w: ConvWindow) => ({ strides: w.strides, dilations: w.dilations ?? [1, 1], pad: w.pad, pads: w.pads });

/** Conv2D / DepthwiseConv2D(x, filter){window, relu}: y. */
export function convForward(x: Tensor, filter: Tensor, w: ConvWindow, o: { depthwise?: boolean; relu?: boolean } = {}): Tensor {
  const [fh, fw, , fout] = filter.shape;
  const outC = o.depthwise ? x.shape[3] * fout : fout;
  const out = windowOutputShape(x.shape, [fh, fw], outC, w.strides, w.dilations ?? [1, 1], w, o.depthwise ? 'DepthwiseConv2D' : 'Conv2D');
  return ENGINE.runKernel(o.depthwise ? 'DepthwiseConv2D' : 'Conv2D', [x, filter], { ...convAttrs(w), relu: !!o.relu }, [f32(out)])[0];
}

/** Conv2DBackpropInput / DepthwiseConv2DBackpropInput(dy, filter){window, inputShape}: dx. */
export function convBackpropInput(dy: Tensor, filter: Tensor, inputShape: number[], w: ConvWindow, depthwise = false): Tensor {
  const kernel = depthwise ? 'DepthwiseConv2DBackpropInput' : 'Conv2DBackpropInput';
  return ENGINE.runKernel(kernel, [dy, filter], { ...convAttrs(w), inputShape }, [f32(inputShape)])[0];
}

/** Conv2DBackpropFilter / DepthwiseConv2DBackpropFilter(x, dy){window, filterShape}: dfilter. */
export function convBackpropFilter(x: Tensor, dy: Tensor, filterShape: number[], w: ConvWindow, depthwise = false): Tensor {
  const kernel = depthwise ? 'DepthwiseConv2DBackpropFilter' : 'Conv2DBackpropFilter';
  return ENGINE.runKernel(kernel, [x, dy], { ...convAttrs(w), filterShape }, [f32(filterShape)])[0];
}

/** MaxPool / AvgPool(x){window}: y. */
export function poolForward(kind: 'MaxPool' | 'AvgPool', x: Tensor, w: PoolWindow): Tensor {
  const out = windowOutputShape(x.shape, w.poolSize, x.shape[3], w.strides, [1, 1], { pad: w.pad }, kind);
  return ENGINE.runKernel(kind, [x], w, [f32(out)])[0];
}

/** MaxPoolGrad / AvgPoolGrad(dy, x){window}: dx. */
export function poolGrad(kind: 'MaxPoolGrad' | 'AvgPoolGrad', dy: Tensor, x: Tensor, w: PoolWindow): Tensor {
  return ENGINE.runKernel(kind, [dy, x], w, [f32(x.shape)])[0];
}
