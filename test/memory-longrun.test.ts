// Long-run memory of the eager training loop (issue 19): `cn.tidy(() => opt.minimize(f))`
// run thousands of times without the event loop turning keeps a flat tensor count, and its
// native heap must stay flat too. It grew by megabytes per thousand steps when every tensor
// handle carried a Node-API finalizer, which Node runs only when the event loop turns
// (Note [handle finalizers] in native/binding/js_convert.cc). The loop runs in a child process
// so that nothing else allocates on its main thread; the native heap is the main malloc arena,
// the [heap] mapping of /proc/self/smaps (the process's RSS also moves with V8's own heap).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

const script = `
import * as cn from './lib/index.ts';
import { readFileSync } from 'node:fs';
const heapKiB = () => {
  let kib = 0, inHeap = false;
  for (const l of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) inHeap = l.endsWith('[heap]');
    else if (inHeap && l.startsWith('Rss:')) kib += Number(/(\\d+)/.exec(l)[1]);
  }
  return kib;
};
const opt = cn.train.adam(0.001);
const w = cn.variable(cn.randomNormal([3, 3, 3, 8], 0, 0.1, 'float32', 1));
const d = cn.variable(cn.randomNormal([128, 4], 0, 0.1, 'float32', 2));
const x = cn.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 3);
const y = cn.randomNormal([2, 4], 0, 1, 'float32', 4);
const f = () => {
  const h = cn.maxPool(cn.relu(cn.conv2d(x, w, 1, 'same')), 2, 2, 'valid');
  return cn.mean(cn.square(cn.sub(cn.matMul(cn.reshape(h, [2, 128]), d), y)));
};
const STEPS = ${'$'}{STEPS};
for (let i = 0; i < 300; i++) cn.tidy(() => opt.minimize(f, false)); // warm-up: caches, pools
const tensors0 = cn.memory().numTensors, heap0 = heapKiB(), rss0 = process.memoryUsage().rss;
const t0 = Date.now();
for (let i = 0; i < STEPS; i++) cn.tidy(() => opt.minimize(f, false)); // never yields
const out = { steps: STEPS, ms: Date.now() - t0, tensors: [tensors0, cn.memory().numTensors],
  heapMiB: (heapKiB() - heap0) / 1024, rssMiB: (process.memoryUsage().rss - rss0) / 2 ** 20 };
process.stdout.write('RESULT ' + JSON.stringify(out) + '\\n');
`;

it('a synchronous eager loop of tidy(() => opt.minimize(f)) keeps the native heap flat', () => {
  const steps = 4000;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script.replace('${STEPS}', String(steps))], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, `the loop did not finish (status ${r.status}, signal ${r.signal}):\n${r.stderr.slice(-2000)}`).toBeDefined();
  const out = JSON.parse(line!.slice(7)) as { steps: number; ms: number; tensors: number[]; heapMiB: number; rssMiB: number };
  console.info(`memory-longrun: ${out.steps} steps in ${out.ms} ms, native heap ${out.heapMiB.toFixed(2)} MiB, RSS ${out.rssMiB.toFixed(1)} MiB`);
  expect(out.tensors[1], 'tensor count after the loop').toBe(out.tensors[0]);
  // One queued finalizer record per tensor grew this heap by about 15 MiB over these steps
  // (about 30 tensors a step); what remains is allocator noise.
  expect(out.heapMiB, 'native heap growth (MiB) over the loop').toBeLessThan(2);
}, 150_000);

it('the handle finalizer is still the safety net: a tensor collected without dispose frees its buffer', () => {
  const script2 = `
import { native } from './lib/native.ts';
const before = native.memory('cpu').numBuffers;
let h = native.fromTypedArray('cpu', new Float32Array(1 << 16), [1 << 16]);
const held = native.memory('cpu').numBuffers;
const kept = native.fromTypedArray('cpu', new Float32Array(4), [4]);
native.release(kept);
let disposedCode;
try { native.readSync(kept); } catch (e) { disposedCode = e.code; }
h = undefined;
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
process.stdout.write('RESULT ' + JSON.stringify({ before, held, after: native.memory('cpu').numBuffers, disposedCode }) + '\\n');
`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script2], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, r.stderr.slice(-2000)).toBeDefined();
  const out = JSON.parse(line!.slice(7)) as { before: number; held: number; after: number; disposedCode: string };
  expect(out.held).toBe(out.before + 1);
  expect(out.disposedCode, 'a released handle reads as disposed').toBe('ERR_TENSOR_DISPOSED');
  expect(out.after, 'buffers after the garbage collector ran the finalizer').toBe(out.before);
});
