// Prints the installed package directories (relative to the project root, one per line)
// that the given packages need at run time: dependencies and installed optional
// dependencies, resolved the way Node does (nested node_modules first, then upwards).
// Used by scripts/gpu/prepare-carry.sh to carry a pruned node_modules.
//
//   node scripts/gpu/node-deps.mjs ROOT vitest tsx cmake-js ...
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [root, ...names] = process.argv.slice(2);
if (!root || !names.length) {
  console.error('usage: node scripts/gpu/node-deps.mjs ROOT PACKAGE...');
  process.exit(2);
}

const seen = new Set();
const missing = [];

/** The directory of package `name` as seen from package directory `from`. */
function resolvePkg(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const cand = join(dir, 'node_modules', name);
    if (existsSync(join(cand, 'package.json'))) return realpathSync(cand);
    if (dir === root || dirname(dir) === dir) return null;
  }
}

function visit(name, from, optional) {
  const dir = resolvePkg(name, from);
  if (!dir) {
    if (!optional) missing.push(`${name} (needed from ${relative(root, from) || '.'})`);
    return;
  }
  if (seen.has(dir)) return;
  seen.add(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const d of Object.keys(pkg.dependencies ?? {})) visit(d, dir, false);
  for (const d of Object.keys(pkg.optionalDependencies ?? {})) visit(d, dir, true);
  // Peer dependencies that are installed are used (e.g. vite by vitest); missing ones are optional.
  for (const d of Object.keys(pkg.peerDependencies ?? {})) visit(d, dir, true);
}

for (const n of names) visit(n, root, false);
if (missing.length) {
  console.error(`node-deps: not installed: ${missing.join(', ')}`);
  process.exit(1);
}
// Paths as the project sees them: under ROOT/node_modules even where that is a symlink (a git
// worktree sharing another checkout's node_modules), so that tar stores node_modules/...
const nm = join(root, 'node_modules');
const nmReal = existsSync(nm) ? realpathSync(nm) : null;
const shown = (d) => (nmReal && (d === nmReal || d.startsWith(nmReal + '/')) ? join('node_modules', relative(nmReal, d)) : relative(root, d));
for (const d of [...[...seen].map(shown)].sort()) console.log(d);
