// bf16 against fp32 on the cpu backend (oneDNN), per convolution direction: the
// Fashion-MNIST CNN's conv layers at batch 128 (issue 21). For each layer it times the
// forward, backward-data and backward-weights kernels in float32 and in bfloat16 (x, filter
// and dy in bf16; the weight gradient written in float32), and prints GFLOP/s, the
// bf16 / fp32 speed-up and the oneDNN implementation each ran (the profiler's extraInfo).
// Kernel times only: the casts a mixed-precision layer adds are not in them.
// --layers xception-depthwise times Xception's depthwise convolutions (the first half of
// each SeparableConv2D, at the 224x224 fine-tune size) instead, default batch 8.
//
//   node --import tsx bench/bf16-conv.ts [--layers fashion-mnist|xception-depthwise] [--batch N] [--reps 7] [--json FILE]
import { writeFileSync } from 'node:fs';
import * as cn from '../lib/index.js';
import { kernelIds, native } from '../lib/native.js';
import type { Handle } from '../lib/native.js';

interface Options { layers: 'fashion-mnist' | 'xception-depthwise'; batch: number; reps: number; json?: string }
function parseArgs(argv: string[]): Options {
  const o: Options = { layers: 'fashion-mnist', batch: 0, reps: 7 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = Number(argv[i + 1]);
    if (a === '--batch' && v > 0) (o.batch = v), i++;
    else if (a === '--reps' && v > 0) (o.reps = v), i++;
    else if (a === '--json') (o.json = argv[i + 1]), i++;
    else if (a === '--layers' && (argv[i + 1] === 'fashion-mnist' || argv[i + 1] === 'xception-depthwise')) (o.layers = argv[i + 1] as Options['layers']), i++;
    else throw new Error(`bf16-conv: unknown or bad option '${a}' (expected --layers fashion-mnist|xception-depthwise, --batch N, --reps N, --json FILE)`);
  }
  if (!o.batch) o.batch = o.layers === 'fashion-mnist' ? 128 : 8;
  return o;
}

interface Layer { name: string; h: number; inC: number; outC: number; k: number; trainsDx: boolean; depthwise?: boolean }
// The Fashion-MNIST CNN's convolutions (lib/models/fashion_mnist.ts): 'same' padding, stride 1.
const FASHION_MNIST: Layer[] = [
  { name: 'conv1 7x7 1->64 @28', h: 28, inC: 1, outC: 64, k: 7, trainsDx: false },
  { name: 'conv2 3x3 64->128 @14', h: 14, inC: 64, outC: 128, k: 3, trainsDx: true },
  { name: 'conv3 3x3 128->128 @14', h: 14, inC: 128, outC: 128, k: 3, trainsDx: true },
  { name: 'conv4 3x3 128->256 @7', h: 7, inC: 128, outC: 256, k: 3, trainsDx: true },
  { name: 'conv5 3x3 256->256 @7', h: 7, inC: 256, outC: 256, k: 3, trainsDx: true },
];
// Xception's depthwise 3x3 convolutions at a 224x224 input (lib/applications/xception.ts;
// the 728-channel one at 14x14 runs 25 times per step, the others once or twice).
const dw = (c: number, h: number): Layer => ({ name: `dw 3x3 ${c} @${h}`, h, inC: c, outC: c, k: 3, trainsDx: true, depthwise: true });
const XCEPTION_DEPTHWISE: Layer[] = [dw(64, 109), dw(128, 109), dw(128, 55), dw(256, 55), dw(256, 28), dw(728, 28), dw(728, 14), dw(1024, 7), dw(1536, 7)];
type Direction = 'forward' | 'backward-data' | 'backward-weights';
const DIRECTIONS: Direction[] = ['forward', 'backward-data', 'backward-weights'];

interface Row { layer: string; direction: Direction; dtype: string; ms: number; gflops: number; impl: string }

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  cn.setBackend('cpu');
  const rp = cn.backends().find((b) => b.name === 'cpu')!.reducedPrecision!;
  console.log(`cpu: ${cn.backends()[0].library}, ISA ${rp.isa}, bfloat16 ${rp.bfloat16}; batch ${o.batch}, median of ${o.reps}`);
  const rows: Row[] = [];
  const LAYERS = o.layers === 'fashion-mnist' ? FASHION_MNIST : XCEPTION_DEPTHWISE;
  for (const L of LAYERS) {
    const attrs = { strides: [1, 1], dilations: [1, 1], pad: 'same' };
    const xShape = [o.batch, L.h, L.h, L.inC], wShape = [L.k, L.k, L.inC, L.depthwise ? 1 : L.outC], yShape = [o.batch, L.h, L.h, L.outC];
    const flops = 2 * L.k * L.k * (L.depthwise ? 1 : L.inC) * L.outC * o.batch * L.h * L.h;
    const [fwd, bwdData, bwdFilter] = L.depthwise
      ? [kernelIds.DepthwiseConv2D, kernelIds.DepthwiseConv2DBackpropInput, kernelIds.DepthwiseConv2DBackpropFilter]
      : [kernelIds.Conv2D, kernelIds.Conv2DBackpropInput, kernelIds.Conv2DBackpropFilter];
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const rand = (shape: number[]) => cn.cast(cn.randomUniform(shape, -1, 1, 'float32', 7), dtype);
      const x = rand(xShape), w = rand(wShape), dy = rand(yShape);
      const runs: Record<Direction, () => void> = {
        forward: () => release(native.run(fwd, [x.liveHandle(), w.liveHandle()], attrs)),
        'backward-data': () => release(native.run(bwdData, [dy.liveHandle(), w.liveHandle()], { ...attrs, inputShape: xShape })),
        'backward-weights': () => release(native.run(bwdFilter, [x.liveHandle(), dy.liveHandle()], { ...attrs, filterShape: wShape })),
      };
      for (const d of DIRECTIONS) {
        const run = runs[d];
        run();
        run(); // warm: primitive creation and first-touch of scratch memory
        const prof = await cn.profile(() => run());
        const impl = prof.kernels[0]?.extraInfo ?? '';
        const times: number[] = [];
        for (let r = 0; r < o.reps; r++) {
          const t0 = process.hrtime.bigint();
          run();
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        const ms = median(times);
        rows.push({ layer: L.name, direction: d, dtype, ms, gflops: flops / ms / 1e6, impl });
      }
      cn.dispose([x, w, dy]);
    }
  }
  console.log('\n| layer | direction | fp32 GFLOP/s | bf16 GFLOP/s | bf16 / fp32 | fp32 impl | bf16 impl |');
  console.log('|---|---|---|---|---|---|---|');
  const total: Record<string, Record<Direction, number>> = { float32: { forward: 0, 'backward-data': 0, 'backward-weights': 0 }, bfloat16: { forward: 0, 'backward-data': 0, 'backward-weights': 0 } };
  for (const L of LAYERS)
    for (const d of DIRECTIONS) {
      const f = rows.find((r) => r.layer === L.name && r.direction === d && r.dtype === 'float32')!;
      const b = rows.find((r) => r.layer === L.name && r.direction === d && r.dtype === 'bfloat16')!;
      const counted = d !== 'backward-data' || L.trainsDx;
      if (counted) (total.float32[d] += f.ms), (total.bfloat16[d] += b.ms);
      console.log(`| ${L.name} | ${d}${counted ? '' : ' (not run in training)'} | ${f.gflops.toFixed(0)} | ${b.gflops.toFixed(0)} | ${(f.ms / b.ms).toFixed(2)}x | ${f.impl.replace('oneDNN ', '')} | ${b.impl.replace('oneDNN ', '')} |`);
    }
  console.log('\nper direction, summed over the layers a training step runs:');
  for (const d of DIRECTIONS) console.log(`  ${d}: fp32 ${total.float32[d].toFixed(1)} ms, bf16 ${total.bfloat16[d].toFixed(1)} ms, ${(total.float32[d] / total.bfloat16[d]).toFixed(2)}x`);
  const all = (t: Record<Direction, number>) => t.forward + t['backward-data'] + t['backward-weights'];
  console.log(`  all three: ${(all(total.float32) / all(total.bfloat16)).toFixed(2)}x`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ isa: rp.isa, layers: o.layers, batch: o.batch, rows }, null, 2));
}

function release(h: Handle | Handle[] | undefined): void {
  for (const x of Array.isArray(h) ? h : h ? [h] : []) if (x) native.release(x);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
