#!/usr/bin/env node
// Lists the public names (exports of lib/index.ts, and one level into its namespaces such as
// layers.* and train.*) that have no doc comment, which the published .d.ts files would show
// without documentation. Exits 1 when there are any. Usage: node scripts/check-docs.mjs
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(import.meta.url)('typescript');
const entry = join(root, 'lib', 'index.ts');
const program = ts.createProgram([entry], {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  noEmit: true,
});
const checker = program.getTypeChecker();
const missing = [];
let total = 0;
function visit(moduleSymbol, prefix, depth) {
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const name = prefix + exported.name;
    if (sym.flags & ts.SymbolFlags.ValueModule && depth === 0) {
      visit(sym, `${name}.`, 1);
      continue;
    }
    total++;
    if (!ts.displayPartsToString(sym.getDocumentationComment(checker)).trim()) {
      const decl = sym.declarations?.[0];
      const where = decl ? `${decl.getSourceFile().fileName.slice(root.length + 1)}:${decl.getSourceFile().getLineAndCharacterOfPosition(decl.getStart()).line + 1}` : '?';
      missing.push(`${name}  (${where})`);
    }
  }
}
visit(checker.getSymbolAtLocation(program.getSourceFile(entry)), '', 0);
console.log(`check-docs: ${total} public names, ${missing.length} without a doc comment`);
for (const m of missing) console.log(`  ${m}`);
process.exitCode = missing.length ? 1 : 0;
