// The npm packages as a downstream project gets them: scripts/pack.sh packs cudnn-node and
// its prebuilt platform package, a fresh temporary project installs the two tarballs
// offline, type-checks a TypeScript consumer with strict tsc and runs it through both entry
// points (ESM import, CommonJS require): it trains a tiny model and predicts.
//
// Note [sandbox]: the consumer steps (npm install, tsc, node) run with a PATH holding only
// `node` and `sh` (no cmake, no compiler, no nvcc) and a minimal environment. When this
// process may create a mount namespace (root, or user namespaces: `unshare -m`), each step
// also runs in one where the system's copies of the bundled libraries (libdnnl, libgomp,
// libOpenCL, libjpeg, libpng16, libgif, as ldconfig lists them) are replaced by empty files and oneDNN's headers by an
// empty directory, so nothing but the package can satisfy them. Either way the consumer
// reports /proc/self/maps and the test asserts every one of those libraries was loaded from
// the platform package (RUNPATH $ORIGIN is searched before the system's paths), which holds
// even where the sandbox cannot hide anything.
//
// Needs `npm run build` (dist/, dist/cjs/, build/Release) and patchelf. The binary packed is
// build/Release/cudnn_node.node, or CUDNN_NODE_PACK_BINARY.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'package-consumer');
const platformPkg = 'cudnn-node-linux-x64-gnu';
const supported = process.platform === 'linux' && process.arch === 'x64';

interface PackResult {
  budget: number;
  platform: { name: string; tarball: string; size: number; unpackedSize: number };
  main: { name: string; tarball: string; size: number; unpackedSize: number };
  buildInfo: { backends: { cpu: string; cuda: boolean }; glibc: string };
}
interface ConsumerResult {
  entry: string;
  firstLoss: number;
  lastLoss: number;
  prediction: number[];
  backends?: Array<{ name: string; compiled: boolean; available: boolean }>;
  addon: string[];
  dnnl: string[];
  gomp?: string[];
  opencl?: string[];
  /** libjpeg, libpng16, libgif and the libz it needs (tf.node's codecs, bundled). */
  codecs?: string[];
}

function which(cmd: string, path = process.env.PATH ?? ''): string | null {
  for (const d of path.split(delimiter)) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  return null;
}

function npmCli(): string {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv) && existsSync(fromEnv)) return fromEnv;
  const npm = which('npm');
  if (npm) {
    const real = realpathSync(npm);
    if (real.endsWith('.js')) return real;
  }
  const guess = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(guess)) return guess;
  throw new Error('package test: cannot find npm-cli.js (set npm_execpath)');
}

const show = (r: SpawnSyncReturns<string>) => `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describe.skipIf(!supported)('npm packages (prebuilt linux-x64-gnu)', () => {
  let work = '';
  let consumer = '';
  let pack: PackResult;
  let sandboxBin = '';
  let unshare: string | null = null;
  let hidden: string[] = [];
  let installLog = '';

  /** Runs a consumer step in the sandbox (Note [sandbox]). */
  function sandbox(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): SpawnSyncReturns<string> {
    const env: Record<string, string> = {
      PATH: sandboxBin,
      HOME: join(work, 'home'),
      TMPDIR: join(work, 'tmp'),
      LANG: 'C.UTF-8',
      // The user's npm cache: the runtime dependencies (sharp, h5wasm) come from it, or from
      // the registry when it lacks them; the addon itself never builds (asserted below).
      npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
      npm_config_update_notifier: 'false',
      ...opts.env,
    };
    const spawnOpts = { cwd: opts.cwd ?? consumer, encoding: 'utf8' as const, timeout: opts.timeout ?? 120_000, maxBuffer: 64 << 20 };
    if (!unshare) return spawnSync(args[0], args.slice(1), { ...spawnOpts, env });
    return spawnSync(unshare, ['-m', '--propagation', 'private', '/bin/sh', join(work, 'hide.sh'), ...args], {
      ...spawnOpts,
      env: { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin', SANDBOX_PATH: sandboxBin },
    });
  }
  const node = (args: string[], opts: Parameters<typeof sandbox>[1] = {}) => sandbox([process.execPath, ...args], opts);

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'cudnn-node-pack-'));
    consumer = join(work, 'consumer');
    for (const d of ['home', 'tmp', 'npm-cache', 'bin', 'consumer/src']) mkdirSync(join(work, d), { recursive: true });

    // ---- pack (with the normal environment: it needs patchelf, readelf, ldd, npm)
    const binary = process.env.CUDNN_NODE_PACK_BINARY ?? join(root, 'build', 'Release', 'cudnn_node.node');
    const nvcc = which('nvcc') ?? (existsSync('/usr/local/cuda/bin/nvcc') ? '/usr/local/cuda/bin/nvcc' : null);
    const args = ['scripts/pack.sh', '--out', join(work, 'pack'), '--binary', binary];
    // A machine with nvcc must produce a binary with the cuda backend (what a release ships);
    // elsewhere the cpu-only binary still proves the packaging.
    if (!nvcc) args.push('--allow-cpu-only');
    const r = spawnSync('bash', args, { cwd: root, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20 });
    console.log(`scripts/pack.sh:\n${r.stdout}${r.stderr}`);
    if (r.status !== 0) throw new Error(`scripts/pack.sh failed: ${show(r)}`);
    pack = JSON.parse(readFileSync(join(work, 'pack', 'pack-result.json'), 'utf8')) as PackResult;

    // ---- the sandbox: node and sh only; the bundled libraries' system copies hidden
    sandboxBin = join(work, 'bin');
    symlinkSync(process.execPath, join(sandboxBin, 'node'));
    symlinkSync('/bin/sh', join(sandboxBin, 'sh'));
    const u = which('unshare');
    if (u && spawnSync(u, ['-m', '--propagation', 'private', 'true']).status === 0) {
      const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
      const dirs = new Set<string>();
      for (const m of cache.matchAll(/(libdnnl|libgomp|libOpenCL|libjpeg|libpng16|libgif)\.so[^\s]*\s.*=> (\S+)/g)) {
        if (existsSync(m[2])) dirs.add(dirname(realpathSync(m[2])));
      }
      const lines: string[] = [];
      for (const d of dirs) {
        const names = readdirSync(d).filter((n) => /^(libdnnl|libgomp|libOpenCL|libjpeg|libpng16|libgif)\.so/.test(n));
        hidden.push(...names.map((n) => join(d, n)));
        lines.push(`hide '${d}' ${names.map((n) => `'${n}'`).join(' ')}`);
      }
      const headers = ['/usr/include/oneapi', '/usr/local/include/oneapi'].filter((d) => existsSync(d));
      writeFileSync(
        join(work, 'hide.sh'),
        [
          '# Note [sandbox] in test/package.test.ts: hide the system copies, then run the step.',
          'set -e',
          '# hide DIR NAME...: an overlay of DIR without NAME... (as if never installed), or',
          '# where overlays are not allowed, empty files over them.',
          'hide() {',
          '  d=$1; shift',
          '  t=$(mktemp -d)',
          '  if mount -t tmpfs none "$t" && mkdir "$t/u" "$t/w" &&',
          '     mount -t overlay overlay -o "lowerdir=$d,upperdir=$t/u,workdir=$t/w" "$d" 2>/dev/null; then',
          '    for f; do rm -f "$d/$f"; done',
          '  else',
          '    for f; do if [ -f "$d/$f" ] && [ ! -L "$d/$f" ]; then mount --bind /dev/null "$d/$f"; fi; done',
          '  fi',
          '}',
          ...lines,
          ...headers.map((d) => `mount -t tmpfs none '${d}'`),
          'export PATH="$SANDBOX_PATH"; unset SANDBOX_PATH',
          'exec "$@"',
          '',
        ].join('\n'),
      );
      unshare = u;
    } else {
      console.log('package test: cannot create a mount namespace here; the system oneDNN stays visible, and the test relies on /proc/self/maps');
    }
    for (const tool of ['cmake', 'c++', 'g++', 'gcc', 'cc', 'clang++', 'make', 'nvcc']) {
      expect(which(tool, sandboxBin), `${tool} visible in the sandbox`).toBeNull();
    }

    // ---- a fresh downstream project
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    copyFileSync(join(fixtures, 'tsconfig.json'), join(consumer, 'tsconfig.json'));
    copyFileSync(join(fixtures, 'train.mts'), join(consumer, 'src', 'train.mts'));
    copyFileSync(join(fixtures, 'train.cts'), join(consumer, 'src', 'train.cts'));
    const inst = node(
      [npmCli(), 'install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', pack.main.tarball, pack.platform.tarball],
      { timeout: 180_000 },
    );
    installLog = `${inst.stdout}${inst.stderr}`;
    if (inst.status !== 0) throw new Error(`npm install of the tarballs failed: ${show(inst)}`);
    // The consumer's dev tools, from this repository (offline): @types/node for tsc.
    mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(consumer, 'node_modules', '@types', 'node'));
  }, 400_000);

  afterAll(() => {
    if (work && !process.env.CUDNN_NODE_KEEP_PACK_TEST) rmSync(work, { recursive: true, force: true });
  });

  it('the platform package is within its size budget', () => {
    const { platform, main, budget } = pack;
    console.log(
      `package sizes: ${platform.name} ${(platform.unpackedSize / 1e6).toFixed(1)} MB unpacked ` +
        `(${(platform.size / 1e6).toFixed(1)} MB packed, budget ${(budget / 1e6).toFixed(0)} MB); ` +
        `${main.name} ${(main.unpackedSize / 1e6).toFixed(1)} MB unpacked; cuda backend ${pack.buildInfo.backends.cuda ? 'compiled in' : 'not compiled in'}`,
    );
    expect(platform.unpackedSize).toBeLessThanOrEqual(60_000_000);
    expect(statSync(platform.tarball).size).toBe(platform.size);
  });

  it('installs offline without building: the install script finds the prebuilt binary', () => {
    expect(installLog).toContain(`using the prebuilt binary`);
    expect(installLog).toContain(`${platformPkg}/cudnn_node.node`);
    expect(existsSync(join(consumer, 'node_modules', 'cudnn-node', 'build'))).toBe(false);
    const installed = JSON.parse(readFileSync(join(consumer, 'node_modules', 'cudnn-node', 'package.json'), 'utf8'));
    expect(installed.optionalDependencies).toEqual({ [platformPkg]: installed.version });
    // The runtime dependencies are exactly the repository's (sharp for images, h5wasm for
    // Keras weight files), all prebuilt; nothing native of ours is built.
    const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(installed.dependencies ?? {}).toEqual(ours.dependencies ?? {});
    if (unshare) {
      // The sandbox really hides the system copies.
      const probe = node(['-e', `const fs = require('fs'); for (const f of ${JSON.stringify(hidden)}) if (fs.existsSync(f) && fs.statSync(f).size) throw new Error(f + ' visible')`]);
      expect(probe.status, show(probe)).toBe(0);
      expect(hidden.some((f) => /libdnnl/.test(f))).toBe(true);
    }
  });

  it('a strict TypeScript consumer type-checks against the published .d.ts (ESM and CommonJS)', () => {
    const tsc = node([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer]);
    expect(tsc.status, show(tsc)).toBe(0);
  }, 120_000);

  let esm: ConsumerResult;
  it('ESM consumer (import): trains a tiny model and predicts, with the bundled libraries', () => {
    const r = node([join(consumer, 'out', 'train.mjs')]);
    expect(r.status, show(r)).toBe(0);
    esm = JSON.parse(r.stdout.trim().split('\n').pop()!) as ConsumerResult;
    console.log(`ESM consumer: ${JSON.stringify(esm)}`);
    expect(esm.lastLoss).toBeLessThan(esm.firstLoss / 100);
    expect(esm.prediction[0]).toBeCloseTo(3.5, 1); // 2*0.5 - 3*(-0.5) + 1
    const pkgDir = realpathSync(join(consumer, 'node_modules', platformPkg));
    for (const [what, paths] of Object.entries({ addon: esm.addon, dnnl: esm.dnnl, gomp: esm.gomp!, opencl: esm.opencl! })) {
      expect(paths.length, `${what} loaded`).toBeGreaterThan(0);
      for (const p of paths) expect(dirname(p), `${what} loaded from ${p}`).toBe(pkgDir);
    }
    // The image codecs (libjpeg, libpng16, libgif) load with the addon, from the package.
    const codecs = esm.codecs ?? [];
    for (const lib of ['libjpeg', 'libpng16', 'libgif']) expect(codecs.some((p) => p.includes(`/${lib}.so`)), `${lib} loaded`).toBe(true);
    for (const p of codecs) expect(dirname(p), `codec library loaded from ${p}`).toBe(pkgDir);
    const cuda = esm.backends!.find((b) => b.name === 'cuda')!;
    expect(cuda.compiled).toBe(pack.buildInfo.backends.cuda);
  }, 120_000);

  it('CommonJS consumer (require): the same training gives the same result', () => {
    const r = node([join(consumer, 'out', 'train.cjs')]);
    expect(r.status, show(r)).toBe(0);
    const cjs = JSON.parse(r.stdout.trim().split('\n').pop()!) as ConsumerResult;
    expect(cjs.entry).toBe('cjs');
    expect(cjs.lastLoss).toBeLessThan(cjs.firstLoss / 100);
    expect(cjs.prediction[0]).toBeCloseTo(esm.prediction[0], 5);
    const pkgDir = realpathSync(join(consumer, 'node_modules', platformPkg));
    expect(cjs.addon.map(dirname)).toEqual([pkgDir]);
    expect(cjs.dnnl.map(dirname)).toEqual([pkgDir]);
  }, 120_000);

  describe('when the binary cannot load: one actionable message', () => {
    const importIt = `import('cudnn-node').then(() => console.log('loaded'), (e) => { console.error(e.code + '\\n' + e.message); process.exit(3); })`;
    const requireIt = `try { require('cudnn-node'); console.log('loaded') } catch (e) { console.error(e.code + '\\n' + e.message); process.exit(3) }`;

    it('a corrupt CUDNN_NODE_BINARY: says what was tried, what is wrong, how to fix (import and require)', () => {
      const bad = join(work, 'bad', 'cudnn_node.node');
      mkdirSync(dirname(bad), { recursive: true });
      writeFileSync(bad, 'not an ELF file, truncated download'.repeat(40));
      for (const [flag, code] of [['--input-type=module', importIt], ['--input-type=commonjs', requireIt]]) {
        const r = node([flag, '-e', code], { env: { CUDNN_NODE_BINARY: bad } });
        expect(r.status, show(r)).toBe(3);
        expect(r.stderr).toContain('ERR_ADDON_LOAD');
        expect(r.stderr).toContain('cudnn-node: could not load the native addon');
        expect(r.stderr).toContain(`Tried:\n  ${bad}: `);
        expect(r.stderr).toMatch(/invalid ELF header|file too short/);
        expect(r.stderr).toContain('is not a loadable linux-x64 binary');
        expect(r.stderr).toContain('Possible solutions:');
        expect(r.stderr).toContain('unset CUDNN_NODE_BINARY');
      }
    });

    it('a binary without its libraries: names the missing library', (ctx) => {
      if (!unshare) ctx.skip(); // the system oneDNN would satisfy it (Note [sandbox])
      const lonely = join(work, 'lonely', 'cudnn_node.node');
      mkdirSync(dirname(lonely), { recursive: true });
      copyFileSync(join(consumer, 'node_modules', platformPkg, 'cudnn_node.node'), lonely);
      const r = node(['--input-type=module', '-e', importIt], { env: { CUDNN_NODE_BINARY: lonely } });
      expect(r.status, show(r)).toBe(3);
      // With overlays the library is gone; with empty files over it, it is unreadable.
      expect(r.stderr).toMatch(/libdnnl\.so\.2: (cannot open shared object file|file too short)/);
      expect(r.stderr).toMatch(/Missing:\n  - libdnnl\.so\.2 \(a run-time library of the cpu backend, oneDNN\) (was not found|is unreadable)/);
      expect(r.stderr).toContain('apt-get install libdnnl2');
    });

    it('no platform package and no build: lists both, and the install script says what a source build needs', () => {
      const pkgDir = join(consumer, 'node_modules', platformPkg);
      const away = join(work, 'away');
      renameSync(pkgDir, away);
      try {
        const r = node(['--input-type=commonjs', '-e', requireIt]);
        expect(r.status, show(r)).toBe(3);
        expect(r.stderr).toContain(`${platformPkg}/cudnn_node.node: package not installed`);
        expect(r.stderr).toMatch(/build\/Release\/cudnn_node\.node: not found/);
        expect(r.stderr).toContain('npm install cudnn-node --include=optional');
        expect(r.stderr).toContain('npm rebuild cudnn-node --build-from-source');

        const inst = node([join(consumer, 'node_modules', 'cudnn-node', 'scripts', 'install.mjs')]);
        expect(inst.status, show(inst)).toBe(1);
        expect(inst.stderr).toContain(`no prebuilt package ${platformPkg} is installed`);
        expect(inst.stderr).toContain('missing cmake (not in PATH), a C++ compiler');
        expect(inst.stderr).toContain('Building from source needs: cmake >= 3.18');
      } finally {
        renameSync(away, pkgDir);
      }
    });
  });
});

describe('published surface', () => {
  it('every public name has a doc comment in the .d.ts (scripts/check-docs.mjs)', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'check-docs.mjs')], { encoding: 'utf8' });
    expect(r.stdout, r.stdout).toMatch(/check-docs: \d+ public names, 0 without a doc comment/);
    expect(r.status).toBe(0);
  });
  it.skipIf(!supported)('the addon leaves no symbol of its own undefined (a source missing from the build links silently)', () => {
    const addon = join(root, 'build', 'Release', 'cudnn_node.node');
    const r = spawnSync('nm', ['-D', '--undefined-only', addon], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // What may stay undefined: Node-API (from the node executable), versioned libc/libstdc++/
    // libgcc symbols, oneDNN and OpenMP (bundled or system libraries), the image codecs'
    // libjpeg / libpng / giflib (bundled), weak symbols.
    const ours = r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^w /.test(l))
      .map((l) => l.replace(/^U\s+/, ''))
      .filter((s) => !/^napi_|@GLIBC|@GCC_|@CXXABI|@GLIBCXX|^dnnl_|dnnl::|^omp_|^GOMP_|^jpeg_\w+@LIBJPEG(TURBO)?_|^png_\w+@PNG16_|^(DGif\w+|GifErrorString)$/.test(s));
    expect(ours, `undefined symbols: ${ours.slice(0, 10).join(', ')}`).toEqual([]);
  });
});
