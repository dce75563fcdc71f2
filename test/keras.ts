// The Keras reference at test time: a Python with TensorFlow + Keras 3 + h5py (the venv of
// scripts/setup-keras-venv.sh, or the bench's .venv-peers, or $KERAS_PYTHON) runs
// scripts/keras_reference.py. Its outputs are cached under .cache/keras-reference/<hash of
// the script>/, so the ~30 s of Keras run once per clone and script version.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'keras_reference.py');

/** The first Python that has keras, tensorflow and h5py, or null (with the places tried). */
export function kerasPython(): { python: string | null; tried: string[] } {
  const candidates = [process.env.KERAS_PYTHON, join(ROOT, '.venv-keras', 'bin', 'python'), join(ROOT, '.venv-peers', 'bin', 'python')].filter(
    (p): p is string => !!p,
  );
  for (const p of candidates) {
    if (!existsSync(p)) continue;
    try {
      execFileSync(p, ['-c', "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('keras', 'tensorflow', 'h5py')) else 1)"], { stdio: 'ignore' });
      return { python: p, tried: candidates };
    } catch {
      // not this one
    }
  }
  return { python: null, tried: candidates };
}

/** Runs `keras_reference.py <command> DIR` once per script version and returns DIR. */
export function kerasReference(command: string, python: string): string {
  const hash = createHash('md5').update(readFileSync(SCRIPT)).digest('hex').slice(0, 12);
  const dir = join(ROOT, '.cache', 'keras-reference', `${command}-${hash}`);
  if (existsSync(join(dir, 'meta.json'))) return dir;
  // Older versions' outputs (hundreds of MB each) go.
  const parent = join(ROOT, '.cache', 'keras-reference');
  if (existsSync(parent)) for (const d of readdirSync(parent)) if (d.startsWith(`${command}-`)) rmSync(join(parent, d), { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync(python, [SCRIPT, command, tmp], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
