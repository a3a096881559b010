// The core must stay editor-free so the CLI, the language server and other editors can host it; the
// extension stays thin (heavy work runs in the language server) and the server never needs VS Code.
// src/base is the layer under all of them, so every side may import it and it imports nothing
// outside itself: src/base/common is pure TypeScript (src/webview/tsconfig.json type-checks it
// without Node's types), src/base/node may use Node.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../helpers/workspace';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const IMPORTS_VSCODE = /(?:from\s+|require\(\s*|import\(\s*)['"]vscode['"]/;
/** Every module specifier a file imports, re-exports or requires. */
const SPECIFIERS = /(?:\bfrom\s+|\bimport\s+|\brequire\(\s*|\bimport\(\s*)['"]([^'"]+)['"]/g;

function specifiers(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIERS)].map((m) => m[1]);
}

describe('layering', () => {
  it('src/base/common imports nothing outside itself: no Node, no vscode, no packages', () => {
    const base = join(REPO_ROOT, 'src', 'base', 'common');
    const files = sourceFiles(base);
    assert.ok(files.length >= 2, 'expected the base sources');
    const offenders = files.flatMap((f) => specifiers(f)
      .filter((s) => !s.startsWith('./') || relative(base, join(f, '..', s)).startsWith('..'))
      .map((s) => `${relative(REPO_ROOT, f)}: ${s}`));
    assert.deepEqual(offenders, []);
  });

  it('the extension, the webview, the core, the CLI and the server may import src/base', () => {
    const importsBase = (dir: string) => sourceFiles(join(REPO_ROOT, dir)).some((f) => specifiers(f).some((s) => /(?:^|\/)base\//.test(s)));
    for (const dir of ['src/extension', 'src/core', 'src/cli']) assert.ok(importsBase(dir), `${dir} uses src/base`);
  });

  it('src/core never imports vscode', () => {
    const files = sourceFiles(join(REPO_ROOT, 'src', 'core'));
    assert.ok(files.length > 10, 'expected the core sources');
    const offenders = files.filter((f) => IMPORTS_VSCODE.test(readFileSync(f, 'utf8'))).map((f) => relative(REPO_ROOT, f));
    assert.deepEqual(offenders, []);
  });

  it('src/core never imports from the CLI or other surfaces', () => {
    const files = sourceFiles(join(REPO_ROOT, 'src', 'core'));
    const offenders = files
      .filter((f) => /from\s+['"](?:\.\.\/)+(?:cli|server|extension)\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO_ROOT, f));
    assert.deepEqual(offenders, []);
  });

  it('src/server and src/protocol.ts never import vscode (other editors use the server over stdio)', () => {
    const files = [...sourceFiles(join(REPO_ROOT, 'src', 'server')), join(REPO_ROOT, 'src', 'protocol.ts')];
    const offenders = files.filter((f) => IMPORTS_VSCODE.test(readFileSync(f, 'utf8'))).map((f) => relative(REPO_ROOT, f));
    assert.deepEqual(offenders, []);
  });

  it('src/extension reaches the core only through the language server', () => {
    const files = sourceFiles(join(REPO_ROOT, 'src', 'extension'));
    assert.ok(files.length > 3, 'expected the extension sources');
    const offenders = files
      .filter((f) => /(?:from\s+|require\(\s*|import\(\s*)['"](?:\.\.\/)+(?:core|server|cli)\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO_ROOT, f));
    assert.deepEqual(offenders, []);
  });

  it('src/webview imports only its own modules, the protocol, src/base/common and browser-safe packages', () => {
    const files = sourceFiles(join(REPO_ROOT, 'src', 'webview'));
    const offenders = files
      .filter((f) => /(?:from\s+|require\(\s*|import\(\s*)['"](?:vscode|node:[\w/]+|(?:\.\.\/)+(?!protocol['"]|base\/common\/|webview\/))/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO_ROOT, f));
    assert.deepEqual(offenders, []);
  });

  it('the detector recognises every import form', () => {
    for (const line of [`import * as vscode from 'vscode';`, `const v = require("vscode");`, `await import('vscode')`]) {
      assert.ok(IMPORTS_VSCODE.test(line), line);
    }
    assert.ok(!IMPORTS_VSCODE.test(`import { x } from './vscodeLike';`));
    const forms = `import { a } from './a';\nexport { b } from "../b";\nimport './c';\nconst d = require('node:fs');\nawait import('e');`;
    assert.deepEqual([...forms.matchAll(SPECIFIERS)].map((m) => m[1]), ['./a', '../b', './c', 'node:fs', 'e']);
  });
});
