// Plan fusion, a graph pass (passes.ts): rewrites a traced plan's steps before the native
// plan is built, so that a training step makes fewer passes over its activations. Three
// rewrites:
//
// Batch norm + ReLU (Note [batch norm + relu] in native/core/params.h):
//   BatchNormTrain(x, g, b) -> y, mean, var;  Relu(y) -> r          (y read by Relu alone)
//   ReluGrad(dr, r) -> d;  BatchNormGrad(d, x, g, mean, var) -> ...  (d read by it alone)
// become
//   BatchNormTrain{relu}(x, g, b) -> r, mean, var
//   BatchNormGrad{relu}(dr, x, g, mean, var, b) -> ...
// (the backward recomputes the relu mask from x, so no pre-relu tensor is kept); and
//   BatchNormInfer(x, g, b, mean, var) -> y;  Relu(y) -> r  becomes  BatchNormInfer{relu}
// (inference, and frozen batch norms while training: the ReluGrad, if any, reads r);
//
// Residual join + ReLU (a ResNet block's output), same-shape float32 operands:
//   Add(a, b) -> s;  Relu(s) -> r           becomes  AddRelu(a, b) -> r
//   Add(g1, g2) -> dr;  ReluGrad(dr, r) -> d  becomes  AddReluGrad(g1, g2, r) -> d
// (the gradient arriving at a block's output is the sum of its two consumers' gradients).
//
// Batch norm into the join (Note [batch norm + add + relu] in native/core/params.h):
//   BatchNormTrain(x, g, b) -> y, mean, var;  AddRelu(y, s) -> r   (y read by AddRelu alone)
// becomes  BatchNormTrain{relu}(x, g, b, s) -> r, mean, var  (likewise BatchNormInfer), so a
// block's last batch norm output is never written and read back; and a same-shape Add(y, s)
// without a ReLU (Xception's joins) becomes BatchNormTrain(x, g, b, s). The backward is
// unchanged: AddReluGrad reads r, an Add passes its gradient on, and BatchNormGrad takes x
// and the statistics, not y.
//
// A fused value is never one the plan fetches or another step reads. The results are the
// unfused plan's (the add + relu kernels exactly, and a batch norm taken into a join adds the
// residual to the same normalized value; batch norm + relu up to elements within rounding of
// the relu's threshold, whose mask is recomputed from x).
//
// Note [fusion per backend]: plans fuse on cuda, where these kernels are memory-bound and
// each removed pass is HBM time saved. On the cpu backend they break about even with the
// pairs they replace (`node --import tsx bench/gpu.ts --backend cpu --batch 8 --only ops
// --python none`, two runs at [8,56,56,64] on the 2-core VM: BN forward + relu 0.43-0.44 ms
// against 0.29-0.30 + 0.08-0.09 unfused, BN backward + relu 0.50-0.51 against 0.31-0.33 plus
// a ReluGrad; add + relu 0.13-0.20 against 0.13-0.16 + 0.08-0.09, its gradient 0.13-0.16
// against an add and a ReluGrad), so cpu plans are left as traced. CUDNN_NODE_FUSION=1 fuses on every backend
// (the tests use it to check the fused kernels on cpu), CUDNN_NODE_FUSION=0 on none.
import { kernelIds } from '../native.js';
import type { PlanStep, SlotTypes } from './trace.js';

/** Whether plans for `backend` are fused (Note [fusion per backend]). */
export function fusionEnabled(backend: string): boolean {
  const v = process.env.CUDNN_NODE_FUSION;
  if (v === '0') return false;
  if (v === '1') return true;
  return backend === 'cuda';
}

/** The three fusion passes, in order; `fetches` are never fused away. */
export function fusePlan(steps: PlanStep[], fetches: number[], types: SlotTypes): PlanStep[] {
  return fuseBatchNormAdd(fuseAddRelu(fuseBatchNormRelu(steps, fetches, types), fetches, types), fetches, types);
}

/** Who reads each slot (step indices), and the single reader of a slot that is not fetched. */
function readers(steps: PlanStep[], fetches: number[]) {
  const consumers = new Map<number, number[]>();
  steps.forEach(([, ins], i) => ins.forEach((s) => consumers.set(s, [...(consumers.get(s) ?? []), i])));
  const fetched = new Set(fetches);
  const only = (slot: number): number | undefined => {
    const c = consumers.get(slot) ?? [];
    return c.length === 1 && !fetched.has(slot) ? c[0] : undefined;
  };
  return { consumers, only };
}

const copySteps = (steps: PlanStep[]): PlanStep[] => steps.map(([k, ins, outs, attrs]) => [k, ins.slice(), outs.slice(), attrs]);

/** Whether every slot is float32 and all have one shape (an add without broadcasting). */
function sameFloat(types: SlotTypes, slots: number[]): boolean {
  const t = slots.map((s) => types.get(s));
  return t.every((u) => u && u.dtype === 'float32' && u.shape.length === t[0]!.shape.length && u.shape.every((d, i) => d === t[0]!.shape[i]));
}

/** The steps with every fusable batch norm + ReLU pair fused. */
export function fuseBatchNormRelu(steps: PlanStep[], fetches: number[], types: SlotTypes): PlanStep[] {
  const BN = kernelIds.BatchNormTrain, RELU = kernelIds.Relu, RELU_GRAD = kernelIds.ReluGrad, BN_GRAD = kernelIds.BatchNormGrad;
  const BN_INFER = kernelIds.BatchNormInfer;
  if ([BN, RELU, RELU_GRAD, BN_GRAD, BN_INFER].some((k) => k === undefined)) return steps;
  const out = copySteps(steps);
  const { consumers, only } = readers(out, fetches);
  const removed = new Set<number>();

  out.forEach((A) => {
    // Note [fusion in float32]: the fused forms are float32 kernels; bfloat16 / float16
    // batch norms stay as traced (the joins are guarded by sameFloat likewise).
    if (types.get(A[1][0])?.dtype !== 'float32') return;
    if (A[0] === BN_INFER && !A[3]?.relu && A[1].length === 5) {
      const bi = only(A[2][0]);
      if (bi === undefined || out[bi][0] !== RELU || removed.has(bi)) return;
      A[3] = { ...(A[3] ?? {}), relu: true };
      A[2] = [out[bi][2][0]];
      removed.add(bi);
      return;
    }
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

/** The steps with every same-shape Add followed by a Relu (or feeding a ReluGrad) fused. */
export function fuseAddRelu(steps: PlanStep[], fetches: number[], types: SlotTypes): PlanStep[] {
  const ADD = kernelIds.Add, RELU = kernelIds.Relu, RELU_GRAD = kernelIds.ReluGrad;
  const ADD_RELU = kernelIds.AddRelu, ADD_RELU_GRAD = kernelIds.AddReluGrad;
  if ([ADD, RELU, RELU_GRAD, ADD_RELU, ADD_RELU_GRAD].some((k) => k === undefined)) return steps;
  const out = copySteps(steps);
  const { only } = readers(out, fetches);
  const removed = new Set<number>();
  out.forEach((A, ai) => {
    if (A[0] !== ADD || A[1].length !== 2 || removed.has(ai) || !sameFloat(types, [...A[1], A[2][0]])) return;
    const ri = only(A[2][0]);
    if (ri === undefined || removed.has(ri) || ri < ai) return;
    const R = out[ri];
    if (R[0] === RELU) {
      // AddRelu(a, b) -> r, where the Add was.
      out[ai] = [ADD_RELU, A[1], R[2], undefined];
      removed.add(ri);
    } else if (R[0] === RELU_GRAD && R[1][0] === A[2][0] && R[1][1] !== A[2][0]) {
      // AddReluGrad(g1, g2, ref) -> d, where the ReluGrad was (its ref may be computed later than the Add).
      out[ri] = [ADD_RELU_GRAD, [...A[1], R[1][1]], R[2], undefined];
      removed.add(ai);
    }
  });
  return out.filter((_, i) => !removed.has(i));
}

/**
 * The steps with every batch norm whose output only an AddRelu or a same-shape Add reads
 * fused into it: the other operand becomes the batch norm's residual, its fourth (training)
 * or sixth (inference) input, and the ReLU its relu attribute.
 */
export function fuseBatchNormAdd(steps: PlanStep[], fetches: number[], types: SlotTypes): PlanStep[] {
  const BN = kernelIds.BatchNormTrain, BN_INFER = kernelIds.BatchNormInfer, ADD_RELU = kernelIds.AddRelu, ADD = kernelIds.Add;
  if ([BN, BN_INFER, ADD_RELU, ADD].some((k) => k === undefined)) return steps;
  const out = copySteps(steps);
  const { consumers, only } = readers(out, fetches);
  const producer = new Map<number, number>();
  out.forEach(([, , outs], i) => outs.forEach((s) => producer.set(s, i)));
  const removed = new Set<number>();
  out.forEach((J, ji) => {
    const relu = J[0] === ADD_RELU;
    if (!relu && !(J[0] === ADD && J[1].length === 2 && sameFloat(types, [...J[1], J[2][0]]))) return;
    for (const k of [0, 1]) {
      const y = J[1][k], residual = J[1][1 - k];
      const ai = producer.get(y);
      if (y === residual || ai === undefined || removed.has(ai) || only(y) !== ji) continue;
      const A = out[ai];
      const plain = (A[0] === BN && A[1].length === 3) || (A[0] === BN_INFER && A[1].length === 5);
      if (!plain || A[3]?.relu || A[2][0] !== y) continue;
      const fused: PlanStep = [A[0], [...A[1], residual], [J[2][0], ...A[2].slice(1)], { ...(A[3] ?? {}), relu }];
      // At the batch norm's place when the residual exists by then (an identity shortcut);
      // else at the join's, when no step in between reads the batch statistics.
      const rp = producer.get(residual);
      if (rp === undefined || rp < ai) {
        out[ai] = fused;
        removed.add(ji);
      } else if (A[2].slice(1).every((s) => (consumers.get(s) ?? []).every((c) => c > ji))) {
        out[ji] = fused;
        removed.add(ai);
      } else continue;
      return;
    }
  });
  return out.filter((_, i) => !removed.has(i));
}
