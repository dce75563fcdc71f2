// Checks an HDF5 file's signature and superblock before the HDF5 library sees it, so that
// the commonest corruptions (not HDF5 at all, truncated, a damaged superblock) get a plain
// error naming the file instead of whatever the library makes of them. Layout: HDF5 File
// Format Specification 3.0, section II.A (superblock versions 0-3).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const UNDEFINED_ADDRESS = (1n << 64n) - 1n;

function fail(path: string, why: string): never {
  throw new InvalidArgumentError(`loadKerasWeights: expected an HDF5 file at '${path}' but ${why}`);
}

function readUint(buf: Buffer, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + i]);
  return size === 8 || v !== (1n << BigInt(size * 8)) - 1n ? v : UNDEFINED_ADDRESS;
}

/**
 * Throws InvalidArgumentError naming path unless it starts with the HDF5 signature (at 0 or
 * after a 512 * 2^k byte user block) followed by a superblock of a known version, with
 * sizes of offsets and lengths of 2, 4 or 8 bytes, and an end-of-file address within the file.
 */
export function checkHdf5Superblock(path: string): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    let base = -1;
    for (let off = 0; off + 8 <= size && off <= 1 << 30; off = off === 0 ? 512 : off * 2) {
      readSync(fd, head, 0, 8, off);
      if (head.equals(SIGNATURE)) {
        base = off;
        break;
      }
    }
    if (base < 0) fail(path, size < 8 ? `it has only ${size} bytes (no HDF5 signature)` : 'it could not be opened: it has no HDF5 signature (not an HDF5 file)');
    const sb = Buffer.alloc(96);
    const got = readSync(fd, sb, 0, sb.length, base);
    const version = sb[8];
    if (got < 16) fail(path, `it is truncated inside its superblock (${size} bytes)`);
    if (version > 3) fail(path, `its superblock has version ${version} (known: 0 to 3; the file is damaged or from a newer HDF5)`);
    const offsets = version <= 1 ? sb[13] : sb[9];
    const lengths = version <= 1 ? sb[14] : sb[10];
    for (const [what, n] of [['offsets', offsets], ['lengths', lengths]] as const)
      if (n !== 2 && n !== 4 && n !== 8) fail(path, `its superblock gives a size of ${what} of ${n} bytes (expected 2, 4 or 8: the superblock is damaged)`);
    // Byte offset of the base address; the end-of-file address follows the free-space (v0/1) or superblock-extension (v2/3) address.
    const baseAt = version === 0 ? 24 : version === 1 ? 28 : 12;
    const eofAt = baseAt + 2 * offsets;
    if (got < eofAt + offsets) fail(path, `it is truncated inside its superblock (${size} bytes)`);
    const baseAddress = readUint(sb, baseAt, offsets);
    const eof = readUint(sb, eofAt, offsets);
    if (baseAddress === UNDEFINED_ADDRESS || eof === UNDEFINED_ADDRESS) fail(path, 'its superblock has an undefined base or end-of-file address (the superblock is damaged)');
    const end = baseAddress + eof;
    if (end > BigInt(size)) fail(path, `it is truncated: its superblock says the file ends at byte ${end} but it has ${size} bytes`);
  } finally {
    closeSync(fd);
  }
}
