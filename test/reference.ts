// TensorFlow reference values for the parity suites: computed live by tfjs-node, or
// replayed from a recording of such a run on a machine that lacks tfjs-node (the lent GPU
// machine: tfjs-node and its libtensorflow are about 1 GB, the carry 64 MiB).
//
//   PARITY_REFERENCE unset         live: tfjs-node computes every reference (the default, CI)
//   PARITY_REFERENCE=record:DIR    live, and each test file's references are written to
//                                  DIR/<test file>.json when the file ends (saveRecording)
//   PARITY_REFERENCE=replay:DIR    no tfjs-node: references are read from DIR; a case that
//                                  was not recorded fails, naming the case and the file
//
// A reference is keyed by the test file, a name and a digest of its inputs, so a replay can
// only return values that TensorFlow computed from the very same inputs. Values travel as
// the raw bytes of their typed arrays (base64), so a replay is bit-exact.
import { expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TF from '@tensorflow/tfjs-node';
import { loadTfjs } from './tfjs.js';

/** A reference tensor's shape, dtype and values (what the comparisons read). */
export interface RefTensor {
  shape: number[];
  dtype: string;
  values: Float32Array | Int32Array | Uint8Array;
}
/** What one reference computation returns: named tensors, lists of them, or numbers. */
export type RefValue = RefTensor | RefTensor[] | number | number[];
export type RefRecord = Record<string, RefValue>;

type Mode = { kind: 'live' } | { kind: 'record' | 'replay'; dir: string };

function mode(): Mode {
  const v = process.env.PARITY_REFERENCE ?? '';
  if (v === '' || v === 'live') return { kind: 'live' };
  const m = /^(record|replay):(.+)$/.exec(v);
  if (!m) throw new Error(`PARITY_REFERENCE: expected 'live', 'record:DIR' or 'replay:DIR' but received '${v}'`);
  return { kind: m[1] as 'record' | 'replay', dir: path.resolve(m[2]) };
}

/** True when the references come from a recording (no tfjs-node is loaded). */
export function replaying(): boolean {
  return mode().kind === 'replay';
}

/** tfjs-node, or undefined when replaying. A load failure is thrown (callers keep it). */
export async function loadTf(): Promise<typeof TF | undefined> {
  return replaying() ? undefined : loadTfjs();
}

/** The tensor's shape, dtype and values, read once (the caller disposes the tensor). */
export function fromTf(t: TF.Tensor): RefTensor {
  return { shape: t.shape.slice(), dtype: t.dtype, values: t.dataSync() as RefTensor['values'] };
}

/** FNV-1a over the inputs' shapes and bytes: the part of a key that pins the data. */
export function digest(inputs: Array<{ shape: number[]; values: ArrayBufferView }>): string {
  let h = 0x811c9dc5;
  const mix = (b: number) => {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (const inp of inputs) {
    for (const d of inp.shape) for (let k = 0; k < 4; k++) mix((d >>> (8 * k)) & 0xff);
    mix(0x7c);
    const bytes = new Uint8Array(inp.values.buffer, inp.values.byteOffset, inp.values.byteLength);
    for (let i = 0; i < bytes.length; i++) mix(bytes[i]);
    mix(0x3b);
  }
  return h.toString(16).padStart(8, '0');
}

// ---- the recording file of the current test file

interface Encoded { shape: number[]; dtype: string; kind: 'f32' | 'i32' | 'u8'; b64: string }
type EncodedValue = Encoded | Encoded[] | number | number[];

const recorded = new Map<string, Record<string, EncodedValue>>();
let recordingFile: string | undefined;
let replayFile: { file: string; entries: Record<string, Record<string, EncodedValue>> } | undefined;

function currentTestFile(): string {
  const p = expect.getState().testPath;
  if (!p) throw new Error('reference: called outside a test (no test file known)');
  return path.basename(p);
}

const isTensor = (v: unknown): v is RefTensor => typeof v === 'object' && v !== null && 'values' in v && 'shape' in v;

function encodeTensor(t: RefTensor): Encoded {
  const kind = t.values instanceof Float32Array ? 'f32' : t.values instanceof Int32Array ? 'i32' : 'u8';
  const b = Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength);
  return { shape: t.shape.slice(), dtype: t.dtype, kind, b64: b.toString('base64') };
}
function decodeTensor(e: Encoded): RefTensor {
  const b = Buffer.from(e.b64, 'base64');
  const copy = new Uint8Array(b.length);
  copy.set(b);
  const values = e.kind === 'f32' ? new Float32Array(copy.buffer) : e.kind === 'i32' ? new Int32Array(copy.buffer) : copy;
  return { shape: e.shape, dtype: e.dtype, values };
}
function encode(r: RefRecord): Record<string, EncodedValue> {
  const out: Record<string, EncodedValue> = {};
  for (const [k, v] of Object.entries(r)) {
    if (Array.isArray(v)) out[k] = v.length && isTensor(v[0]) ? (v as RefTensor[]).map(encodeTensor) : (v as number[]).slice();
    else out[k] = isTensor(v) ? encodeTensor(v) : v;
  }
  return out;
}
function decode(r: Record<string, EncodedValue>): RefRecord {
  const out: RefRecord = {};
  for (const [k, v] of Object.entries(r)) {
    if (Array.isArray(v)) out[k] = v.length && typeof v[0] === 'object' ? (v as Encoded[]).map(decodeTensor) : (v as number[]);
    else out[k] = typeof v === 'object' ? decodeTensor(v) : v;
  }
  return out;
}

function lookup(key: string): RefRecord {
  const m = mode() as { kind: 'replay'; dir: string };
  const name = currentTestFile();
  const file = path.join(m.dir, `${name}.json`);
  if (replayFile?.file !== file) {
    if (!fs.existsSync(file))
      throw new Error(`reference: no recording ${file} for ${name} (record one where tfjs-node is installed: PARITY_REFERENCE=record:${m.dir} npx vitest run test/${name})`);
    replayFile = { file, entries: JSON.parse(fs.readFileSync(file, 'utf8')).entries };
  }
  const e = replayFile.entries[key];
  if (!e) throw new Error(`reference: "${key}" was not recorded in ${file} (re-record it where tfjs-node is installed)`);
  return decode(e);
}

function remember(key: string, r: RefRecord): void {
  const enc = encode(r);
  const prev = recorded.get(key);
  if (prev && JSON.stringify(prev) !== JSON.stringify(enc))
    throw new Error(`reference: two different references share the key "${key}" (give the cases distinct names)`);
  recorded.set(key, enc);
  recordingFile ??= currentTestFile();
}

/**
 * The reference for `key` (a case name plus digest(inputs)): compute() with tfjs-node, or
 * the recorded result when replaying. compute() returns plain values (fromTf) and disposes
 * its own tfjs tensors.
 */
export function reference<T extends RefRecord>(key: string, compute: () => T): T {
  const m = mode();
  if (m.kind === 'replay') return lookup(key) as T;
  const r = compute();
  if (m.kind === 'record') remember(key, r);
  return r;
}

/** reference() for asynchronous computations (model.fit). */
export async function referenceAsync<T extends RefRecord>(key: string, compute: () => Promise<T>): Promise<T> {
  const m = mode();
  if (m.kind === 'replay') return lookup(key) as T;
  const r = await compute();
  if (m.kind === 'record') remember(key, r);
  return r;
}

/** Writes this test file's recording (an afterAll of each file that uses reference()). */
export function saveRecording(): void {
  const m = mode();
  if (m.kind !== 'record' || !recordingFile || recorded.size === 0) return;
  fs.mkdirSync(m.dir, { recursive: true });
  const file = path.join(m.dir, `${recordingFile}.json`);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ version: 1, testFile: recordingFile, entries: Object.fromEntries(recorded) }));
  fs.renameSync(tmp, file); // a reader never sees half a file
}
