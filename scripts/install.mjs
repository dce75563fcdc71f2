#!/usr/bin/env node
// npm "install" script of the published cudnn-node package. Makes sure a native binary is
// there, and builds one from source only when nothing prebuilt matches:
//
//   1. a development checkout (lib/index.ts present): do nothing; `npm run build` builds.
//   2. CUDNN_NODE_BINARY set: do nothing; the loader uses that file.
//   3. the prebuilt platform package (e.g. cudnn-node-linux-x64-gnu, an optional
//      dependency) is installed and loads: done. This is the normal path, and it needs
//      no compiler, no CUDA toolkit and no oneDNN on the machine.
//   4. a previous source build (build/Release/cudnn_node.node) loads: done.
//   5. otherwise build from source with cmake-js: needs cmake >= 3.18, a C++17 compiler
//      and the oneDNN headers (nvcc and the cuDNN 9 headers add the cuda backend). cmake-js
//      and node-addon-api are used from node_modules when the project has them, and
//      fetched into a temporary directory with npm otherwise. When that cannot work, say
//      what is missing and fail the install.
//
// `npm install cudnn-node --build-from-source` (or CUDNN_NODE_BUILD_FROM_SOURCE=1) skips 3
// and 4.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const require = createRequire(join(root, 'package.json'));
const log = (msg) => console.error(`cudnn-node: ${msg}`);

function platformPackageName() {
  let libc = '';
  if (process.platform === 'linux') {
    const header = process.report?.getReport()?.header;
    libc = header?.glibcVersionRuntime ? '-gnu' : '-musl';
  }
  return `cudnn-node-${process.platform}-${process.arch}${libc}`;
}

/** Loads a .node in a child process (a crash there must not take npm down): error or null. */
function loadError(file) {
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).buildInfo()', file], {
    encoding: 'utf8',
    env: { ...process.env, CUDNN_NODE_BINARY: '' },
  });
  if (r.status === 0) return null;
  const lines = `${r.stderr}`.split('\n').filter((l) => /Error|error|cannot|not found/.test(l));
  return lines[0]?.trim() || `exit code ${r.status} ${r.signal ?? ''}`.trim();
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

const truthy = (v) => !!v && v !== 'false' && v !== '0';
const fromSource = truthy(process.env.npm_config_build_from_source) || truthy(process.env.CUDNN_NODE_BUILD_FROM_SOURCE);

function main() {
  if (existsSync(join(root, 'lib', 'index.ts'))) {
    log('development checkout: nothing to install (build with `npm run build`)');
    return 0;
  }
  if (process.env.CUDNN_NODE_BINARY) {
    log(`CUDNN_NODE_BINARY is set (${process.env.CUDNN_NODE_BINARY}): not looking for or building a binary`);
    return 0;
  }
  const platformPkg = platformPackageName();
  const problems = [];
  if (!fromSource) {
    let prebuilt = null;
    try {
      prebuilt = require.resolve(`${platformPkg}/cudnn_node.node`);
    } catch {
      problems.push(`no prebuilt package ${platformPkg} is installed (none is published for this platform, or optional dependencies were omitted)`);
    }
    if (prebuilt) {
      const err = loadError(prebuilt);
      if (!err) {
        log(`using the prebuilt binary ${prebuilt}`);
        return 0;
      }
      problems.push(`the prebuilt binary ${prebuilt} does not load here: ${err}`);
    }
    const local = join(root, 'build', 'Release', 'cudnn_node.node');
    if (existsSync(local)) {
      const err = loadError(local);
      if (!err) {
        log(`using the source build ${local}`);
        return 0;
      }
      problems.push(`the source build ${local} does not load: ${err}`);
    }
    for (const p of problems) log(p);
    log('building from source instead');
  } else {
    log('building from source (--build-from-source)');
  }
  return buildFromSource(problems);
}

const NEEDS =
  'Building from source needs: cmake >= 3.18, a C++17 compiler (g++ >= 9 or clang++) and the oneDNN ' +
  'development files (Debian/Ubuntu: `apt-get install cmake g++ libdnnl-dev`; elsewhere oneDNN 2.x or 3.x ' +
  'from https://github.com/oneapi-src/oneDNN, found through CMAKE_PREFIX_PATH). Optional, for the cuda ' +
  'backend: nvcc (CUDA 12 or 13) and the cuDNN 9 and cuBLAS headers (CUDNN_INCLUDE_DIR, CUBLAS_INCLUDE_DIR).';

function fail(problems, what) {
  log(
    [
      `could not build the native addon: ${what}`,
      ...problems.map((p) => `  - ${p}`),
      NEEDS,
      'Alternatively: install on a platform with a prebuilt package (Linux x64 with glibc >= 2.34), or set ' +
        'CUDNN_NODE_BINARY to a cudnn_node.node you built elsewhere and reinstall.',
    ].join('\n'),
  );
  return 1;
}

function buildFromSource(problems) {
  const missing = [];
  if (!which('cmake')) missing.push('cmake (not in PATH)');
  const cxx = process.env.CXX || ['c++', 'g++', 'clang++'].find((c) => which(c));
  if (!cxx) missing.push('a C++ compiler (no c++, g++ or clang++ in PATH, CXX not set)');
  if (missing.length) return fail(problems, `missing ${missing.join(', ')}`);

  // cmake-js and node-addon-api: the project's own, else a temporary npm install.
  const env = { ...process.env };
  let cmakeJs;
  let tmp = null;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    require.resolve('node-addon-api');
  } catch {
    const want = ['cmake-js', 'node-addon-api'].map((n) => `${n}@${pkg.devDependencies?.[n] ?? 'latest'}`);
    tmp = mkdtempSync(join(tmpdir(), 'cudnn-node-build-'));
    log(`fetching ${want.join(' ')} into ${tmp} (add them to your project to skip this)`);
    const npm = process.env.npm_execpath;
    const args = ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', tmp, ...want];
    const r = npm && existsSync(npm)
      ? spawnSync(process.execPath, [npm, ...args], { stdio: 'inherit' })
      : spawnSync('npm', args, { stdio: 'inherit' });
    if (r.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      return fail(problems, `could not fetch ${want.join(' ')} with npm (offline?); install them in your project`);
    }
    cmakeJs = join(tmp, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
    // CMakeLists.txt finds node-addon-api with require(); NODE_PATH points it there.
    env.NODE_PATH = [join(tmp, 'node_modules'), env.NODE_PATH].filter(Boolean).join(delimiter);
  }
  try {
    log(`running cmake-js compile in ${root}`);
    execFileSync(process.execPath, [cmakeJs, 'compile', '--CDCMAKE_BUILD_TYPE=Release'], { cwd: root, env, stdio: 'inherit' });
  } catch {
    return fail(problems, 'cmake-js compile failed (see its output above)');
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  const built = join(root, 'build', 'Release', 'cudnn_node.node');
  const err = existsSync(built) ? loadError(built) : 'not produced';
  if (err) return fail(problems, `the build finished but ${built} does not load: ${err}`);
  log(`built ${built}`);
  return 0;
}

process.exitCode = main();
