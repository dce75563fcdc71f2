// The harness's side of a runner: one worker process per runner (bench/runners/node-worker.ts
// for cudnn-node and tfjs-node, bench/peers.py for Keras and PyTorch), spoken to in JSON
// lines, and held stopped (SIGSTOP to its whole process group) whenever it is not its turn.
// Note [one process per runner] in bench/measure.ts says why.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { firstLine } from '../shared.js';
import type { RunnerInfo, Spec } from '../types.js';

export interface Setup {
  ok: boolean;
  note?: string;
  params?: { total: number; trainable: number };
}

type Reply = Record<string, unknown> & { ok: boolean; error?: string };

/** Every worker alive, so that an exiting harness never leaves one behind (a stopped process
 * would otherwise wait forever). */
const live = new Set<WorkerRunner>();
process.on('exit', () => {
  for (const w of live) w.kill();
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** CPU seconds (user + system, reaped children included) used so far by the processes of
 * each of the given process groups, from /proc (one pass); null where /proc is missing. */
export function groupCpuSeconds(pgids: number[]): Map<number, number> | null {
  const out = new Map<number, number>(pgids.map((p) => [p, 0]));
  if (!pgids.length) return out;
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pg = Number(f[2]); // field 5: process group
      if (!out.has(pg)) continue;
      out.set(pg, out.get(pg)! + (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100); // fields 14-17, USER_HZ
    }
    return out;
  } catch {
    return null;
  }
}

/** Waits (up to maxMs) until process pid is in `state` ('T': stopped): the signal is
 * delivered asynchronously, and the next runner's turn should not start before it lands. */
function waitForState(pid: number, state: string, maxMs: number): void {
  const until = performance.now() + maxMs;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (performance.now() < until) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3).toUpperCase() === state) return;
    } catch {
      return; // no /proc, or the process is gone
    }
    Atomics.wait(tick, 0, 0, 1); // sleep 1 ms
  }
}

export class WorkerRunner {
  available = false;
  note?: string;
  info: RunnerInfo['info'] = {};
  restarts = 0;
  private proc?: ChildProcessWithoutNullStreams;
  private pending = new Map<number, (r: Reply) => void>();
  private seq = 0;
  private exited = true;
  private stopped = false;
  private logStream?: WriteStream;

  constructor(
    public name: string,
    private cmd: string,
    private args: string[],
    private logPath: string,
    private cwd = process.cwd(),
  ) {}

  /** Starts the worker and waits until its library is loaded; leaves it stopped unless
   * `keepRunning` (a restart during the runner's own turn). */
  async start(keepRunning = false): Promise<void> {
    mkdirSync(dirname(this.logPath), { recursive: true });
    this.logStream?.end();
    this.logStream = createWriteStream(this.logPath, { flags: this.restarts ? 'a' : 'w' });
    const proc = spawn(this.cmd, this.args, {
      cwd: this.cwd,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2', PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group, stopped and killed as a whole
    });
    this.proc = proc;
    this.exited = false;
    this.stopped = false;
    this.seq = 0;
    live.add(this);
    proc.stderr.pipe(this.logStream);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      let r: Reply & { seq?: number };
      try {
        r = JSON.parse(line);
      } catch {
        return; // not a reply: a library printing to stdout
      }
      const cb = typeof r.seq === 'number' ? this.pending.get(r.seq) : undefined;
      if (!cb) return;
      this.pending.delete(r.seq!);
      cb(r);
    });
    proc.on('exit', (code, signal) => {
      if (this.proc !== proc) return; // an earlier worker, replaced by a restart
      this.exited = true;
      live.delete(this);
      for (const cb of this.pending.values()) cb({ ok: false, error: `worker exited (${signal ?? `code ${code}`}); see ${this.logPath}` });
      this.pending.clear();
    });
    proc.on('error', (e) => {
      if (this.proc !== proc) return;
      this.exited = true;
      live.delete(this);
      for (const cb of this.pending.values()) cb({ ok: false, error: `could not start ${this.cmd}: ${e.message}` });
      this.pending.clear();
    });
    const ready = await this.await(0, 300_000);
    if (!ready.ok) {
      this.note = `skipped: ${this.name} worker failed to start: ${ready.error}`;
      this.kill();
      return;
    }
    const info = await this.request({ cmd: 'info' });
    this.info = (info.info as RunnerInfo['info']) ?? {};
    if (info.note) this.note = String(info.note);
    this.available = true;
    if (!keepRunning) this.pause();
  }

  get pid(): number | undefined {
    return this.exited ? undefined : this.proc?.pid;
  }

  /** Stops every thread of every process in the worker's group (SIGSTOP cannot be caught). */
  pause(): void {
    if (this.pid === undefined || this.stopped) return;
    process.kill(-this.pid, 'SIGSTOP');
    this.stopped = true;
    waitForState(this.pid, 'T', 200);
  }

  resume(): void {
    if (this.pid === undefined || !this.stopped) return;
    process.kill(-this.pid, 'SIGCONT');
    this.stopped = false;
  }

  private await(seq: number, timeoutMs: number): Promise<Reply> {
    return new Promise((res) => {
      if (this.exited) return res({ ok: false, error: `worker exited; see ${this.logPath}` });
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        this.kill(); // its state is unknown now
        res({ ok: false, error: `no answer in ${timeoutMs / 1000} s (worker killed)` });
      }, timeoutMs);
      this.pending.set(seq, (r) => {
        clearTimeout(timer);
        res(r);
      });
    });
  }

  private request(req: object, timeoutMs = 900_000): Promise<Reply> {
    if (this.stopped) throw new Error(`bench: a request to ${this.name}'s worker while it is stopped (not its turn)`);
    const seq = ++this.seq;
    const p = this.await(seq, timeoutMs);
    if (!this.exited) this.proc!.stdin.write(JSON.stringify({ seq, ...req }) + '\n');
    return p;
  }

  async setup(key: string, spec: Spec & Record<string, unknown>): Promise<Setup> {
    // A worker that died (a crash inside TensorFlow, say) is restarted for the next workload,
    // so that one bad workload does not turn every later one into n/a.
    if (this.exited && this.available) {
      this.restarts++;
      this.available = false;
      this.pending.clear();
      await this.start(true);
      if (!this.available) return { ok: false, note: `worker could not restart: ${this.note}` };
    }
    const r = await this.request({ cmd: 'setup', key, spec });
    return r.ok ? { ok: true, note: (r.note as string) ?? undefined, params: (r.params as Setup['params']) ?? undefined } : { ok: false, note: firstLine(String(r.error)) };
  }

  async run(key: string, samples: number, inner: number): Promise<number[]> {
    const r = await this.request({ cmd: 'run', key, samples, inner });
    if (!r.ok) throw new Error(String(r.error));
    return r.times as number[];
  }

  /** Writes one call's result to `path` (float32); false where the runner has no output. */
  async output(key: string, path: string): Promise<boolean> {
    const r = await this.request({ cmd: 'output', key, path });
    return r.ok && !!r.written;
  }

  async free(key: string): Promise<void> {
    if (this.available && !this.exited) await this.request({ cmd: 'free', key });
  }

  /** Asks the worker to quit, then kills its group (nothing of it outlives the turn). */
  async close(): Promise<void> {
    if (!this.exited) {
      this.resume();
      await this.request({ cmd: 'quit' }, 10_000).catch(() => undefined);
      this.kill();
    }
    this.logStream?.end();
  }

  kill(): void {
    const pid = this.pid;
    live.delete(this);
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    this.exited = true;
  }
}
