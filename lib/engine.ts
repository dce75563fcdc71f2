// The engine: current backend, tidy scopes, the gradient tape, and the tracer that
// turns a function into a native plan. Every op ends in runKernel(), which either calls
// the addon eagerly or, while tracing, records a plan step over symbolic slots.
import type { Trace } from './compiler/trace.js';
import { handleDType } from './dtypes.js';
import { reducedOutputDTypes } from './kernels/reduced_dtypes.js';
import { CudnnNodeError, InvalidArgumentError, describe, wrapNativeError } from './errors.js';
import type { KernelAttrsArg, KernelInputs, KernelName } from './kernels/kernel_names.js';
import type { Handle } from './native.js';
import * as native from './native.js';
import { DType, Tensor, liveTensors } from './tensor.js';
import { checkFunction, checkOutputShape } from './validate.js';

export interface OutputSpec {
  shape: number[];
  dtype: DType;
}

/** A recorded op for backprop: grad maps output gradients to input gradients. */
interface TapeNode {
  inputs: Tensor[];
  outputs: Tensor[];
  /** needed[i] is false when input i's gradient is not used (the op may skip it). */
  grad: (dys: Tensor[], needed: boolean[]) => Array<Tensor | null>;
  /** The op's name (its last kernel unless given), for errors. */
  name: string;
  /** grad is built from differentiable ops, so it can itself be differentiated. */
  differentiableGrad: boolean;
}

class Engine {
  backend = 'cpu';
  private scopes: Tensor[][] = [];
  private tapes: TapeNode[][] = [];
  trace: Trace | null = null;
  /** The kernel runKernel last ran or recorded (names recorded ops). */
  lastKernel = '';

  // ---- scopes
  startScope(): void {
    this.scopes.push([]);
  }
  endScope(result: unknown): void {
    const scope = this.scopes.pop() ?? [];
    const keep = new Set<number>();
    collectTensors(result, (t) => keep.add(t.id));
    const outer = this.scopes[this.scopes.length - 1];
    // Note [tidy under a tape]: while a gradient tape records, a tensor of this scope may be
    // an input, output or saved value of a recorded op that an enclosing backprop will still
    // read: a gradient of a gradient differentiates the inner gradient's whole computation,
    // which ran inside the inner grad's tidy(). Such a scope hands its tensors to the
    // enclosing scope instead of disposing them; the outermost tidy frees them.
    const defer = outer !== undefined && this.recording;
    for (const t of scope) {
      if (keep.has(t.id) || t.kept) continue;
      if (defer) outer.push(t);
      else t.dispose();
    }
    // Results created in this scope survive into the enclosing one; a result that came from
    // outside (tidy(() => x) returning its input) stays where it was, or outside any scope.
    if (outer) {
      const mine = new Set(scope.map((t) => t.id));
      collectTensors(result, (t) => {
        if (mine.has(t.id)) outer.push(t);
      });
    }
  }
  track(t: Tensor): Tensor {
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.push(t);
    return t;
  }

  // ---- tape
  get recording(): boolean {
    return this.tapes.length > 0;
  }
  startTape(): TapeNode[] {
    const tape: TapeNode[] = [];
    this.tapes.push(tape);
    return tape;
  }
  endTape(): void {
    this.tapes.pop();
  }
  record(inputs: Tensor[], outputs: Tensor[], grad: TapeNode['grad'], name: string, differentiableGrad: boolean): void {
    for (const tape of this.tapes) tape.push({ inputs, outputs, grad, name, differentiableGrad });
  }

  // ---- kernels
  /**
   * Runs (or, while tracing, records) a kernel and returns its outputs as tensors. Typed by
   * the kernel contract (lib/kernels/kernel_names.ts): the inputs and attributes must be the
   * named kernel's.
   */
  runKernel<K extends KernelName>(name: K, inputs: KernelInputs<K>, attrs: KernelAttrsArg<K>, outputs: OutputSpec[]): Tensor[];
  runKernel(name: KernelName, inputs: readonly Tensor[], attrs: object | undefined, outputs: OutputSpec[]): Tensor[] {
    const id = native.kernelIds[name];
    if (id === undefined) throw new InvalidArgumentError(`runKernel: unknown kernel '${name}'`);
    // Note [element limit] (validate.ts): the last line of defence for shapes an op computed.
    for (const o of outputs) checkOutputShape(o.shape, name);
    this.lastKernel = name;
    // Note [reduced-precision outputs]: with a bfloat16 / float16 input (or a Cast / Fill to
    // one), the native typed kernel decides each output's dtype (a convolution's filter
    // gradient is float32, its data gradient bfloat16); the tracer takes them from the same
    // rule (kernels/reduced_dtypes.ts), which eager calls check against the native buffers.
    const dtypes = reducedOutputDTypes(name, inputs.map((t) => t.dtype), attrs, outputs.length);
    if (dtypes) outputs = outputs.map((o, i) => ({ shape: o.shape, dtype: dtypes[i] }));
    if (this.trace) return this.recordStep(id, inputs, attrs, outputs);
    const handles: Handle[] = inputs.map((t) => t.liveHandle(name));
    const res = native.run(id, handles, attrs, inputs.length ? undefined : this.backend);
    const hs = res === undefined ? [] : Array.isArray(res) ? res : [res];
    const backend = inputs.length ? inputs[0].backend : this.backend;
    if (dtypes) checkOutputDTypes(name, hs, dtypes);
    return outputs.map((o, i) => this.track(new Tensor(o.shape, o.dtype, backend, hs[i])));
  }

  private recordStep(id: number, inputs: readonly Tensor[], attrs: object | undefined, outputs: OutputSpec[]): Tensor[] {
    const tr = this.trace!;
    const inSlots = inputs.map((t) => {
      if (t.slot !== undefined && !t.handle) return t.slot;
      let slot = tr.constantSlots.get(t.id);
      if (slot === undefined) {
        t.liveHandle('compile');
        slot = tr.numSlots++;
        tr.slotTypes.set(slot, { shape: t.shape, dtype: t.dtype });
        tr.constantSlots.set(t.id, slot);
        tr.constants.set(t.id, t);
      }
      return slot;
    });
    const outs = outputs.map((o) => this.track(new Tensor(o.shape, o.dtype, tr.backend, undefined, tr.numSlots++)));
    for (const t of outs) tr.slotTypes.set(t.slot!, { shape: t.shape, dtype: t.dtype });
    tr.steps.push([id, inSlots, outs.map((t) => t.slot!), attrs as Record<string, unknown> | undefined]);
    return outs;
  }

  makeTensor(handle: Handle, shape: number[], dtype: DType, backend: string): Tensor {
    const t = new Tensor(shape, dtype, backend, handle);
    // Note [constants in compile]: inner tidy() scopes must not free a constant that the
    // plan will bind; compile() disposes them once the plan holds its own references.
    if (this.trace) {
      t.kept = true;
      this.trace.owned.push(t);
      return t;
    }
    return this.track(t);
  }
}

export const ENGINE = new Engine();

/** Note [one dtype rule, checked eagerly] (kernels/reduced_dtypes.ts). */
function checkOutputDTypes(name: string, hs: Handle[], dtypes: DType[]): void {
  hs.forEach((h, i) => {
    const got = h ? handleDType(h) : dtypes[i];
    if (got !== dtypes[i]) {
      for (const x of hs) if (x) native.release(x);
      throw new CudnnNodeError(`${name}: output ${i} is ${got} but the dtype rule (lib/kernels/reduced_dtypes.ts) says ${dtypes[i]}`, 'ERR_INTERNAL');
    }
  });
}

/** Calls fn on every tensor found in a (nested) result. */
export function collectTensors(v: unknown, fn: (t: Tensor) => void, seen = new Set<unknown>()): void {
  if (v instanceof Tensor) fn(v);
  else if (v && typeof v === 'object' && !seen.has(v)) {
    seen.add(v);
    for (const x of Array.isArray(v) ? v : Object.values(v as object)) collectTensors(x, fn, seen);
  }
}

/** Runs fn and disposes every tensor it created except those it returns (and kept ones). */
export function tidy<T>(fn: () => T): T {
  checkFunction(fn, 'tidy', 'fn');
  ENGINE.startScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    ENGINE.endScope(undefined);
    throw e;
  }
  ENGINE.endScope(result);
  return result;
}

/** Keeps t alive past the enclosing tidy(). */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new InvalidArgumentError(`keep: expected a Tensor but received ${describe(t)}`);
  if (t.isDisposed) t.liveHandle('keep');
  t.kept = true;
  return t;
}

/** Disposes every tensor in a (nested) value. */
export function dispose(v: unknown): void {
  collectTensors(v, (t) => t.dispose());
}

/** What memory() returns (tfjs tf.memory()): live tensors and native bytes of the current backend. */
export interface MemoryInfo {
  /** Live JS tensors. */
  numTensors: number;
  /** Live native buffers on the current backend (views share one). */
  numDataBuffers: number;
  /** Bytes held by the current backend. */
  numBytes: number;
  /** Peak bytes held by the current backend since start. */
  peakBytes: number;
  /** The backend these numbers are for ('cpu' or 'cuda'). */
  backend: string;
}

/** Live tensors and native bytes of the current backend. */
export function memory(): MemoryInfo {
  const m = native.memory(ENGINE.backend);
  return { numTensors: liveTensors.count, numDataBuffers: m.numBuffers, numBytes: m.numBytes, peakBytes: m.peakBytes, backend: ENGINE.backend };
}

/** The name of the backend new tensors are created on. */
export function getBackend(): string {
  return ENGINE.backend;
}

/** Selects 'cpu' or 'cuda'; throws BackendUnavailableError saying why cuda cannot run. */
export function setBackend(name: string): void {
  if (name !== 'cpu' && name !== 'cuda')
    throw new InvalidArgumentError(`setBackend: expected 'cpu' or 'cuda' but received ${describe(name)}`);
  try {
    native.memory(name); // throws with the reason when the backend cannot run
  } catch (e) {
    const err = e as { message?: unknown };
    if (err && typeof err.message === 'string' && !err.message.startsWith('setBackend:')) err.message = `setBackend: ${err.message}`;
    wrapNativeError(e);
  }
  ENGINE.backend = name;
}

/** @internal start tracing a function into a plan. */
export function startTrace(backend: string): Trace {
  if (ENGINE.trace) throw new InvalidArgumentError('compile: expected no compile in progress but received a nested compile');
  ENGINE.trace = { backend, numSlots: 0, constants: new Map(), constantSlots: new Map(), steps: [], slotTypes: new Map(), owned: [] };
  return ENGINE.trace;
}
/** @internal */
export function endTrace(): void {
  const tr = ENGINE.trace;
  ENGINE.trace = null;
  tr?.owned.forEach((t) => t.dispose());
}
/** @internal a new symbolic input of the trace. */
export function placeholder(shape: number[], dtype: DType): Tensor {
  const tr = ENGINE.trace!;
  const t = ENGINE.track(new Tensor(shape, dtype, tr.backend, undefined, tr.numSlots++));
  tr.slotTypes.set(t.slot!, { shape: t.shape, dtype: t.dtype });
  return t;
}
