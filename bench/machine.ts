// The machine in the report: CPU model, cores, SIMD flags, memory, what oneDNN dispatches in
// cudnn-node's process (a probe process under ONEDNN_VERBOSE=1), and how busy the machine was.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLine } from './shared.js';
import type { OnednnInfo, Report } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const log = (...a: unknown[]) => console.error(...a);

export function machineInfo(): Report['machine'] {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const field = (k: string) => cpuinfo.match(new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const flags = (field('flags') ?? '').split(/\s+/);
  const simd = ['avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_tile', 'avx2', 'fma'].filter((f) => flags.includes(f));
  return {
    cpu: field('model name') ?? os.cpus()[0]?.model ?? 'unknown',
    cpuFamily: field('cpu family') && `${field('vendor_id')} family ${field('cpu family')} model ${field('model')}`,
    cores: os.cpus().length,
    simd,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    gpu: 'none used (CPU benchmark)',
  };
}

/** 1-minute load average (what else is running on the machine). */
export function loadAvg(): number {
  return os.loadavg()[0];
}

/** Busy CPU seconds of the whole machine and of this process with its reaped children
 * (the Python peers and the fresh startup processes), from /proc; null off Linux. */
export function cpuSeconds(): { machine: number; ours: number } | null {
  try {
    const hz = 100; // USER_HZ, 100 on Linux x86
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = cpu.reduce((a, b) => a + b, 0) - cpu[3] - (cpu[4] ?? 0); // all but idle and iowait
    const self = readFileSync('/proc/self/stat', 'utf8');
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number); // fields from 3 (state)
    const ours = f[11] + f[12] + f[13] + f[14]; // utime, stime, cutime, cstime (fields 14-17)
    return { machine: busy / hz, ours: ours / hz };
  } catch {
    return null;
  }
}

/** Waits (up to maxS seconds) until the 1-minute load is below the core count. */
export async function waitIdle(maxS: number): Promise<void> {
  const cores = os.cpus().length;
  const until = Date.now() + maxS * 1000;
  while (loadAvg() >= cores * 0.75 && Date.now() < until) {
    log(`waiting for the machine to go idle (load ${loadAvg().toFixed(1)} on ${cores} cores)`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

/**
 * Parses ONEDNN_VERBOSE=1 output: the version, threading runtime and ISA lines oneDNN prints
 * first (`onednn_verbose,info,cpu,isa:...`), and the implementation of each primitive kind it
 * executed (`onednn_verbose,[v1,][primitive,]exec,cpu,convolution,brgconv:avx512_core,...`;
 * the first one of each kind, reorders left out).
 */
export function parseOnednnVerbose(text: string): OnednnInfo {
  const info: OnednnInfo = { impl: {} };
  for (const line of text.split('\n')) {
    if (!line.startsWith('onednn_verbose,') && !line.startsWith('dnnl_verbose,')) continue;
    const f = line.split(',');
    const infoAt = f.indexOf('info');
    if (infoAt >= 0 && infoAt < 3) {
      const rest = f.slice(infoAt + 1).join(',');
      const v = rest.match(/^oneDNN (v[\d.]+)/);
      if (v) info.version = v[1];
      const rt = rest.match(/^cpu,runtime:([^,]+)/);
      if (rt) info.runtime = rt[1];
      const isa = rest.match(/^cpu,isa:(.*)$/);
      if (isa) info.isa = isa[1].trim();
      continue;
    }
    const exec = f.indexOf('exec');
    if (exec < 0 || exec > 3 || f[exec + 1] !== 'cpu') continue;
    const [kind, impl] = [f[exec + 2], f[exec + 3]];
    if (kind && impl && kind !== 'reorder' && !(kind in info.impl)) info.impl[kind] = impl;
  }
  return info;
}

/** Runs bench/runners/onednn-probe.ts (one convolution and one matmul through cudnn-node)
 * under ONEDNN_VERBOSE=1 in a fresh process and parses what oneDNN reports. */
export function probeOnednn(): OnednnInfo {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'runners', 'onednn-probe.ts')], {
    cwd: root,
    env: { ...process.env, ONEDNN_VERBOSE: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? firstLine(r.error) : firstLine(r.stderr || `exit code ${r.status}`);
    log(`oneDNN probe failed: ${why}`);
    return { impl: {}, note: `probe failed: ${why}` };
  }
  const info = parseOnednnVerbose(r.stdout);
  if (!info.isa && !Object.keys(info.impl).length) info.note = 'ONEDNN_VERBOSE printed nothing (a oneDNN built without verbose support?)';
  return info;
}
