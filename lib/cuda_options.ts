// Options of the cuda backend: TF32 math (on by default on Ampere and later, as in PyTorch's
// cuDNN convolutions and TensorFlow), cuDNN algorithm autotuning, and which cuDNN API runs
// convolutions. The environment sets the defaults (CUDNN_NODE_TF32=0 forces strict fp32,
// CUDNN_NODE_AUTOTUNE=1 turns autotuning on, CUDNN_NODE_CONV_API=graph picks the graph API);
// setCudaOptions() changes them at run time. On a machine without the cuda backend they
// are kept and have no effect.
import { InvalidArgumentError } from './errors.js';
import * as native from './native.js';

/** The cuda backend's switches (see setCudaOptions). */
export interface CudaOptions {
  /**
   * Let cuDNN convolutions and cuBLAS matmuls use TF32 tensor cores (10-bit mantissa
   * products, fp32 accumulation: about 1e-3 relative error, several times faster). Default
   * true; false forces strict fp32.
   */
  allowTF32: boolean;
  /**
   * Benchmark cuDNN's convolution algorithms the first time each shape is seen and keep the
   * fastest (cudnnFind*), instead of taking the heuristics' first choice. Default false.
   */
  autotune: boolean;
  /**
   * cuDNN API for plain (not depthwise) convolutions: 'legacy' (cudnnConvolutionForward and
   * its heuristics, the default) or 'graph' (the graph API's engines, heuristics mode A, as
   * PyTorch's cuDNN frontend). Both compute the same convolution; they differ in the engines
   * they can choose from, so in speed per shape.
   */
  convApi: ConvApi;
}

/** The cuDNN API convolutions run on (see CudaOptions.convApi). */
export type ConvApi = 'legacy' | 'graph';
const CONV_APIS: readonly ConvApi[] = ['legacy', 'graph'];

function flag(name: string, fallback: boolean): boolean {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (v === '1' || v.toLowerCase() === 'true') return true;
  if (v === '0' || v.toLowerCase() === 'false') return false;
  throw new InvalidArgumentError(`${name}: expected 0, 1, true or false but received '${v}'`);
}

function convApiFromEnv(): ConvApi {
  const v = process.env.CUDNN_NODE_CONV_API;
  if (v === undefined || v === '') return 'legacy';
  if (!(CONV_APIS as readonly string[]).includes(v))
    throw new InvalidArgumentError(`CUDNN_NODE_CONV_API: expected 'legacy' or 'graph' but received '${v}'`);
  return v as ConvApi;
}

const current: CudaOptions = {
  allowTF32: flag('CUDNN_NODE_TF32', true),
  autotune: flag('CUDNN_NODE_AUTOTUNE', false),
  convApi: convApiFromEnv(),
};
native.setCudaOptions(current);

/** The cuda backend's current options. */
export function getCudaOptions(): CudaOptions {
  return { ...current };
}

/**
 * Changes the cuda backend's options; the ones not given keep their value. Applies to the
 * next kernels (a compiled plan picks up the change at its next run). Returns the previous
 * options, so a caller can restore them.
 */
export function setCudaOptions(options: Partial<CudaOptions>): CudaOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError(`setCudaOptions: expected an object {allowTF32?, autotune?, convApi?} but received ${String(options)}`);
  for (const [k, v] of Object.entries(options)) {
    if (k === 'convApi') {
      if (!(CONV_APIS as readonly unknown[]).includes(v))
        throw new InvalidArgumentError(`setCudaOptions: expected convApi 'legacy' or 'graph' but received ${JSON.stringify(v)}`);
      continue;
    }
    if (k !== 'allowTF32' && k !== 'autotune')
      throw new InvalidArgumentError(`setCudaOptions: expected the options allowTF32, autotune or convApi but received '${k}'`);
    if (typeof v !== 'boolean') throw new InvalidArgumentError(`setCudaOptions: expected ${k} as a boolean but received ${JSON.stringify(v)}`);
  }
  const previous = getCudaOptions();
  Object.assign(current, options);
  native.setCudaOptions(current);
  return previous;
}
