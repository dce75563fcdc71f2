// The public-API fuzz: `node --import tsx scripts/fuzz.ts --seed N --calls N [--batch N]
// [--timeout-ms N] [--backend cpu]`. Runs the seeded calls of scripts/fuzz-cases.ts in
// child processes (scripts/fuzz-worker.ts), batch by batch, and reports every call that
// crashed the process (a signal), hung, threw something other than a CudnnNodeError with
// a code, accepted input that must be refused, or returned a tensor whose shape disagrees
// with its data. test/fuzz.test.ts runs a short fuzz in CI; this script runs long ones.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CallReport } from './fuzz-worker.js';

/** Options of runFuzz(). */
export interface FuzzOptions {
  seed: number;
  calls: number;
  /** Calls per child process (default 500). */
  batch?: number;
  /** A call that runs longer than this is a hang (default 15000 ms). */
  callTimeoutMs?: number;
  backend?: string;
  /** Progress callback (calls done so far). */
  onProgress?: (done: number) => void;
}

/** A call that broke a rule. */
export interface FuzzFailure {
  index: number;
  /** The call as written by the child before it ran, e.g. `sum(T<float32>[], 0)`. */
  call: string;
  kind: 'crash' | 'hang' | 'violation';
  detail: string;
}

/** What runFuzz() found. */
export interface FuzzResult {
  failures: FuzzFailure[];
  calls: number;
  returned: number;
  threw: number;
  /** Calls given an argument that must be refused (and how many were). */
  mustThrow: number;
  /** Errors whose message starts with the entry point's name. */
  namedErrors: number;
  codes: Record<string, number>;
  /** Up to 20 thrown messages that do not start with `name:` (the entry point's name). */
  unnamed: string[];
}

const WORKER = fileURLToPath(new URL('./fuzz-worker.ts', import.meta.url));

/** Runs calls [from, to) in one child; resolves with the index to resume from (to when done). */
function runBatch(o: Required<Omit<FuzzOptions, 'onProgress'>>, from: number, to: number, res: FuzzResult, onCall: () => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, String(o.seed), String(from), String(to), o.backend], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Valid calls may ask for up to the element limit; a lower one keeps each under ~64 MiB.
      env: { ...process.env, CUDNN_NODE_MAX_ELEMENTS: String(2 ** 24) },
    });
    let current: { index: number; call: string } | null = null;
    let buf = '';
    let stderr = '';
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, o.callTimeoutMs);
    };
    arm();
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const ln = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [tag, idx, rest] = ln.split('\t');
        if (tag === 'S') {
          current = { index: Number(idx), call: rest };
          arm();
        } else if (tag === 'R' && current) {
          const r = JSON.parse(rest) as CallReport;
          res.calls++;
          if (r.mustThrow) res.mustThrow++;
          if (r.outcome === 'ok') res.returned++;
          if (r.outcome === 'threw') {
            res.threw++;
            res.codes[r.code!] = (res.codes[r.code!] ?? 0) + 1;
            if (r.namesFunction) res.namedErrors++;
            else if (res.unnamed.length < 20) res.unnamed.push(`${current.call}: ${r.message}`);
          }
          if (r.outcome === 'violation') res.failures.push({ index: current.index, call: current.call, kind: 'violation', detail: r.violation! });
          current = null;
          onCall();
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !current) return resolve(to);
      const at = current ?? { index: -1, call: '(before the first call)' };
      const why = hung ? `no answer within ${o.callTimeoutMs} ms` : `process ended with ${signal ?? `exit code ${code}`}: ${stderr.trim().split('\n').slice(-6).join(' | ')}`;
      res.failures.push({ index: at.index, call: at.call, kind: hung ? 'hang' : 'crash', detail: why });
      res.calls++;
      onCall();
      // Resume after the call that killed the batch (or give up if the child never started).
      resolve(at.index >= 0 ? at.index + 1 : to);
    });
  });
}

/** Runs a seeded fuzz of the public API; see the file header. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const o = { batch: 500, callTimeoutMs: 15000, backend: 'cpu', ...opts };
  const res: FuzzResult = { failures: [], calls: 0, returned: 0, threw: 0, mustThrow: 0, namedErrors: 0, codes: {}, unnamed: [] };
  let done = 0;
  let from = 0;
  while (from < o.calls) {
    const to = Math.min(from + o.batch, o.calls);
    from = await runBatch(o, from, to, res, () => opts.onProgress?.(++done));
  }
  return res;
}

/** Formats a result for people. */
export function formatFuzz(seed: number, r: FuzzResult): string {
  const lines = [
    `fuzz seed ${seed}: ${r.calls} calls, ${r.returned} returned, ${r.threw} threw a CudnnNodeError (${Object.entries(r.codes).map(([k, v]) => `${k} ${v}`).join(', ')}), ${r.mustThrow} had an argument that must be refused`,
    `errors naming their function: ${r.threw ? ((100 * r.namedErrors) / r.threw).toFixed(1) : '-'}%`,
    ...r.unnamed.map((m) => `  unnamed: ${m}`),
    `${r.failures.length} failures`,
  ];
  for (const f of r.failures) lines.push(`  #${f.index} ${f.kind}: ${f.call}\n      ${f.detail}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, dflt: number) => {
    const k = process.argv.indexOf(`--${name}`);
    return k >= 0 ? Number(process.argv[k + 1]) : dflt;
  };
  const k = process.argv.indexOf('--backend');
  const seed = arg('seed', Date.now() % 1e9);
  const calls = arg('calls', 10000);
  const r = await runFuzz({
    seed,
    calls,
    batch: arg('batch', 500),
    callTimeoutMs: arg('timeout-ms', 15000),
    backend: k >= 0 ? process.argv[k + 1] : 'cpu',
    onProgress: (n) => {
      if (n % 1000 === 0) process.stderr.write(`${n}/${calls}\n`);
    },
  });
  console.log(formatFuzz(seed, r));
  process.exitCode = r.failures.length ? 1 : 0;
}
