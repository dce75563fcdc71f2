// The cuda backend's own kernels, thread by thread on the host: g++ builds each selftest
// under native/cuda/selftest/host_*_test.cc, which runs the kernels' per-thread code (the
// *_body.h headers of native/cuda/kernels/, over the grids the .cu launchers use) and
// compares with a double-precision reference written from the op's definition. This checks
// the indexing, splits, tails, vector widths and index types on every machine; the same
// kernels on a GPU are checked against the cpu backend in test/gpu.test.ts.
//   batch norm (batchnorm_body.h): moments, normalize, gradient sums, dx, plain and + relu
//   pooling (pool_body.h): max / average forward, argmax, backward by gather, max gather
//   bfloat16 / float16 storage (host_reduced_test: half_types.h, elementwise_body.h,
//   softmax_body.h, and the pooling and batch-norm bodies on Bf16 / Fp16): conversions bit
//   for bit against a float64 rounding, unary ops and gradients, broadcasting binary ops with
//   a float32 operand, the conv / matmul epilogue, the filter relayout, 16-bit padding,
//   softmax, pooling and batch norm with float32 statistics, within one bf16 / fp16 rounding
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

function runHostTest(name: string, minChecks: number): void {
  const dir = mkdtempSync(join(tmpdir(), `cn-${name}-`));
  try {
    const exe = join(dir, name);
    const cxx = process.env.CXX || 'g++';
    execFileSync(cxx, ['-std=c++17', '-O2', '-Wall', '-Werror', '-Inative', `native/cuda/selftest/${name}.cc`, '-o', exe], { stdio: 'pipe' });
    let out = '';
    try {
      out = execFileSync(exe, { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    const last = out.trim().split('\n').pop() ?? '';
    const m = /^(\d+) passed, (\d+) failed$/.exec(last);
    expect(m, `${name} printed no summary:\n${out.slice(-2000)}`).not.toBeNull();
    expect(Number(m![2]), `failures:\n${out.split('\n').filter((l) => l.startsWith('FAIL')).slice(0, 10).join('\n')}`).toBe(0);
    expect(Number(m![1])).toBeGreaterThan(minChecks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('batch-norm kernels (moments, normalize, gradient sums, dx) match a float64 reference on the host', () => {
  runHostTest('host_batchnorm_test', 1000);
});

it('pooling kernels (max / average forward and backward, max gather; int32 and int64 indices, 1 and 4 channels per thread) match a float64 reference on the host', () => {
  runHostTest('host_pool_test', 1000);
});

it('bfloat16 / float16 kernels (conversions, elementwise, binary with a float32 operand, epilogue, relayout, padding, softmax, pooling, batch norm) match float64 references on the host', () => {
  runHostTest('host_reduced_test', 600);
});
