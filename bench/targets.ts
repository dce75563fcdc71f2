// The project's performance targets (issues 2, 4, 5, 8), checked against a run's results:
// the report's "Targets" section. Issue 21's bf16 targets are in bench/mixed-precision.ts.
import { fmtMs } from './shared.js';
import type { BenchResult, Ceiling, Target } from './types.js';
import { precisionOf } from './workloads.js';

export function targets(results: BenchResult[], ours: string, c: Ceiling): Target[] {
  const ceiling = c.sgemm;
  const out: Target[] = [];
  const get = (id: string, who: string) => results.find((r) => r.id === id)?.runs[who];
  // Issues 2 and 4 set the conv targets on the Fashion-MNIST CNN's 15 conv workloads.
  const convs = results.filter((r) => r.group === 'conv' && r.model === 'fashion_cnn' && r.runs[ours]?.stats);
  if (convs.length) {
    const fr = convs.map((r) => ({ r, f: ceiling > 0 ? (r.runs[ours].gflops ?? 0) / ceiling : 0, g: r.runs[ours].gflops ?? 0 }));
    const worst = fr.reduce((a, b) => (b.f < a.f ? b : a));
    const below = fr.filter((x) => x.f < 0.85);
    out.push({
      name: 'conv2d primitives >= 85% of the sgemm ceiling',
      met: below.length === 0,
      detail: `${fr.length - below.length}/${fr.length} reach it; worst ${(worst.f * 100).toFixed(0)}% (${worst.r.label}); ceiling ${ceiling.toFixed(0)} GFLOP/s`,
    });
    const tot = convs.reduce((a, r) => a + r.flops!, 0) / convs.reduce((a, r) => a + r.runs[ours].stats!.median, 0) / 1e9;
    out.push({
      name: 'conv2d fwd+bwd >= 350 GFLOP/s (all 15 conv workloads together)',
      met: tot >= 350,
      detail: `${tot.toFixed(0)} GFLOP/s${tot < 350 ? ` (${(350 - tot).toFixed(0)} short)` : ''}`,
    });
    for (const peer of ['tfjs-node', 'keras']) {
      const withPeer = convs.filter((r) => r.runs[peer]?.ratio !== undefined);
      if (!withPeer.length) continue;
      const slower = withPeer.filter((r) => r.runs[peer].ratio! < 1);
      const peerTot = withPeer.reduce((a, r) => a + r.runs[peer].stats!.median, 0);
      const ourTot = withPeer.reduce((a, r) => a + r.runs[ours].stats!.median, 0);
      out.push({
        name: `conv2d at least as fast as ${peer} (TensorFlow CPU kernels)`,
        met: slower.length === 0,
        detail:
          `total time ratio ${(peerTot / ourTot).toFixed(2)}x; ${withPeer.length - slower.length}/${withPeer.length} workloads at >= 1x` +
          (slower.length ? `; slower on: ${slower.map((r) => `${r.label} (${r.runs[peer].ratio!.toFixed(2)}x)`).join(', ')}` : ''),
      });
    }
  }
  // Issue 8: ResNet-34 and Xception training steps (and ResNet-34's forward) no slower than Keras on the CPU.
  const issue8 = results.filter((r) => (r.group === 'train' || r.group === 'infer') && (r.model === 'resnet34' || r.model === 'xception') && precisionOf(r) === 'fp32');
  for (const r of issue8) {
    const name = `${r.label}: no slower than Keras CPU (issue 8)`;
    const o = r.runs[ours], k = r.runs.keras;
    if (!o?.stats) out.push({ name, met: false, detail: `not measured: cudnn-node ${o?.note ?? 'unavailable'}` });
    else if (k?.ratio !== undefined)
      out.push({
        name, met: k.ratio >= 1,
        detail: `${k.ratio.toFixed(2)}x (${fmtMs(o.stats.median)} vs ${fmtMs(k.stats!.median)} per batch; ${o.imagesPerSec!.toFixed(1)} vs ${k.imagesPerSec!.toFixed(1)} images/s)`,
      });
    else if (k) out.push({ name, met: false, detail: `Keras not measured: ${k.note ?? '?'}` });
  }
  const tiny = get('tiny_add', ours);
  if (tiny?.stats) {
    const us = tiny.stats.median * 1e6;
    out.push({ name: 'tiny op (1-element add, sync) < 5 us', met: us < 5, detail: `${us.toFixed(2)} us${us >= 5 ? ` (${(us / 5).toFixed(1)}x over)` : ''}` });
  }
  const t128 = results.find((r) => r.id === 'train_fashion_cnn_b128');
  if (t128) {
    for (const [peer, want] of [['keras', 1.1], ['tfjs-node', 1.4]] as const) {
      const run = t128.runs[peer];
      const name = `train step batch 128 >= ${want}x faster than ${peer}`;
      if (!t128.runs[ours]?.stats) out.push({ name, met: false, detail: `not measured: ${t128.runs[ours]?.note ?? 'ours unavailable'}` });
      else if (run?.ratio !== undefined)
        out.push({ name, met: run.ratio >= want, detail: `${run.ratio.toFixed(2)}x (${fmtMs(t128.runs[ours].stats!.median)} vs ${fmtMs(run.stats!.median)})` });
    }
  }
  return out;
}
