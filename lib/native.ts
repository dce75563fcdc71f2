// The seam to the addon, and the only module that talks to cudnn_node.node: finds and
// loads the binary (explicit override, then the prebuilt platform package, then a local
// source build), turns a load failure into one actionable message, and exports the
// binding's calls as typed functions that turn a native failure into a CudnnNodeError.
// Everything else in lib/ imports these functions (`import * as native from './native.js'`),
// never the addon object.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanStep } from './compiler/trace.js';
import { CudnnNodeError, wrapNativeError } from './errors.js';
import { withOpenMPDefaults } from './openmp.js';

// Note [module url]: this file is also compiled to CommonJS (scripts/build-cjs.mjs, for
// `require('cudnn-node')`), where `import.meta` does not exist. The CJS build replaces the
// expression on the next line, and only there, with the CommonJS equivalent; keep it the
// only use of import.meta in the files reachable from index.ts.
// @ts-ignore -- import.meta is ESM-only; see Note [module url]
const moduleUrl: string = import.meta.url;
/** This file's URL in either build, for finding package files (lib/io/h5_read_worker.ts finds h5wasm from it). */
export const libraryModuleUrl = moduleUrl;

/** Opaque native handles. */
export type Handle = { readonly __handle: unique symbol };
export type PlanHandle = { readonly __plan: unique symbol };
export type TypedArray = Float32Array | Int32Array | Uint8Array;

export interface NativeMemory {
  numBuffers: number;
  numBytes: number;
  peakBytes: number;
}

export interface NativeBackendInfo {
  name: 'cpu' | 'cuda';
  compiled: boolean;
  available: boolean;
  reason?: string;
  library?: string;
  deviceName?: string;
  computeCapability?: string;
  cudnnVersion?: number;
  cublasVersion?: number;
  runtimeVersion?: number;
  driverVersion?: number;
  cudnnPath?: string;
  cublasPath?: string;
  searched?: string[];
  /** bfloat16 / float16 support: 'native' (the ISA has the instructions), 'emulated', 'storage only' or 'not supported'; isa is the one oneDNN dispatches to; kernels are the compute kernels with typed variants. */
  reducedPrecision?: { isa?: string; bfloat16: string; float16: string; kernels?: string[] };
}

/** One library as the cuda loader found it (or why not). */
export interface NativeLibraryProbe {
  ok: boolean;
  version: number;
  path: string;
  error: string;
}
/** cuDNN and cuBLAS as the loader finds them, whether or not a device is present. */
export interface NativeCudaLibraries {
  cudnn: NativeLibraryProbe;
  cublas: NativeLibraryProbe;
  searched: string[];
}

export interface PlanSpec {
  backend: string;
  numSlots: number;
  constants: Array<[number, Handle]>;
  feeds: number[];
  fetches: number[];
  steps: PlanStep[];
}

export interface Addon {
  kernelIds(): Record<string, number>;
  /** Each kernel's attribute schema (native/ops/kernel_schema.cc): name -> type and whether required. */
  kernelSchemas(): Record<string, Record<string, { type: string; required: boolean }>>;
  run(id: number, inputs: Handle[], attrs?: object, backend?: string): Handle | Handle[] | undefined;
  fromTypedArray(backend: string, values: TypedArray, shape: number[]): Handle;
  write(h: Handle, values: TypedArray): void;
  readSync(h: Handle): TypedArray;
  read(h: Handle): Promise<TypedArray>;
  release(h: Handle): void;
  shape(h: Handle): number[];
  dtype(h: Handle): string;
  backendOf(h: Handle): string;
  memory(backend: string): NativeMemory;
  backends(): NativeBackendInfo[];
  cudaLibraries(): NativeCudaLibraries;
  buildInfo(): { napiVersion: number; cudaCompiled: boolean; compiler: string };
  setCudaOptions(o: { allowTF32: boolean; autotune: boolean; convApi?: string }): void;
  createPlan(spec: PlanSpec): PlanHandle;
  runPlan(plan: PlanHandle, feeds: Handle[]): Handle[];
  runPlanAsync(plan: PlanHandle, feeds: Handle[]): Promise<Handle[]>;
  disposePlan(plan: PlanHandle): void;
  profilerStart(): void;
  profilerStop(): unknown;
}

/** The cudnn-node package directory (dist/cjs has its own nameless package.json). */
function packageRoot(): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'cudnn-node') return dir;
    } catch {
      // no (readable) package.json here
    }
    if (dirname(dir) === dir) return join(start, '..');
  }
}

/** `glibc` / `musl` on Linux (as Node's own diagnostic report says), undefined elsewhere. */
function linuxLibc(): 'gnu' | 'musl' | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    if (report?.header?.glibcVersionRuntime) return 'gnu';
  } catch {
    // fall through to the file check
  }
  return existsSync(`/lib/ld-musl-${process.arch === 'x64' ? 'x86_64' : process.arch}.so.1`) ? 'musl' : 'gnu';
}

/**
 * The npm package holding the prebuilt binary for this machine, e.g.
 * `cudnn-node-linux-x64-gnu` (see npm/ and scripts/pack.mjs).
 */
export function platformPackageName(): string {
  const libc = linuxLibc();
  return `cudnn-node-${process.platform}-${process.arch}${libc ? `-${libc}` : ''}`;
}

/** Where a binary was looked for and what happened. */
interface Attempt {
  path: string;
  error?: string;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

/** What is missing, from a dlopen / require error message. */
function diagnose(attempts: Attempt[]): string[] {
  const hints: string[] = [];
  const add = (h: string) => hints.includes(h) || hints.push(h);
  const library = (lib: string, problem: string, beside: string) =>
    /^lib(dnnl|gomp|OpenCL)\.so/.test(lib)
      ? `${lib} (a run-time library of the cpu backend, oneDNN) ${problem}. The prebuilt package ships it ` +
        `beside the binary; a binary without it there (${beside}) needs oneDNN installed (Debian/Ubuntu: ` +
        '`apt-get install libdnnl2`).'
      : `the shared library ${lib} ${problem}: install it with your system's package manager.`;
  for (const a of attempts) {
    const e = a.error ?? '';
    const lib = /([\w.+-]+\.so(?:\.\d+)*): cannot open shared object file/.exec(e)?.[1];
    if (lib) add(library(lib, 'was not found', a.path));
    const bad = /^(\S+): (invalid ELF header|file too short|wrong ELF class)/.exec(e);
    if (bad && bad[1] !== a.path) {
      add(library(basename(bad[1]), `is unreadable at ${bad[1]} (${bad[2]}: empty, truncated or for another platform)`, a.path));
    } else if (bad) {
      add(`${a.path} is not a loadable ${process.platform}-${process.arch} binary (truncated, corrupt or for another platform).`);
    }
    const ver = /version [`']((GLIBC|GLIBCXX|CXXABI)_[\d.]+)' not found/.exec(e);
    if (ver) {
      const what = ver[2] === 'GLIBC' ? 'the C library (glibc)' : 'the C++ runtime (libstdc++)';
      add(
        `${ver[1]} is required but ${what} on this machine is older: the prebuilt binary needs glibc >= 2.34 and ` +
          'libstdc++ from GCC >= 11 (Debian 12, Ubuntu 22.04, RHEL 9 or newer); on older systems build from source.',
      );
    }
    if (/NODE_MODULE_VERSION|Module did not self-register/.test(e)) {
      add(`${a.path} was built for an incompatible Node.js; rebuild it from source.`);
    }
  }
  return hints;
}

function loadError(attempts: Attempt[], root: string, pkg: string, explicit: boolean): CudnnNodeError {
  const tried = attempts.map((a) => `  ${a.path}: ${a.error ?? 'found'}`);
  const missing = diagnose(attempts);
  const solutions: string[] = [];
  if (explicit) {
    solutions.push('unset CUDNN_NODE_BINARY to use the prebuilt package or a local build, or point it at a working cudnn_node.node');
  }
  solutions.push(
    `reinstall with optional dependencies so that the prebuilt \`${pkg}\` is installed: ` +
      '`npm install cudnn-node --include=optional` (and not with --omit=optional / --no-optional)',
    `build from source: \`npm rebuild cudnn-node --build-from-source\` (in ${root}: needs cmake >= 3.18, ` +
      'a C++17 compiler and the oneDNN headers, `apt-get install cmake g++ libdnnl-dev`; nvcc and the cuDNN 9 ' +
      'headers add the cuda backend)',
    'set CUDNN_NODE_BINARY to the path of a working cudnn_node.node',
  );
  const msg =
    `cudnn-node: could not load the native addon for ${process.platform}-${process.arch}` +
    ` (Node ${process.versions.node}, Node-API ${process.versions.napi}).\n` +
    `Tried:\n${tried.join('\n')}\n` +
    (missing.length ? `Missing:\n${missing.map((m) => `  - ${m}`).join('\n')}\n` : '') +
    `Possible solutions:\n${solutions.map((s) => `  - ${s}`).join('\n')}`;
  return new CudnnNodeError(msg, 'ERR_ADDON_LOAD');
}

function load(): { addon: Addon; path: string } {
  const require = createRequire(moduleUrl);
  const root = packageRoot();
  const pkg = platformPackageName();
  const attempts: Attempt[] = [];
  const tryLoad = (path: string): Addon | undefined => {
    if (!existsSync(path)) {
      attempts.push({ path, error: 'not found' });
      return undefined;
    }
    try {
      return require(path) as Addon;
    } catch (e) {
      attempts.push({ path, error: firstLine(e) });
      return undefined;
    }
  };

  // Note [explicit binary]: CUDNN_NODE_BINARY is used alone; when it fails we say so
  // rather than silently loading another binary.
  const explicit = process.env.CUDNN_NODE_BINARY;
  if (explicit) {
    const addon = tryLoad(explicit);
    if (addon) return { addon, path: explicit };
    throw loadError(attempts, root, pkg, true);
  }

  // The prebuilt platform package (an optional dependency), resolved from here.
  let prebuilt: string | undefined;
  try {
    prebuilt = require.resolve(`${pkg}/cudnn_node.node`);
  } catch {
    attempts.push({ path: `${pkg}/cudnn_node.node`, error: 'package not installed' });
  }
  if (prebuilt) {
    const addon = tryLoad(prebuilt);
    if (addon) return { addon, path: prebuilt };
  }

  // A source build (npm run build:native, or the install script's fallback).
  for (const config of ['Release', 'Debug']) {
    const path = join(root, 'build', config, 'cudnn_node.node');
    const addon = tryLoad(path);
    if (addon) return { addon, path };
  }
  throw loadError(attempts, root, pkg, false);
}

// The OpenMP wait setting is fixed when libgomp loads with the addon: Note [OpenMP wait policy].
const loaded = withOpenMPDefaults(load);

/** Absolute path of the loaded cudnn_node.node. */
export const addonPath: string = loaded.path;

/**
 * @internal the loaded addon object (loaded on first import), for tests and benchmarks that
 * inspect or patch the binding. Library code calls the functions below, which go through
 * this object at call time (so a patched method is seen).
 */
export const native: Addon = loaded.addon;

/** Kernel name -> id, as the native kernel table numbers them. */
export const kernelIds: Record<string, number> = native.kernelIds();

// Note [errors at the seam]: each call turns a native failure (an Error with the Status
// code) into the matching CudnnNodeError here, once; callers that still wrap are no-ops.
function sync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    wrapNativeError(e);
  }
}
async function async<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    wrapNativeError(e);
  }
}

// ---- buffers
/** A new buffer on `backend` holding a copy of values. */
export const fromTypedArray = (backend: string, values: TypedArray, shape: number[]): Handle => sync(() => native.fromTypedArray(backend, values, shape));
/** Overwrites a buffer's values in place. */
export const write = (h: Handle, values: TypedArray): void => sync(() => native.write(h, values));
/** The values (blocks until the backend is done). */
export const readSync = (h: Handle): TypedArray => sync(() => native.readSync(h));
/** The values, read on a worker thread. */
export const read = (h: Handle): Promise<TypedArray> => async(() => native.read(h));
/** Drops this handle's reference to its buffer. */
export const release = (h: Handle): void => sync(() => native.release(h));
/** The backend a buffer lives on. */
export const backendOf = (h: Handle): string => sync(() => native.backendOf(h));

// ---- kernels and plans
/** Runs kernel `id` eagerly on the inputs' backend (or `backend` when there are none). */
export const run = (id: number, inputs: Handle[], attrs?: object, backend?: string): Handle | Handle[] | undefined =>
  sync(() => native.run(id, inputs, attrs, backend));
/** Builds a native plan from a traced, passed-over step list (compiler/compile.ts). */
export const createPlan = (spec: PlanSpec): PlanHandle => sync(() => native.createPlan(spec));
/** Runs a plan on the calling thread. */
export const runPlan = (plan: PlanHandle, feeds: Handle[]): Handle[] => sync(() => native.runPlan(plan, feeds));
/** Runs a plan on a worker thread. */
export const runPlanAsync = (plan: PlanHandle, feeds: Handle[]): Promise<Handle[]> => async(() => native.runPlanAsync(plan, feeds));
/** Frees a plan's buffers. */
export const disposePlan = (plan: PlanHandle): void => sync(() => native.disposePlan(plan));

// ---- backends, options, profiler
/** Live buffers and bytes of a backend; throws, saying why, when it cannot run. */
export const memory = (backend: string): NativeMemory => sync(() => native.memory(backend));
export const backends = (): NativeBackendInfo[] => sync(() => native.backends());
export const cudaLibraries = (): NativeCudaLibraries => sync(() => native.cudaLibraries());
export const buildInfo = (): { napiVersion: number; cudaCompiled: boolean; compiler: string } => sync(() => native.buildInfo());
export const setCudaOptions = (o: { allowTF32: boolean; autotune: boolean; convApi?: string }): void => sync(() => native.setCudaOptions(o));
export const profilerStart = (): void => sync(() => native.profilerStart());
export const profilerStop = (): unknown => sync(() => native.profilerStop());

// ---- image codecs (native/binding/codec_binding.cc: libjpeg-turbo, libpng, giflib)
/** Decoded 8-bit pixels, [height, width, channels]. */
export interface DecodedPixels {
  data: Uint8Array;
  shape: [number, number, number];
}
/** The addon's image codec calls (lib/node/image.ts validates their arguments). */
export interface Codecs {
  codecDecodeJpeg(bytes: Uint8Array, channels: number, ratio: number, fancyUpscaling: boolean, tryRecoverTruncated: boolean, acceptableFraction: number, accurateDct: boolean): DecodedPixels;
  codecDecodePng(bytes: Uint8Array, channels: number): DecodedPixels;
  codecDecodeGif(bytes: Uint8Array, firstFrameOnly: boolean): { data: Uint8Array; shape: number[] };
  codecEncodeJpeg(pixels: Uint8Array, height: number, width: number, channels: number, options: object): Uint8Array;
  codecEncodePng(pixels: Uint8Array, height: number, width: number, channels: number, compression: number): Uint8Array;
}
/** The codec calls, or undefined when the addon was built without them. */
export function codecs(): Codecs | undefined {
  const c = native as unknown as Partial<Codecs>;
  return typeof c.codecDecodeJpeg === 'function' ? (c as Codecs) : undefined;
}
