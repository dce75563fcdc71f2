// Test helpers: run one suite body on every available backend, seeded random data,
// closeness checks that print the first mismatches, and the tfjs-node reference.
import { afterAll, beforeAll, describe } from 'vitest';
import * as cn from '../lib/index.js';

/** Backends that can run here: always cpu, plus cuda when a device is present. */
export function availableBackends(): string[] {
  return cn.backends().filter((b) => b.available).map((b) => b.name);
}

/** Runs body once per available backend, with that backend selected. */
export function describeBackends(name: string, body: (backend: string) => void): void {
  for (const b of availableBackends()) {
    describe(`${name} [${b}]`, () => {
      let prev = 'cpu';
      let prevOptions = cn.getCudaOptions();
      beforeAll(() => {
        prev = cn.getBackend();
        cn.setBackend(b);
        // The suites hold every backend to fp32 tolerances against their references; TF32
        // (the cuda default, ~1e-3 relative error) has its own tests in gpu.test.ts.
        if (b === 'cuda') prevOptions = cn.setCudaOptions({ allowTF32: false });
      });
      afterAll(() => {
        cn.setBackend(prev);
        if (b === 'cuda') cn.setCudaOptions(prevOptions);
      });
      body(b);
    });
  }
}

/** Deterministic pseudo-random floats in [lo, hi) (mulberry32). */
export function seededRandom(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** Asserts shapes equal, then |a-b| <= atol + rtol*|b| elementwise; reports the first mismatches. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: { rtol?: number; atol?: number; what?: string; actualShape?: number[]; expectedShape?: number[] } = {},
): void {
  const { rtol = 1e-4, atol = 1e-5, what = 'values' } = opts;
  if (opts.actualShape && opts.expectedShape) {
    const a = JSON.stringify(opts.actualShape), e = JSON.stringify(opts.expectedShape);
    if (a !== e) throw new Error(`${what}: shape ${a} differs from expected ${e}`);
  }
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)) || Number.isNaN(a) !== Number.isNaN(e)) {
      count++;
      if (bad.length < 5) bad.push(`[${i}] ${a} vs ${e}`);
    }
  }
  if (count) throw new Error(`${what}: ${count}/${actual.length} mismatches (rtol ${rtol}, atol ${atol}); first: ${bad.join('; ')}`);
}
