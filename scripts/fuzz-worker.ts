// One batch of the fuzz, run in a child process by scripts/fuzz.ts: makes calls [from, to)
// of a seed and reports each on stdout, so that if the process dies (a signal) or hangs
// the parent knows the exact call. Lines: `S <i> <call>` before a call, `R <i> <json>` after.
import { writeSync } from 'node:fs';
import * as cn from '../lib/index.js';
import { fmt, makeCall } from './fuzz-cases.js';

/** What the parent learns about one call. */
export interface CallReport {
  /** 'ok' (returned), 'threw' (a CudnnNodeError) or 'violation'. */
  outcome: 'ok' | 'threw' | 'violation';
  /** What rule the call broke, for outcome 'violation'. */
  violation?: string;
  code?: string;
  message?: string;
  mustThrow: boolean;
  /** The thrown message starts with `name:` (an entry point's name). */
  namesFunction?: boolean;
}

const [seed, from, to, backend] = process.argv.slice(2).map((a, i) => (i < 3 ? Number(a) : a)) as [number, number, number, string];
const line = (s: string) => writeSync(1, `${s.replace(/\n/g, '\\n')}\n`);

/** Checks every tensor of a result: integer dimensions, size = product, data length = size. */
function checkResult(v: unknown, seen = new Set<unknown>()): string | undefined {
  if (v instanceof cn.Tensor) {
    const okDims = Array.isArray(v.shape) && v.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
    const prod = v.shape.reduce((a, b) => a * b, 1);
    if (!okDims || v.size !== prod) return `tensor of shape [${v.shape}] with size ${v.size}`;
    if (!v.isDisposed && !v.isSymbolic && v.size <= 1 << 22) {
      const n = v.dataSync().length;
      if (n !== v.size) return `tensor of shape [${v.shape}] holds ${n} values`;
    }
    return undefined;
  }
  if (v && typeof v === 'object' && !seen.has(v)) {
    seen.add(v);
    for (const x of Array.isArray(v) ? v : Object.values(v as object)) {
      const bad = checkResult(x, seen);
      if (bad) return bad;
    }
  }
  return undefined;
}

// Self-test of the harness (test/fuzz.test.ts): FUZZ_SELFTEST=crash@N or hang@N makes call N
// die of SIGSEGV or spin, so the test can show that a crash or a hang is caught and named.
const [selfTest, selfAt] = (process.env.FUZZ_SELFTEST ?? '').split('@');

cn.setBackend(backend);
for (let i = from; i < to; i++) {
  let report: CallReport;
  let made: cn.Tensor[] = [];
  try {
    const { call, gen } = makeCall(cn, seed, i);
    made = gen.made;
    line(`S\t${i}\t${call.name}(${call.args.map((a) => fmt(a, cn)).join(', ')})${call.mustThrow ? `  [must throw: ${call.invalid.join('; ')}]` : ''}`);
    try {
      if (i === Number(selfAt) && selfTest === 'crash') process.kill(process.pid, 'SIGSEGV');
      if (i === Number(selfAt) && selfTest === 'hang') for (;;);
      let bad: string | undefined;
      if (call.async) {
        // Async entry points (data(), plan.run()) cannot run under tidy(): free by hand.
        const res = await call.run();
        bad = checkResult(res);
        cn.dispose(res);
      } else
        bad = cn.tidy(() => {
          const res = call.run();
          return checkResult(res);
        });
      if (bad) report = { outcome: 'violation', violation: `returned a ${bad}`, mustThrow: call.mustThrow };
      else if (gen.mustThrow) report = { outcome: 'violation', violation: `accepted invalid input (${gen.invalid.join('; ')})`, mustThrow: true };
      else report = { outcome: 'ok', mustThrow: false };
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown; constructor?: { name?: string } };
      const message = String(err?.message ?? e);
      if (!(e instanceof cn.CudnnNodeError) || typeof err.code !== 'string' || !/^ERR_[A-Z_]+$/.test(err.code))
        report = { outcome: 'violation', violation: `threw a raw ${err?.constructor?.name ?? typeof e}: ${message}`, message, mustThrow: gen.mustThrow };
      else report = { outcome: 'threw', code: err.code, message, mustThrow: gen.mustThrow, namesFunction: /^[\w.]+: /.test(message) };
    }
  } catch (e) {
    report = { outcome: 'violation', violation: `the generator failed: ${(e as Error)?.stack ?? e}`, mustThrow: false };
  }
  for (const t of made) t.dispose();
  cn.setBackend(backend);
  line(`R\t${i}\t${JSON.stringify(report)}`);
}
line('DONE');
