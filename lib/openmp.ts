// How long the cpu backend's idle OpenMP workers spin before they sleep. libgomp (oneDNN's
// and native/cpu's thread runtime) reads OMP_WAIT_POLICY / GOMP_SPINCOUNT once, in its
// constructor, when the addon's dlopen loads it; lib/native.ts loads the addon through
// withOpenMPDefaults(), which sets our default for exactly that moment.

//
// Note [OpenMP wait policy]: by default libgomp's idle workers spin 300,000 rounds (about 7 ms
// here) after every parallel region before they sleep. Eager code runs JavaScript between
// small ops, so the workers spin through every gap and take the cores the main thread needs:
// on a busy 2-core machine a VAE minimize step took 150-430 ms instead of 4 (bench/threads.ts,
// docs/tf-node.md). The issue asked for passive waiting between eager ops and active waiting
// inside a compiled plan's step. libgomp cannot switch at run time (it reads the variables
// once, has no API for it, and keeps the spin count in a hidden variable), so one setting
// serves both, and we measured the candidates: PASSIVE was fastest for eager loops (3.8 ms
// against 4.6 with a 300-round spin, 6 with 1000) and for fit's plan steps too (Fashion-MNIST
// CNN: 457 ms/step passive, 589 libgomp's default, 872 ACTIVE), because a step's primitives
// run for hundreds of microseconds each and waking a sleeping worker costs microseconds.
// So the default is OMP_WAIT_POLICY=PASSIVE. A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT
// wins (ACTIVE can pay off on an otherwise idle many-core machine running only fit); if
// another module loaded libgomp first, its settings stand (openmpSettings() says which).
// In a worker thread process.env is the thread's own copy, invisible to libgomp unless the
// Worker was created with env: SHARE_ENV; a process that first loads cudnn-node in a worker
// keeps libgomp's default then (openmpSettings() reports 'worker').
import { existsSync, readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** OMP_WAIT_POLICY we set when the user set no wait variable (Note [OpenMP wait policy]). */
export const WAIT_POLICY = 'PASSIVE';

/** Where the OpenMP wait setting of this process came from. */
export interface OpenMPSettings {
  /**
   * 'cudnn-node': our default; 'environment': the user's variables; 'preloaded': libgomp was
   * loaded before us; 'worker': first loaded in a worker thread, where our default reaches
   * libgomp only if the Worker shares the process environment (SHARE_ENV).
   */
  source: 'cudnn-node' | 'environment' | 'preloaded' | 'worker';
  OMP_WAIT_POLICY?: string;
  GOMP_SPINCOUNT?: string;
}

let settings: OpenMPSettings = { source: 'environment' };

/** The OpenMP wait setting the cpu backend's threads run with, and where it came from. */
export function openmpSettings(): OpenMPSettings {
  return { ...settings };
}

function libgompLoaded(): boolean {
  try {
    return existsSync('/proc/self/maps') && /libgomp[\w.-]*\.so/.test(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Runs load (which loads the addon, and with it libgomp) with OMP_WAIT_POLICY set to our
 * default unless the user chose a wait setting; the variable is removed again afterwards,
 * so child processes inherit the user's environment unchanged.
 */
export function withOpenMPDefaults<T>(load: () => T): T {
  const env = process.env;
  const user = { OMP_WAIT_POLICY: env.OMP_WAIT_POLICY, GOMP_SPINCOUNT: env.GOMP_SPINCOUNT };
  if (user.OMP_WAIT_POLICY !== undefined || user.GOMP_SPINCOUNT !== undefined) {
    settings = { source: 'environment', ...user };
    return load();
  }
  if (libgompLoaded()) {
    settings = { source: 'preloaded' };
    return load();
  }
  env.OMP_WAIT_POLICY = WAIT_POLICY;
  try {
    const out = load();
    settings = { source: isMainThread ? 'cudnn-node' : 'worker', OMP_WAIT_POLICY: WAIT_POLICY };
    return out;
  } finally {
    delete env.OMP_WAIT_POLICY;
  }
}
