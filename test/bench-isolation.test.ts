// The benchmark's isolation (bench/runners/worker-client.ts, Note [one process per runner] in
// bench/measure.ts): a worker whose process group is stopped takes no CPU, spinning threads and
// child processes included; resumed, it does; closed, nothing of it is left. The worker here
// is a stand-in that speaks the protocol and spins, with a spinning child process of its own.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupCpuSeconds, WorkerRunner } from '../bench/runners/worker-client.js';

const WORKER = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const r = JSON.parse(l);
  say({ seq: r.seq, ok: true, info: { library: 'spinner', child: child.pid } });
  if (r.cmd === 'quit') process.exit(0);
});
setInterval(() => { const t = Date.now(); while (Date.now() - t < 20) {} }, 1);
say({ seq: 0, ok: true });
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'bench-isolation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a stopped worker takes no CPU', () => {
  it('stopped: no CPU time in its group; resumed: some; closed: its child process is gone too', async () => {
    const w = new WorkerRunner('spinner', process.execPath, ['-e', WORKER], join(dir, 'spinner.log'));
    await w.start(); // leaves it stopped
    expect(w.available).toBe(true);
    const pid = w.pid!;
    const childPid = w.info.child as number;
    const cpu = () => groupCpuSeconds([pid])!.get(pid)!;
    try {
      const a = cpu();
      await sleep(800);
      const stoppedUse = cpu() - a;
      w.resume();
      const b = cpu();
      await sleep(800);
      const runningUse = cpu() - b;
      w.pause();
      expect(stoppedUse).toBeLessThanOrEqual(0.01); // one clock tick at most
      expect(runningUse).toBeGreaterThan(0.05); // two spinning processes, even on a busy machine
    } finally {
      await w.close();
    }
    await sleep(200);
    // The whole group was killed: the child is gone, or a zombie waiting for its new parent.
    let state = 'gone';
    try {
      const stat = readFileSync(`/proc/${childPid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    } catch {
      /* gone */
    }
    expect(['gone', 'Z']).toContain(state);
  });
});
