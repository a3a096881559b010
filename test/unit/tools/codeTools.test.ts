import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { NodeHost } from '../../../src/core/host/nodeHost';
import { indexWorkspace } from '../../../src/core/indexing/indexer';
import { batonDirOf, openIndexForSearch, type OpenedIndex } from '../../../src/core/indexing/workspaceIndex';
import { globToRegExp } from '../../../src/core/tools/codeTools';
import { createCoreToolRegistry } from '../../../src/core/tools/allTools';
import type { ToolContext } from '../../../src/core/tools/types';
import { makeWorkspace, type TempWorkspace } from '../../helpers/workspace';

describe('code tools', function () {
  let ws: TempWorkspace;
  let index: OpenedIndex;
  let ctx: ToolContext;
  let outside: string;
  const registry = createCoreToolRegistry();
  const call = (name: string, args: unknown, c: ToolContext = ctx) => registry.call(name, JSON.stringify(args), c);

  before(async () => {
    ws = makeWorkspace();
    ws.write('src/util/window.ts', Array.from({ length: 700 }, (_, i) => `export const line${i + 1} = ${i + 1};`).join('\n') + '\n');
    ws.write('build/more.ts', 'export const retryWithBackoffCopy = 1;\n');
    outside = mkdtempSync(join(tmpdir(), 'baton-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'outside the workspace\n');
    symlinkSync(join(outside, 'secret.txt'), join(ws.root, 'src', 'escape.txt'));
    symlinkSync(join(ws.root, '.env'), join(ws.root, 'notes.txt'));
    await indexWorkspace({ root: ws.root, batonDir: batonDirOf(ws.root), embedder: null });
    index = await openIndexForSearch(ws.root);
    ctx = { host: new NodeHost({ root: ws.root, input: new PassThrough() }), retriever: index.retriever };
  });

  after(async () => {
    await index?.close();
    ws?.remove();
    rmSync(outside, { recursive: true, force: true });
  });

  it('search_code runs the hybrid retriever (lexical here, with its notice) and labels results', async () => {
    const r = await call('search_code', { query: 'retry with exponential backoff', k: 3 });
    assert.equal(r.outcome, 'ok');
    assert.match(r.content, /Note: dense retrieval unavailable/);
    assert.match(r.content, /## 1\. src\/util\/retry\.ts:\d+-\d+ /);
    assert.match(r.content, /retryWithBackoff/);
    // The walker indexes notes.txt (a link to .env under an innocent name); search_code re-checks.
    const secret = await call('search_code', { query: 'DATABASE_PASSWORD' });
    assert.ok(!secret.content.includes('hunter2'), secret.content);
    const none = await call('search_code', { query: 'x' }, { ...ctx, retriever: null });
    assert.equal(none.outcome, 'error');
    assert.match(none.content, /no search index; run `baton index`/);
  });

  describe('grep', () => {
    it('finds literal text with path:line and respects .gitignore, .batonignore and secret/minified files', async () => {
      const r = await call('grep', { pattern: 'retryWithBackoff' });
      assert.equal(r.outcome, 'ok');
      assert.match(r.content, /^src\/util\/retry\.ts:7: export async function retryWithBackoff/m);
      assert.ok(!r.content.includes('build/'), 'build/ is gitignored');
      for (const hidden of ['builtArtifact', 'vendoredHelper', 'hunter2', 'function f12(']) {
        const h = await call('grep', { pattern: hidden });
        assert.match(h.content, /^No matches in \d+ files\.$/, hidden);
      }
    });

    it('treats the pattern literally unless regex is set, and supports ignoreCase and glob', async () => {
      assert.match((await call('grep', { pattern: 'line1.' })).content, /No matches/);
      const re = await call('grep', { pattern: '^export const line1\\d = ', regex: true });
      assert.equal(re.content.split('\n').filter((l) => l.startsWith('src/')).length, 10);
      assert.match((await call('grep', { pattern: 'RETRYOPTIONS', ignoreCase: true, glob: '*.ts' })).content, /retry\.ts:1:/);
      assert.match((await call('grep', { pattern: 'RetryOptions', glob: '*.py' })).content, /No matches/);
      const bad = await call('grep', { pattern: '(', regex: true });
      assert.equal(bad.outcome, 'error');
      assert.match(bad.content, /invalid regular expression/);
    });

    it('caps the number of results and says so', async () => {
      const r = await call('grep', { pattern: 'export const line', maxResults: 5 });
      assert.equal(r.content.split('\n').filter((l) => l.startsWith('src/util/window.ts:')).length, 5);
      assert.match(r.content, /stopped after 5 matches/);
    });
  });

  it('find_files matches globs over the indexer\'s files only', async () => {
    const ts = (await call('find_files', { pattern: '*.ts' })).content.split('\n');
    assert.deepEqual(ts, ['src/auth/session.ts', 'src/util/retry.ts', 'src/util/window.ts']);
    assert.deepEqual((await call('find_files', { pattern: 'scripts/**' })).content.split('\n'), ['scripts/parse_invoice.py', 'scripts/server.go']);
    assert.match((await call('find_files', { pattern: '**/*.{py,go}' })).content, /parse_invoice\.py\nscripts\/server\.go/);
    assert.match((await call('find_files', { pattern: '.env' })).content, /No files match/);
    assert.match((await call('find_files', { pattern: 'build/*' })).content, /No files match/);
    assert.match((await call('find_files', { pattern: '**/*', maxResults: 2 })).content, /more files not shown/);
  });

  it('globToRegExp follows gitignore-like conventions', () => {
    const m = (g: string, p: string) => globToRegExp(g).test(p);
    assert.ok(m('*.ts', 'a/b/c.ts') && !m('*.ts', 'a/b/c.tsx'));
    assert.ok(m('src/*.ts', 'src/a.ts') && !m('src/*.ts', 'src/x/a.ts') && !m('src/*.ts', 'lib/src/a.ts'));
    assert.ok(m('src/**/*.ts', 'src/a.ts') && m('src/**/*.ts', 'src/x/y/a.ts'));
    assert.ok(m('src/auth', 'src/auth/session.ts') && m('src/auth/', 'src/auth/session.ts'));
    assert.ok(m('file?.[jt]s', 'file1.js') && !m('file?.[!jt]s', 'file1.js'));
    assert.ok(m('./docs/*.md', 'docs/a.md'));
  });

  describe('read_file', () => {
    it('reads line ranges and says which lines it shows', async () => {
      const r = await call('read_file', { path: 'src/util/retry.ts', startLine: 6, endLine: 7 });
      assert.equal(r.content, 'src/util/retry.ts:6-7 (file has 19 lines; read on from line 8)\n/** Retries an async operation with exponential backoff between attempts. */\nexport async function retryWithBackoff<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {');
      const long = await call('read_file', { path: 'src/util/window.ts' });
      assert.match(long.content, /^src\/util\/window\.ts:1-500 \(file has 700 lines; read on from line 501\)\n/);
      assert.match((await call('read_file', { path: 'src/util/retry.ts', startLine: 99 })).content, /has 19 lines; startLine 99 is past the end/);
    });

    it('refuses ../ escapes, absolute paths elsewhere and symlinks that leave the root', async () => {
      for (const path of ['../outside.txt', 'src/../../x', join(outside, 'secret.txt'), '/etc/passwd', 'src/escape.txt']) {
        const r = await call('read_file', { path });
        assert.equal(r.outcome, 'error', path);
        assert.match(r.content, /outside the workspace/, path);
        assert.ok(!r.content.includes('outside the workspace\n'), 'no content leaked');
      }
    });

    it('refuses secret files, also through an innocently named link, and binaries', async () => {
      for (const path of ['.env', 'notes.txt']) {
        const r = await call('read_file', { path });
        assert.equal(r.outcome, 'error', path);
        assert.match(r.content, /looks like a secrets file/);
        assert.ok(!r.content.includes('hunter2'));
      }
      ws.write('config/id.txt', '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n');
      assert.match((await call('read_file', { path: 'config/id.txt' })).content, /cannot read config\/id\.txt: secret/);
      assert.match((await call('read_file', { path: 'logo.png' })).content, /cannot read logo\.png: binary/);
      assert.match((await call('read_file', { path: 'missing.ts' })).content, /missing\.ts does not exist/);
    });
  });

  it('list_symbols lists declarations with line ranges', async () => {
    const r = await call('list_symbols', { path: 'src/util/retry.ts' });
    assert.equal(r.outcome, 'ok');
    assert.match(r.content, /^src\/util\/retry\.ts \(typescript\)/);
    assert.match(r.content, /\n1-4 \w+ RetryOptions/);
    assert.match(r.content, /\n6-19 function retryWithBackoff/);
    assert.match((await call('list_symbols', { path: '.env' })).content, /secrets file/);
  });
});
