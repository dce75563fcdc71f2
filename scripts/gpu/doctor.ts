// For scripts/gpu-check.sh: loads the addon (CUDNN_NODE_BINARY), prints doctor() and writes
// backends() + buildInfo() as JSON to the path given. Exit 0 when cuda is available, 3 when
// it is compiled in but cannot run, 4 when it is not compiled in, 1 when the addon fails to load.
//   node --import tsx scripts/gpu/doctor.ts OUT.json
import { writeFileSync } from 'node:fs';

const out = process.argv[2];
try {
  const cn = await import('../../lib/index.js');
  const { native, addonPath } = await import('../../lib/native.js');
  const backends = cn.backends();
  const info = { addonPath, buildInfo: native.buildInfo(), backends };
  if (out) writeFileSync(out, JSON.stringify(info, null, 2));
  console.log(cn.doctor());
  console.log(`addon: ${addonPath}`);
  const cuda = backends.find((b) => b.name === 'cuda');
  process.exit(cuda?.available ? 0 : cuda?.compiled ? 3 : 4);
} catch (e) {
  const msg = String((e as Error)?.stack ?? e);
  console.log(`doctor: the addon did not load:\n${msg}`);
  if (out) writeFileSync(out, JSON.stringify({ error: msg }, null, 2));
  process.exit(1);
}
