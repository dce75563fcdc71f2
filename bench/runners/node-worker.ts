// A Node worker process for one runner (cudnn-node or tfjs-node): loads only that runner's
// library and serves bench/measure.ts over JSON lines, the same protocol as bench/peers.py:
//
//   node --import tsx bench/runners/node-worker.ts cudnn-node|cudnn-node-fp32|tfjs-node
//
// cudnn-node-fp32 is a second worker of ours: our fp32 step on the bf16 workloads (Note [mixed
// precision variants] in bench/runners/variants.ts).
//
// Requests on stdin, one JSON object a line, each with a `seq` echoed in its reply:
//   {"cmd": "info"}                                    -> {"info": {...}, "note"}
//   {"cmd": "setup", "key": k, "spec": {...}}          -> {"note", "params"}
//   {"cmd": "run", "key": k, "samples": n, "inner": i} -> {"times": [seconds per call]}
//   {"cmd": "output", "key": k, "path": p}             -> writes one call's result (float32) to p
//   {"cmd": "free", "key": k}
//   {"cmd": "quit"}
// Every reply carries "ok" (and "error" when false). The first line, seq 0, says the library
// loaded ({"ok": true}) or why not. Replies go to stdout; everything else the process prints
// goes to stderr (console.log is redirected), and measure.ts ignores lines that are not
// replies, so a library writing to stdout cannot break the protocol.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { firstLine } from '../shared.js';
import type { Spec } from '../types.js';
import { type Adapter, type Prepared, timeCalls } from './adapter.js';
import { BASELINE_RUNNER } from './variants.js';

console.log = console.error;
console.info = console.error;
const reply = (seq: number, obj: object) => process.stdout.write(JSON.stringify({ seq, ...obj }) + '\n');

async function load(name: string): Promise<Adapter> {
  if (name === 'cudnn-node' || name === BASELINE_RUNNER) return (await import('./ours.js')).OursAdapter.create();
  if (name === 'tfjs-node') return (await import('./tfjs.js')).TfjsAdapter.create();
  throw new Error(`node-worker: expected runner cudnn-node, ${BASELINE_RUNNER} or tfjs-node but received '${name}'`);
}

async function main() {
  let adapter: Adapter;
  try {
    adapter = await load(process.argv[2]);
  } catch (e) {
    reply(0, { ok: false, error: firstLine(e) });
    return;
  }
  reply(0, { ok: true, ready: process.argv[2] });
  const prepared = new Map<string, Prepared>();
  const get = (key: string) => {
    const p = prepared.get(key);
    if (!p) throw new Error(`node-worker: no workload '${key}' set up`);
    return p;
  };
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const req = JSON.parse(line) as { seq: number; cmd: string; key?: string; spec?: Spec & { readback?: boolean }; samples?: number; inner?: number; path?: string };
    try {
      if (req.cmd === 'info') reply(req.seq, { ok: true, info: adapter.info, note: adapter.note });
      else if (req.cmd === 'setup') {
        const p = await adapter.prepare(req.spec!, !!req.spec!.readback);
        prepared.set(req.key!, p);
        reply(req.seq, { ok: true, note: p.note, params: p.params });
      } else if (req.cmd === 'run') reply(req.seq, { ok: true, times: await timeCalls(get(req.key!), req.samples ?? 1, req.inner ?? 1) });
      else if (req.cmd === 'output') {
        const out = get(req.key!).output?.();
        if (out) writeFileSync(req.path!, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
        reply(req.seq, { ok: true, written: !!out });
      } else if (req.cmd === 'free') {
        prepared.get(req.key!)?.free();
        prepared.delete(req.key!);
        reply(req.seq, { ok: true });
      } else if (req.cmd === 'quit') {
        reply(req.seq, { ok: true });
        break;
      } else reply(req.seq, { ok: false, error: `node-worker: unknown command '${req.cmd}'` });
    } catch (e) {
      reply(req.seq, { ok: false, error: firstLine(e) });
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
