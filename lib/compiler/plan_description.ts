// The plan description: what compile() hands the native plan, in readable form (each step's
// kernel by its one name, its input and output slots with shapes and dtypes, its
// attributes), and a hook that lets tools see every plan as it is built (bench/plan-traffic.ts
// adds up a training step's memory traffic from it) without patching the engine or the addon.
import type { KernelName } from '../kernels/kernel_names.js';
import { kernelIds } from '../native.js';
import type { DType } from '../tensor.js';
import type { PlanStep, SlotTypes } from './trace.js';

/** One slot a step reads or writes. */
export interface SlotDescription {
  slot: number;
  shape: number[];
  dtype: DType;
  /** A tensor bound by reference (a weight, a closed-over constant), not computed by the plan. */
  constant: boolean;
}

export interface StepDescription {
  kernel: KernelName;
  inputs: SlotDescription[];
  outputs: SlotDescription[];
  attrs?: Record<string, unknown>;
}

/** A plan as built: after the graph passes (pruning, fusion), in run order. */
export interface PlanDescription {
  backend: string;
  feeds: number[];
  fetches: number[];
  steps: StepDescription[];
}

type PlanObserver = (plan: PlanDescription) => void;
const observers = new Set<PlanObserver>();
let kernelNames: Map<number, KernelName> | undefined;

/** The kernel a trace step's id names. */
export function kernelNameOf(id: number): KernelName {
  kernelNames ??= new Map(Object.entries(kernelIds).map(([name, k]) => [k, name as KernelName]));
  const name = kernelNames.get(id);
  if (name === undefined) throw new Error(`plan: unknown kernel id ${id}`);
  return name;
}

/** Calls fn with the description of every plan compile() builds from now on; returns the unsubscribe. */
export function observePlans(fn: PlanObserver): () => void {
  observers.add(fn);
  return () => observers.delete(fn);
}

/** @internal compile() reports each plan it builds (described only while someone observes). */
export function reportPlan(backend: string, steps: PlanStep[], feeds: number[], fetches: number[], types: SlotTypes, constants: Set<number>): void {
  if (observers.size === 0) return;
  const slot = (s: number): SlotDescription => {
    const t = types.get(s);
    return { slot: s, shape: t ? t.shape.slice() : [], dtype: t?.dtype ?? 'float32', constant: constants.has(s) };
  };
  const plan: PlanDescription = {
    backend,
    feeds: feeds.slice(),
    fetches: fetches.slice(),
    steps: steps.map(([id, ins, outs, attrs]) => ({ kernel: kernelNameOf(id), inputs: ins.map(slot), outputs: outs.map(slot), attrs })),
  };
  for (const fn of observers) fn(plan);
}
