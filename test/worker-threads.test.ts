// worker_threads: the addon loads and trains in a worker thread, and two different models
// train at the same time in two workers without interfering: each concurrent run gives what
// the same run gives alone. Workers load lib/ through tsx (test/worker-threads/train-worker.mjs),
// build their model, report ready, and start fitting together when told to.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { availableBackends } from './helpers.js';

interface Done {
  type: 'done';
  threadId: number;
  job: string;
  start: number;
  end: number;
  loss: number[];
  weights: number[][];
  prediction: number[];
  memory: { numTensors: number; numBytes: number };
}

type Job = 'dense' | 'conv';
const EPOCHS: Record<Job, number> = { dense: 40, conv: 15 };
const workerUrl = new URL('./worker-threads/train-worker.mjs', import.meta.url);

/** Starts one worker per job; when all are ready, tells them to train; resolves their results. */
async function train(jobs: Job[], backend: string): Promise<Done[]> {
  const workers = jobs.map((job) => new Worker(workerUrl, { workerData: { job, backend, epochs: EPOCHS[job] } }));
  try {
    const ready = workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
        }),
    );
    await Promise.all(ready);
    const done = workers.map(
      (w) =>
        new Promise<Done>((resolve, reject) => {
          w.removeAllListeners();
          w.once('message', (m: Done) => resolve(m));
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`worker exited with ${code} before it finished`)));
        }),
    );
    for (const w of workers) w.postMessage('go');
    return await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Largest |a-b| / (1 + |b|) over two nested arrays of numbers. */
function maxRelDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j]) / (1 + Math.abs(b[i][j]))))));
  return m;
}

for (const backend of availableBackends()) {
  describe(`worker_threads [${backend}]`, () => {
    const alone: Partial<Record<Job, Done>> = {};
    const last = (l: number[]) => l[l.length - 1];

    it('loads the addon and trains in a worker thread (each model alone)', async () => {
      for (const job of ['dense', 'conv'] as const) {
        const [r] = await train([job], backend);
        expect(r.threadId).toBeGreaterThan(0); // not the main thread
        expect(r.loss).toHaveLength(EPOCHS[job]);
        expect(last(r.loss), `${job} loss ${r.loss[0]} -> ${last(r.loss)}`).toBeLessThan(r.loss[0] * 0.5);
        alone[job] = r;
        console.log(`${job} alone [${backend}]: loss ${r.loss[0].toFixed(4)} -> ${last(r.loss).toFixed(4)} in ${(r.end - r.start).toFixed(0)} ms`);
      }
    });

    /** Each concurrent result against the same run alone: losses, weights, predictions. */
    function expectLikeAlone(results: Done[]): void {
      const [a, b] = results;
      expect(a.threadId).not.toBe(b.threadId);
      expect(a.start < b.end && b.start < a.end, `the two fits overlapped in time: [${a.start}, ${a.end}] and [${b.start}, ${b.end}]`).toBe(true);
      for (const r of results) {
        const ref = alone[r.job as Job];
        expect(ref, 'the runs alone (previous test)').toBeDefined();
        const d = {
          loss: maxRelDiff([r.loss], [ref!.loss]),
          weights: maxRelDiff(r.weights, ref!.weights),
          prediction: maxRelDiff([r.prediction], [ref!.prediction]),
        };
        console.log(`${r.job} concurrent vs alone [${backend}]: max relative difference ${JSON.stringify(d)}`);
        // Same inputs, same seeds, same kernels: the same numbers up to float noise.
        expect(d.loss).toBeLessThan(1e-5);
        expect(d.weights).toBeLessThan(1e-5);
        expect(d.prediction).toBeLessThan(1e-5);
        expect(r.memory.numTensors).toBe(ref!.memory.numTensors); // each worker's engine is its own
      }
    }

    it('two workers train two different models concurrently without interfering', async () => {
      expectLikeAlone(await train(['dense', 'conv'], backend));
    });

    it('terminating a worker in the middle of fit() leaves the process and the addon working', () => {
      // In a child process: a failure here is an abort, which would take this runner down.
      const r = spawnSync(process.execPath, [fileURLToPath(new URL('./worker-threads/terminate.mjs', import.meta.url)), backend], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      const fatal = /FATAL ERROR: ([^\n]*)/.exec(r.stderr)?.[1];
      expect(
        r.status,
        fatal
          ? `the process aborted (${fatal}) when a worker was terminated with a native async call in flight: ` +
              'the addon must not throw into a terminating environment (build with -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS)'
          : `exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`,
      ).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { terminated: number[]; after: number };
      expect(out.terminated).toEqual([1, 1, 1]);
      expect(out.after).toBe(3);
    });

    it('two workers train the same model concurrently (same shapes, same cached primitives) without interfering', async () => {
      expectLikeAlone(await train(['conv', 'conv'], backend));
    });
  });
}
