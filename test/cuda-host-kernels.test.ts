// The cuda backend's batch-norm kernels, thread by thread on the host: g++ builds
// native/cuda/selftest/host_kernels_test.cc (the kernels' per-thread code from
// native/cuda/kernels/batchnorm_body.h, run over the grids batchnorm.cu launches) and it
// compares with a double-precision batch norm. This checks the indexing, row splits, tails,
// four-channels-per-thread and channel-stationary logic on every machine; the same kernels
// on a GPU are checked against the cpu backend in test/gpu.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('batch-norm kernels (moments, normalize, gradient sums, dx) match a float64 reference on the host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cn-host-kernels-'));
  try {
    const exe = join(dir, 'host_kernels_test');
    const cxx = process.env.CXX || 'g++';
    execFileSync(cxx, ['-std=c++17', '-O2', '-Wall', '-Werror', '-Inative', 'native/cuda/selftest/host_kernels_test.cc', '-o', exe], { stdio: 'pipe' });
    let out = '';
    try {
      out = execFileSync(exe, { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    const last = out.trim().split('\n').pop() ?? '';
    const m = /^(\d+) passed, (\d+) failed$/.exec(last);
    expect(m, `host_kernels_test printed no summary:\n${out.slice(-2000)}`).not.toBeNull();
    expect(Number(m![2]), `failures:\n${out.split('\n').filter((l) => l.startsWith('FAIL')).slice(0, 10).join('\n')}`).toBe(0);
    expect(Number(m![1])).toBeGreaterThan(1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
