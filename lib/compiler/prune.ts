// Dead-step pruning, the first graph pass compile() runs over a trace.
import type { PlanStep } from './trace.js';

/**
 * Note [dead steps]: a gradient function computes the gradients of all its inputs, so a
 * traced training step also holds steps nobody reads, such as the first convolution's
 * gradient with respect to the images. Steps whose outputs are neither fetched nor read by a
 * later kept step are dropped; steps without outputs (Assign, optimizer updates: the kernels
 * that write in place) are side effects and always kept.
 */
export function pruneDeadSteps(steps: PlanStep[], fetches: number[]): PlanStep[] {
  const live = new Set<number>(fetches);
  const kept: PlanStep[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    const [, ins, outs] = step;
    if (outs.length && !outs.some((o) => live.has(o))) continue;
    for (const x of ins) live.add(x);
    kept.push(step);
  }
  return kept.reverse();
}
