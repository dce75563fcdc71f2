// Saves survive faults (issue 19 item 4): a child process saving a model over and over is
// SIGKILLed at random moments; every time, the directory still loads and holds exactly the
// last completed save or the one in progress, never a mix. Then the loading checks: paths
// confined to the model's directory, byte counts and dtypes matched against the manifest.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { buildSaveModel, versionWeights } from './fixtures/io/save-model.js';
import { seededRandom } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'cn-io-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CHILD = new URL('./fixtures/io/save-loop.child.ts', import.meta.url).pathname;

/** Which version's weights the model holds (-1 if none: a mix or garbage). */
function versionOf(model: cn.LayersModel, candidates: number[]): number {
  const got = model.weights.map((w) => w.dataSync() as Float32Array);
  for (const v of candidates) {
    const want = versionWeights(model, v);
    if (want.every((w, i) => w.length === got[i].length && w.every((x, k) => x === got[i][k]))) return v;
  }
  return -1;
}

/** Runs the save loop in a child, kills it `delayMs` after it is ready; resolves to the last version it reported saved. */
function killDuringSaves(dir: string, start: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = start - 1;
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), delayMs);
        const m = /^saved (\d+)$/.exec(line);
        if (m) last = Number(m[1]);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`save child exited with ${code} before it was killed: ${err}`));
    });
  });
}

describe('interrupted saves', () => {
  it('40 SIGKILLs at random moments of repeated saves: the directory always loads the old or the new model', async () => {
    const trials = 40;
    const parallel = 4;
    const rand = seededRandom(trials, 1234, 0, 1);
    const base = buildSaveModel();
    let leftovers = 0;
    const outcomes: string[] = [];
    for (let t0 = 0; t0 < trials; t0 += parallel) {
      await Promise.all(
        Array.from({ length: Math.min(parallel, trials - t0) }, async (_, j) => {
          const t = t0 + j;
          const dir = join(root, `trial-${t}`);
          // A good save of version 0 first: the model that must not be lost.
          const ws = versionWeights(base, 0).map((w, i) => cn.tensor(w, base.weights[i].shape));
          base.setWeights(ws);
          cn.dispose(ws);
          await base.save(dir);
          const last = await killDuringSaves(dir, 1, Math.floor(rand[t] * 400));
          const names = readdirSync(dir);
          if (names.some((n) => n.startsWith('.cudnn-node-tmp-')) || names.filter((n) => n.endsWith('.bin')).length > 1) leftovers++;
          const loaded = await cn.loadLayersModel(dir);
          // The last completed save, or the one the kill interrupted if its model.json rename had happened.
          const v = versionOf(loaded, [Math.max(0, last), last + 1]);
          outcomes.push(`trial ${t}: last saved ${last}, loaded ${v}`);
          expect(v, `trial ${t}: the directory holds neither version ${Math.max(0, last)} nor ${last + 1}`).toBeGreaterThanOrEqual(0);
          loaded.dispose();
        }),
      );
    }
    if (process.env.CN_IO_FAULTS_VERBOSE) console.log(`leftovers ${leftovers}\n${outcomes.join("\n")}`);
    // The kills did land inside saves (temporary or superseded files were left behind)...
    expect(leftovers, outcomes.join('\n')).toBeGreaterThan(0);
    // ...and the next save clears what they left: one model.json, one weights file.
    for (let t = 0; t < trials; t++) {
      const dir = join(root, `trial-${t}`);
      await base.save(dir);
      const names = readdirSync(dir).sort();
      expect(names.length, names.join(', ')).toBe(2);
      expect(names[0]).toBe('model.json');
      expect(names[1]).toMatch(/^weights\.[0-9a-f]{16}\.bin$/);
    }
    base.dispose();
  }, 600_000);
});

describe('loading is confined and checked', () => {
  const small = () => {
    const m = cn.sequential();
    m.add(cn.layers.dense({ inputShape: [3], units: 2 }));
    return m;
  };
  async function saved(name: string) {
    const m = small();
    const dir = join(root, name);
    await m.save(dir);
    m.dispose();
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    return { dir, json, weights: join(dir, json.weightsManifest[0].paths[0]) };
  }
  const rewrite = (dir: string, json: unknown) => writeFileSync(join(dir, 'model.json'), JSON.stringify(json));

  it("refuses '..' and absolute paths in the manifest, and symlinks that leave the directory", async () => {
    const { dir, json, weights } = await saved('confined');
    const outside = join(root, 'outside.bin');
    writeFileSync(outside, readFileSync(weights));
    for (const p of ['../outside.bin', outside, 'sub/../../outside.bin']) {
      json.weightsManifest[0].paths = [p];
      rewrite(dir, json);
      const err = await cn.loadLayersModel(dir).catch((e) => e);
      expect(err).toBeInstanceOf(cn.CudnnNodeError);
      expect(err.message).toContain(join(dir, 'model.json'));
      expect(err.message).toMatch(/to be a path inside the model's directory but received .*absolute paths and '\.\.' are refused/);
    }
    symlinkSync(outside, join(dir, 'link.bin'));
    json.weightsManifest[0].paths = ['link.bin'];
    rewrite(dir, json);
    await expect(cn.loadLayersModel(dir)).rejects.toThrow(/expected weight file 'link.bin' .* inside .* but it resolves to '.*outside.bin'/);
  });

  it('refuses trailing bytes, truncation, float64 and quantized dtypes', async () => {
    const { dir, json, weights } = await saved('checked');
    const bin = readFileSync(weights);
    writeFileSync(weights, Buffer.concat([bin, Buffer.from('garbage!')]));
    await expect(cn.loadLayersModel(dir)).rejects.toThrow(new RegExp(`expected 32 bytes of weights in '${weights}' .* but received 40 \\(trailing bytes`));
    writeFileSync(weights, bin.subarray(0, 20));
    await expect(cn.loadLayersModel(dir)).rejects.toThrow(/expected 32 bytes .* but received 20 \(truncated file\)/);
    writeFileSync(weights, bin);
    const good = await cn.loadLayersModel(dir);
    good.dispose();
    json.weightsManifest[0].weights[0].dtype = 'float64';
    rewrite(dir, json);
    await expect(cn.loadLayersModel(dir)).rejects.toThrow(/weightsManifest\[0\]\.weights\[0\] \('dense.*\/kernel'\) of dtype float32 or int32 but received "float64"/);
    json.weightsManifest[0].weights[0].dtype = 'float32';
    json.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 0.1, min: 0 };
    rewrite(dir, json);
    await expect(cn.loadLayersModel(dir)).rejects.toThrow(/unquantized .* but it is quantized/);
  });

  it('a save into a fresh nested directory creates it; a save over a model of another architecture replaces it whole', async () => {
    const dir = join(root, 'a', 'b', 'c');
    const m = small();
    await m.save(dir);
    const bigger = cn.sequential();
    bigger.add(cn.layers.dense({ inputShape: [3], units: 5 }));
    bigger.add(cn.layers.dense({ units: 1 }));
    await bigger.save(dir);
    const loaded = await cn.loadLayersModel(dir);
    expect(loaded.layers.length).toBe(2);
    expect(readdirSync(dir).length).toBe(2);
    m.dispose();
    bigger.dispose();
    loaded.dispose();
  });

  it('modelCheckpoint saves through the same atomic path: each epoch replaces the checkpoint whole', async () => {
    const m = small();
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = cn.tensor(seededRandom(24, 5), [8, 3]);
    const y = cn.tensor(seededRandom(16, 6), [8, 2]);
    const dir = join(root, 'checkpoint');
    const seen: string[] = [];
    const spy = new (class extends cn.Callback {
      async onEpochEnd() {
        // runs after the checkpoint's save (callbacks run in order)
        seen.push(readdirSync(dir).sort().join(','));
      }
    })();
    await m.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, callbacks: [cn.callbacks.modelCheckpoint(dir), spy] });
    expect(seen.length).toBe(3);
    for (const names of seen) expect(names).toMatch(/^model\.json,weights\.[0-9a-f]{16}\.bin$/);
    expect(new Set(seen).size).toBe(3); // new weights each epoch, under a new name
    const loaded = await cn.loadLayersModel(dir);
    const a = m.predict(x) as cn.Tensor;
    const b = loaded.predict(x) as cn.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    cn.dispose([x, y, a, b]);
    m.dispose();
    loaded.dispose();
  });

  it('concurrent saves into one directory run one after the other: the directory ends whole, holding the last', async () => {
    const dir = join(root, 'concurrent');
    const models = [1, 2, 3, 4].map((k) => {
      const m = small();
      m.setWeights(m.weights.map((w) => cn.fill(w.shape, k)));
      return m;
    });
    await Promise.all(models.map((m) => m.save(dir)));
    const names = readdirSync(dir).sort();
    expect(names.length, names.join(', ')).toBe(2);
    const loaded = await cn.loadLayersModel(dir);
    expect(Array.from(loaded.weights[0].dataSync())).toEqual(new Array(6).fill(4));
    loaded.dispose();
    models.forEach((m) => m.dispose());
  });
});
