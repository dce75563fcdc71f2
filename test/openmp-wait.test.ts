// The cpu backend's OpenMP workers sleep when JavaScript runs between eager ops (Note [OpenMP
// wait policy] in lib/openmp.ts): in a child process that alternates parallel ops with 60 ms
// pauses, the CPU time burnt during the pauses with our default is a fraction of what
// libgomp's own default (spin 300,000 rounds) and OMP_WAIT_POLICY=ACTIVE burn; a user's own
// setting wins; and the variable we set does not leak into process.env (child processes).
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(root, 'test', 'fixtures', 'openmp', 'idle-spin.child.ts');

interface Probe {
  idleCpuMs: number;
  wallMs: number;
  settings: { source: string; OMP_WAIT_POLICY?: string; GOMP_SPINCOUNT?: string };
  envAfter: { OMP_WAIT_POLICY: string | null; GOMP_SPINCOUNT: string | null };
}

function probe(extra: Record<string, string>): Probe {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  for (const k of ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT']) if (!(k in extra)) delete env[k];
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
}

describe('OpenMP wait policy', () => {
  it('by default idle workers sleep between eager ops: far less CPU burnt than libgomp\'s default or ACTIVE', () => {
    const ours = probe({});
    const libgomp = probe({ GOMP_SPINCOUNT: '300000' });
    const active = probe({ OMP_WAIT_POLICY: 'ACTIVE' });
    console.log(`idle CPU over 5 x 60 ms pauses: ours ${ours.idleCpuMs.toFixed(1)} ms, libgomp default ${libgomp.idleCpuMs.toFixed(1)} ms, ACTIVE ${active.idleCpuMs.toFixed(1)} ms`);
    expect(ours.settings).toEqual({ source: 'cudnn-node', OMP_WAIT_POLICY: 'PASSIVE' });
    expect(ours.envAfter, 'our setting must not leak into process.env').toEqual({ OMP_WAIT_POLICY: null, GOMP_SPINCOUNT: null });
    expect(libgomp.settings).toEqual({ source: 'environment', GOMP_SPINCOUNT: '300000' });
    expect(active.settings).toEqual({ source: 'environment', OMP_WAIT_POLICY: 'ACTIVE' });
    expect(ours.idleCpuMs * 2).toBeLessThan(libgomp.idleCpuMs);
    expect(ours.idleCpuMs * 3).toBeLessThan(active.idleCpuMs);
  });

  it("a user's own OMP_WAIT_POLICY is kept, in the process and its environment", () => {
    const p = probe({ OMP_WAIT_POLICY: 'PASSIVE' });
    expect(p.settings).toEqual({ source: 'environment', OMP_WAIT_POLICY: 'PASSIVE' });
    expect(p.envAfter.OMP_WAIT_POLICY).toBe('PASSIVE');
  });
});
