// The only module that talks to the addon: loads the .node binary and turns a load
// failure into one actionable message.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
}

export interface PlanSpec {
  backend: string;
  numSlots: number;
  constants: Array<[number, Handle]>;
  feeds: number[];
  fetches: number[];
  steps: Array<[number, number[], number[], Record<string, unknown> | undefined]>;
}

export interface Addon {
  kernelIds(): Record<string, number>;
  run(id: number, inputs: Handle[], attrs?: object, backend?: string): Handle | Handle[] | undefined;
  runAsync(id: number, inputs: Handle[], attrs?: object, backend?: string): Promise<Handle | Handle[] | undefined>;
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
  buildInfo(): { napiVersion: number; cudaCompiled: boolean; compiler: string };
  setCudaOptions(o: { allowTF32: boolean; autotune: boolean }): void;
  createPlan(spec: PlanSpec): PlanHandle;
  runPlan(plan: PlanHandle, feeds: Handle[]): Handle[];
  runPlanAsync(plan: PlanHandle, feeds: Handle[]): Promise<Handle[]>;
  disposePlan(plan: PlanHandle): void;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function load(): Addon {
  const require = createRequire(import.meta.url);
  const root = packageRoot();
  const candidates = [
    process.env.CUDNN_NODE_BINARY,
    join(root, 'build', 'Release', 'cudnn_node.node'),
    join(root, 'build', 'Debug', 'cudnn_node.node'),
  ].filter((p): p is string => !!p);
  const tried: string[] = [];
  for (const p of candidates) {
    if (!existsSync(p)) {
      tried.push(`${p} (not found)`);
      continue;
    }
    try {
      return require(p) as Addon;
    } catch (e) {
      tried.push(`${p} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  throw new Error(
    'cudnn-node: could not load the native addon.\n' +
      `Tried:\n  ${tried.join('\n  ')}\n` +
      'Possible solutions:\n' +
      '  - build it from source: `npm run build:native` (needs cmake, g++ and libdnnl-dev: `apt-get install libdnnl-dev`)\n' +
      '  - if the error names libdnnl.so.2, install oneDNN: `apt-get install libdnnl2`\n' +
      '  - set CUDNN_NODE_BINARY to the path of a prebuilt cudnn_node.node',
  );
}

/** The loaded addon (loaded on first import). */
export const native: Addon = load();
export const kernelIds: Record<string, number> = native.kernelIds();
