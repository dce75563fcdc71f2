// Typed errors. Every message has one shape: `op: expected <what> but received <value>`.
// Native failures arrive as NativeError with the native .code (ERR_INVALID_ARGUMENT, ...).

/** Base class of every error thrown by cudnn-node. */
export class CudnnNodeError extends Error {
  /** Machine-readable error code, e.g. `ERR_INVALID_ARGUMENT`. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A wrong argument value, option, rank or shape. */
export class InvalidArgumentError extends CudnnNodeError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_ARGUMENT');
  }
}

/** A tensor of the wrong dtype. */
export class DTypeError extends CudnnNodeError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_DTYPE');
  }
}

/** Use of a tensor after dispose(). */
export class DisposedError extends CudnnNodeError {
  constructor(message: string) {
    super(message, 'ERR_TENSOR_DISPOSED');
  }
}

/** A backend that is not compiled in or cannot run here. */
export class BackendUnavailableError extends CudnnNodeError {
  constructor(message: string) {
    super(message, 'ERR_BACKEND_UNAVAILABLE');
  }
}

/** An operation cudnn-node does not provide, such as a gradient of a gradient through an op
 * whose gradient is computed by kernels without gradients of their own. */
export class NotSupportedError extends CudnnNodeError {
  constructor(message: string) {
    super(message, 'ERR_NOT_SUPPORTED');
  }
}

/** An error reported by native code (oneDNN, cuDNN, allocation); .code comes from native. */
export class NativeError extends CudnnNodeError {}

/** Formats a value for an error message. */
export function describe(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(describe).join(',')}]`;
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'object') {
    const shape = (v as { shape?: unknown }).shape;
    if (Array.isArray(shape)) return `tensor of shape ${describe(shape)}`;
    return (v as object).constructor?.name ?? 'object';
  }
  return String(v);
}

/** Throws InvalidArgumentError(`op: expected X but received Y`) unless cond holds. */
export function check(cond: unknown, op: string, expected: string, received: unknown): asserts cond {
  if (!cond) throw new InvalidArgumentError(`${op}: expected ${expected} but received ${describe(received)}`);
}

/** Re-throws a native error as a NativeError with the caller's stack. */
export function wrapNativeError(e: unknown): never {
  if (e instanceof CudnnNodeError) throw e;
  throw withCallerStack(() => {
    const err = e as { message?: string; code?: string };
    const code = err?.code ?? 'ERR_NATIVE';
    if (code === 'ERR_INVALID_ARGUMENT') return new InvalidArgumentError(err.message ?? String(e));
    if (code === 'ERR_TENSOR_DISPOSED') return new DisposedError(err.message ?? String(e));
    if (code === 'ERR_BACKEND_UNAVAILABLE') return new BackendUnavailableError(err.message ?? String(e));
    if (code === 'ERR_NOT_SUPPORTED') return new NotSupportedError(err.message ?? String(e));
    return new NativeError(err?.message ?? String(e), code);
  });
}

// Note [caller's stack]: a native error is created under the seam (native.ts), the op's scope
// and the gradient wrapper, about ten frames below the user's call, which is V8's default
// Error.stackTraceLimit. Those errors are made with a deeper limit, so their stack always
// reaches the user's code.
function withCallerStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(limit, 40);
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
