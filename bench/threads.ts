// Threads that fit Node (issue 22 item 8): how eager code interleaving JavaScript with small
// ops fares against libgomp's idle OpenMP workers, idle and with the other core busy, on
// cudnn-node under several OpenMP wait settings and on tfjs-node. Each (runner, setting,
// load) runs in a fresh process (libgomp reads its settings once, when it loads), one at a
// time; the parent prints a Markdown table and writes bench/results/threads.json.
//
// Workloads (median ms per step over the timed steps, after warm-up):
//   minimize-vae   a VAE-style custom loop: optimizer.minimize over a dense encoder /
//                  reparameterisation / decoder, batch 64 of 784 features (the case)
//   minimize-conv  a small conv net (conv 3x3x16, pool, dense) trained with minimize, batch 32
//   fit-mlp        model.fit of a small MLP (784-128-64-10), batch 64: a compiled plan of
//                  small primitives, where waking sleeping workers costs the most
//   fit-fashion    model.fit of the Fashion-MNIST CNN (bench/models.ts), batch 32: the
//                  compiled plan, to check its speed does not regress
// --repeat N runs every setting N times in turn (ABCABC...) and reports the median of the
// runs' medians, so background load that comes and goes hits every setting alike.
//
//   node --import tsx bench/threads.ts                  # all settings, idle and busy
//   node --import tsx bench/threads.ts --steps 20 --only minimize-vae --settings ours,libgomp
//   node --import tsx bench/threads.ts --settings libgomp --spin 1000,10000   # GOMP_SPINCOUNT sweep
//   node --import tsx bench/threads.ts --child RUNNER WORKLOAD STEPS   (internal)
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fashionCnnLayers, randomData } from './models.js';

const here = dirname(fileURLToPath(import.meta.url));
type Workload = 'minimize-vae' | 'minimize-conv' | 'fit-mlp' | 'fit-fashion';
const WORKLOADS: Workload[] = ['minimize-vae', 'minimize-conv', 'fit-mlp', 'fit-fashion'];

// ---- child: one runner, one workload, in this process's OpenMP setting

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

async function child(runner: string, workload: Workload, steps: number): Promise<void> {
  let tf: Any;
  if (runner === 'tfjs-node') {
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    tf = await import('@tensorflow/tfjs-node');
  } else {
    tf = await import('../lib/index.js');
  }
  const times: number[] = [];
  const time = async (f: () => unknown) => {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  };
  const warm = 3;
  if (workload === 'minimize-vae') {
    const B = 64, D = 784, H = 256, Z = 16;
    const v = (shape: number[], seed: number) => tf.variable(tf.tensor(randomData(shape[0] * shape[1], seed, 0.05), shape));
    const [w1, wm, wv, w2, w3] = [v([D, H], 1), v([H, Z], 2), v([H, Z], 3), v([Z, H], 4), v([H, D], 5)];
    const x = tf.tensor(randomData(B * D, 6, 0.5).map((a) => (a > 0 ? 1 : 0)), [B, D]);
    const opt = tf.train.adam(1e-3);
    const step = () =>
      tf.tidy(() => {
        opt.minimize(() => {
          const h = tf.relu(tf.matMul(x, w1));
          const mu = tf.matMul(h, wm);
          const logVar = tf.matMul(h, wv);
          const eps = tf.randomNormal([B, Z]);
          const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps));
          const logits = tf.matMul(tf.relu(tf.matMul(z, w2)), w3);
          const p = tf.sigmoid(logits);
          const rec = tf.neg(tf.mean(tf.add(tf.mul(x, tf.log(tf.add(p, 1e-6))), tf.mul(tf.sub(1, x), tf.log(tf.sub(1 + 1e-6, p))))));
          const kl = tf.mul(-0.5, tf.mean(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar))));
          return tf.add(rec, kl);
        });
      });
    for (let i = 0; i < warm + steps; i++) i < warm ? step() : await time(step);
  } else if (workload === 'minimize-conv') {
    const B = 32;
    const f = tf.variable(tf.tensor(randomData(3 * 3 * 1 * 16, 1, 0.2), [3, 3, 1, 16]));
    const w = tf.variable(tf.tensor(randomData(14 * 14 * 16 * 10, 2, 0.02), [14 * 14 * 16, 10]));
    const x = tf.tensor(randomData(B * 28 * 28, 3), [B, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor(Int32Array.from({ length: B }, (_, i) => i % 10), [B], 'int32'), 10);
    const opt = tf.train.sgd(0.01);
    const step = () =>
      tf.tidy(() => {
        opt.minimize(() => {
          const h = tf.maxPool(tf.relu(tf.conv2d(x, f, 1, 'same')), 2, 2, 'valid');
          const logits = tf.matMul(tf.reshape(h, [B, 14 * 14 * 16]), w);
          return tf.mean(tf.square(tf.sub(logits, y)));
        });
      });
    for (let i = 0; i < warm + steps; i++) i < warm ? step() : await time(step);
  } else {
    const mlp = workload === 'fit-mlp';
    const B = mlp ? 64 : 32, N = B * (steps + warm);
    const layers = mlp
      ? [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 128, activation: 'relu' }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })]
      : fashionCnnLayers(tf.layers);
    const model = tf.sequential({ layers });
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const xs = tf.tensor(randomData(N * 784, 7), [N, 28, 28, 1]);
    const ys = runner === 'tfjs-node' ? tf.tensor1d(Float32Array.from({ length: N }, (_, i) => i % 10)) : tf.tensor(Int32Array.from({ length: N }, (_, i) => i % 10), [N], 'int32');
    let t0 = 0;
    await model.fit(xs, ys, {
      epochs: 1,
      batchSize: B,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onBatchBegin: async (b: number) => {
          if (b >= warm) t0 = performance.now();
        },
        onBatchEnd: async (b: number) => {
          if (b >= warm) times.push(performance.now() - t0);
        },
      },
    });
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ median: q(0.5), p10: q(0.1), p90: q(0.9), steps: times.length, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
}

// ---- parent

interface Setting {
  name: string;
  runner: 'cudnn-node' | 'tfjs-node';
  env: Record<string, string | undefined>;
  what: string;
}

const SETTINGS: Setting[] = [
  { name: 'ours', runner: 'cudnn-node', env: {}, what: "cudnn-node as shipped (lib/native.ts's OpenMP setting)" },
  { name: 'libgomp', runner: 'cudnn-node', env: { GOMP_SPINCOUNT: '300000' }, what: "libgomp's default: idle workers spin 300000 rounds (the issue's 'before')" },
  { name: 'passive', runner: 'cudnn-node', env: { OMP_WAIT_POLICY: 'PASSIVE' }, what: 'OMP_WAIT_POLICY=PASSIVE: workers sleep at once' },
  { name: 'active', runner: 'cudnn-node', env: { OMP_WAIT_POLICY: 'ACTIVE' }, what: 'OMP_WAIT_POLICY=ACTIVE: workers never sleep' },
  { name: 'tfjs-node', runner: 'tfjs-node', env: {}, what: 'tfjs-node 4.22 (TensorFlow CPU, its own thread pools)' },
];

function parseArgs() {
  const a = process.argv.slice(2);
  const opt = (n: string) => {
    const i = a.indexOf(n);
    return i >= 0 ? a[i + 1] : undefined;
  };
  return {
    steps: Number(opt('--steps') ?? 15),
    only: (opt('--only')?.split(',') as Workload[] | undefined) ?? WORKLOADS,
    settings: opt('--settings')?.split(',') ?? SETTINGS.map((s) => s.name),
    spins: opt('--spin')?.split(',').map(Number) ?? [],
    repeat: Number(opt('--repeat') ?? 1),
    loads: (opt('--loads')?.split(',') ?? ['idle', 'busy']) as Array<'idle' | 'busy'>,
    json: opt('--json') ?? join(here, 'results', 'threads.json'),
  };
}

function runChild(s: Setting, workload: Workload, steps: number): Promise<Record<string, number>> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, OMP_WAIT_POLICY: undefined, GOMP_SPINCOUNT: undefined, ...s.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', s.runner, workload, String(steps)], { env: env as NodeJS.ProcessEnv });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${s.name} ${workload}: exit ${code}\n${err.slice(-2000)}`));
      else resolvePromise(JSON.parse(line));
    });
  });
}

async function parent(): Promise<void> {
  const args = parseArgs();
  const settings = SETTINGS.filter((s) => args.settings.includes(s.name));
  // --spin N,...: cudnn-node with GOMP_SPINCOUNT=N (how long idle workers spin before sleeping).
  for (const n of args.spins) settings.push({ name: `spin-${n}`, runner: 'cudnn-node', env: { GOMP_SPINCOUNT: String(n) }, what: `GOMP_SPINCOUNT=${n}` });
  const rows: Array<{ workload: Workload; load: string; setting: string; median: number; p10: number; p90: number; cpuSeconds: number }> = [];
  for (const load of args.loads) {
    // Note [busy core]: one spinning process stands for other work on the machine; on a
    // 2-core box it takes one core, as the "busy" measurements had.
    const busy = load === 'busy' ? spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }) : null;
    try {
      for (const workload of args.only) {
        const runs = new Map<string, Array<Record<string, number>>>();
        for (let rep = 0; rep < args.repeat; rep++) {
          for (const s of settings) {
            const r = await runChild(s, workload, args.steps);
            runs.set(s.name, [...(runs.get(s.name) ?? []), r]);
            console.error(`${workload} ${load} ${s.name} #${rep + 1}: ${r.median.toFixed(1)} ms/step (p10 ${r.p10.toFixed(1)}, p90 ${r.p90.toFixed(1)})`);
          }
        }
        for (const s of settings) {
          const rs = runs.get(s.name)!;
          const mid = (k: string) => rs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor((rs.length - 1) / 2)];
          rows.push({ workload, load, setting: s.name, median: mid('median'), p10: mid('p10'), p90: mid('p90'), cpuSeconds: mid('cpuSeconds') });
        }
      }
    } finally {
      busy?.kill();
    }
  }
  const cpu = os.cpus();
  const gomp = spawnSync('sh', ['-c', 'ldconfig -p | grep -m1 libgomp.so.1'], { encoding: 'utf8' }).stdout.trim();
  const meta = { date: new Date().toISOString(), cpus: cpu.length, cpu: cpu[0]?.model, node: process.version, steps: args.steps, repeat: args.repeat, loadAverageAtEnd: os.loadavg(), libgomp: gomp };
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify({ meta, settings: settings.map(({ name, what, env }) => ({ name, what, env })), rows }, null, 2) + '\n');
  // Markdown: one row per workload and load, one column per setting (median ms per step).
  const head = `| workload | load | ${settings.map((s) => s.name).join(' | ')} |`;
  const lines = [head, `|${'---|'.repeat(settings.length + 2)}`];
  for (const load of args.loads) {
    for (const workload of args.only) {
      const cells = settings.map((s) => {
        const r = rows.find((x) => x.workload === workload && x.load === load && x.setting === s.name);
        return r ? `${r.median.toFixed(1)} (${r.p10.toFixed(1)}-${r.p90.toFixed(1)})` : 'n/a';
      });
      lines.push(`| ${workload} | ${load} | ${cells.join(' | ')} |`);
    }
  }
  console.log(`${meta.cpus} x ${meta.cpu}, Node ${meta.node}, ${args.steps} timed steps x ${args.repeat} runs; load average ${meta.loadAverageAtEnd.map((l) => l.toFixed(1)).join(' ')}; median ms/step (p10-p90)\n`);
  console.log(lines.join('\n'));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4] as Workload, Number(process.argv[5]));
} else {
  await parent();
}
