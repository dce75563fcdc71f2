// Plan fusion: rewrites a traced plan's steps before the native plan is built. One pass so
// far, batch norm + ReLU (Note [batch norm + relu] in native/core/params.h):
//
//   BatchNormTrain(x, g, b) -> y, mean, var;  Relu(y) -> r          (y read by Relu alone)
//   ReluGrad(dr, r) -> d;  BatchNormGrad(d, x, g, mean, var) -> ...  (d read by it alone)
// become
//   BatchNormTrain{relu}(x, g, b) -> r, mean, var
//   BatchNormGrad{relu}(dr, x, g, mean, var, b) -> ...
//
// which saves the ReLU's and its gradient's passes over the activation and the memory of y
// (a ResNet's conv -> BN -> ReLU units). The backward recomputes the relu mask from x, so no
// pre-relu tensor is kept. CUDNN_NODE_FUSION=0 turns fusion off (for comparisons).
import { kernelIds } from './native.js';

/** A traced step: kernel id, input slots, output slots, attributes. */
export type PlanStep = [number, number[], number[], Record<string, unknown> | undefined];

/** True unless CUDNN_NODE_FUSION=0. */
export function fusionEnabled(): boolean {
  return process.env.CUDNN_NODE_FUSION !== '0';
}

/** The steps with every fusable batch norm + ReLU pair fused; `fetches` are never fused away. */
export function fuseBatchNormRelu(steps: PlanStep[], fetches: number[]): PlanStep[] {
  const BN = kernelIds.BatchNormTrain, RELU = kernelIds.Relu, RELU_GRAD = kernelIds.ReluGrad, BN_GRAD = kernelIds.BatchNormGrad;
  if ([BN, RELU, RELU_GRAD, BN_GRAD].some((k) => k === undefined)) return steps;
  const out: PlanStep[] = steps.map(([k, ins, outs, attrs]) => [k, ins.slice(), outs.slice(), attrs]);
  const consumers = new Map<number, number[]>();
  out.forEach(([, ins], i) => ins.forEach((s) => consumers.set(s, [...(consumers.get(s) ?? []), i])));
  const fetched = new Set(fetches);
  const removed = new Set<number>();
  const only = (slot: number): number | undefined => {
    const c = consumers.get(slot) ?? [];
    return c.length === 1 && !fetched.has(slot) ? c[0] : undefined;
  };

  out.forEach((A) => {
    if (A[0] !== BN || A[3]?.relu || A[1].length !== 3) return;
    const [x, gamma, beta] = A[1];
    const [y, mean, variance] = A[2];
    const bi = only(y);
    if (bi === undefined || out[bi][0] !== RELU || removed.has(bi)) return;
    const r = out[bi][2][0];
    // Gradients through this relu that go straight into this batch norm's backward.
    const backward: Array<[number, number]> = [];
    for (const gi of consumers.get(r) ?? []) {
      const G = out[gi];
      if (G[0] !== RELU_GRAD || G[1][1] !== r || removed.has(gi)) continue;
      const ni = only(G[2][0]);
      if (ni === undefined) continue;
      const N = out[ni];
      const same = N[0] === BN_GRAD && N[1].length === 5 && N[1][0] === G[2][0] && N[1][1] === x && N[1][2] === gamma &&
        N[1][3] === mean && N[1][4] === variance && N[3]?.epsilon === A[3]?.epsilon;
      if (same && ni > gi) backward.push([gi, ni]);
    }
    A[3] = { ...(A[3] ?? {}), relu: true };
    A[2] = [r, mean, variance];
    removed.add(bi);
    for (const [gi, ni] of backward) {
      const N = out[ni];
      N[1] = [out[gi][1][0], x, gamma, mean, variance, beta];
      N[3] = { ...(N[3] ?? {}), relu: true };
      removed.add(gi);
    }
  });
  return out.filter((_, i) => !removed.has(i));
}
