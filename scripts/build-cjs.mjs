#!/usr/bin/env node
// Builds the CommonJS entry point dist/cjs/ (what `require('cudnn-node')` loads) from the
// same TypeScript sources as the ESM build in dist/:
//   1. tsc -p tsconfig.cjs.json  (module CommonJS; only lib/index.ts and what it imports)
//   2. replace `import.meta.url` in native.js, the one ESM-only expression (Note [module
//      url] in lib/native.ts), by the CommonJS equivalent, and fail if any other
//      import.meta is left;
//   3. write dist/cjs/package.json {"type": "commonjs"}, so that Node and TypeScript treat
//      the .js and .d.ts files there as CommonJS although the package is "type": "module".
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cjs');
const require = createRequire(import.meta.url);

rmSync(out, { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.cjs.json')], { stdio: 'inherit', cwd: root });

const META = 'import.meta.url';
const CJS_URL = 'require("node:url").pathToFileURL(__filename).href';
// import.meta outside comments (tsc keeps comments, and native.ts's Note names it).
const CODE_META = /^(?!\s*(?:\/\/|\/\*|\*)).*\bimport\.meta\b/m;
let replaced = 0;
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.js')) {
      let src = readFileSync(p, 'utf8');
      if (!CODE_META.test(src)) continue;
      if (p === join(out, 'native.js')) {
        const n = src.split(META).length - 1;
        src = src.split(META).join(CJS_URL);
        replaced += n;
        writeFileSync(p, src);
      }
      if (CODE_META.test(src)) {
        throw new Error(`build-cjs: ${p} uses import.meta, which CommonJS lacks (see Note [module url] in lib/native.ts)`);
      }
    }
  }
};
walk(out);
if (replaced !== 1) throw new Error(`build-cjs: expected one import.meta.url in native.js, found ${replaced}`);
writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');
console.log(`build-cjs: wrote ${out}`);
