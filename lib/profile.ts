// profile(fn): runs fn with the native kernel profiler on (tfjs tf.profile) and reports every
// kernel it ran, eager or as a step of a compiled plan (fit, evaluate, predict), with its
// shapes, its host (launch) time and its backend's own time, plus per-kernel totals.
// How times are taken: Note [kernel profiling] in native/runtime/profiler.h.
import { memory } from './engine.js';
import { InvalidArgumentError, describe } from './errors.js';
import * as native from './native.js';

/** One kernel run while profiling. */
export interface KernelProfile {
  /** Native kernel name, e.g. 'Conv2D', 'Conv2DBackpropFilter', 'FusedBatchNorm'. */
  name: string;
  /** Backend it ran on ('cpu' or 'cuda'). */
  backend: string;
  /** Milliseconds the calling thread spent issuing it (on cuda: the launch). */
  hostMs: number;
  /** Milliseconds on the backend's own clock (on cuda: CUDA events around it on the stream). */
  kernelTimeMs: number;
  inputShapes: number[][];
  outputShapes: number[][];
  /** The implementation it ran, where the kernel says (tfjs' extraInfo): the oneDNN
   * primitive on cpu (e.g. 'oneDNN brg_conv_fwd:avx512_core'), the cuDNN algorithm or
   * graph-API engine on cuda; '' for our own kernels. */
  extraInfo: string;
}

/** All runs of one kernel name, busiest first in ProfileInfo.summary. */
export interface KernelSummary {
  name: string;
  calls: number;
  hostMs: number;
  kernelTimeMs: number;
  /** This kernel's part of the summed kernelTimeMs of every kernel, between 0 and 1. */
  share: number;
}

/** What profile() returns. */
export interface ProfileInfo<T> {
  /** What fn returned (awaited). */
  result: T;
  /** Milliseconds from the start of fn to the end of profiling (every backend synchronized). */
  wallMs: number;
  /** Every kernel in the order it ran (at most 2^20; see dropped). */
  kernels: KernelProfile[];
  /** The distinct kernel names, in first-run order. */
  kernelNames: string[];
  /** Per kernel name, counting every run, by kernelTimeMs descending. */
  summary: KernelSummary[];
  /** Kernel runs counted in summary but not listed in kernels (beyond 2^20). */
  dropped: number;
  /** Tensors created and not disposed by fn. */
  newTensors: number;
  /** Bytes the current backend holds after fn minus before. */
  newBytes: number;
}

interface NativeReport {
  kernels: Array<{ name: string; backend: string; hostMs: number; deviceMs: number; inputShapes: number[][]; outputShapes: number[][]; extraInfo: string }>;
  totals: Array<{ name: string; calls: number; hostMs: number; deviceMs: number }>;
  dropped: number;
}

/**
 * Runs fn (sync or async) with kernel profiling on and returns its result with the kernels
 * it ran. One profile at a time: a nested call throws InvalidArgumentError. Profiling stops
 * when fn throws, and the error is re-thrown.
 */
export async function profile<T>(fn: () => T | Promise<T>): Promise<ProfileInfo<T>> {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`profile: expected fn to be a function but received ${describe(fn)}`);
  const before = memory();
  native.profilerStart();
  const t0 = performance.now();
  let result: T;
  let report: NativeReport;
  try {
    result = await fn();
  } finally {
    report = native.profilerStop() as NativeReport;
  }
  const wallMs = performance.now() - t0;
  const after = memory();
  const kernels = report.kernels.map((k) => ({
    name: k.name,
    backend: k.backend,
    hostMs: k.hostMs,
    kernelTimeMs: k.deviceMs,
    inputShapes: k.inputShapes,
    outputShapes: k.outputShapes,
    extraInfo: k.extraInfo,
  }));
  const total = report.totals.reduce((s, t) => s + t.deviceMs, 0);
  const summary = report.totals
    .map((t) => ({ name: t.name, calls: t.calls, hostMs: t.hostMs, kernelTimeMs: t.deviceMs, share: total > 0 ? t.deviceMs / total : 0 }))
    .sort((a, b) => b.kernelTimeMs - a.kernelTimeMs);
  return {
    result,
    wallMs,
    kernels,
    kernelNames: [...new Set(kernels.map((k) => k.name))],
    summary,
    dropped: report.dropped,
    newTensors: after.numTensors - before.numTensors,
    newBytes: after.numBytes - before.numBytes,
  };
}
