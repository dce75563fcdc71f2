// Child process for test/worker-threads.test.ts: terminates workers in the middle of fit()
// (an async native step in flight on the libuv pool when the worker's environment goes
// away) and then checks the process is alive and the addon still works in a new worker.
// Prints one JSON line; a crash shows as the process's exit code and stderr.
import { Worker } from 'node:worker_threads';

const url = new URL('./train-worker.mjs', import.meta.url);
const backend = process.argv[2] ?? 'cpu';
const codes = [];
for (const delay of [50, 200, 400]) {
  const w = new Worker(url, { workerData: { job: 'conv', backend, epochs: 500 } });
  await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  w.postMessage('go');
  await new Promise((r) => setTimeout(r, delay));
  codes.push(await w.terminate());
}
// Afterwards a fresh worker still trains.
const w = new Worker(url, { workerData: { job: 'dense', backend, epochs: 3 } });
const done = await new Promise((resolve, reject) => {
  w.on('message', (m) => (m.type === 'ready' ? w.postMessage('go') : resolve(m)));
  w.once('error', reject);
});
await w.terminate();
console.log(JSON.stringify({ terminated: codes, after: done.loss.length }));
