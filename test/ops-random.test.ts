// Random ops: randomUniform, randomNormal, truncatedNormal and dropout. Their streams differ
// from TensorFlow's, so instead of value parity they are checked for range, moments,
// seeded determinism, the dropout keep-rate and scaling, and dropout's gradient dy * mask.
import { beforeEach, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends, expectClose } from './helpers.js';

function moments(a: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0, s2 = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    s += a[i];
    s2 += a[i] * a[i];
    min = Math.min(min, a[i]);
    max = Math.max(max, a[i]);
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), min, max };
}

const N = 200_000;

describeBackends('random ops', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  it('randomUniform: range, moments, seeded determinism, int32', () => {
    cn.tidy(() => {
      const u = cn.randomUniform([N], -2, 3, 'float32', 42);
      expect(u.shape).toEqual([N]);
      expect(u.dtype).toBe('float32');
      const m = moments(u.dataSync());
      expect(m.min).toBeGreaterThanOrEqual(-2);
      expect(m.max).toBeLessThan(3);
      expect(m.mean).toBeCloseTo(0.5, 1);
      expect(m.std).toBeCloseTo(5 / Math.sqrt(12), 1);
      expect(Array.from(cn.randomUniform([10], -2, 3, 'float32', 42).dataSync())).toEqual(Array.from(u.dataSync().slice(0, 10)));
      expect(Array.from(cn.randomUniform([10], -2, 3, 'float32', 43).dataSync())).not.toEqual(Array.from(u.dataSync().slice(0, 10)));
      const i = cn.randomUniform([1000], 0, 10, 'int32', 1);
      expect(i.dtype).toBe('int32');
      const iv = i.dataSync();
      expect(Math.min(...iv)).toBe(0);
      expect(Math.max(...iv)).toBe(9);
    });
  });

  it('randomNormal: moments and seeded determinism', () => {
    cn.tidy(() => {
      const z = cn.randomNormal([N], 1.5, 2, 'float32', 7);
      const m = moments(z.dataSync());
      expect(m.mean).toBeCloseTo(1.5, 1);
      expect(m.std).toBeCloseTo(2, 1);
      expect(Array.from(cn.randomNormal([5], 1.5, 2, 'float32', 7).dataSync())).toEqual(Array.from(z.dataSync().slice(0, 5)));
    });
  });

  it('truncatedNormal: within two standard deviations, moments of the truncated law', () => {
    cn.tidy(() => {
      const z = cn.truncatedNormal([N], -1, 0.5, 'float32', 3);
      const m = moments(z.dataSync());
      expect(m.min).toBeGreaterThanOrEqual(-2);
      expect(m.max).toBeLessThanOrEqual(0);
      expect(m.mean).toBeCloseTo(-1, 1);
      // std of a standard normal truncated to [-2, 2] is 0.8796.
      expect(m.std).toBeCloseTo(0.5 * 0.8796, 2);
    });
  });

  it('dropout: keep rate, 1/(1-rate) scaling, seeded mask, gradient dy * mask', () => {
    cn.tidy(() => {
      const rate = 0.3;
      const x = cn.ones([400, 500]);
      const y = cn.dropout(x, rate, undefined, 11);
      const v = y.dataSync();
      let kept = 0;
      for (const e of v) {
        if (e !== 0) {
          kept++;
          expect(e).toBeCloseTo(1 / (1 - rate), 5);
        }
      }
      expect(kept / v.length).toBeCloseTo(1 - rate, 2);
      // Same seed, same mask.
      expect(Array.from(cn.dropout(x, rate, undefined, 11).dataSync().slice(0, 100))).toEqual(Array.from(v.slice(0, 100)));
      // Gradient: dy * mask, i.e. the same pattern as the output for x = 1.
      const g = cn.grad((t) => cn.dropout(t, rate, undefined, 11))(x);
      expectClose(g.dataSync(), v);
      // rate 0 is the identity.
      expectClose(cn.dropout(x, 0).dataSync(), x.dataSync());
    });
  });

  it('dropout with noiseShape shares the mask along size-1 axes', () => {
    cn.tidy(() => {
      const x = cn.ones([4, 50, 6]);
      const y = cn.dropout(x, 0.5, [4, 1, 6], 5).arraySync() as number[][][];
      for (const b of y) for (const row of b) expect(row).toEqual(b[0]);
      const y2 = cn.dropout(x, 0.5, [null, 1, null], 5).arraySync();
      expect(y2).toEqual(y);
    });
  });

  it('compiled dropout draws a fresh mask on every run', () => {
    const f = cn.compile((t) => [cn.dropout(t, 0.5, undefined, 1)], [{ shape: [1000] }]);
    const x = cn.ones([1000]);
    try {
      const [a] = f.runSync([x]);
      const [b] = f.runSync([x]);
      expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync()));
      cn.dispose([a, b]);
    } finally {
      f.dispose();
      x.dispose();
    }
  });
});
