// TensorBoard event files: TFRecord framing (length, masked CRC-32C of the length, payload,
// masked CRC-32C of the payload) around tensorflow.Event protocol buffers, encoded here.
//
// Note [hand-written protobuf]: we only ever write five small messages (Event, Summary,
// Summary.Value, SummaryMetadata, TensorProto) with fixed field numbers from TensorFlow's
// event.proto / summary.proto / tensor.proto. A protobuf library (protobufjs and its .proto
// files) would be a dependency larger than this file, for no reading and no schema changes;
// the test reads the files back with TensorBoard's and TensorFlow's own readers, which check
// every field and CRC.

// ---- CRC-32C (Castagnoli), as TFRecord frames use it

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of bytes (0xe3069283 for the ASCII bytes '123456789'). */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits and add a constant. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: uint64 length, masked CRC of those 8 bytes, the data, masked CRC of the data (little-endian). */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

// ---- protocol buffer wire format (writing only)

class ProtoWriter {
  private parts: Buffer[] = [];
  private varint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const bytes: number[] = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      bytes.push(b);
    } while (x !== 0n);
    this.parts.push(Buffer.from(bytes));
  }
  private key(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }
  uint(field: number, v: number | bigint): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }
  double(field: number, v: number): this {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
    return this;
  }
  bytes(field: number, v: Uint8Array | string): this {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    this.key(field, 2);
    this.varint(b.length);
    this.parts.push(b);
    return this;
  }
  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }
  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// TensorFlow DataType enum values and SummaryMetadata.data_class values used here.
const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DATA_CLASS_SCALAR = 1;
const DATA_CLASS_TENSOR = 2;

/** TensorProto: dtype, shape, little-endian tensor_content. */
function tensorProto(dtype: number, shape: number[], content: Uint8Array): ProtoWriter {
  const shapeProto = new ProtoWriter();
  for (const d of shape) shapeProto.message(2, new ProtoWriter().uint(1, d)); // TensorShapeProto.dim { size }
  return new ProtoWriter().uint(1, dtype).message(2, shapeProto).bytes(4, content);
}

/** SummaryMetadata { plugin_data { plugin_name }, summary_description, data_class }. */
function metadata(plugin: string, description: string, dataClass: number): ProtoWriter {
  const m = new ProtoWriter().message(1, new ProtoWriter().bytes(1, plugin));
  if (description) m.bytes(3, description);
  return m.uint(4, dataClass);
}

/** Event { wall_time, step, summary { value { tag, metadata, tensor } } }. */
function summaryEvent(tag: string, step: number, wallTime: number, meta: ProtoWriter, tensor: ProtoWriter): Buffer {
  const value = new ProtoWriter().bytes(1, tag).message(9, meta).message(8, tensor);
  const summary = new ProtoWriter().message(1, value);
  return new ProtoWriter().double(1, wallTime).uint(2, step).message(5, summary).finish();
}

/** The first event of every file: Event { wall_time, file_version: 'brain.Event:2' }. */
export function fileVersionEvent(wallTime: number): Buffer {
  return new ProtoWriter().double(1, wallTime).bytes(3, 'brain.Event:2').finish();
}

/** A scalar as tf.summary.scalar writes it (the 'scalars' plugin, a float32 scalar tensor). */
export function scalarEvent(tag: string, value: number, step: number, wallTime: number, description = ''): Buffer {
  const content = Buffer.alloc(4);
  content.writeFloatLE(value);
  return summaryEvent(tag, step, wallTime, metadata('scalars', description, DATA_CLASS_SCALAR), tensorProto(DT_FLOAT, [], content));
}

/**
 * A histogram as tf.summary.histogram writes it (the 'histograms' plugin): a float64 tensor
 * [k, 3] of (left edge, right edge, count) rows.
 */
export function histogramEvent(tag: string, buckets: Float64Array, step: number, wallTime: number, description = ''): Buffer {
  const content = Buffer.from(buckets.buffer, buckets.byteOffset, buckets.byteLength);
  return summaryEvent(tag, step, wallTime, metadata('histograms', description, DATA_CLASS_TENSOR), tensorProto(DT_DOUBLE, [buckets.length / 3, 3], content));
}

/**
 * tf.summary.histogram's buckets of values: `bucketCount` equal-width buckets from min to
 * max (the last one closed), none for no data, and one [v - 0.5, v + 0.5] bucket when all
 * values are v (as tf.summary.histogram and tfjs-node).
 */
export function histogramBuckets(values: ArrayLike<number>, bucketCount: number): Float64Array {
  const n = values.length;
  if (n === 0) return new Float64Array(0);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  if (min === max) return Float64Array.of(min - 0.5, max + 0.5, n);
  const width = (max - min) / bucketCount;
  const counts = new Float64Array(bucketCount);
  for (let i = 0; i < n; i++) counts[Math.min(bucketCount - 1, Math.floor((values[i] - min) / width))]++;
  const out = new Float64Array(bucketCount * 3);
  for (let k = 0; k < bucketCount; k++) {
    out[3 * k] = min + k * width;
    out[3 * k + 1] = k === bucketCount - 1 ? max : min + (k + 1) * width;
    out[3 * k + 2] = counts[k];
  }
  return out;
}
