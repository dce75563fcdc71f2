// profile() (lib/profile.ts, native/runtime/profiler.cc): eager kernels are listed in the
// order they ran with their shapes; a compiled training step (trainOnBatch) lists its plan
// steps, so a model's conv layers show up as Conv2D / Conv2DBackpropFilter /
// Conv2DBackpropInput calls in the numbers the layers imply; totals agree with the list;
// times are positive and fit in the wall time; library kernels name their implementation
// (extraInfo); profiling stops when fn throws, refuses to nest, and records nothing outside
// profile().
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends, seededRandom } from './helpers.js';

const rand = (shape: number[], seed: number) => cn.tensor(seededRandom(shape.reduce((a, b) => a * b, 1), seed), shape);

function convNet(): cn.LayersModel {
  const m = cn.sequential({
    layers: [
      cn.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 2] }),
      cn.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      cn.layers.flatten(),
      cn.layers.dense({ units: 3 }),
    ],
  });
  m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  return m;
}

describeBackends('profile', (backend) => {
  it('lists eager kernels in order with their shapes, times and the result', async () => {
    const x = rand([2, 8, 8, 3], 1), w = rand([3, 3, 3, 4], 2);
    const info = await cn.profile(() => cn.sum(cn.relu(cn.conv2d(x, w, 1, 'same'))));
    expect(info.kernelNames).toEqual(['Conv2D', 'Relu', 'Sum']);
    const [conv, relu, sum] = info.kernels;
    expect(conv.inputShapes).toEqual([[2, 8, 8, 3], [3, 3, 3, 4]]);
    expect(conv.outputShapes).toEqual([[2, 8, 8, 4]]);
    expect(relu.inputShapes).toEqual([[2, 8, 8, 4]]);
    expect(sum.outputShapes).toEqual([[]]);
    // the library kernel says which implementation ran; our own kernels say nothing
    expect(conv.extraInfo).toMatch(backend === 'cpu' ? /^oneDNN \S+:\S+/ : /^cuDNN (legacy [A-Z_0-9]+ (tensor ops|fma)|graph engine \d+)/);
    expect(relu.extraInfo).toBe('');
    for (const k of info.kernels) {
      expect(k.backend).toBe(backend);
      expect(k.hostMs).toBeGreaterThan(0);
      expect(k.kernelTimeMs).toBeGreaterThanOrEqual(0); // cuda events resolve to about 0.5 us
      // cpu: the backend's marks are taken outside the host timing, so they enclose it
      if (backend === 'cpu') expect(k.kernelTimeMs + 1e-6).toBeGreaterThanOrEqual(k.hostMs);
    }
    const kernelMs = info.kernels.reduce((s, k) => s + k.kernelTimeMs, 0);
    expect(kernelMs).toBeGreaterThan(0);
    expect(kernelMs).toBeLessThanOrEqual(info.wallMs);
    // the result is fn's, and the one tensor kept alive is it (intermediates are fn's to dispose)
    const ref = cn.sum(cn.relu(cn.conv2d(x, w, 1, 'same')));
    expect(info.result.dataSync()[0]).toBe(ref.dataSync()[0]);
    expect(info.newTensors).toBe(3);
    expect(info.dropped).toBe(0);
    cn.dispose([x, w, ref, info.result]);
  });

  it('a compiled training step lists its plan steps: conv layers as Conv2D, backprop-filter and backprop-input calls', async () => {
    const m = convNet();
    const x = rand([5, 8, 8, 2], 3), y = cn.tensor(new Int32Array([0, 1, 2, 1, 0]));
    await m.trainOnBatch(x, y); // builds the plan and the optimizer's slots
    const info = await cn.profile(() => m.trainOnBatch(x, y));
    expect(typeof info.result).toBe('number');
    const calls = (name: string) => info.summary.find((s) => s.name === name)?.calls ?? 0;
    expect(calls('Conv2D'), 'one forward conv per layer').toBe(2);
    expect(calls('Conv2DBackpropFilter'), 'one filter gradient per layer').toBe(2);
    expect(calls('Conv2DBackpropInput'), 'the first layer needs no input gradient').toBe(1);
    expect(calls('MatMul'), 'dense forward and its two gradients').toBe(3);
    expect(calls('SparseSoftmaxCrossEntropy')).toBe(1);
    const convs = info.kernels.filter((k) => k.name === 'Conv2D');
    expect(convs.map((k) => k.outputShapes[0])).toEqual([[5, 8, 8, 4], [5, 4, 4, 6]]);
    const bpInput = info.kernels.find((k) => k.name === 'Conv2DBackpropInput')!;
    expect(bpInput.outputShapes[0]).toEqual([5, 8, 8, 4]);
    // totals count every listed kernel, shares sum to one and are sorted busiest first
    expect(info.summary.reduce((s, k) => s + k.calls, 0)).toBe(info.kernels.length);
    expect(info.summary.reduce((s, k) => s + k.share, 0)).toBeCloseTo(1, 9);
    for (let i = 1; i < info.summary.length; i++) expect(info.summary[i - 1].kernelTimeMs).toBeGreaterThanOrEqual(info.summary[i].kernelTimeMs);
    for (const s of info.summary) {
      const listed = info.kernels.filter((k) => k.name === s.name);
      expect(s.kernelTimeMs).toBeCloseTo(listed.reduce((a, k) => a + k.kernelTimeMs, 0), 6);
      expect(s.hostMs).toBeCloseTo(listed.reduce((a, k) => a + k.hostMs, 0), 6);
    }
    expect(info.kernels.reduce((s, k) => s + k.kernelTimeMs, 0)).toBeLessThanOrEqual(info.wallMs);
    expect(info.newTensors, 'a training step keeps no tensor').toBe(0);
    cn.dispose([x, y]);
    m.dispose();
  });

  it('records nothing outside profile(), and stops when fn throws', async () => {
    const x = rand([4, 4], 4);
    const failing = cn.profile(() => {
      cn.relu(x).dispose();
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    cn.exp(x).dispose(); // not profiled
    const info = await cn.profile(() => cn.tidy(() => cn.sum(cn.neg(x))));
    expect(info.kernelNames, 'only the second profile, nothing from before or between').toEqual(['Neg', 'Sum']);
    info.result.dispose();
    x.dispose();
  });
});

describe('profile: misuse', () => {
  it('a nested profile() is refused with a clear error, and the outer one still ends', async () => {
    const x = cn.tensor([1, -2, 3]);
    const outer = cn.profile(async () => {
      await cn.profile(() => cn.relu(x));
    });
    await expect(outer).rejects.toThrow(/profile: expected no profile in progress but received a nested profile\(\) call/);
    const after = await cn.profile(() => cn.relu(x));
    expect(after.kernelNames).toEqual(['Relu']);
    after.result.dispose();
    x.dispose();
  });

  it('fn must be a function', async () => {
    await expect(cn.profile(42 as unknown as () => void)).rejects.toThrow(
      new cn.InvalidArgumentError('profile: expected fn to be a function but received 42'),
    );
  });
});
