// tf.data.zip: one dataset of the elements of several, side by side, in the structure they
// were given in (an array or a record of datasets, nested as deep as needed).
import { dispose } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { Dataset } from './dataset.js';

/** Datasets to zip: an array or a record of datasets, or of such structures. */
export type DatasetContainer = Dataset<unknown> | DatasetContainer[] | { [key: string]: DatasetContainer };

function leaves(c: DatasetContainer, out: Array<Dataset<unknown>>, path: string): void {
  if (c instanceof Dataset) out.push(c);
  else if (Array.isArray(c)) c.forEach((x, i) => leaves(x, out, `${path}[${i}]`));
  else if (c && typeof c === 'object') for (const [k, v] of Object.entries(c)) leaves(v, out, `${path}.${k}`);
  else throw new InvalidArgumentError(`zip: expected datasets, or arrays or records of them, but received ${describe(c)} at ${path || 'the top'}`);
}

function rebuild(c: DatasetContainer, values: unknown[], next: { i: number }): unknown {
  if (c instanceof Dataset) return values[next.i++];
  if (Array.isArray(c)) return c.map((x) => rebuild(x, values, next));
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, rebuild(v, values, next)]));
}

/**
 * tf.data.zip(datasets): elements [a_i, b_i, ...] (or {a: a_i, ...}) until the shortest
 * dataset ends. Each pass iterates every input again.
 */
export function zip<T = unknown>(datasets: DatasetContainer): Dataset<T> {
  check(datasets && typeof datasets === 'object', 'zip', 'an array or a record of datasets', datasets);
  const all: Array<Dataset<unknown>> = [];
  leaves(datasets, all, '');
  const sizes = all.map((d) => d.size);
  const size = sizes.some((s) => s === null) ? null : Math.min(...(sizes as number[]));
  return new Dataset<T>(async function* () {
    const its = all.map((d) => d[Symbol.asyncIterator]());
    try {
      for (;;) {
        const rs = await Promise.all(its.map((it) => it.next()));
        if (rs.some((r) => r.done)) {
          dispose(rs.filter((r) => !r.done).map((r) => r.value)); // elements of the longer datasets
          return;
        }
        yield rebuild(datasets, rs.map((r) => r.value), { i: 0 }) as T;
      }
    } finally {
      await Promise.all(its.map((it) => it.return?.()));
    }
  }, all.length ? size : 0);
}
