// The option objects of fit / fitDataset / evaluate / predict (issue 19: no silent coercion):
// a non-object, a wrongly typed option, an unknown key and a tfjs option this package does
// not implement each get a CudnnNodeError naming the call and the option, before any work;
// the model still trains with valid options afterwards, and no tensor leaks.
import { expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends, seededRandom } from './helpers.js';

function setup() {
  const x = cn.tensor(seededRandom(8 * 3, 5, -1, 1), [8, 3]);
  const y = cn.tensor(seededRandom(8 * 2, 6, -1, 1), [8, 2]);
  const m = cn.sequential({ layers: [cn.layers.dense({ units: 2, inputShape: [3] })] });
  m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  return { x, y, m };
}

/** The error a promise rejects with, or undefined when it resolves. */
const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describeBackends('training options', () => {
  it('fit refuses a non-object, coerced types, unknown keys and unimplemented tfjs options', async () => {
    const { x, y, m } = setup();
    const before = cn.memory().numTensors;
    const cases: Array<[unknown, new (...a: never[]) => Error, RegExp]> = [
      [5, cn.InvalidArgumentError, /^fit: expected options as an object .* but received 5$/],
      [{ shuffle: 2 }, cn.InvalidArgumentError, /^fit: expected shuffle as a boolean but received 2$/],
      [{ epochs: '2' }, cn.InvalidArgumentError, /^fit: expected epochs as a non-negative integer but received '2'$/],
      [{ verbose: 3 }, cn.InvalidArgumentError, /^fit: expected verbose 0, 1 or 2 but received 3$/],
      [{ batchSise: 4 }, cn.InvalidArgumentError, /^fit: expected options among epochs, batchSize, .* but received unknown option 'batchSise'$/],
      [{ classWeight: { 0: 1 } }, cn.NotSupportedError, /^fit: option 'classWeight' is not supported/],
    ];
    for (const [opts, cls, msg] of cases) {
      const e = await rejection(m.fit(x, y, opts as never));
      expect(e, JSON.stringify(opts)).toBeInstanceOf(cls);
      expect((e as Error).message).toMatch(msg);
      expect((e as cn.CudnnNodeError).code).toMatch(/^ERR_/);
    }
    expect(cn.memory().numTensors).toBe(before);
    // Valid options (yieldEvery included, as tfjs programs pass it) still train.
    const h = await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, shuffle: false, yieldEvery: 'never' });
    expect(h.history.loss).toHaveLength(2);
    m.dispose();
    cn.dispose([x, y]);
  });

  it('evaluate, predict and fitDataset check their options the same way', async () => {
    const { x, y, m } = setup();
    expect(() => m.evaluate(x, y, { batchSize: '4' } as never)).toThrow(/^evaluate: expected batchSize as a positive integer but received '4'$/);
    expect(() => m.evaluate(x, y, { sampleWeight: x } as never)).toThrow(cn.NotSupportedError);
    expect(() => m.predict(x, { bachSize: 4 } as never)).toThrow(/^predict: expected options among batchSize, verbose but received unknown option 'bachSize'$/);
    const ds = cn.data.array([{ xs: x, ys: y }]);
    const e = await rejection(m.fitDataset(ds as never, { epochs: 1, stepsPerEpoch: 2 } as never));
    expect(e).toBeInstanceOf(cn.NotSupportedError);
    expect((e as Error).message).toMatch(/^fitDataset: option 'stepsPerEpoch' is not supported/);
    const out = m.predict(x, { batchSize: 4, verbose: 0 }) as cn.Tensor;
    expect(out.shape).toEqual([8, 2]);
    cn.dispose([out, x, y]);
    m.dispose();
  });
});
