// What a runner adapter (bench/runners/ours.ts, tfjs.ts) gives the Node worker process
// (bench/runners/node-worker.ts): per workload spec, a prepared call to time, and the
// deterministic conv inputs both Node runners share, so that their outputs can be compared.
import { prod, randomData } from '../models.js';
import type { RunnerInfo, Spec } from '../types.js';

export interface Prepared {
  call: () => unknown | Promise<unknown>;
  /** For the cross-check: the result of one call, as floats. */
  output?: () => Float32Array;
  note?: string;
  params?: { total: number; trainable: number };
  free: () => void;
}

export interface Adapter {
  info: RunnerInfo['info'];
  /** A note for the report (e.g. a partial API). */
  note?: string;
  prepare(spec: Spec, readback: boolean): Promise<Prepared>;
}

export interface ConvData {
  xShape: number[];
  fShape: number[];
  yShape: number[];
  x: Float32Array;
  f: Float32Array;
  dy: Float32Array;
}

/** Inputs of a conv workload: x, filter and dy from fixed seeds (the same in every process). */
export function convData(spec: Extract<Spec, { kind: 'conv' }>): ConvData {
  const st = spec.stride ?? 1;
  const [n, h, w, c] = spec.x;
  const xShape = [n, h, w, c], fShape = [spec.k, spec.k, c, spec.depthwise ? 1 : spec.oc];
  const yShape = [n, Math.ceil(h / st), Math.ceil(w / st), spec.oc];
  return { xShape, fShape, yShape, x: randomData(prod(xShape), 1), f: randomData(prod(fShape), 2, 0.05), dy: randomData(prod(yShape), 3) };
}

/** Times `samples` samples of `inner` back-to-back calls; seconds per call, one per sample.
 * bench/peers.py's time_calls is the same loop. */
export async function timeCalls(p: Prepared, samples: number, inner: number): Promise<number[]> {
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) {
      const r = p.call();
      if (r instanceof Promise) await r;
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e9 / inner);
  }
  return times;
}
