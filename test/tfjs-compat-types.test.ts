// A typed tfjs-node program (test/fixtures/tfjs-typed/program.mts) compiles and runs with
// only its import changed to cudnn-node (issue 22 item 2): it is typechecked against
// tfjs-node's own types and against ours with the same strict options, then both versions
// run and print the same results (training accuracy within noise).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixture = join(root, 'test/fixtures/tfjs-typed/program.mts');
const TFJS_IMPORT = "from '@tensorflow/tfjs-node'";

/** The fixture with its import pointed at this checkout's lib/index.ts. */
function cudnnVariant(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cn-typed-'));
  const file = join(dir, 'program.mts');
  const src = readFileSync(fixture, 'utf8');
  expect(src.split(TFJS_IMPORT).length, 'the fixture has one tfjs-node import').toBe(2);
  writeFileSync(file, src.replace(TFJS_IMPORT, `from '${join(root, 'lib/index.js')}'`));
  return file;
}

function diagnostics(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => !d.file || !d.file.fileName.includes('node_modules'))
    .map((d) => `${d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

function run(file: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  expect(line, `JSON results from ${file}`).toBeDefined();
  return JSON.parse(line!);
}

describe('a typed tfjs-node program with only the import changed', () => {
  const ours = cudnnVariant();
  it('typechecks against tfjs-node (it is a real tfjs program)', () => {
    expect(diagnostics(fixture)).toEqual([]);
  }, 120_000);
  it("typechecks against cudnn-node's types", () => {
    expect(diagnostics(ours)).toEqual([]);
  }, 120_000);
  it('runs on both and gives the same results', () => {
    const a = run(ours);
    const b = run(fixture);
    const { fitAccuracy: accA, ...restA } = a;
    const { fitAccuracy: accB, ...restB } = b;
    expect(restA).toEqual(restB);
    expect(accA as number).toBeGreaterThan(0.9);
    expect(Math.abs((accA as number) - (accB as number))).toBeLessThanOrEqual(0.1);
  }, 300_000);
});
