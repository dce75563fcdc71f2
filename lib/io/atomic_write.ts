// Crash-safe file writes: a temporary file in the same directory, written and fsynced,
// renamed over the target, then the directory fsynced so the rename itself is durable.
// A process killed at any point leaves either the old file or the new one, never a mix.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of our temporary files; a save removes leftovers of killed saves. */
export const TEMP_PREFIX = '.cudnn-node-tmp-';

/** Whether a directory entry is a temporary file left by an interrupted atomic write. */
export function isTempFile(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** fsyncs a directory, so that renames and unlinks in it survive a power loss. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let fd;
  try {
    fd = await open(dir, 'r');
    await fd.sync();
  } catch (e) {
    // Note [directory fsync]: some filesystems (and Windows) refuse fsync on a directory
    // handle (EISDIR, EINVAL, EPERM). The rename is still atomic there; only its
    // durability across a power loss depends on the filesystem's own ordering.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await fd?.close();
  }
}

/**
 * Writes data to path atomically: `<dir>/.cudnn-node-tmp-<name>-<random>` is written and
 * fsynced, then renamed over path. The caller fsyncs the directory (once per batch of writes).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = await open(tmp, 'wx', 0o644);
  try {
    await fd.writeFile(data);
    await fd.sync();
  } catch (e) {
    await fd.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fd.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Whether the process that wrote a temporary file may still be writing it. */
function writerAlive(name: string): boolean {
  const m = /-(\d+)-[0-9a-f]{12}$/.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files that killed writers left in dir (never those of a live process). */
export async function removeStaleTempFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) if (isTempFile(name) && !writerAlive(name)) await rm(join(dir, name), { force: true });
}
