// tf.data against tfjs-node's tf.data on the same inputs: csv (header, columnNames,
// columnConfigs with isLabel / dtype / default / required, configuredColumnsOnly, delimiters,
// quotes), zip, generator, array, map, mapAsync, filter, concatenate, shuffle, prefetch,
// repeat, take, skip, batch; every dataset re-iterable (a second pass equals the first);
// tf.data.array of tensors through fitDataset for several epochs (issue 22 item 6).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { loadTfjs } from './tfjs.js';

let tf: typeof TF;
const dir = mkdtempSync(join(tmpdir(), 'cn-csv-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
let basic: string, semi: string, spaces: string, quoted: string, escaped: string, noHeader: string, types: string;

beforeAll(async () => {
  tf = await loadTfjs();
  basic = file('basic.csv', 'a,b,label\n1,2.5,0\n3,,1\n"5",6,1\n-2,1e3,0\n');
  semi = file('semi.csv', 'x;y;z\r\n1;2;3\r\n4;5;6\r\n');
  spaces = file('spaces.csv', 'x y  z\n1   2 3\n4 5    6\n');
  quoted = file('quoted.csv', 'name,score\n"Smith, J",3\n"a;b",4\nplain,5\n');
  escaped = file('escaped.csv', 'name,score\n"say ""hi""",4\n');
  noHeader = file('noheader.csv', '1,2,3\n4,5,6\n7,8,9\n');
  types = file('types.csv', 'f,i,b,s\n1.7,2.9,true,x\n-1.5,-3.2,0,y\n0.25,7,1,z\n');
});

/** Elements as plain JSON-able values (tensors become {shape, values}). */
async function plain(ds: { toArray(): Promise<unknown[]> }): Promise<unknown[]> {
  const els = await ds.toArray();
  const conv = (v: unknown): unknown => {
    if (v instanceof cn.Tensor || (tf && v instanceof tf.Tensor)) {
      const t = v as cn.Tensor;
      const out = { shape: t.shape, values: Array.from(t.dataSync()).map((x) => Math.round(x * 1e5) / 1e5) };
      t.dispose();
      return out;
    }
    if (Array.isArray(v)) return v.map(conv);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)]));
    return v;
  };
  return JSON.parse(JSON.stringify(els.map(conv)));
}

/** Runs the same pipeline on both libraries and expects equal elements, on two passes. */
async function same(build: (lib: typeof cn | typeof TF) => { toArray(): Promise<unknown[]> }) {
  const ours = build(cn);
  const ref = build(tf);
  const first = await plain(ours);
  expect(first).toEqual(await plain(ref));
  expect(await plain(ours), 'a second pass').toEqual(first);
  return first;
}

type DataLib = { data: typeof cn.data };
const D = (lib: typeof cn | typeof TF) => (lib as unknown as DataLib).data;
const url = (p: string) => pathToFileURL(p).href;

describe('tf.data.csv as tfjs-node reads it', () => {
  it('header, numbers, an empty field, a quoted number', async () => {
    const rows = await same((l) => D(l).csv(url(basic)));
    expect(rows.length).toBe(4);
  });
  it('columnConfigs: isLabel gives {xs, ys}; default fills an empty field', async () => {
    const rows = await same((l) => D(l).csv(url(basic), { columnConfigs: { label: { isLabel: true }, b: { default: 9 } } }));
    expect(rows[1]).toEqual({ xs: { a: 3, b: 9 }, ys: { label: 1 } });
  });
  it('columnNames replace the header; hasHeader false reads every line', async () => {
    await same((l) => D(l).csv(url(basic), { columnNames: ['p', 'q', 'r'] }));
    await same((l) => D(l).csv(url(noHeader), { hasHeader: false, columnNames: ['x', 'y', 'z'], columnConfigs: { z: { isLabel: true } } }));
  });
  it('configuredColumnsOnly keeps only configured columns', async () => {
    await same((l) => D(l).csv(url(basic), { configuredColumnsOnly: true, columnConfigs: { a: {}, label: { isLabel: true } } }));
  });
  it('delimiter, delimWhitespace, CRLF line ends and quoted fields', async () => {
    await same((l) => D(l).csv(url(semi), { delimiter: ';' }));
    await same((l) => D(l).csv(url(spaces), { delimWhitespace: true }));
    const rows = await same((l) => D(l).csv(url(quoted)));
    expect(rows[0]).toEqual({ name: 'Smith, J', score: 3 });
    // A doubled quote inside quotes is one quote (RFC 4180); tfjs keeps both (a known difference).
    expect(await cn.data.csv(escaped).toArray()).toEqual([{ name: 'say "hi"', score: 4 }]);
    expect(await tf.data.csv(url(escaped)).toArray()).toEqual([{ name: 'say ' + '""hi""', score: 4 }]);
  });
  it('dtype int32 floors, bool reads 1/true, strings stay strings', async () => {
    const rows = await same((l) => D(l).csv(url(types), { columnConfigs: { i: { dtype: 'int32' }, b: { dtype: 'bool' } } }));
    expect(rows[1]).toEqual({ f: -1.5, i: -4, b: 0, s: 'y' });
  });
  it('columnNames() as tfjs', async () => {
    expect(await cn.data.csv(basic).columnNames()).toEqual(await tf.data.csv(url(basic)).columnNames());
  });
  it('map + batch turns rows into the same tensors', async () => {
    await same((l) =>
      D(l)
        .csv(url(basic), { columnConfigs: { label: { isLabel: true }, b: { default: 0 } } })
        .map((r) => {
          const { xs, ys } = r as { xs: Record<string, number>; ys: Record<string, number> };
          return { xs: Object.values(xs), ys: Object.values(ys) };
        })
        .batch(3),
    );
  });
  it('errors: a required empty field, an unknown columnConfigs key, a missing file, an http URL', async () => {
    await expect(cn.data.csv(basic, { columnConfigs: { b: { required: true } } }).toArray()).rejects.toThrow(/csv: expected a value in required column 'b'/);
    await expect(tf.data.csv(url(basic), { columnConfigs: { b: { required: true } } }).toArray()).rejects.toThrow(/Required column b is empty/);
    await expect(cn.data.csv(basic, { columnConfigs: { nope: {} } }).toArray()).rejects.toThrow(/columnConfigs keys among the column names \['a','b','label'\] but received 'nope'/);
    expect(() => cn.data.csv(join(dir, 'missing.csv'))).toThrow(/csv: expected an existing file/);
    expect(() => cn.data.csv('https://example.com/a.csv')).toThrow(cn.NotSupportedError);
    await expect(cn.data.csv(noHeader, { hasHeader: false }).toArray()).rejects.toThrow(/columnNames when hasHeader is false/);
  });
});

describe('tf.data.zip as tfjs-node zips', () => {
  it('arrays, records and nested structures, until the shortest ends', async () => {
    await same((l) => D(l).zip([D(l).array([1, 2, 3]), D(l).array([4, 5, 6])]));
    await same((l) => D(l).zip({ a: D(l).array([1, 2, 3]), b: D(l).array([4, 5]) }));
    await same((l) => D(l).zip({ a: D(l).array([1, 2]), b: [D(l).array([3, 4]), { c: D(l).array([5, 6]) }] } as never));
  });
  it('zip of csv columns and a generator, batched', async () => {
    const gen = (l: typeof cn | typeof TF) => D(l).generator(function* () {
      for (let i = 0; i < 4; i++) yield i * 10;
    });
    await same((l) => D(l).zip({ row: D(l).csv(url(basic)).map((r) => Object.values(r as Record<string, number>).map((v) => v ?? 0)), k: gen(l) }).batch(2));
  });
  it('size is the shortest input\'s; a bad input is named', () => {
    expect(cn.data.zip([cn.data.array([1, 2, 3]), cn.data.array([1])]).size).toBe(1);
    expect(() => cn.data.zip({ a: cn.data.array([1]), b: 3 as never })).toThrow(/zip: expected datasets, or arrays or records of them, but received 3 at \.b/);
  });
});

describe('Dataset transformations as in tfjs-node', () => {
  const nums = Array.from({ length: 10 }, (_, i) => i);
  it('generator, map, filter, take, skip, repeat, batch, concatenate, prefetch', async () => {
    const gen = (l: typeof cn | typeof TF) => D(l).generator(function* () {
      for (const n of nums) yield { x: n, y: [n, n * 2] };
    });
    await same((l) => gen(l).map((e) => ({ x: (e as { x: number }).x * 3, y: (e as { y: number[] }).y })).batch(4));
    await same((l) => gen(l).filter((e) => (e as { x: number }).x % 3 === 0));
    await same((l) => gen(l).skip(2).take(5).repeat(2).batch(3, false));
    await same((l) => D(l).array(nums).concatenate(D(l).array([100, 101])).prefetch(2).batch(5));
    await same((l) => D(l).array(nums).mapAsync(async (n) => (n as number) + 0.5));
  });
  it('tensor elements: array of tensors, map, batch (re-iterable)', async () => {
    const make = (l: typeof cn | typeof TF) => {
      const lib = l as typeof cn;
      return D(l)
        .array([0, 1, 2, 3, 4].map((i) => ({ xs: lib.tensor([i, i + 1, i + 2]), ys: lib.scalar(i) })))
        .map((e) => ({ xs: (e.xs as cn.Tensor).mul(2), ys: e.ys }))
        .batch(2);
    };
    await same(make);
  });
  it('shuffle is a permutation and, with a seed, the same order for the same seed', async () => {
    const a = (await cn.data.array(nums).shuffle(10, 'seed').toArray()) as number[];
    expect([...a].sort((x, y) => x - y)).toEqual(nums);
    expect(await cn.data.array(nums).shuffle(10, 'seed', false).toArray()).toEqual(await cn.data.array(nums).shuffle(10, 'seed', false).toArray());
    const r = (await tf.data.array(nums).shuffle(10, 'seed').toArray()) as number[];
    expect([...r].sort((x, y) => x - y)).toEqual(nums); // tfjs' seeded order uses another generator
  });
});

describe('every dataset is re-iterable, each epoch (tfjs semantics)', () => {
  it('tf.data.array of tensors feeds fitDataset for 3 epochs and leaves no tensors', async () => {
    const before = cn.memory().numTensors;
    const xs = Array.from({ length: 8 }, (_, i) => cn.tensor([i / 8, 1 - i / 8]));
    const ys = Array.from({ length: 8 }, (_, i) => cn.tensor([i / 4]));
    const ds = cn.data.zip({ xs: cn.data.array(xs), ys: cn.data.array(ys) }).batch(4);
    const model = cn.sequential({ layers: [cn.layers.dense({ units: 1, inputShape: [2] })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const h = await model.fitDataset(ds, { epochs: 3, verbose: 0 });
    expect(h.history.loss.length).toBe(3);
    expect(h.history.loss[2]).toBeLessThan(h.history.loss[0]);
    // The given tensors are still live and unchanged.
    expect(xs.every((t) => !t.isDisposed)).toBe(true);
    expect(Array.from(xs[3].dataSync())).toEqual([3 / 8, 5 / 8]);
    cn.dispose([xs, ys]);
    model.dispose();
    expect(cn.memory().numTensors).toBe(before);
  });
  it('and the same program on tfjs-node also trains 3 epochs', async () => {
    const xs = Array.from({ length: 8 }, (_, i) => tf.tensor([i / 8, 1 - i / 8]));
    const ys = Array.from({ length: 8 }, (_, i) => tf.tensor([i / 4]));
    const ds = tf.data.zip({ xs: tf.data.array(xs), ys: tf.data.array(ys) }).batch(4);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const h = await model.fitDataset(ds as never, { epochs: 3, verbose: 0 });
    expect(h.history.loss.length).toBe(3);
    tf.dispose([xs, ys]);
  });
  it('a dataset of tensors iterated twice gives equal passes and frees every copy', async () => {
    const t = [cn.tensor([1, 2]), cn.tensor([3, 4])];
    const before = cn.memory().numTensors;
    const ds = cn.data.array(t).batch(2);
    for (let pass = 0; pass < 2; pass++) {
      const [b] = (await ds.toArray()) as cn.Tensor[];
      expect(b.arraySync()).toEqual([[1, 2], [3, 4]]);
      b.dispose();
    }
    expect(cn.memory().numTensors).toBe(before);
    cn.dispose(t);
  });
});
