// The typed kernel contract (lib/kernels/kernel_names.ts, native/ops/kernel_schema.cc): the
// TypeScript declarations and the native schema name the same kernels and attributes; the
// native check refuses an unknown, missing or mistyped attribute, eagerly and in a compiled
// plan, with the kernel's one name; the same mistakes are compile errors (each
// `@ts-expect-error` below fails `npm run typecheck` if the line type-checks); the fused
// wrappers compute what the unfused kernels do; and the compiler's plan description names
// the kernels a plan runs.
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { observePlans, type PlanDescription } from '../lib/compiler/plan_description.js';
import { ENGINE } from '../lib/engine.js';
import * as fused from '../lib/kernels/fused.js';
import { KERNELS, type AttrDecl } from '../lib/kernels/kernel_names.js';
import * as windowed from '../lib/kernels/windowed.js';
import { kernelIds, native } from '../lib/native.js';
import { expectClose } from './helpers.js';

/** A TypeScript attribute declaration as the native schema states it. */
function asNative(d: AttrDecl): { type: string; required: boolean } {
  if (typeof d === 'object') return { type: 'string', required: !d.optional };
  return d.endsWith('?') ? { type: d.slice(0, -1), required: false } : { type: d, required: true };
}

const f32 = (shape: number[]) => ({ shape, dtype: 'float32' as const });

/** Runs f and returns the error it throws (fails when it does not throw). */
function errorOf(f: () => unknown): Error & { code?: string } {
  try {
    cn.tidy(() => {
      f();
    });
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('kernel contract', () => {
  it('the TypeScript declarations and the native schema name the same kernels and attributes', () => {
    const ts = Object.fromEntries(
      Object.entries(KERNELS).map(([k, d]) => [k, Object.fromEntries(Object.entries(d.attrs as Record<string, AttrDecl>).map(([a, t]) => [a, asNative(t)]))]),
    );
    expect(native.kernelSchemas()).toEqual(ts);
  });

  it('every registered native kernel is declared, and every declared kernel is registered', () => {
    expect(Object.keys(kernelIds).sort()).toEqual(Object.keys(KERNELS).sort());
  });

  describe('the native check at dispatch', () => {
    it('refuses an unknown attribute, naming the kernel, the attribute and the known ones', () => {
      const x = cn.zeros([1, 4, 4, 1]), f = cn.zeros([3, 3, 1, 2]);
      // @ts-expect-error -- misspelled attribute
      const e = errorOf(() => ENGINE.runKernel('Conv2D', [x, f], { strdes: [1, 1] }, [f32([1, 2, 2, 2])]));
      expect(e).toBeInstanceOf(cn.InvalidArgumentError);
      expect(e.code).toBe('ERR_INVALID_ARGUMENT');
      expect(e.message).toMatch("Conv2D: unknown attribute 'strdes' (expected one of strides, dilations, pad, pads, relu)");
      // @ts-expect-error -- a kernel that takes no attributes
      expect(errorOf(() => ENGINE.runKernel('Relu', [x], { alpha: 0.2 }, [f32(x.shape)])).message).toMatch("Relu: unknown attribute 'alpha' (it takes none)");
      cn.dispose([x, f]);
    });

    it('refuses a missing required attribute instead of reading a default', () => {
      const dy = cn.zeros([1, 2, 2, 2]), f = cn.zeros([3, 3, 1, 2]), x = cn.zeros([2, 3]);
      // @ts-expect-error -- inputShape is required
      const e = errorOf(() => ENGINE.runKernel('Conv2DBackpropInput', [dy, f], { strides: [1, 1] }, [f32([1, 4, 4, 1])]));
      expect(e).toBeInstanceOf(cn.InvalidArgumentError);
      expect(e.message).toMatch("Conv2DBackpropInput: missing attribute 'inputShape'");
      // @ts-expect-error -- shape is required
      expect(errorOf(() => ENGINE.runKernel('Reshape', [x], {}, [f32([6])])).message).toMatch("Reshape: missing attribute 'shape'");
      // @ts-expect-error -- undefined attrs where one is required
      expect(errorOf(() => ENGINE.runKernel('MovingAverageUpdate', [x, x], undefined, [])).message).toMatch("MovingAverageUpdate: missing attribute 'momentum'");
      cn.dispose([dy, f, x]);
    });

    it('refuses an attribute of the wrong type', () => {
      const x = cn.zeros([2, 3]);
      // @ts-expect-error -- shape must be number[]
      expect(errorOf(() => ENGINE.runKernel('Reshape', [x], { shape: '3,2' }, [f32([3, 2])])).message).toMatch(
        "Reshape: expected attribute 'shape' of type number[] but received string",
      );
      // @ts-expect-error -- relu must be boolean
      expect(errorOf(() => ENGINE.runKernel('MatMul', [x, cn.zeros([3, 2])], { relu: 1 }, [f32([2, 2])])).message).toMatch(
        "MatMul: expected attribute 'relu' of type boolean but received number",
      );
      cn.dispose(x);
    });

    it('checks a compiled plan\'s steps too (on their first run)', () => {
      const f = cn.compile((x) => [ENGINE.runKernel('Reshape', [x], { shap: [6] } as never, [f32([6])])[0]], [{ shape: [2, 3] }]);
      const x = cn.ones([2, 3]);
      const e = errorOf(() => f.runSync([x]));
      expect(e).toBeInstanceOf(cn.InvalidArgumentError);
      expect(e.message).toMatch("Reshape: unknown attribute 'shap' (expected one of shape)");
      f.dispose();
      x.dispose();
    });

    it('an unknown kernel or a wrong input count fails to type-check and is refused at run time', () => {
      const x = cn.zeros([2, 3]);
      // @ts-expect-error -- misspelled kernel
      expect(errorOf(() => ENGINE.runKernel('Conv2d', [x], undefined, [f32([2, 3])])).message).toMatch("runKernel: unknown kernel 'Conv2d'");
      // @ts-expect-error -- Add takes two inputs
      expect(errorOf(() => ENGINE.runKernel('Add', [x], undefined, [f32([2, 3])]))).toBeInstanceOf(cn.InvalidArgumentError);
      x.dispose();
    });

    it('pooling gradients are named MaxPoolGrad / AvgPoolGrad in their errors', () => {
      const x = cn.zeros([1, 4, 4, 1]), dy = cn.zeros([1, 3, 3, 1]);
      const w: windowed.PoolWindow = { poolSize: [2, 2], strides: [2, 2], pad: 'valid' };
      expect(errorOf(() => windowed.poolGrad('MaxPoolGrad', dy, x, w)).message).toMatch('MaxPoolGrad: expected dy of shape [1,2,2,1] but received [1,3,3,1]');
      expect(errorOf(() => windowed.poolGrad('AvgPoolGrad', dy, x, w)).message).toMatch('AvgPoolGrad: expected dy of shape [1,2,2,1] but received [1,3,3,1]');
      cn.dispose([x, dy]);
    });
  });

  describe('typed wrappers', () => {
    const rnd = (shape: number[], seed: number, lo = -1, hi = 1) => cn.randomUniform(shape, lo, hi, 'float32', seed);

    it('fused batch norm + add + relu and add + relu equal the unfused kernels', () => {
      cn.tidy(() => {
        const x = rnd([6, 5], 1), g = rnd([5], 2, 0.5, 1.5), b = rnd([5], 3), z = rnd([6, 5], 4);
        const [r, m, v] = fused.batchNormTrain(x, g, b, { relu: true, residual: z });
        const [y, m0, v0] = fused.batchNormTrain(x, g, b);
        expectClose(r.dataSync(), cn.relu(cn.add(y, z)).dataSync(), { rtol: 1e-6, atol: 1e-6, what: 'bn + add + relu' });
        expectClose(m.dataSync(), m0.dataSync(), { what: 'mean' });
        expectClose(v.dataSync(), v0.dataSync(), { what: 'variance' });
        const dr = rnd([6, 5], 5);
        const [dx] = fused.batchNormGrad(dr, x, g, m0, v0, { reluBeta: b });
        const [dx0] = fused.batchNormGrad(ENGINE.runKernel('ReluGrad', [dr, cn.relu(y)], undefined, [f32([6, 5])])[0], x, g, m0, v0);
        expectClose(dx.dataSync(), dx0.dataSync(), { rtol: 1e-5, atol: 1e-6, what: 'bn grad through relu' });
        expect(Array.from(fused.addRelu(x, z).dataSync())).toEqual(Array.from(cn.relu(cn.add(x, z)).dataSync()));
      });
    });

    it('single-direction convolution kernels equal conv2d and its gradients', () => {
      cn.tidy(() => {
        const x = rnd([2, 7, 7, 3], 10), f = rnd([3, 3, 3, 4], 11);
        const w: windowed.ConvWindow = { strides: [2, 2], pad: 'same' };
        const y = windowed.convForward(x, f, w);
        expectClose(y.dataSync(), cn.conv2d(x, f, 2, 'same').dataSync(), { what: 'forward' });
        const dy = rnd(y.shape, 12);
        const [gx, gf] = cn.grads((a: cn.Tensor, b: cn.Tensor) => cn.sum(cn.mul(cn.conv2d(a, b, 2, 'same'), dy)))([x, f]);
        expectClose(windowed.convBackpropInput(dy, f, x.shape, w).dataSync(), gx.dataSync(), { what: 'backprop input' });
        expectClose(windowed.convBackpropFilter(x, dy, f.shape, w).dataSync(), gf.dataSync(), { what: 'backprop filter' });
      });
    });
  });

  it('the compiler describes each plan it builds by kernel name, with slot shapes', () => {
    const seen: PlanDescription[] = [];
    const stop = observePlans((p) => seen.push(p));
    const f = cn.compile((x) => [cn.relu(cn.add(x, x))], [{ shape: [2, 3] }], 'cpu');
    stop();
    f.dispose();
    expect(seen.length).toBe(1);
    const kernels = seen[0].steps.map((s) => s.kernel);
    // cpu plans are not fused unless CUDNN_NODE_FUSION=1 (Note [fusion per backend]).
    expect(kernels).toEqual(process.env.CUDNN_NODE_FUSION === '1' ? ['AddRelu'] : ['Add', 'Relu']);
    const last = seen[0].steps[seen[0].steps.length - 1];
    expect(last.outputs[0]).toEqual({ slot: seen[0].fetches[0], shape: [2, 3], dtype: 'float32', constant: false });
  });
});
