// The core must stay editor-free so the CLI, the language server and other editors can host it; the
// extension stays thin (heavy work runs in the language server) and the server never needs VS Code.
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

describe('layering', () => {
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

  it('media/ (the webview) imports only its own modules, the protocol and browser-safe packages', () => {
    const files = sourceFiles(join(REPO_ROOT, 'media'));
    const offenders = files
      .filter((f) => /(?:from\s+|require\(\s*|import\(\s*)['"](?:vscode|node:[\w/]+|(?:\.\.\/)+src\/(?!protocol['"]))/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO_ROOT, f));
    assert.deepEqual(offenders, []);
  });

  it('the detector recognises every import form', () => {
    for (const line of [`import * as vscode from 'vscode';`, `const v = require("vscode");`, `await import('vscode')`]) {
      assert.ok(IMPORTS_VSCODE.test(line), line);
    }
    assert.ok(!IMPORTS_VSCODE.test(`import { x } from './vscodeLike';`));
  });
});
