// The graph passes compile() runs over a trace before the native plan is built, in order:
// dead-step pruning (prune.ts), then plan fusion (fusion.ts) where it pays on the backend.
import { fusePlan, fusionEnabled } from './fusion.js';
import { pruneDeadSteps } from './prune.js';
import type { PlanStep, SlotTypes } from './trace.js';

/** The steps of a trace as the plan runs them; `fetches` survive every pass. */
export function runPasses(steps: PlanStep[], fetches: number[], types: SlotTypes, backend: string): PlanStep[] {
  const live = pruneDeadSteps(steps, fetches);
  return fusionEnabled(backend) ? fusePlan(live, fetches, types) : live;
}
