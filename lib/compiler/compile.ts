// compile(): traces a tensor function once into a native plan, so that each later call
// crosses into native code once and can run off the main thread (run()). The trace goes
// through the graph passes (passes.ts: dead-step pruning, fusion) before the plan is built.
// Weights and other tensors the function closes over are bound by reference: in-place
// updates (Variable.assign, optimizer kernels) are seen by later runs.
import { ENGINE, endTrace, placeholder, startTrace } from '../engine.js';
import { InvalidArgumentError, check, describe, wrapNativeError } from '../errors.js';
import type { PlanHandle } from '../native.js';
import * as native from '../native.js';
import { DType, Tensor } from '../tensor.js';
import { runPasses } from './passes.js';
import { checkDType, checkFunction, checkShape, checkTensor } from '../validate.js';
import { reportPlan } from './plan_description.js';

/** The shape and dtype of one input of compile()'s function; calls must pass exactly this shape. */
export interface InputSpec {
  /** Full shape, batch dimension included. */
  shape: number[];
  /** Default 'float32'. */
  dtype?: DType;
}

/** A compiled function: call run() (async, worker thread) or runSync(). */
export class CompiledFunction {
  private plan: PlanHandle | null;
  /** Runs on a worker thread not yet settled, and whether dispose() waits for them. */
  private running = 0;
  private disposed = false;
  /** Number of native steps in the plan. */
  readonly numSteps: number;
  constructor(
    plan: PlanHandle,
    numSteps: number,
    private readonly inputSpecs: InputSpec[],
    private readonly outputSpecs: Array<{ shape: number[]; dtype: DType }>,
    private readonly backend: string,
  ) {
    this.plan = plan;
    this.numSteps = numSteps;
  }

  private feeds(inputs: Tensor[]) {
    check(this.plan && !this.disposed, 'CompiledFunction', 'a live compiled function', 'a disposed one');
    check(Array.isArray(inputs), 'CompiledFunction', 'inputs as an array of tensors', inputs);
    check(inputs.length === this.inputSpecs.length, 'CompiledFunction', `${this.inputSpecs.length} inputs`, `${inputs.length}`);
    return inputs.map((t, i) => {
      checkTensor(t, 'CompiledFunction', `inputs[${i}]`);
      const spec = this.inputSpecs[i];
      if (t.dtype !== (spec.dtype ?? 'float32'))
        check(false, 'CompiledFunction', `input ${i} of dtype ${spec.dtype ?? 'float32'}`, t.dtype);
      check(
        t.shape.length === spec.shape.length && t.shape.every((d, k) => d === spec.shape[k]),
        'CompiledFunction',
        `input ${i} of shape ${describe(spec.shape)}`,
        t.shape,
      );
      return t.liveHandle('CompiledFunction');
    });
  }

  private wrap(handles: unknown[]): Tensor[] {
    return this.outputSpecs.map((o, i) => ENGINE.makeTensor(handles[i] as never, o.shape, o.dtype, this.backend));
  }

  /** Runs the plan on a worker thread; the event loop stays free meanwhile. */
  async run(inputs: Tensor[]): Promise<Tensor[]> {
    const feeds = this.feeds(inputs);
    this.running++;
    try {
      return this.wrap(await native.runPlanAsync(this.plan!, feeds));
    } finally {
      if (--this.running === 0 && this.disposed) this.release();
    }
  }

  /** Runs the plan on the calling thread. */
  runSync(inputs: Tensor[]): Tensor[] {
    const feeds = this.feeds(inputs);
    return this.wrap(native.runPlan(this.plan!, feeds));
  }

  /**
   * Frees the plan's buffers. Note [dispose while running]: while a run() is on the worker
   * thread (model.dispose() during fit), the native disposePlan would wait on the plan's
   * lock, blocking the event loop until the step ends; so the buffers are freed when the run
   * settles, and the function refuses new runs at once.
   */
  dispose(): void {
    this.disposed = true;
    if (this.running === 0) this.release();
  }

  private release(): void {
    if (this.plan) native.disposePlan(this.plan);
    this.plan = null;
  }
}

/** Traces fn over symbolic inputs of the given shapes into a native plan. */
export function compile(fn: (...inputs: Tensor[]) => Tensor[], inputs: InputSpec[], backend = ENGINE.backend): CompiledFunction {
  checkFunction(fn, 'compile', 'fn');
  check(Array.isArray(inputs), 'compile', 'inputs as an array of {shape, dtype?}', inputs);
  inputs = inputs.map((s, i) => {
    check(s !== null && typeof s === 'object', 'compile', `inputs[${i}] as {shape, dtype?}`, s);
    return { shape: checkShape(s.shape, 'compile', `inputs[${i}].shape`), dtype: checkDType(s.dtype, 'compile', 'float32', `inputs[${i}].dtype`) };
  });
  check(backend === 'cpu' || backend === 'cuda', 'compile', "backend 'cpu' or 'cuda'", backend);
  const trace = startTrace(backend);
  ENGINE.startScope();
  let outputs: Tensor[];
  let fetches: number[];
  try {
    const phs = inputs.map((s) => placeholder(s.shape.slice(), s.dtype ?? 'float32'));
    outputs = fn(...phs);
    check(Array.isArray(outputs) && outputs.every((t) => t instanceof Tensor), 'compile', 'fn to return an array of tensors', outputs);
    fetches = outputs.map((t) => {
      if (t.slot !== undefined && !t.handle) return t.slot;
      // A concrete result (e.g. an input returned unchanged) is copied by the plan.
      const out = ENGINE.runKernel('Copy', [t], undefined, [{ shape: t.shape, dtype: t.dtype }])[0];
      return out.slot!;
    });
    const spec = {
      backend,
      numSlots: trace.numSlots,
      constants: [...trace.constantSlots.entries()].map(([id, slot]) => [slot, trace.constants.get(id)!.liveHandle('compile')] as [number, never]),
      feeds: phs.map((p) => p.slot!),
      fetches,
      steps: runPasses(trace.steps, fetches, trace.slotTypes, backend),
    };
    const plan = native.createPlan(spec as never);
    reportPlan(backend, spec.steps, spec.feeds, fetches, trace.slotTypes, new Set(trace.constantSlots.values()));
    return new CompiledFunction(plan, spec.steps.length, inputs, outputs.map((o) => ({ shape: o.shape, dtype: o.dtype })), backend);
  } catch (e) {
    if (e instanceof Error && !(e as { code?: string }).code) throw new InvalidArgumentError(`compile: ${e.message}`);
    wrapNativeError(e);
  } finally {
    endTrace();
    ENGINE.endScope(undefined);
  }
}
