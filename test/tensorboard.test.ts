// tf.node.summaryFileWriter and tf.node.tensorBoard write event files that TensorBoard's own
// reader (TFRecord reader with CRC checks, Event protobuf, the dashboards' accumulator; run
// from .venv-tensorboard by test/tensorboard_reader.py) reads back with the values written,
// and that match what tfjs-node's writer produces for the same calls. A missing reader
// fails the suite: scripts/setup-tensorboard-venv.sh installs it (scripts/setup.sh runs it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { crc32c, histogramBuckets, maskedCrc32c } from '../lib/node/event_file.js';
import { loadTfjs } from './tfjs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const python = join(root, '.venv-tensorboard', 'bin', 'python');
const reader = join(root, 'test', 'tensorboard_reader.py');
const MASKED = 0xc78ab0e5;

interface SummaryValue {
  tag: string;
  plugin: string;
  description: string;
  data_class: number;
  value: number | number[][];
  dtype: string;
}
interface Run {
  files: string[];
  records: Record<string, Array<{ wall_time: number; step: number; what: string; file_version?: string; values?: SummaryValue[] }>>;
  accumulator: Record<string, { plugin: string; points: Array<[number, number | number[][]]> }>;
}

/** TensorBoard's view of each run directory (throws with the reader's stderr on failure). */
function readRuns(...dirs: string[]): Record<string, Run> {
  if (!existsSync(python)) throw new Error(`TensorBoard's reader is missing (${python}): run scripts/setup-tensorboard-venv.sh`);
  const r = spawnSync(python, [reader, ...dirs], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
  if (r.status !== 0) throw new Error(`tensorboard_reader.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

let tmp: string;
let tf: Awaited<ReturnType<typeof loadTfjs>>;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cn-tensorboard-'));
  tf = await loadTfjs();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('event file framing', () => {
  it('CRC-32C and its TFRecord mask: the standard check value and values TensorFlow computes', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of ones
    expect(maskedCrc32c(Buffer.from('123456789'))).toBe(MASKED); // ((c >>> 15 | c << 17) + 0xa282ead8) mod 2^32
  });
});

describe('summaryFileWriter', () => {
  it('scalars and histograms read back by TensorBoard, equal to what tfjs-node writes for the same calls', () => {
    const ours = join(tmp, 'ours');
    const theirs = join(tmp, 'tfjs');
    const data = cn.randomNormal([1000], 0, 2, 'float32', 7);
    const values = Array.from(data.dataSync());
    const w = cn.node.summaryFileWriter(ours);
    const t = tf.node.summaryFileWriter(theirs);
    expect(cn.node.summaryFileWriter(ours), 'one writer per logdir, as tfjs-node').toBe(w);
    for (let step = 0; step < 25; step++) {
      const v = Math.sin(step / 3) * 10 ** (step % 5);
      w.scalar('loss', v, step);
      t.scalar('loss', v, step);
    }
    const s = cn.scalar(2.5);
    w.scalar('from_tensor', s, 3);
    t.scalar('from_tensor', tf.scalar(2.5), 3);
    s.dispose();
    w.histogram('weights', data, 1);
    t.histogram('weights', tf.tensor(values), 1);
    w.histogram('weights', data, 2, 7, 'seven buckets');
    t.histogram('weights', tf.tensor(values), 2, 7, 'seven buckets');
    // tfjs-node 4.22 throws on constant data (its buckets() concatenates scalars), so the
    // constant case is checked against tf.summary.histogram's rule alone.
    const same = cn.fill([10], 3);
    w.histogram('constant', same, 0);
    same.dispose();
    data.dispose();
    w.flush();
    t.flush();

    const runs = readRuns(ours, theirs);
    const a = runs[ours];
    const b = runs[theirs];
    expect(a.files).toHaveLength(1);
    expect(a.files[0]).toMatch(/^events\.out\.tfevents\.\d+\..+\.v2$/);
    const recs = a.records[a.files[0]];
    expect(recs[0].file_version).toBe('brain.Event:2');
    expect(recs).toHaveLength(1 + 25 + 1 + 3);
    expect(recs.every((r) => Math.abs(r.wall_time - Date.now() / 1000) < 600)).toBe(true);
    // Scalars: float32 values at their steps, as tfjs-node's.
    expect(Object.keys(a.accumulator).sort()).toEqual([...Object.keys(b.accumulator), 'constant'].sort());
    for (const tag of ['loss', 'from_tensor']) {
      expect(a.accumulator[tag].plugin).toBe('scalars');
      expect(a.accumulator[tag].points).toEqual(b.accumulator[tag].points);
    }
    // Histograms: [k, 3] rows of (left, right, count): counts equal, edges to float32 rounding
    // (tfjs-node computes them in float32, we in float64).
    for (const tag of ['weights']) {
      expect(a.accumulator[tag].plugin).toBe('histograms');
      const pa = a.accumulator[tag].points;
      const pb = b.accumulator[tag].points;
      expect(pa.map((p) => p[0])).toEqual(pb.map((p) => p[0]));
      pa.forEach(([, rowsA], i) => {
        const rowsB = pb[i][1] as number[][];
        expect((rowsA as number[][]).length).toBe(rowsB.length);
        (rowsA as number[][]).forEach((row, k) => {
          expect(row[2], `${tag} bucket ${k} count`).toBe(rowsB[k][2]);
          expect(Math.abs(row[0] - rowsB[k][0])).toBeLessThan(1e-5 * Math.max(1, Math.abs(row[0])));
          expect(Math.abs(row[1] - rowsB[k][1])).toBeLessThan(1e-5 * Math.max(1, Math.abs(row[1])));
        });
      });
    }
    const weights = a.accumulator.weights.points;
    expect((weights[0][1] as number[][]).length).toBe(30);
    expect((weights[1][1] as number[][]).length).toBe(7);
    expect((weights[0][1] as number[][]).reduce((n, r) => n + r[2], 0)).toBe(1000);
    expect(a.accumulator.constant.plugin).toBe('histograms');
    expect(a.accumulator.constant.points[0][1]).toEqual([[2.5, 3.5, 10]]);
    const described = recs.flatMap((r) => r.values ?? []).filter((v) => v.description === 'seven buckets');
    expect(described).toHaveLength(1);
  });

  it('histogram buckets: tf.summary.histogram rules (empty, constant, last bucket closed)', () => {
    expect(Array.from(histogramBuckets([], 30))).toEqual([]);
    expect(Array.from(histogramBuckets([4, 4], 30))).toEqual([3.5, 4.5, 2]);
    expect(Array.from(histogramBuckets([0, 1, 2, 3, 4], 2))).toEqual([0, 2, 2, 2, 4, 3]);
  });

  it('a corrupted record is rejected by the reader (the test would see a bad CRC)', () => {
    const dir = join(tmp, 'corrupt');
    const w = cn.node.summaryFileWriter(dir);
    w.scalar('x', 1, 0);
    w.flush();
    const file = join(dir, readdirSync(dir)[0]);
    const bytes = readFileSync(file);
    bytes[bytes.length - 6] ^= 0x01; // inside the last record's payload
    writeFileSync(file, bytes);
    expect(() => readRuns(dir)).toThrow(/crc/i);
  });

  it('queued summaries are written when the process exits without flush()', () => {
    const dir = join(tmp, 'exit');
    const script = `import * as cn from ${JSON.stringify(join(root, 'lib', 'index.ts'))};
const w = cn.node.summaryFileWriter(${JSON.stringify(dir)}, 100, 1e9);
for (let i = 0; i < 5; i++) w.scalar('late', i * 2, i);`;
    const file = join(tmp, 'exit-writer.mts');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const run = readRuns(dir)[dir];
    expect(run.accumulator.late.points).toEqual([0, 1, 2, 3, 4].map((i) => [i, i * 2]));
  });

  it('bad arguments name the argument', () => {
    const w = cn.node.summaryFileWriter(join(tmp, 'args'));
    expect(() => w.scalar('x', 1, 1.5)).toThrow(/SummaryFileWriter.scalar: expected step an integer but received 1.5/);
    expect(() => w.scalar('', 1, 1)).toThrow(/expected name a non-empty string/);
    expect(() => w.scalar('x', cn.zeros([2]), 1)).toThrow(/expected value a scalar \(rank 0\) tensor but received tensor of shape \[2\]/);
    expect(() => w.histogram('h', cn.tensor([1, NaN]), 1)).toThrow(/SummaryFileWriter.histogram: expected finite values but received NaN at index 1/);
    expect(() => w.histogram('h', cn.tensor([1, 2]), 1, 0)).toThrow(/expected buckets a positive integer but received 0/);
    expect(() => cn.node.summaryFileWriter('')).toThrow(/summaryFileWriter: expected logdir a non-empty string/);
    expect(() => cn.node.tensorBoard('/tmp/x', { updateFreq: 'step' as never })).toThrow(/tensorBoard: expected updateFreq 'batch' or 'epoch' but received 'step'/);
    expect(() => cn.node.tensorBoard('/tmp/x', { histogramFreq: -1 })).toThrow(/histogramFreq a non-negative integer/);
  });
});

describe('tensorBoard callback', () => {
  it('fit logs batch_ and epoch_ loss/metrics to train/ and val/ as tfjs-node does, with the values History holds', async () => {
    const xs = cn.randomNormal([64, 4], 0, 1, 'float32', 1);
    const xv = xs.dataSync();
    const ys = cn.tensor(Float32Array.from({ length: 64 }, (_, i) => (xv[4 * i] + xv[4 * i + 1] > 0 ? 1 : 0)), [64, 1]);
    const make = () => {
      const m = cn.sequential({ layers: [cn.layers.dense({ units: 8, activation: 'relu', inputShape: [4] }), cn.layers.dense({ units: 1, activation: 'sigmoid' })] });
      m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
      return m;
    };
    const ours = join(tmp, 'fit-ours');
    const model = make();
    const h = await model.fit(xs, ys, { epochs: 3, batchSize: 16, validationSplit: 0.25, verbose: 0, callbacks: cn.node.tensorBoard(ours, { updateFreq: 'batch', histogramFreq: 1 }) });

    const theirs = join(tmp, 'fit-tfjs');
    const tm = tf.sequential({ layers: [tf.layers.dense({ units: 8, activation: 'relu', inputShape: [4] }), tf.layers.dense({ units: 1, activation: 'sigmoid' })] });
    tm.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    await tm.fit(tf.tensor(xs.arraySync() as number[][]), tf.tensor(ys.arraySync() as number[][]), {
      epochs: 3,
      batchSize: 16,
      validationSplit: 0.25,
      verbose: 0,
      // histogramFreq 0: tfjs-node 4.22's histogram throws on the all-zero initial biases.
      callbacks: tf.node.tensorBoard(theirs, { updateFreq: 'batch' }),
    });

    const runs = readRuns(join(ours, 'train'), join(ours, 'val'), join(theirs, 'train'), join(theirs, 'val'));
    const tagsOf = (r: Run) => Object.keys(r.accumulator).filter((t) => !t.includes('/')).sort();
    const steps = (r: Run, tag: string) => r.accumulator[tag].points.map((p) => p[0]);
    const ourTrain = runs[join(ours, 'train')];
    const ourVal = runs[join(ours, 'val')];
    const refTrain = runs[join(theirs, 'train')];
    const refVal = runs[join(theirs, 'val')];
    // The loss tags and their steps: 3 batches per epoch (48 training samples / 16), 3 epochs.
    for (const tag of ['batch_loss', 'epoch_loss']) expect(steps(ourTrain, tag), tag).toEqual(steps(refTrain, tag));
    expect(steps(ourTrain, 'batch_loss')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(steps(ourVal, 'epoch_loss')).toEqual(steps(refVal, 'epoch_loss'));
    // val/ holds epoch values only (a metric's tag follows the History key, see docs/tf-node.md).
    expect(tagsOf(ourVal)).toContain('epoch_loss');
    expect(tagsOf(ourVal).every((t) => t.startsWith('epoch_'))).toBe(true);
    expect(tagsOf(refVal).every((t) => t.startsWith('epoch_'))).toBe(true);
    // Values: what History reports, as float32.
    const f32 = (x: number) => Math.fround(x);
    expect(ourTrain.accumulator.epoch_loss.points.map((p) => p[1])).toEqual(h.history.loss.map(f32));
    expect(ourVal.accumulator.epoch_loss.points.map((p) => p[1])).toEqual(h.history.val_loss.map(f32));
    // Weight histograms, one series per weight, every epoch (histogramFreq 1).
    const histTags = Object.entries(ourTrain.accumulator).filter(([, s]) => s.plugin === 'histograms');
    expect(histTags.length).toBe(model.weights.length);
    for (const [, s] of histTags) expect(s.points.map((p) => p[0])).toEqual([0, 1, 2]);
    model.dispose();
    tm.dispose();
    xs.dispose();
    ys.dispose();
  });
});
