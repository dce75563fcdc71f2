// A seeded fuzz of the public API (scripts/fuzz-cases.ts): a few thousand calls with valid
// and invalid arguments, in child processes, so that a crash (a signal) or a hang fails the
// test and names the exact call. Every thrown error must be a CudnnNodeError with a code,
// arguments that must be refused must be, and returned tensors must hold as many values as
// their shape says. `node --import tsx scripts/fuzz.ts --seed N --calls N` runs long fuzzes.
import { describe, expect, it } from 'vitest';
import { formatFuzz, runFuzz } from '../scripts/fuzz.js';

// Fixed seeds keep CI reproducible; scripts/fuzz.ts takes any other seed.
const SEEDS = [20261207, 7];
const CALLS = 1500;

describe('fuzz of the public API', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${CALLS} calls, no crash, no hang, only CudnnNodeErrors, no invalid input accepted`, async () => {
      const r = await runFuzz({ seed, calls: CALLS, batch: 750, callTimeoutMs: 10000 });
      // The generator must actually exercise both sides: calls that return and calls refused.
      expect(r.calls).toBe(CALLS);
      expect(r.returned).toBeGreaterThan(CALLS / 3);
      expect(r.threw).toBeGreaterThan(CALLS / 10);
      expect(r.mustThrow).toBeGreaterThan(CALLS / 20);
      expect(r.failures, formatFuzz(seed, r)).toEqual([]);
    }, 120_000);
  }
});
