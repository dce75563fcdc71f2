// Tensor and Variable: a JS view of a native buffer (or, while a function is being
// compiled into a plan, a symbolic slot). Shapes are NHWC for images, float32 by default.
import { isReducedPrecision, readWidened, readWidenedSync, refuseReduced } from './dtypes.js';
import { DTypeError, DisposedError, InvalidArgumentError, describe, wrapNativeError } from './errors.js';
import type { Handle, TypedArray } from './native.js';
import * as native from './native.js';

/**
 * Element type of a tensor: 'float32' (the default), 'int32', 'bool' (stored as bytes), or the
 * 2-byte storage types 'bfloat16' and 'float16', whose values read back widened to float32
 * (Note [reduced precision in JS] in dtypes.ts).
 */
export type DType = 'float32' | 'int32' | 'bool' | 'bfloat16' | 'float16';
/** tfjs' rank names, the type argument of Tensor<R> (Tensor<Rank.R2> is a rank-2 tensor by intent;
 * the check happens at run time, so every Tensor<R> is assignable to every other). */
export enum Rank {
  R0 = 'R0',
  R1 = 'R1',
  R2 = 'R2',
  R3 = 'R3',
  R4 = 'R4',
  R5 = 'R5',
  R6 = 'R6',
}
export type DataTypeMap = { float32: Float32Array; int32: Int32Array; bool: Uint8Array; bfloat16: Float32Array; float16: Float32Array };
/** A number, a boolean, or nested arrays of them: the value of Tensor.arraySync() and an input to tensor(). */
export type NestedArray = number | boolean | NestedArray[];

let nextId = 0;

/** Registry of live tensors, for memory() and leak tests. */
export const liveTensors = { count: 0 };

// Note [safety net]: a handle is a native External whose finalizer drops its buffer when
// the garbage collector collects it, so no FinalizationRegistry is needed here (it would
// cost microseconds per tensor). dispose()/tidy() free memory deterministically.

/** An immutable n-dimensional array held by a native backend. R is tfjs' rank type argument,
 * documentation only (see Rank); the methods t.add(), t.reshape(), ... come from tensor_methods.ts. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export class Tensor<R extends Rank = Rank> {
  /** Unique id, also used by the gradient tape. */
  readonly id: number;
  /** Dimensions, outermost first (NHWC for images); [] for a scalar. */
  readonly shape: number[];
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /**
   * Native handle; undefined for symbolic tensors inside compile().
   * @internal
   */
  handle: Handle | undefined;
  /**
   * Plan slot of a symbolic tensor.
   * @internal
   */
  slot: number | undefined;
  /** The backend the buffer lives on ('cpu' or 'cuda'). */
  readonly backend: string;
  private disposed = false;
  /** Kept by tidy(): set by keep(). */
  kept = false;

  /** @internal use the op functions (tensor(), zeros(), ...) to create tensors. */
  constructor(shape: number[], dtype: DType, backend: string, handle?: Handle, slot?: number) {
    this.id = nextId++;
    this.shape = shape;
    this.dtype = dtype;
    this.size = shape.reduce((a, b) => a * b, 1);
    this.handle = handle;
    this.slot = slot;
    this.backend = backend;
    liveTensors.count++;
  }

  /** Number of dimensions (shape.length). */
  get rank(): number {
    return this.shape.length;
  }
  /** Whether dispose() has freed the buffer. */
  get isDisposed(): boolean {
    return this.disposed;
  }
  /** Whether this is a placeholder inside compile() (no values). */
  get isSymbolic(): boolean {
    return this.handle === undefined && this.slot !== undefined;
  }

  /**
   * The live native handle; throws DisposedError (disposed) or InvalidArgumentError (symbolic) naming op.
   * @internal
   */
  liveHandle(op = 'tensor'): Handle {
    if (this.disposed) throw new DisposedError(`${op}: expected a live tensor but received a disposed tensor (id ${this.id}, shape [${this.shape}])`);
    if (!this.handle) throw new InvalidArgumentError(`${op}: expected a concrete tensor but received a symbolic tensor (inside compile)`);
    return this.handle;
  }

  /**
   * Copies the values to a typed array without blocking the event loop. On cuda this waits
   * for the queued work, so an error found on the device (a label out of range) comes here.
   */
  async data<D extends DType = 'float32'>(): Promise<DataTypeMap[D]> {
    const h = this.liveHandle('data');
    try {
      return (isReducedPrecision(this.dtype) ? await readWidened(h) : await native.read(h)) as DataTypeMap[D];
    } catch (e) {
      wrapNativeError(e);
    }
  }
  /** Copies the values to a typed array (blocks until the backend is done; see data()). */
  dataSync<D extends DType = 'float32'>(): DataTypeMap[D] {
    const h = this.liveHandle('dataSync');
    try {
      return (isReducedPrecision(this.dtype) ? readWidenedSync(h) : native.readSync(h)) as DataTypeMap[D];
    } catch (e) {
      wrapNativeError(e);
    }
  }
  /** The values as nested arrays. */
  async array(): Promise<NestedArray> {
    return toNested(await this.data(), this.shape);
  }
  /** The values as nested arrays (blocks until the backend is done). */
  arraySync(): NestedArray {
    return toNested(this.dataSync(), this.shape);
  }
  /** Frees the native buffer now (a FinalizationRegistry is only a safety net). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    liveTensors.count--;
    if (this.handle) native.release(this.handle);
  }
  /** 'Tensor(shape [..], dtype) v0, v1, ...' with the first 20 values (reads them synchronously). */
  toString(): string {
    if (this.disposed) return `Tensor(disposed, shape [${this.shape}])`;
    if (!this.handle) return `Tensor(symbolic, shape [${this.shape}], ${this.dtype})`;
    const v = Array.from(this.dataSync().slice(0, 20));
    return `Tensor(shape [${this.shape}], ${this.dtype}) ${v.join(', ')}${this.size > 20 ? ', ...' : ''}`;
  }
  /** Logs toString() to the console (tfjs tensor.print()). */
  print(): void {
    console.log(this.toString());
  }
}

/**
 * Live variables by name (tfjs' registered variables), so optimizer.applyGradients() can take
 * the {name: gradient} map that variableGrads() returns. Weak: a collected variable drops out.
 * @internal
 */
export const variablesByName = new Map<string, WeakRef<Variable>>();

/** A mutable tensor (weights, optimizer slots): assign() overwrites it in place, so a
 * compiled plan that reads it sees the new values. */
export class Variable<R extends Rank = Rank> extends Tensor<R> {
  /** Whether optimizers and variableGrads() update it. */
  trainable: boolean;
  /** Unique name (weights: 'dense/kernel'-style; default 'variable_N'). */
  readonly name: string;
  /** @internal use variable(). */
  constructor(shape: number[], dtype: DType, backend: string, handle: Handle, trainable: boolean, name: string) {
    super(shape, dtype, backend, handle);
    this.trainable = trainable;
    this.name = name;
    variablesByName.set(name, new WeakRef(this));
  }
  /** tfjs LayerVariable.read(): this variable (model.trainableWeights.map((w) => w.read()) gives a varList). */
  read(): this {
    return this;
  }
  /** tfjs LayerVariable.write(value): assign(value), returning this variable. */
  write(value: Tensor): this {
    this.assign(value);
    return this;
  }
  /** Frees the buffer and forgets the name. */
  dispose(): void {
    super.dispose();
    if (variablesByName.get(this.name)?.deref() === this) variablesByName.delete(this.name);
  }
  /** Writes new values into this variable's buffer. */
  assign(values: Tensor | TypedArray): void {
    refuseReduced('assign', this.dtype, 'for variables yet (mixed precision keeps variables in float32)');
    this.liveHandle('assign');
    const Ctor = this.dtype === 'int32' ? Int32Array : this.dtype === 'bool' ? Uint8Array : Float32Array;
    if (values instanceof Tensor && values.dtype !== this.dtype)
      throw new DTypeError(`assign: expected values of dtype ${this.dtype} but received ${values.dtype}`);
    if (!(values instanceof Tensor) && !(ArrayBuffer.isView(values) && !(values instanceof DataView)))
      throw new InvalidArgumentError(`assign: expected values as a Tensor or a ${Ctor.name} but received ${describe(values)}`);
    // Other typed arrays (a Float64Array from a file) are converted to the variable's dtype.
    const arr = values instanceof Tensor ? values.dataSync() : values instanceof Ctor ? values : Ctor.from(values as ArrayLike<number>);
    if (arr.length !== this.size)
      throw new InvalidArgumentError(`assign: expected ${this.size} values (shape [${this.shape}]) but received ${arr.length}`);
    try {
    native.write(this.liveHandle('assign'), arr);
    } catch (e) {
      wrapNativeError(e);
    }
  }
}

function toNested(data: TypedArray, shape: number[]): NestedArray {
  if (shape.length === 0) return data[0];
  const build = (offset: number, dim: number): NestedArray => {
    const n = shape[dim];
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) out.push(dim === shape.length - 1 ? data[offset + i] : build(offset + i * stride, dim + 1));
    return out;
  };
  return build(0, 0);
}
