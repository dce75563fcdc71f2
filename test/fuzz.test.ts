// A seeded fuzz of the public API (scripts/fuzz-cases.ts): a few thousand calls with valid
// and invalid arguments, in child processes, so that a crash (a signal) or a hang fails the
// test and names the exact call. Every thrown error must be a CudnnNodeError with a code,
// arguments that must be refused must be, and returned tensors must hold as many values as
// their shape says. `node --import tsx scripts/fuzz.ts --seed N --calls N` runs long fuzzes.
import { afterEach, describe, expect, it } from 'vitest';
import { formatFuzz, runFuzz } from '../scripts/fuzz.js';

// Fixed seeds keep CI reproducible; scripts/fuzz.ts takes any other seed.
const SEEDS = [20261207, 7];
const CALLS = 2000;

describe('fuzz of the public API', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${CALLS} calls, no crash, no hang, only CudnnNodeErrors, no invalid input accepted`, async () => {
      const r = await runFuzz({ seed, calls: CALLS, batch: 1000, callTimeoutMs: 10000 });
      // The generator must exercise both sides: calls that return and calls refused.
      expect(r.calls).toBe(CALLS);
      expect(r.returned).toBeGreaterThan(CALLS / 3);
      expect(r.threw).toBeGreaterThan(CALLS / 10);
      expect(r.mustThrow).toBeGreaterThan(CALLS / 20);
      expect(r.failures, formatFuzz(seed, r)).toEqual([]);
      // Every error names the function it came from.
      expect(r.unnamed, formatFuzz(seed, r)).toEqual([]);
    }, 120_000);
  }
});

describe('the fuzz harness', () => {
  afterEach(() => {
    delete process.env.FUZZ_SELFTEST;
  });
  it('names the call that killed its process and goes on with the next', async () => {
    process.env.FUZZ_SELFTEST = 'crash@3';
    const r = await runFuzz({ seed: 1, calls: 6, batch: 6 });
    expect(r.calls).toBe(6);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ index: 3, kind: 'crash' });
    expect(r.failures[0].detail).toMatch(/SIGSEGV/);
    expect(r.failures[0].call).toMatch(/^[\w.]+\(/);
  }, 60_000);
  it('names a call that hangs', async () => {
    process.env.FUZZ_SELFTEST = 'hang@2';
    const r = await runFuzz({ seed: 1, calls: 4, batch: 4, callTimeoutMs: 3000 });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ index: 2, kind: 'hang' });
  }, 60_000);
});
