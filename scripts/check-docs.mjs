#!/usr/bin/env node
// Lists the public names (exports of lib/index.ts, and of its namespaces at any depth, such as
// layers.*, train.*, layers.initializers.* and datasets.fashionMnist.*) that have no doc comment,
// which the published .d.ts files would show without documentation. A namespace is not itself
// counted: its members are. Exits 1 when there are any. Usage: node scripts/check-docs.mjs
// With --members it also lists, without failing, the public members (methods, properties) of
// the exported classes and interfaces that have no doc comment of their own or inherited.
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
const withMembers = process.argv.includes('--members');
const memberMissing = [];
let memberTotal = 0;
const membersSeen = new Set();
const hidden = ts.ModifierFlags.Private | ts.ModifierFlags.Protected;
function where(decl) {
  if (!decl) return '?';
  const sf = decl.getSourceFile();
  return `${sf.fileName.slice(root.length + 1)}:${sf.getLineAndCharacterOfPosition(decl.getStart()).line + 1}`;
}
function hasDoc(sym) {
  return !!ts.displayPartsToString(sym.getDocumentationComment(checker)).trim();
}
function visitMembers(sym, name) {
  if (!(sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) || membersSeen.has(sym)) return;
  membersSeen.add(sym);
  const lists = [[sym.members, '#'], [sym.flags & ts.SymbolFlags.Class ? sym.exports : undefined, '.']];
  for (const [table, sep] of lists) {
    table?.forEach((m, key) => {
      const decl = m.declarations?.[0];
      if (!decl || key === '__constructor' || key === 'prototype' || key.startsWith('__') || String(key).startsWith('#')) return;
      if (ts.getCombinedModifierFlags(decl) & hidden) return;
      if (ts.isPrivateIdentifier?.(decl.name)) return;
      memberTotal++;
      if (!hasDoc(m)) memberMissing.push(`${name}${sep}${key}  (${where(decl)})`);
    });
  }
}
function visit(moduleSymbol, prefix, seen) {
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const name = prefix + exported.name;
    if (sym.flags & ts.SymbolFlags.ValueModule) {
      if (!seen.has(sym)) visit(sym, `${name}.`, new Set([...seen, sym]));
      continue;
    }
    total++;
    if (!hasDoc(sym)) missing.push(`${name}  (${where(sym.declarations?.[0])})`);
    if (withMembers) visitMembers(sym, name);
  }
}
const entrySymbol = checker.getSymbolAtLocation(program.getSourceFile(entry));
visit(entrySymbol, '', new Set([entrySymbol]));
console.log(`check-docs: ${total} public names, ${missing.length} without a doc comment`);
for (const m of missing) console.log(`  ${m}`);
if (withMembers) {
  console.log(`check-docs --members: ${memberTotal} public members of exported classes and interfaces, ${memberMissing.length} without a doc comment`);
  for (const m of memberMissing) console.log(`  ${m}`);
}
process.exitCode = missing.length ? 1 : 0;
