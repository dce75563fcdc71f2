// The recorded TensorFlow references (test/reference.ts): a recording replays bit for bit,
// a case that was not recorded or whose inputs changed fails with its name and the file, a
// tampered reference fails the parity comparison, and the mode variable is validated.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cn from '../lib/index.js';
import { TFModule, checkParity, loadReference } from './parity-common.js';
import { RefTensor, digest, reference, replaying, saveRecording } from './reference.js';

const saved = process.env.PARITY_REFERENCE;
afterEach(() => {
  if (saved === undefined) delete process.env.PARITY_REFERENCE;
  else process.env.PARITY_REFERENCE = saved;
});

let tf: TFModule;
beforeAll(async () => {
  tf = await loadReference();
});

const made: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cn-ref-'));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const recordingOf = (dir: string) => path.join(dir, 'reference.test.ts.json');

describe('recorded references', () => {
  it('replay returns exactly what was recorded (floats with NaN and -0, int32, uint8, numbers)', () => {
    const dir = tmp();
    const f = new Float32Array([1.5, -0, NaN, 3.4028234663852886e38, 1e-45]);
    const rec = {
      f: { shape: [5], dtype: 'float32', values: f } as RefTensor,
      list: [{ shape: [2], dtype: 'int32', values: new Int32Array([-7, 2 ** 31 - 1]) } as RefTensor],
      b: { shape: [3], dtype: 'bool', values: new Uint8Array([1, 0, 1]) } as RefTensor,
      n: 0.1,
      ns: [1, 2.5],
    };
    process.env.PARITY_REFERENCE = `record:${dir}`;
    expect(reference('case #1', () => rec)).toBe(rec);
    saveRecording();
    expect(fs.existsSync(recordingOf(dir))).toBe(true);

    process.env.PARITY_REFERENCE = `replay:${dir}`;
    expect(replaying()).toBe(true);
    const got = reference<typeof rec>('case #1', () => {
      throw new Error('replay must not compute');
    });
    expect(got.f.values).toBeInstanceOf(Float32Array);
    expect(Array.from(new Uint8Array(got.f.values.buffer))).toEqual(Array.from(new Uint8Array(f.buffer)));
    expect(got.list[0]).toEqual({ shape: [2], dtype: 'int32', values: new Int32Array([-7, 2 ** 31 - 1]) });
    expect(got.b).toEqual({ shape: [3], dtype: 'bool', values: new Uint8Array([1, 0, 1]) });
    expect([got.n, got.ns]).toEqual([0.1, [1, 2.5]]);
    expect(() => reference('case #2', () => rec)).toThrow(/reference: "case #2" was not recorded in .*reference\.test\.ts\.json/);
  });

  it('a missing recording names the file and how to make it', () => {
    process.env.PARITY_REFERENCE = `replay:${tmp()}`;
    expect(() => reference('x', () => ({ n: 1 }))).toThrow(/no recording .*reference\.test\.ts\.json .*PARITY_REFERENCE=record:/);
  });

  it('two different references under one key are refused while recording', () => {
    process.env.PARITY_REFERENCE = `record:${tmp()}`;
    reference('dup #0', () => ({ n: 1 }));
    expect(reference('dup #0', () => ({ n: 1 }))).toEqual({ n: 1 }); // the same value again is fine
    expect(() => reference('dup #0', () => ({ n: 2 }))).toThrow(/two different references share the key "dup #0"/);
  });

  it('PARITY_REFERENCE is validated', () => {
    process.env.PARITY_REFERENCE = 'replay';
    expect(() => reference('x', () => ({ n: 1 }))).toThrow(/PARITY_REFERENCE: expected 'live', 'record:DIR' or 'replay:DIR' but received 'replay'/);
  });

  it('the digest pins every bit of the inputs and their shapes', () => {
    const a = new Float32Array([1, 2, 3, 4]);
    const b = a.slice();
    new Uint32Array(b.buffer)[2] ^= 1; // one bit of one value
    const d = digest([{ shape: [4], values: a }]);
    expect(digest([{ shape: [4], values: a.slice() }])).toBe(d);
    expect(digest([{ shape: [4], values: b }])).not.toBe(d);
    expect(digest([{ shape: [2, 2], values: a }])).not.toBe(d);
    expect(digest([{ shape: [2], values: a.subarray(0, 2) }, { shape: [2], values: a.subarray(2) }])).not.toBe(d);
  });

  it('a parity case replays against TensorFlow\'s recorded values, and a tampered value fails it', () => {
    const dir = tmp();
    const c = {
      name: 'replayed tanh',
      inputs: [{ shape: [3, 4] }],
      ours: (x: cn.Tensor) => cn.tanh(x),
      ref: (x: Parameters<TFModule['tanh']>[0]) => tf.tanh(x),
      tol: { rtol: 1e-6, atol: 1e-6 },
    };
    process.env.PARITY_REFERENCE = `record:${dir}`;
    checkParity(tf, c);
    saveRecording();
    process.env.PARITY_REFERENCE = `replay:${dir}`;
    checkParity(undefined as unknown as TFModule, c); // no tfjs-node needed
    const file = JSON.parse(fs.readFileSync(recordingOf(dir), 'utf8'));
    const key = Object.keys(file.entries).find((k) => k.startsWith('replayed tanh #'))!;
    const fwd = file.entries[key].forward;
    const raw = Buffer.from(fwd.b64, 'base64');
    const v = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    v[5] += 1e-3;
    fwd.b64 = Buffer.from(v.buffer).toString('base64');
    fs.writeFileSync(recordingOf(dir), JSON.stringify(file));
    const other = tmp(); // a fresh file name, so the replay cache reads the tampered copy
    fs.copyFileSync(recordingOf(dir), recordingOf(other));
    process.env.PARITY_REFERENCE = `replay:${other}`;
    expect(() => checkParity(undefined as unknown as TFModule, c)).toThrow(/replayed tanh forward: 1\/12 mismatches/);
  });
});
