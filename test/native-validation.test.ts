// Native validation and the exception guard (issue 19): every call that once crashed or hung
// the process runs in a child process, so a crash fails the test and names the call, and
// must end in a CudnnNodeError with the expected .code and message. Window trimming and the
// TensorFlow rules the shared conv / pool validator follows are checked against tfjs-node.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { native } from '../lib/native.js';
import { loadTfjs } from './tfjs.js';

const root = join(import.meta.dirname, '..');

interface ChildResult {
  status: number | null;
  signal: string | null;
  timedOut: boolean;
  ms: number;
  out?: { ok: boolean; cnError?: boolean; name?: string; code?: string; message?: string; shape?: number[]; values?: number[] };
  stderr: string;
}

/** Runs `expr` (an expression over `cn`, awaited) in a fresh node; reports how it ended. */
function inChild(expr: string, timeoutMs = 20000): ChildResult {
  const script = `
import * as cn from './lib/index.ts';
const { CudnnNodeError } = await import('./lib/errors.ts');
let out;
try {
  const r = await (async () => ${expr})();
  const t = Array.isArray(r) ? r[0] : r;
  out = { ok: true, shape: t?.shape, values: t?.dataSync ? Array.from(t.dataSync()) : undefined };
} catch (e) {
  out = { ok: false, cnError: e instanceof CudnnNodeError, name: e?.constructor?.name, code: e?.code, message: String(e?.message) };
}
process.stdout.write('RESULT ' + JSON.stringify(out) + '\\n');
`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  const ms = Date.now() - t0;
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  return {
    status: r.status,
    signal: r.signal,
    timedOut: r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT',
    ms,
    out: line ? JSON.parse(line.slice(7)) : undefined,
    stderr: r.stderr.slice(-2000),
  };
}

/** The child must exit normally with a CudnnNodeError of `code` whose message matches. */
function expectCleanError(call: string, code: string, message: RegExp): void {
  const r = inChild(call);
  const how = r.timedOut ? 'hung (killed after 20 s)' : r.signal ? `died of ${r.signal}` : `exited ${r.status}`;
  expect(r.out, `${call}: ${how}\n${r.stderr}`).toBeDefined();
  expect(r.out!.ok, `${call} returned ${JSON.stringify(r.out)}`).toBe(false);
  expect(r.out!.cnError, `${call} threw ${r.out!.name}: ${r.out!.message}`).toBe(true);
  expect(r.out!.code, call).toBe(code);
  expect(r.out!.message, call).toMatch(message);
}

describe('former crashes end in a CudnnNodeError (each in a child process)', () => {
  for (const op of ['sum', 'min', 'max', 'mean', 'prod']) {
    it(`${op} of a rank-0 tensor with axis 0 (was SIGSEGV)`, () => {
      expectCleanError(`cn.${op}(cn.scalar(3), 0)`, 'ERR_INVALID_ARGUMENT', /axis/);
    });
  }
  it('sum of zeros([2^31, 2^31, 2^31]) (the element count wrapped to 0: SIGSEGV)', () => {
    expectCleanError('cn.sum(cn.zeros([2 ** 31, 2 ** 31, 2 ** 31]), 0)', 'ERR_INVALID_ARGUMENT', /2147483648/);
  });
  it('maxPool of a [1, 2^31, 2^31, 2^31] tensor (was SIGFPE)', () => {
    expectCleanError("cn.maxPool(cn.zeros([1, 2 ** 31, 2 ** 31, 2 ** 31]), 1, 2, 'same')", 'ERR_INVALID_ARGUMENT', /2147483648/);
  });
  it('image.resizeBilinear to [2^62, 3] (std::length_error escaped through Node-API: SIGABRT)', () => {
    expectCleanError('cn.image.resizeBilinear(cn.zeros([1, 2, 2, 1]), [2 ** 62, 3])', 'ERR_INVALID_ARGUMENT', /resizeBilinear: expected .*(4611686018427387904|4611686018427388000)/);
  });
  it('unstack of a [2^31, 2^31, 2^31] tensor (V8 heap out of memory)', () => {
    expectCleanError('cn.unstack(cn.zeros([2 ** 31, 2 ** 31, 2 ** 31]), 0)', 'ERR_INVALID_ARGUMENT', /2147483648/);
  });
  it('tensor() whose shape product wraps (2^32 x 2^32 over an empty array) is refused by the binding', () => {
    // Straight to the binding, past any TypeScript check: the native side is safe on its own.
    const r = inChild("(await import('./lib/native.ts')).native.fromTypedArray('cpu', new Float32Array(0), [2 ** 32, 2 ** 32])");
    expect(r.out, r.stderr).toBeDefined();
    expect(r.out!.ok).toBe(false);
    expect(r.out!.code).toBe('ERR_INVALID_ARGUMENT');
    expect(r.out!.message).toMatch(/at most 2\^53-1 elements but received shape \[4294967296,4294967296\]/);
  });
  it('conv2d with a dilation of 1e9 (hung the thread) is refused before any work', () => {
    expectCleanError("cn.conv2d(cn.zeros([1, 1, 6, 1]), cn.zeros([1, 3, 1, 4]), 2, 'same', 'NHWC', 1e9)", 'ERR_INVALID_ARGUMENT', /conv2d: expected padding of at most 65536 per side/);
  });
});

describe('pooling windows larger than the input (hung: oneDNN walked the whole window)', () => {
  for (const op of ['maxPool', 'avgPool'] as const) {
    it(`${op} with a SAME window of 2^31 finishes and pools the whole image, as TensorFlow`, () => {
      const values = Array.from({ length: 16 }, (_, i) => ((i * 7) % 16) - 5.5);
      const r = inChild(`cn.${op}(cn.tensor(${JSON.stringify(values)}, [1, 4, 4, 1]), 2 ** 31 - 1, 1, 'same')`);
      expect(r.out, `${op}: ${r.timedOut ? 'hung' : r.signal ?? r.status}\n${r.stderr}`).toBeDefined();
      expect(r.out!.ok, JSON.stringify(r.out)).toBe(true);
      expect(r.out!.shape).toEqual([1, 4, 4, 1]);
      const want = op === 'maxPool' ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / 16;
      for (const v of r.out!.values!) expect(v).toBeCloseTo(want, 5);
    });
  }

  // Note [pooling window trimming]: trimmed windows give TensorFlow's forward results and the
  // gradients of a float64 pooling written out below. (TensorFlow's own AvgPoolGrad is not the
  // reference there: where a window overhangs both ends of the input, its GetBroadcastSize
  // drops the leading clip and divides by a count its forward did not use.)
  const cases: Array<{ x: Shape4; k: [number, number]; s: [number, number] }> = [
    { x: [1, 1, 1, 2], k: [3, 3], s: [1, 1] },
    { x: [2, 5, 6, 3], k: [7, 7], s: [2, 2] },
    { x: [1, 4, 4, 2], k: [9, 2], s: [3, 1] },
    { x: [1, 3, 7, 1], k: [5, 12], s: [2, 4] },
    { x: [1, 8, 8, 2], k: [2, 2], s: [2, 2] }, // ordinary: no trimming
  ];
  for (const c of cases) {
    it(`maxPool / avgPool x=${JSON.stringify(c.x)} window=${JSON.stringify(c.k)} strides=${JSON.stringify(c.s)} 'same': forward as tfjs-node, gradient as float64`, async () => {
      const tf = await loadTfjs();
      const n = c.x.reduce((a, b) => a * b, 1);
      const vals = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 3 + (i % 5) * 0.1);
      for (const op of ['maxPool', 'avgPool'] as const) {
        const x = cn.tensor(vals, c.x);
        const y = cn[op](x, c.k, c.s, 'same');
        const wv = Float32Array.from({ length: y.size }, (_, i) => (i % 7) - 3);
        const w = cn.tensor(wv, y.shape);
        const dx = cn.grad((t: cn.Tensor) => cn.sum(cn.mul(cn[op](t, c.k, c.s, 'same'), w)))(x);
        const ty = tf[op](tf.tensor(vals, c.x) as TF4, c.k, c.s, 'same');
        const ref = pool64(op === 'maxPool', vals, c.x, c.k, c.s, wv);
        expect(y.shape, op).toEqual(ty.shape);
        const close = (what: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
          expect(a.length, what).toBe(b.length);
          for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `${op} ${what} element ${i}`).toBeLessThan(1e-4 * (1 + Math.abs(b[i])));
        };
        close('y vs tfjs-node', y.dataSync(), ty.dataSync());
        close('y vs float64', y.dataSync(), ref.y);
        close('dx vs float64', dx.dataSync(), ref.dx);
        cn.dispose([x, y, dx, w]);
      }
    });
  }
});

/** SAME pooling in float64 (TensorFlow's semantics) and the gradient of sum(y * w). */
function pool64(max: boolean, x: Float32Array, [N, H, W, C]: number[], [kh, kw]: number[], [sh, sw]: number[], w: Float32Array) {
  const oh = Math.ceil(H / sh), ow = Math.ceil(W / sw);
  const pt = Math.floor(Math.max((oh - 1) * sh + kh - H, 0) / 2), pl = Math.floor(Math.max((ow - 1) * sw + kw - W, 0) / 2);
  const y: number[] = [], dx = new Float64Array(x.length);
  const at = (b: number, h: number, v: number, ch: number) => ((b * H + h) * W + v) * C + ch;
  for (let b = 0; b < N; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let ch = 0; ch < C; ch++) {
          const h0 = Math.max(i * sh - pt, 0), h1 = Math.min(i * sh - pt + kh, H);
          const w0 = Math.max(j * sw - pl, 0), w1 = Math.min(j * sw - pl + kw, W);
          const g = w[y.length];
          let best = -Infinity, arg = -1, sum = 0;
          for (let h = h0; h < h1; h++)
            for (let v = w0; v < w1; v++) {
              const e = x[at(b, h, v, ch)];
              sum += e;
              if (e > best) (best = e), (arg = at(b, h, v, ch));
            }
          const count = (h1 - h0) * (w1 - w0);
          y.push(max ? best : sum / count);
          if (max) dx[arg] += g;
          else for (let h = h0; h < h1; h++) for (let v = w0; v < w1; v++) dx[at(b, h, v, ch)] += g / count;
        }
  return { y, dx };
}
type TF4 = import('@tensorflow/tfjs-node').Tensor4D;
type Shape4 = [number, number, number, number];

describe('convolution rules, as TensorFlow (one validator for cpu and cuda)', () => {
  it('refuses a filter with 0 in-channels (TensorFlow: filter depth must be strictly positive)', () => {
    expect(() => cn.conv2d(cn.zeros([1, 4, 4, 0]), cn.zeros([3, 3, 0, 4]), 1, 'same')).toThrow(/conv2d: expected x with at least 1 channel/);
  });
  it('gives an empty output for a batch of 0 and for 0 out-channels', async () => {
    const tf = await loadTfjs();
    const shapes: Array<[Shape4, Shape4]> = [[[0, 4, 4, 2], [3, 3, 2, 4]], [[1, 4, 4, 2], [3, 3, 2, 0]]];
    for (const [xs, fs] of shapes) {
      const y = cn.conv2d(cn.zeros(xs), cn.zeros(fs), 1, 'same');
      const ty = tf.conv2d(tf.zeros(xs) as TF4, tf.zeros(fs) as TF4, 1, 'same');
      expect(y.shape).toEqual(ty.shape);
      y.dispose();
    }
  });
  it('still runs a dilated conv whose padding is within the limit', () => {
    const y = cn.conv2d(cn.ones([1, 1, 6, 1]), cn.ones([1, 3, 1, 2]), 1, 'same', 'NHWC', 1000);
    expect(y.shape).toEqual([1, 1, 6, 2]);
    expect(Array.from(y.dataSync())).toEqual(new Array(12).fill(1)); // only the centre tap reaches the row
    y.dispose();
  });
});

describe('Note [exception guard]: no C++ exception reaches Node-API', () => {
  const guard = native as unknown as { guardSelfTest(k: string): void; guardSelfTestAsync(k: string): Promise<void> };
  const kinds: Array<[string, string, RegExp]> = [
    ['bad_alloc', 'ERR_OUT_OF_MEMORY', /out of host memory/],
    ['length_error', 'ERR_INVALID_ARGUMENT', /a size is too large/],
    ['runtime_error', 'ERR_INTERNAL', /internal error: self-test/],
    ['int', 'ERR_INTERNAL', /unknown exception/],
  ];
  for (const [kind, code, message] of kinds) {
    it(`a ${kind} thrown in an export or an async worker becomes ${code}`, async () => {
      let sync: { code?: string; message?: string } | undefined;
      try {
        guard.guardSelfTest(kind);
      } catch (e) {
        sync = e as { code?: string; message?: string };
      }
      expect(sync?.code).toBe(code);
      expect(sync?.message).toMatch(message);
      await expect(guard.guardSelfTestAsync(kind)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    });
  }

  it('every export and worker in native/binding goes through the guard (by construction)', () => {
    const dir = join(root, 'native', 'binding');
    const offenders: string[] = [];
    let workers = 0;
    for (const f of readdirSync(dir).filter((n) => /\.(cc|h)$/.test(n) && !n.startsWith('guard.'))) {
      const src = readFileSync(join(dir, f), 'utf8');
      if (/Napi::Function::New|exports\.Set\(/.test(src)) offenders.push(`${f}: registers a function without export_function`);
      if (/public\s+Napi::AsyncWorker/.test(src)) offenders.push(`${f}: an AsyncWorker that is not a GuardedWorker`);
      workers += (src.match(/public\s+GuardedWorker/g) ?? []).length;
    }
    expect(offenders).toEqual([]);
    expect(workers).toBeGreaterThanOrEqual(3); // read, plan and the self-test worker
  });
});
