// The cuda backend's run-time loader of cuDNN and cuBLAS (native/cuda/loader.cc), on a
// machine without a GPU: the explicit-path search, the version checks, the refusal of an
// incomplete cuDNN (whose shim would otherwise abort the process), and the messages that
// name what was searched. Each case runs in a child process (the loader loads once per
// process) against real cuDNN 9.24 files from the wheel (scripts/fetch-cudnn-loader-test.sh,
// run by setup.sh) and small fake libraries built here with the C compiler.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonPath, native } from '../lib/native.js';
import type { NativeCudaLibraries } from '../lib/native.js';
import { doctor } from '../lib/backends.js';

const compiled = native.buildInfo().cudaCompiled;
const real = resolve('.cache/cudnn-loader-test');
const haveReal = existsSync(join(real, 'libcudnn.so.9')) && existsSync(join(real, 'libcudnn_graph.so.9'));
if (!haveReal && !process.env.CI)
  console.warn('cuda-loader: the real-cuDNN cases are skipped: run scripts/fetch-cudnn-loader-test.sh');
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'cn-loader-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** cudaLibraries() in a fresh process with the given environment. */
function probe(env: Record<string, string>): NativeCudaLibraries {
  const r = spawnSync(process.execPath, ['-e', 'console.log(JSON.stringify(require(process.argv[1]).cudaLibraries()))', addonPath], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  expect(r.status, `the probe process exited normally (signal ${r.signal}; stderr: ${r.stderr.slice(0, 500)})`).toBe(0);
  return JSON.parse(r.stdout) as NativeCudaLibraries;
}

/** A shared library named `soname` in dir, from C source. */
function fakeLibrary(dir: string, soname: string, source: string): void {
  const c = join(dir, `${soname}.c`);
  writeFileSync(c, source);
  execFileSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-o', join(dir, soname), c], { stdio: 'pipe' });
}

describe.skipIf(!compiled)('cuda loader (no GPU needed)', () => {
  it.skipIf(!haveReal && !process.env.CI)('loads the real cuDNN 9.24 from an explicit folder and reports its version and path', () => {
    expect(haveReal, 'scripts/fetch-cudnn-loader-test.sh has unpacked the files (setup.sh runs it)').toBe(true);
    const l = probe({ CUDNN_NODE_CUDNN_PATH: real });
    expect(l.cudnn.error).toBe('');
    expect(l.cudnn.ok).toBe(true);
    expect(l.cudnn.version).toBe(92400);
    expect(l.cudnn.path).toBe(join(real, 'libcudnn.so.9'));
    expect(l.searched[0]).toBe(join(real, 'libcudnn.so.9'));
  });

  it.skipIf(!haveReal && !process.env.CI)("refuses cuDNN's shim without its sub-library instead of letting it abort the process", () => {
    expect(haveReal).toBe(true);
    const d = tmp();
    copyFileSync(join(real, 'libcudnn.so.9'), join(d, 'libcudnn.so.9'));
    const l = probe({ CUDNN_NODE_CUDNN_PATH: d, LD_LIBRARY_PATH: '' });
    expect(l.cudnn.ok).toBe(false);
    expect(l.cudnn.error).toMatch(/^cuDNN found but not loadable: .*libcudnn\.so\.9: incomplete cuDNN: its sub-library libcudnn_graph\.so\.9 is neither beside it \(in .*\) nor on the loader path/);
    expect(l.cudnn.error).toContain(`(searched: ${join(d, 'libcudnn.so.9')}`);
  });

  // Note [incomplete cuDNN]: every sub-library the shim opens on first use is checked before
  // the first call, not only libcudnn_graph: a missing one aborted the process at the first
  // convolution (legacy API: ops, cnn) or graph-API plan (heuristic, engines).
  const subLibraries = ['libcudnn_ops.so.9', 'libcudnn_cnn.so.9', 'libcudnn_heuristic.so.9', 'libcudnn_engines_precompiled.so.9', 'libcudnn_engines_runtime_compiled.so.9', 'libcudnn_engines_tensor_ir.so.9'];
  for (const missing of subLibraries) {
    it.skipIf(!haveReal && !process.env.CI)(`refuses a cuDNN whose ${missing} is missing, naming it, before any call can abort`, () => {
      expect(haveReal).toBe(true);
      const d = tmp();
      copyFileSync(join(real, 'libcudnn.so.9'), join(d, 'libcudnn.so.9'));
      for (const lib of ['libcudnn_graph.so.9', ...subLibraries].filter((l) => l !== missing)) {
        expect(existsSync(join(real, lib)), `${lib} unpacked by scripts/fetch-cudnn-loader-test.sh`).toBe(true);
        symlinkSync(join(real, lib), join(d, lib));
      }
      const l = probe({ CUDNN_NODE_CUDNN_PATH: d, LD_LIBRARY_PATH: '' });
      expect(l.cudnn.ok).toBe(false);
      expect(l.cudnn.error).toContain(`incomplete cuDNN: its sub-library ${missing} is neither beside it (in ${d})`);
    });
  }

  it('names the cuDNN major version it found when it is not 9', () => {
    const d = tmp();
    fakeLibrary(d, 'libcudnn.so.9', 'unsigned long cudnnGetVersion(void) { return 8907; }\n');
    fakeLibrary(d, 'libcudnn_graph.so.9', 'int cn_fake_graph;\n');
    const l = probe({ CUDNN_NODE_CUDNN_PATH: join(d, 'libcudnn.so.9') });
    expect(l.cudnn.ok).toBe(false);
    expect(l.cudnn.version).toBe(8907);
    expect(l.cudnn.error).toMatch(/^cuDNN major version 8 found, 9 required \(searched: /);
  });

  it('names every path it searched when cuDNN is nowhere', () => {
    const l = probe({ CUDNN_NODE_CUDNN_PATH: '/nonexistent/cudnn', PYTHONPATH: '', VIRTUAL_ENV: '' });
    expect(l.cudnn.ok).toBe(false);
    expect(l.cudnn.error).toMatch(/^cuDNN not found \(searched: \/nonexistent\/cudnn, .*libcudnn\.so\.9 \(system loader path\)\)$/);
  });

  it('checks the cuBLAS version and the functions it needs', () => {
    const d = tmp();
    const cublas = (major: number) => `int cublasGetProperty(int type, int* v) { *v = type == 0 ? ${major} : 1; return 0; }\n`;
    fakeLibrary(d, 'libcublas.so.13', cublas(11));
    let l = probe({ CUDNN_NODE_CUBLAS_PATH: join(d, 'libcublas.so.13') });
    expect(l.cublas.error).toMatch(/^cuBLAS major version 11 found, 12 or 13 required \(searched: /);
    const e = tmp();
    fakeLibrary(e, 'libcublas.so.13', cublas(13));
    l = probe({ CUDNN_NODE_CUBLAS_PATH: join(e, 'libcublas.so.13') });
    expect(l.cublas.ok).toBe(false);
    expect(l.cublas.version).toBe(130101);
    expect(l.cublas.error).toMatch(/^cuBLAS found but not loadable: .*libcublas\.so\.13: cuBLAS 130101 lacks cublasGetStatusString/);
  });

  it('doctor reports the libraries where no driver lets the probe reach them', () => {
    const text = doctor();
    const cuda = native.backends()[1];
    if (cuda.available) expect(text).toMatch(/cuDNN: \d+ at /);
    else expect(text).toMatch(/\n {2}cuDNN: (\d+ at .*|cuDNN .*)\n {2}cuBLAS: /);
  });
});
