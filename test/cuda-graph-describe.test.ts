// The cuda backend's graph-API convolution descriptions, checked by cuDNN itself on the
// host: g++ builds native/cuda/selftest/graph_describe_test.cc with native/cuda/conv_graph.cc
// and the real loader, and it finalizes the tensors, convolution descriptor and node of
// every direction for our models' layer shapes, in float32, float16 and bfloat16 (float
// accumulation, Note [reduced-precision convolutions]), against the cuDNN 9.24 libraries of
// scripts/fetch-cudnn-loader-test.sh (no GPU needed until the operation graph). Running the
// planned convolutions is checked against the cpu backend in test/gpu.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const libs = resolve('.cache/cudnn-loader-test');
const cudaHome = process.env.CUDA_HOME || '/usr/local/cuda';

// Its prerequisites are installed by scripts/setup.sh (as for test/cuda-loader.test.ts): a
// missing one fails here with its name rather than skipping, so CI cannot pass without it.
it('graph-API convolution descriptions are accepted by cuDNN 9.24, and wrong extents refused', () => {
  expect(existsSync(join(libs, 'libcudnn_engines_runtime_compiled.so.9')), `${libs}: run scripts/fetch-cudnn-loader-test.sh`).toBe(true);
  expect(existsSync(join(cudaHome, 'lib64', 'libcudart_static.a')), `no ${cudaHome}/lib64/libcudart_static.a (CUDA toolkit)`).toBe(true);
  const dir = mkdtempSync(join(tmpdir(), 'cn-graph-describe-'));
  try {
    const exe = join(dir, 'graph_describe_test');
    const includes = execFileSync('bash', ['scripts/fetch-cuda-deps.sh'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
    const cxx = process.env.CXX || 'g++';
    const srcs = ['selftest/graph_describe_test.cc', 'conv_graph.cc', 'loader.cc', 'allocator.cc'].map((f) => `native/cuda/${f}`);
    execFileSync(
      cxx,
      ['-std=c++17', '-O1', '-Wall', '-Werror', '-DCN_WITH_CUDA=1', '-Inative', `-I${cudaHome}/include`, ...includes.map((d) => `-I${d}`), ...srcs,
        '-o', exe, `-L${cudaHome}/lib64`, '-lcudart_static', '-ldl', '-lpthread', '-lrt'],
      { stdio: 'pipe' },
    );
    let out = '';
    try {
      out = execFileSync(exe, { encoding: 'utf8', env: { ...process.env, CUDNN_NODE_CUDNN_PATH: libs } });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toContain('cuDNN 92400');
    const last = out.trim().split('\n').pop() ?? '';
    const m = /^(\d+) passed, (\d+) failed$/.exec(last);
    expect(m, `graph_describe_test printed no summary:\n${out.slice(-2000)}`).not.toBeNull();
    expect(Number(m![2]), `failures:\n${out.split('\n').filter((l) => l.startsWith('FAIL')).slice(0, 10).join('\n')}`).toBe(0);
    // 7 layers x 3 directions x (alignments + 1 refused): float32 with 3 alignments, float16
    // and bfloat16 with 4 (2 bytes too); 3 asymmetric x 3 directions x 2 in each of the three
    // types; the legacy descriptors of 7 layers x 3 types x (plain, depthwise); 3 status codes
    expect(Number(m![1])).toBe(7 * 3 * 4 + 2 * 7 * 3 * 5 + 3 * 18 + 7 * 3 * 2 + 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
