// Dataset: a small tf.data-style pipeline, an async iterable of elements (usually
// {xs, ys} tensors) with map / shuffle(seed) / batch / prefetch / take / skip / repeat.
// Every tensor an iterator yields is new and belongs to the consumer, which disposes it;
// the tensors given to fromTensors() are read once and never disposed by the pipeline.
import { dispose, tidy, collectTensors } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { stack } from '../ops/index.js';
import { clone, tensor } from '../ops/basic.js';
import { DType, Tensor } from '../tensor.js';

/** Values a dataset element may hold: tensors, numbers, and arrays or records of them. */
export type Element = Tensor | number | number[] | Element[] | { [key: string]: Element };

/** Rows of in-memory data: row(i) is one element, gather(indices) a batch of them. */
interface Rows<T> {
  row(i: number): T;
  gather(indices: number[]): T;
}

/** Seeded uniform [0, 1) generator (mulberry32). */
export function seededRng(seed: number | string): () => number {
  let a = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function checkCount(op: string, name: string, n: unknown, min = 0): number {
  check(typeof n === 'number' && Number.isInteger(n) && n >= min, op, `${name} as an integer >= ${min}`, n);
  return n as number;
}

/**
 * An asynchronously iterable sequence of elements. Create one with fromTensors(),
 * array() or generator(); each method returns a new dataset and leaves this one as is.
 * Iterating twice starts over (a new epoch).
 */
export class Dataset<T = Element> implements AsyncIterable<T> {
  /** Number of elements when known (Infinity for repeat()), else null. */
  readonly size: number | null;
  private readonly source: () => AsyncIterator<T>;
  // Note [lazy rows]: a dataset made by fromTensors() keeps an index stream and the rows
  // in host memory. shuffle / take / skip / repeat act on the indices, and batch() copies
  // the chosen rows into one tensor, so an epoch creates one tensor per batch rather than
  // one per element plus a stack. map() and iteration materialize elements one by one.
  private readonly lazy?: { indices: Dataset<number>; rows: Rows<T> };

  /** @internal use fromTensors(), array() or generator(). */
  constructor(source: () => AsyncIterator<T>, size: number | null, lazy?: { indices: Dataset<number>; rows: Rows<T> }) {
    this.source = source;
    this.size = size;
    this.lazy = lazy;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.source();
  }

  /** An iterator over one pass of the data (tfjs: dataset.iterator()). */
  async iterator(): Promise<AsyncIterator<T>> {
    return this.source();
  }

  /** Applies fn to each element inside tidy(); input tensors that fn does not return are disposed. */
  map<U>(fn: (x: T) => U): Dataset<U> {
    check(typeof fn === 'function', 'map', 'a function', fn);
    const src = this;
    return new Dataset<U>(async function* () {
      for await (const x of src) {
        let y: U;
        try {
          y = tidy(() => fn(x));
        } catch (e) {
          dispose(x);
          throw e;
        }
        const out = new Set<number>();
        collectTensors(y, (t) => out.add(t.id));
        collectTensors(x, (t) => {
          if (!out.has(t.id)) t.dispose();
        });
        yield y;
      }
    }, this.size);
  }

  /** Like map(), for an async fn (tfjs mapAsync); input tensors fn does not return are disposed. */
  mapAsync<U>(fn: (x: T) => Promise<U>): Dataset<U> {
    check(typeof fn === 'function', 'mapAsync', 'a function', fn);
    const src = this;
    return new Dataset<U>(async function* () {
      for await (const x of src) {
        let y: U;
        try {
          y = await fn(x);
        } catch (e) {
          dispose(x);
          throw e;
        }
        const out = new Set<number>();
        collectTensors(y, (t) => out.add(t.id));
        collectTensors(x, (t) => {
          if (!out.has(t.id)) t.dispose();
        });
        yield y;
      }
    }, this.size);
  }

  /** The elements for which predicate is true; the others are disposed. */
  filter(predicate: (x: T) => boolean): Dataset<T> {
    check(typeof predicate === 'function', 'filter', 'a function', predicate);
    const src = this;
    return new Dataset<T>(async function* () {
      for await (const x of src) {
        let keep: boolean;
        try {
          keep = tidy(() => predicate(x));
        } catch (e) {
          dispose(x);
          throw e;
        }
        if (keep) yield x;
        else dispose(x);
      }
    }, this.size === Infinity ? Infinity : null);
  }

  /** This dataset's elements followed by other's. */
  concatenate(other: Dataset<T>): Dataset<T> {
    check(other instanceof Dataset, 'concatenate', 'a Dataset', other);
    const src = this;
    const size = this.size === null || other.size === null ? null : this.size + other.size;
    return new Dataset<T>(async function* () {
      yield* src;
      yield* other;
    }, size);
  }

  /**
   * Shuffles with a buffer of bufferSize elements (tf.data semantics: a buffer at least the
   * dataset's size gives a uniform permutation). With a seed the order is reproducible;
   * reshuffleEachIteration (default true) derives a new order for every pass.
   */
  shuffle(bufferSize: number, seed?: number | string, reshuffleEachIteration = true): Dataset<T> {
    checkCount('shuffle', 'bufferSize', bufferSize, 1);
    check(seed === undefined || typeof seed === 'number' || typeof seed === 'string', 'shuffle', 'a number or string seed', seed);
    const base = seed ?? Math.floor(Math.random() * 2 ** 32);
    let pass = 0;
    const nextRng = () => seededRng(reshuffleEachIteration ? `${base}:${pass++}` : `${base}:0`);
    if (this.lazy) return this.withIndices(this.lazy.indices.shuffleWith(bufferSize, nextRng), this.size);
    return this.shuffleWith(bufferSize, nextRng);
  }

  private shuffleWith(bufferSize: number, nextRng: () => () => number): Dataset<T> {
    const src = this;
    return new Dataset<T>(async function* () {
      const rng = nextRng();
      const buf: T[] = [];
      try {
        for await (const x of src) {
          if (buf.length < bufferSize) {
            buf.push(x);
            continue;
          }
          const j = Math.floor(rng() * buf.length);
          const out = buf[j];
          buf[j] = x;
          yield out;
        }
        while (buf.length) {
          const j = Math.floor(rng() * buf.length);
          const out = buf[j];
          buf[j] = buf[buf.length - 1];
          buf.pop();
          yield out;
        }
      } finally {
        dispose(buf); // elements still buffered when the consumer stopped early
      }
    }, this.size);
  }

  /**
   * Groups consecutive elements into batches of batchSize, stacking tensors along a new
   * first axis (numbers become 1-D tensors). The last batch may be smaller unless
   * smallLastBatch is false.
   */
  batch(batchSize: number, smallLastBatch = true): Dataset<T> {
    checkCount('batch', 'batchSize', batchSize, 1);
    const size = this.size === null || this.size === Infinity ? this.size : smallLastBatch ? Math.ceil(this.size / batchSize) : Math.floor(this.size / batchSize);
    if (this.lazy) {
      const { indices, rows } = this.lazy;
      return new Dataset<T>(async function* () {
        let chunk: number[] = [];
        for await (const i of indices) {
          chunk.push(i);
          if (chunk.length === batchSize) {
            yield rows.gather(chunk);
            chunk = [];
          }
        }
        if (chunk.length && smallLastBatch) yield rows.gather(chunk);
      }, size);
    }
    const src = this;
    return new Dataset<T>(async function* () {
      let chunk: T[] = [];
      try {
        for await (const x of src) {
          chunk.push(x);
          if (chunk.length === batchSize) {
            const b = stackElements(chunk) as T;
            chunk = [];
            yield b;
          }
        }
        if (chunk.length && smallLastBatch) {
          const b = stackElements(chunk) as T;
          chunk = [];
          yield b;
        }
      } finally {
        dispose(chunk);
      }
    }, size);
  }

  /** The first count elements (all of them when count < 0, as in tf.data). */
  take(count: number): Dataset<T> {
    check(Number.isInteger(count), 'take', 'an integer count', count);
    const size = count < 0 ? this.size : this.size === null ? null : Math.min(this.size, count);
    if (count < 0) return this;
    if (this.lazy) return this.withIndices(this.lazy.indices.take(count), size);
    const src = this;
    return new Dataset<T>(async function* () {
      if (count === 0) return;
      let k = 0;
      for await (const x of src) {
        yield x;
        if (++k >= count) return;
      }
    }, size);
  }

  /** All but the first count elements. */
  skip(count: number): Dataset<T> {
    checkCount('skip', 'count', count);
    const size = this.size === null ? null : Math.max(0, this.size - count);
    if (this.lazy) return this.withIndices(this.lazy.indices.skip(count), size);
    const src = this;
    return new Dataset<T>(async function* () {
      let k = 0;
      for await (const x of src) {
        if (k++ < count) dispose(x);
        else yield x;
      }
    }, size);
  }

  /** The dataset count times in a row (forever when count is omitted). */
  repeat(count?: number): Dataset<T> {
    if (count !== undefined) checkCount('repeat', 'count', count);
    const size = count === undefined ? (this.size === 0 ? 0 : Infinity) : this.size === null ? null : this.size * count;
    if (this.lazy) return this.withIndices(this.lazy.indices.repeat(count), size);
    const src = this;
    return new Dataset<T>(async function* () {
      for (let i = 0; count === undefined || i < count; i++) {
        let any = false;
        for await (const x of src) {
          any = true;
          yield x;
        }
        if (!any) return; // an empty dataset repeated forever is still empty
      }
    }, size);
  }

  /** Requests up to bufferSize elements ahead of the consumer. */
  prefetch(bufferSize: number): Dataset<T> {
    checkCount('prefetch', 'bufferSize', bufferSize);
    if (bufferSize === 0) return this;
    const src = this;
    return new Dataset<T>(async function* () {
      const it = src.source();
      const queue: Array<Promise<IteratorResult<T>>> = [];
      const request = () => {
        const p = it.next();
        p.catch(() => undefined); // rejections surface when this promise is awaited in order
        queue.push(p);
      };
      let done = false;
      try {
        for (;;) {
          while (queue.length < bufferSize + 1) request();
          const r = await queue.shift()!;
          if (r.done) {
            done = true;
            return;
          }
          yield r.value;
        }
      } finally {
        for (const p of queue) {
          const r = await p.catch(() => undefined);
          if (r && !r.done) dispose(r.value);
        }
        if (!done) await it.return?.();
      }
    }, this.size);
  }

  /** Calls f on every element (the consumer owns it and should dispose it). */
  async forEachAsync(f: (x: T) => void | Promise<void>): Promise<void> {
    for await (const x of this) await f(x);
  }

  /** Every element, in order. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const x of this) out.push(x);
    return out;
  }

  private withIndices(indices: Dataset<number>, size: number | null): Dataset<T> {
    const rows = this.lazy!.rows;
    return new Dataset<T>(
      async function* () {
        for await (const i of indices) yield rows.row(i);
      },
      size,
      { indices, rows },
    );
  }
}

/** Stacks a list of same-structured elements into one batched element. */
function stackElements(items: unknown[]): unknown {
  const first = items[0];
  if (first instanceof Tensor) {
    items.forEach((t) => {
      if (!(t instanceof Tensor) || t.dtype !== first.dtype || t.shape.join() !== first.shape.join())
        throw new InvalidArgumentError(`batch: expected elements of one shape ${describe(first.shape)} and dtype ${first.dtype} but received ${describe(t)}`);
    });
    const b = tidy(() => stack(items as Tensor[]));
    (items as Tensor[]).forEach((t) => t.dispose());
    return b;
  }
  if (typeof first === 'number' || (Array.isArray(first) && !first.some((v) => typeof v === 'object' && v !== null)))
    return tidy(() => tensor(items as number[]));
  if (Array.isArray(first)) return first.map((_, k) => stackElements(items.map((x) => (x as unknown[])[k])));
  if (first && typeof first === 'object')
    return Object.fromEntries(Object.keys(first).map((k) => [k, stackElements(items.map((x) => (x as Record<string, unknown>)[k]))]));
  throw new InvalidArgumentError(`batch: expected elements of tensors, numbers or arrays or records of them but received ${describe(first)}`);
}

/** A dataset over 0..n-1 (the index stream of fromTensors()). */
function range(n: number): Dataset<number> {
  return new Dataset<number>(async function* () {
    for (let i = 0; i < n; i++) yield i;
  }, n);
}

type HostColumn = { data: Float32Array | Int32Array | Uint8Array; rowShape: number[]; rowSize: number; dtype: DType };

function column(t: Tensor, name: string, n: number): HostColumn {
  check(t instanceof Tensor, 'fromTensors', `${name} to be a Tensor`, t);
  check(t.rank >= 1, 'fromTensors', `${name} of rank >= 1`, t.shape);
  check(t.shape[0] === n, 'fromTensors', `${name} with ${n} rows (the first dimension of every tensor)`, t.shape);
  const rowShape = t.shape.slice(1);
  return { data: t.dataSync<typeof t.dtype>(), rowShape, rowSize: rowShape.reduce((a, b) => a * b, 1), dtype: t.dtype };
}

function rowOf(c: HostColumn, i: number): Tensor {
  return tensor(c.data.subarray(i * c.rowSize, (i + 1) * c.rowSize), c.rowShape.slice(), c.dtype);
}

function gatherRows(c: HostColumn, indices: number[]): Tensor {
  const Ctor = c.data.constructor as { new (n: number): Float32Array | Int32Array | Uint8Array };
  const out = new Ctor(indices.length * c.rowSize);
  indices.forEach((i, j) => out.set(c.data.subarray(i * c.rowSize, (i + 1) * c.rowSize), j * c.rowSize));
  return tensor(out, [indices.length, ...c.rowShape], c.dtype);
}

/**
 * A dataset of the rows of tensors (sliced along the first axis): a Tensor, an array of
 * tensors, or a record such as {xs, ys}. The values are copied to host memory once, so
 * the given tensors may be disposed afterwards.
 */
export function fromTensors<T extends Tensor | Tensor[] | Record<string, Tensor>>(tensors: T): Dataset<T> {
  const isRecord = !(tensors instanceof Tensor) && !Array.isArray(tensors);
  check(tensors instanceof Tensor || (tensors && typeof tensors === 'object'), 'fromTensors', 'a Tensor, an array of tensors or a record of tensors', tensors);
  const entries: Array<[string, Tensor]> = tensors instanceof Tensor ? [['tensor', tensors]] : Object.entries(tensors as Record<string, Tensor>);
  check(entries.length > 0, 'fromTensors', 'at least one tensor', tensors);
  const first = entries[0][1];
  check(first instanceof Tensor && first.rank >= 1, 'fromTensors', `${entries[0][0]} to be a Tensor of rank >= 1`, first);
  const n = first.shape[0];
  const cols = entries.map(([k, t]) => [k, column(t, k, n)] as const);
  const build = (f: (c: HostColumn) => Tensor): T => {
    if (tensors instanceof Tensor) return f(cols[0][1]) as T;
    const parts = cols.map(([k, c]) => [k, f(c)] as const);
    return (isRecord ? Object.fromEntries(parts) : parts.map(([, t]) => t)) as T;
  };
  const rows: Rows<T> = { row: (i) => build((c) => rowOf(c, i)), gather: (idx) => build((c) => gatherRows(c, idx)) };
  const indices = range(n);
  return new Dataset<T>(
    async function* () {
      for await (const i of indices) yield rows.row(i);
    },
    n,
    { indices, rows },
  );
}

// Note [array owns nothing]: every element a dataset yields belongs to its consumer (batch()
// stacks and frees them, fitDataset frees each batch), so array() yields copies of the
// tensors it was given and never the tensors themselves. Each pass then starts from the same
// live tensors: the dataset is re-iterable, epoch after epoch, as in tfjs.
/** A copy of an element with every tensor in it cloned. */
function cloneElement<T>(x: T): T {
  if (x instanceof Tensor) return clone(x) as T;
  if (Array.isArray(x)) return x.map(cloneElement) as T;
  if (x && typeof x === 'object' && !ArrayBuffer.isView(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, cloneElement(v)])) as T;
  return x;
}

/** A dataset of the given items (tf.data.array), re-iterable: each pass yields copies of
 * the tensors in items (Note [array owns nothing]), which the caller still owns and frees. */
export function array<T extends Element>(items: T[]): Dataset<T> {
  check(Array.isArray(items), 'array', 'an array of elements', items);
  return new Dataset<T>(async function* () {
    for (const x of items) yield cloneElement(x);
  }, items.length);
}

/** A dataset from a generator function, called once per pass (tf.data.generator). */
export function generator<T>(fn: () => Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T>): Dataset<T> {
  check(typeof fn === 'function', 'generator', 'a function returning an iterator', fn);
  return new Dataset<T>(async function* () {
    const g = fn() as unknown as Record<symbol | string, unknown>;
    const it = (
      typeof g[Symbol.asyncIterator] === 'function'
        ? (g[Symbol.asyncIterator] as () => AsyncIterator<T>)()
        : typeof g[Symbol.iterator] === 'function'
          ? (g[Symbol.iterator] as () => Iterator<T>)()
          : g
    ) as AsyncIterator<T> | Iterator<T>;
    check(typeof it?.next === 'function', 'generator', 'fn to return an iterator', g);
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }, null);
}
