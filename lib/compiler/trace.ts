// The trace: what the engine records while compile() runs a function over symbolic inputs,
// and the one declaration of a plan step, the unit every graph pass reads and rewrites and
// the native plan executes (native/runtime/plan.cc reads the same tuple).
import type { DType, Tensor } from '../tensor.js';

/** A traced step: kernel id, input slots, output slots, attributes. */
export type PlanStep = [number, number[], number[], Record<string, unknown> | undefined];

/** A slot's shape and dtype, as the trace recorded them. */
export type SlotTypes = Map<number, { shape: number[]; dtype: DType }>;

/** A function being traced into a plan (ENGINE.trace while compile() runs). */
export interface Trace {
  backend: string;
  numSlots: number;
  /** Tensor id -> tensor, for tensors bound as constants. */
  constants: Map<number, Tensor>;
  /** Tensor id -> slot of a constant. */
  constantSlots: Map<number, number>;
  steps: PlanStep[];
  /** Each slot's shape and dtype (for the graph passes). */
  slotTypes: SlotTypes;
  /** Concrete constants created while tracing; kept alive until the plan is built. */
  owned: Tensor[];
}
