#!/usr/bin/env node
// Packs the two npm packages (run through scripts/pack.sh; assumes `npm run build` ran):
//
//   cudnn-node-<platform>  npm/<platform>/ plus the built addon and the run-time libraries it
//                          needs that are not part of every glibc system (oneDNN, libgomp,
//                          libjpeg-turbo, libpng, zlib, giflib,
//                          the OpenCL ICD loader), copied beside it with RUNPATH $ORIGIN, their
//                          licenses, and build-info.json. Fails over the size budget (60 MB
//                          unpacked) and when the addon lacks the cuda backend.
//   cudnn-node             the files package.json "files" names, with optionalDependencies on
//                          the platform package added (Note [optional dependency]).
//
// Usage: scripts/pack.sh [--out DIR] [--binary PATH] [--allow-cpu-only]
//   --out DIR         where the .tgz files go (default: out/pack); staging in DIR/stage
//   --binary PATH     the cudnn_node.node to ship (default: build/Release/cudnn_node.node;
//                     also CUDNN_NODE_PACK_BINARY)
//   --allow-cpu-only  accept an addon built without the cuda backend (not for releases;
//                     also CUDNN_NODE_PACK_ALLOW_CPU_ONLY=1)
// Prints the sizes and writes DIR/pack-result.json.
//
// Needs: patchelf (apt-get install patchelf) to set RUNPATH on the bundled copies, ldd and
// readelf (libc-bin, binutils), strip (binutils) to shrink the addon, dpkg (optional) to find
// the bundled libraries' license files.
//
// Note [optional dependency]: the repository's package.json does not list the platform
// package as an optional dependency, because it is not on the registry until released:
// `npm ci` would fail ("Missing: cudnn-node-linux-x64-gnu from lock file"). The packed
// package.json gets it, pinned to the same version, as sharp does.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = 60_000_000; // bytes, unpacked; npm reports sizes in 1000-based MB too
const PLATFORM = 'linux-x64-gnu';
// Shared libraries that every glibc system with Node.js has: never bundled.
const SYSTEM = /^(linux-vdso\.so|ld-linux[\w-]*\.so|lib(c|m|dl|rt|pthread|stdc\+\+|gcc_s)\.so)/;
// Run-time libraries the addon may need that we ship beside it.
// libjpeg (libjpeg-turbo), libpng16 and the libz it needs, libgif (giflib): tf.node's image
// codecs (native/codec).
const BUNDLE = ['libdnnl.so.2', 'libgomp.so.1', 'libOpenCL.so.1', 'libjpeg.so.62', 'libpng16.so.16', 'libz.so.1', 'libgif.so.7'];

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = resolve(opt('--out') ?? join(root, 'out', 'pack'));
const binary = resolve(opt('--binary') ?? process.env.CUDNN_NODE_PACK_BINARY ?? join(root, 'build', 'Release', 'cudnn_node.node'));
const allowCpuOnly = args.includes('--allow-cpu-only') || process.env.CUDNN_NODE_PACK_ALLOW_CPU_ONLY === '1';

const die = (msg) => {
  console.error(`pack: ${msg}`);
  process.exit(1);
};
const run = (cmd, argv, opts = {}) => execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const has = (cmd) => {
  try {
    run('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
};
const mb = (n) => (n >= 1e5 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);

if (process.platform !== 'linux' || process.arch !== 'x64') die(`only ${PLATFORM} is packed so far (this is ${process.platform}-${process.arch})`);
for (const tool of ['patchelf', 'ldd', 'readelf']) {
  if (!has(tool)) die(`needs ${tool} in PATH (${tool === 'patchelf' ? 'apt-get install patchelf' : 'apt-get install binutils libc-bin'})`);
}
if (!existsSync(binary)) die(`${binary} not found: run \`npm run build\` first (or pass --binary)`);
for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']) {
  if (!existsSync(join(root, f))) die(`${f} not found: run \`npm run build\` first`);
}
// A stale dist would ship old code: warn when a source is newer than the build.
const newest = (dir) => {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
};
if (newest(join(root, 'lib')) > Math.min(statSync(join(root, 'dist/index.js')).mtimeMs, statSync(join(root, 'dist/cjs/index.js')).mtimeMs)) {
  console.warn('pack: warning: lib/ has changes newer than dist/; run `npm run build:ts` to ship them');
}

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = rootPkg.version;

// ---- what the addon is: build info from a child process (it loads oneDNN)
const info = JSON.parse(
  run(process.execPath, ['-e', 'const a = require(process.argv[1]); console.log(JSON.stringify({ build: a.buildInfo(), backends: a.backends() }))', binary]),
);
if (!info.build.cudaCompiled && !allowCpuOnly) {
  die(`${binary} was built without the cuda backend (nvcc or the cuDNN headers were missing); a release needs it. Pass --allow-cpu-only to pack it anyway.`);
}

// ---- resolve the shared libraries the addon needs (transitively)
function needed(file) {
  return [...run('readelf', ['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map((m) => m[1]);
}
function lddMap(file) {
  const map = new Map();
  for (const line of run('ldd', [file]).split('\n')) {
    const m = /^\s*(\S+) => (\S+|not found)/.exec(line);
    if (m) map.set(m[1], m[2]);
  }
  return map;
}
const resolved = lddMap(binary);
const bundled = []; // { name, from }
const queue = [binary];
const seen = new Set();
while (queue.length) {
  const f = queue.shift();
  for (const lib of needed(f)) {
    if (seen.has(lib)) continue;
    seen.add(lib);
    if (SYSTEM.test(lib)) continue;
    if (!BUNDLE.includes(lib)) die(`${basename(f)} needs ${lib}, which is neither bundled nor a system library: add it to BUNDLE or SYSTEM in scripts/pack.mjs`);
    const from = resolved.get(lib);
    if (!from || from === 'not found') die(`${lib} (needed by ${basename(f)}) not found on this machine`);
    bundled.push({ name: lib, from: realpathSync(from) });
    queue.push(from);
  }
}

// ---- stage the platform package
const stageRoot = join(out, 'stage');
const stage = join(stageRoot, `cudnn-node-${PLATFORM}`);
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'LICENSES'), { recursive: true });
const platformPkg = JSON.parse(readFileSync(join(root, 'npm', PLATFORM, 'package.json'), 'utf8'));
platformPkg.version = version;
writeFileSync(join(stage, 'package.json'), JSON.stringify(platformPkg, null, 2) + '\n');
copyFileSync(join(root, 'npm', PLATFORM, 'README.md'), join(stage, 'README.md'));

const addon = join(stage, 'cudnn_node.node');
copyFileSync(binary, addon);
chmodSync(addon, 0o755);
if (has('strip')) run('strip', ['--strip-unneeded', addon]);
for (const b of bundled) {
  const dest = join(stage, b.name);
  copyFileSync(b.from, dest);
  chmodSync(dest, 0o644);
}
// RUNPATH $ORIGIN on every staged file that needs a bundled library, and nothing else
// (a system libstdc++ etc. is still found through the usual search).
for (const f of [addon, ...bundled.map((b) => join(stage, b.name))]) {
  if (needed(f).some((l) => BUNDLE.includes(l))) run('patchelf', ['--set-rpath', '$ORIGIN', f]);
}
// Check: the staged addon finds every bundled library in the stage, nothing missing.
const staged = lddMap(addon);
for (const [lib, where] of staged) {
  if (where === 'not found') die(`staged addon: ${lib} not found`);
  if (BUNDLE.includes(lib) && dirname(where) !== stage) die(`staged addon resolves ${lib} to ${where}, not the bundled copy`);
}
// Licenses of what we bundle (Debian's copyright files name upstream licenses and authors).
const licenses = [];
for (const b of bundled) {
  let debPkg = null;
  // Under merged /usr, dpkg may know a library by its /lib path only (zlib1g: /lib/.../libz.so.1).
  for (const path of [b.from, b.from.replace(/^\/usr\/lib\//, '/lib/')]) {
    try {
      debPkg = run('dpkg', ['-S', path]).split(':')[0].trim();
      break;
    } catch {
      // not a Debian system, or not from a package
    }
  }
  const copyright = debPkg && `/usr/share/doc/${debPkg}/copyright`;
  if (copyright && existsSync(copyright)) {
    copyFileSync(copyright, join(stage, 'LICENSES', `${b.name}.txt`));
    licenses.push(`${b.name}.txt`);
  } else {
    console.warn(`pack: warning: no license file found for ${b.name} (${b.from}); add it to LICENSES by hand`);
  }
  b.debianPackage = debPkg ?? undefined;
}
if (existsSync(join(root, 'LICENSE'))) copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSES', 'cudnn-node.txt'));

const glibc = (f) =>
  [...run('readelf', ['-V', '-W', f]).matchAll(/GLIBC_(\d+)\.(\d+)/g)]
    .map((m) => [+m[1], +m[2]])
    .reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a), [0, 0]);
const needsGlibc = [addon, ...bundled.map((b) => join(stage, b.name))].map(glibc).reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a));
const cpu = info.backends.find((b) => b.name === 'cpu');
const buildInfo = {
  version,
  napiVersion: info.build.napiVersion,
  compiler: info.build.compiler,
  backends: { cpu: cpu?.library ?? 'oneDNN', cuda: info.build.cudaCompiled },
  glibc: `>= ${needsGlibc.join('.')}`,
  files: Object.fromEntries(
    ['cudnn_node.node', ...bundled.map((b) => b.name)].map((n) => [n, { size: statSync(join(stage, n)).size, ...(bundled.find((b) => b.name === n)?.debianPackage ? { from: bundled.find((b) => b.name === n).debianPackage } : {}) }]),
  ),
};
writeFileSync(join(stage, 'build-info.json'), JSON.stringify(buildInfo, null, 2) + '\n');

// ---- stage the main package: the files npm would pack, plus the optional dependency
const mainStage = join(stageRoot, 'cudnn-node');
rmSync(mainStage, { recursive: true, force: true });
const npm = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['npm'];
const npmRun = (cwd, argv) => run(npm[0], [...npm.slice(1), ...argv], { cwd, env: { ...process.env, npm_config_loglevel: 'error' } });
const dry = JSON.parse(npmRun(root, ['pack', '--dry-run', '--json', '--ignore-scripts']))[0];
for (const f of dry.files) {
  mkdirSync(dirname(join(mainStage, f.path)), { recursive: true });
  cpSync(join(root, f.path), join(mainStage, f.path));
}
const mainPkg = { ...rootPkg };
mainPkg.optionalDependencies = { ...(rootPkg.optionalDependencies ?? {}), [platformPkg.name]: version };
writeFileSync(join(mainStage, 'package.json'), JSON.stringify(mainPkg, null, 2) + '\n');

// ---- pack both
mkdirSync(out, { recursive: true });
const pack = (dir) => JSON.parse(npmRun(dir, ['pack', '--json', '--ignore-scripts', '--pack-destination', out]))[0];
const platformResult = pack(stage);
const mainResult = pack(mainStage);

const result = {
  budget: BUDGET,
  platform: { name: platformResult.name, version, tarball: join(out, platformResult.filename), size: platformResult.size, unpackedSize: platformResult.unpackedSize, files: platformResult.files.map((f) => [f.path, f.size]) },
  main: { name: mainResult.name, version, tarball: join(out, mainResult.filename), size: mainResult.size, unpackedSize: mainResult.unpackedSize, entryCount: mainResult.entryCount },
  buildInfo,
};
writeFileSync(join(out, 'pack-result.json'), JSON.stringify(result, null, 2) + '\n');

for (const [path, size] of result.platform.files) console.log(`  ${result.platform.name}/${path}  ${mb(size)}`);
console.log(`${result.main.name}@${version}: ${result.main.tarball} (${mb(result.main.size)} packed, ${mb(result.main.unpackedSize)} unpacked, ${result.main.entryCount} files)`);
console.log(
  `${result.platform.name}@${version}: ${result.platform.tarball} (${mb(result.platform.size)} packed, ${mb(result.platform.unpackedSize)} unpacked; budget ${mb(BUDGET)}; ` +
    `cuda backend ${info.build.cudaCompiled ? 'compiled in' : 'NOT compiled in'}; needs glibc ${buildInfo.glibc})`,
);
if (result.platform.unpackedSize > BUDGET) die(`${result.platform.name} is ${mb(result.platform.unpackedSize)} unpacked, over the ${mb(BUDGET)} budget`);
