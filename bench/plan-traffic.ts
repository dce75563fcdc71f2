// Where a compiled training step's memory traffic goes, by kernel: traces one training step
// of a model (the plan that fit/trainOnBatch compiles, after plan fusion; it runs once on the
// cpu backend at a small batch) and adds up, per kernel, the bytes its inputs and outputs
// occupy: the least
// traffic each step needs, whatever the device. Scaled to --batch (activations grow with it,
// weights do not) and divided by a bandwidth (default 4.3 TB/s, the H200's measured copy rate
// in this workplace), it is the floor of the memory-bound kernels' time on a GPU: set it
// beside `npm run gpu:check`'s measured step to see what fusing or faster kernels can win.
//
//   node --import tsx bench/plan-traffic.ts [--model resnet34|fashion|xception] [--batch 256]
//        [--trace-batch 4] [--tbps 4.3] [--json FILE]     (CUDNN_NODE_FUSION=0: unfused)
import { writeFileSync } from 'node:fs';
import * as cn from '../lib/index.js';
import { observePlans, type PlanDescription } from '../lib/compiler/plan_description.js';

type ModelName = 'resnet34' | 'fashion' | 'xception';
const MODELS: ModelName[] = ['resnet34', 'fashion', 'xception'];

interface Options { model: ModelName; batch: number; traceBatch: number; tbps: number; json?: string }

function parseArgs(argv: string[]): Options {
  const o: Options = { model: 'resnet34', batch: 256, traceBatch: 4, tbps: 4.3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    const num = (what: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error(`plan-traffic: expected ${what} a positive number but received '${v}'`);
      i++;
      return n;
    };
    if (a === '--model') {
      if (!MODELS.includes(v as ModelName)) throw new Error(`plan-traffic: expected --model ${MODELS.join(', ')} but received '${v}'`);
      o.model = v as ModelName;
      i++;
    } else if (a === '--batch') o.batch = num('--batch');
    else if (a === '--trace-batch') o.traceBatch = num('--trace-batch');
    else if (a === '--tbps') o.tbps = num('--tbps');
    else if (a === '--json') (o.json = v), i++;
    else throw new Error(`plan-traffic: unknown option '${a}'`);
  }
  return o;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1 };
const bytesOf = (shape: number[], dtype: string) => shape.reduce((a, b) => a * b, 1) * (BYTES[dtype] ?? 4);

interface Row { kernel: string; count: number; batchBytes: number; fixedBytes: number }

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  // The plan the cuda backend builds (fused: Note [fusion per backend]), traced on the cpu;
  // CUDNN_NODE_FUSION=0 shows the unfused plan.
  process.env.CUDNN_NODE_FUSION ??= '1';
  cn.setBackend('cpu');
  const { resnet34, xception } = await import('../lib/applications/index.js');
  const { fashionMnistCnn } = await import('../lib/models/index.js');
  // Xception whole (the fine-tuning step), from scratch: its weights do not change the plan.
  const model =
    o.model === 'resnet34' ? resnet34({ inputShape: [224, 224, 3], classes: 10 })
    : o.model === 'xception' ? await xception({ inputShape: [299, 299, 3], classes: 10, weights: null })
    : fashionMnistCnn({ seed: 1 });
  const input = { resnet34: [224, 224, 3], xception: [299, 299, 3], fashion: [28, 28, 1] }[o.model];
  model.compile({ optimizer: o.model === 'fashion' ? 'nadam' : 'sgd', loss: 'sparseCategoricalCrossentropy' });

  // The plan as built (after plan fusion, lib/compiler/fusion.ts), from the compiler's plan
  // description: a tensor whose leading dimension is the trace batch counts as an activation
  // (it scales with the batch), any other as fixed.
  let plan: PlanDescription | undefined;
  const stop = observePlans((p) => (plan = p));
  const x = cn.randomUniform([o.traceBatch, ...input], -1, 1, 'float32', 1);
  const y = cn.tensor(Int32Array.from({ length: o.traceBatch }, (_, i) => i % 10), [o.traceBatch], 'int32');
  try {
    await model.trainOnBatch(x, y);
  } finally {
    stop();
  }
  cn.dispose([x, y]);
  model.dispose();
  if (!plan) throw new Error('plan-traffic: trainOnBatch built no plan');

  const rows = new Map<string, Row>();
  for (const step of plan.steps) {
    const name = step.kernel;
    const r = rows.get(name) ?? { kernel: name, count: 0, batchBytes: 0, fixedBytes: 0 };
    r.count++;
    for (const t of [...step.inputs, ...step.outputs]) {
      if (t.constant) continue; // a constant bound by reference (weights are also inputs of their updates)
      const b = bytesOf(t.shape, t.dtype);
      if (t.shape[0] === o.traceBatch && t.shape.length > 1) r.batchBytes += b;
      else r.fixedBytes += b;
    }
    rows.set(name, r);
  }

  const scale = o.batch / o.traceBatch;
  const table = [...rows.values()]
    .map((r) => ({ ...r, bytes: r.batchBytes * scale + r.fixedBytes }))
    .sort((a, b) => b.bytes - a.bytes);
  const total = table.reduce((s, r) => s + r.bytes, 0);
  const ms = (b: number) => (b / (o.tbps * 1e12)) * 1e3;
  console.log(`${o.model} training step at batch ${o.batch} (traced at ${o.traceBatch}): ${table.reduce((s, r) => s + r.count, 0)} kernels, ` +
    `${(total / 1e9).toFixed(2)} GB of inputs + outputs = ${ms(total).toFixed(2)} ms at ${o.tbps} TB/s`);
  console.log('| kernel | calls | GB | ms at ' + o.tbps + ' TB/s | share |');
  console.log('|---|---|---|---|---|');
  for (const r of table)
    console.log(`| ${r.kernel} | ${r.count} | ${(r.bytes / 1e9).toFixed(3)} | ${ms(r.bytes).toFixed(3)} | ${((100 * r.bytes) / total).toFixed(1)}% |`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ ...o, totalBytes: total, rows: table }, null, 1));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
