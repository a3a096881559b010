// The CLI contract from the README, exercised on a real workspace on disk.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import { runCli } from '../helpers/runCli';
import { writeTinyModel } from '../helpers/tinyModel';

interface JsonLine { query: string; results: { path: string; startLine: number; endLine: number; score: number; symbol: string | null }[] }

function summaryNumbers(stdout: string) {
  const m = /Indexed (\d+) files, (\d+) chunks .*?; (\d+) changed, (\d+) removed; (\d+) embedded, (\d+) from cache/.exec(stdout);
  assert.ok(m, `no summary line in: ${stdout}`);
  const [, files, chunks, changed, removed, embedded, fromCache] = m.map(Number);
  return { files, chunks, changed, removed, embedded, fromCache };
}

describe('baton CLI (lexical only)', function () {
  let ws: TempWorkspace;
  before(() => { ws = makeWorkspace(); });
  after(() => ws.remove());

  it('refuses to search before an index exists, in one line', async () => {
    const r = await runCli(['search', '--dir', ws.root, 'session']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /baton index/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('reports a missing directory in one line with a non-zero exit', async () => {
    const r = await runCli(['index', join(ws.root, 'does-not-exist')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^baton: no such directory: .*does-not-exist\n$/);
  });

  it('indexes the workspace and prints a one-line summary', async () => {
    const r = await runCli(['index', ws.root, '--embedder', 'none']);
    assert.equal(r.code, 0, r.stderr);
    const s = summaryNumbers(r.stdout);
    assert.ok(s.files >= 5 && s.chunks >= s.files, r.stdout);
    assert.equal(s.embedded, 0);
    assert.equal(readFileSync(join(ws.root, '.baton', '.gitignore'), 'utf8').trim(), '*');
  });

  it('explains skipped files with --verbose', async () => {
    const r = await runCli(['index', ws.root, '--embedder', 'none', '--rebuild', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /skipped \.env: secret/);
    assert.match(r.stderr, /skipped logo\.png: binary/);
    assert.match(r.stderr, /skipped src\/util\/bundle\.js: minified/);
  });

  it('finds code by meaning-bearing words, with relative paths and 1-based lines', async () => {
    const r = await runCli(['search', '--dir', ws.root, '--json', '-k', '3', 'sign session token']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonLine;
    assert.equal(out.query, 'sign session token');
    assert.ok(out.results.length > 0 && out.results.length <= 3);
    const top = out.results[0];
    assert.equal(top.path, 'src/auth/session.ts');
    assert.equal(top.symbol, 'signSessionToken');
    const lines = readFileSync(join(ws.root, top.path), 'utf8').split('\n');
    assert.match(lines.slice(top.startLine - 1, top.endLine).join('\n'), /export function signSessionToken/);
    assert.deepEqual(Object.keys(top).sort(), ['endLine', 'path', 'score', 'startLine', 'symbol']);
  });

  it('never indexes ignored, secret, binary or minified files', async () => {
    const input = ['hunter2', 'builtArtifact', 'vendoredHelper', 'debug output', 'f2999'].join('\n') + '\n';
    const r = await runCli(['search', '--dir', ws.root, '--json', '--stdin', '--mode', 'lexical'], { input });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonLine);
    assert.equal(lines.length, 5);
    for (const line of lines) {
      const paths = line.results.map((x) => x.path);
      assert.ok(!paths.some((p) => /\.env|build\/|vendor\/|\.log$|\.png$|bundle\.js/.test(p)), `${line.query}: ${paths}`);
    }
  });

  it('answers --stdin queries one JSON line each, in order', async () => {
    const r = await runCli(['search', '--dir', ws.root, '--json', '-k', '2', '--stdin'], { input: 'invoice total\n\nhealth handler\n' });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonLine);
    assert.deepEqual(lines.map((l) => l.query), ['invoice total', 'health handler']);
    assert.equal(lines[0].results[0].path, 'scripts/parse_invoice.py');
    assert.equal(lines[0].results[0].symbol, 'invoice_total_cents');
    assert.equal(lines[1].results[0].path, 'scripts/server.go');
    assert.ok(lines.every((l) => l.results.length <= 2));
  });

  it('re-indexing an unchanged tree changes nothing; a new file is picked up, a deleted one dropped', async () => {
    let s = summaryNumbers((await runCli(['index', ws.root, '--embedder', 'none'])).stdout);
    assert.equal(s.changed, 0);
    assert.equal(s.removed, 0);
    ws.write('src/util/slugify.ts', 'export function slugifyTitle(title: string): string {\n  return title.toLowerCase().replace(/[^a-z0-9]+/g, "-");\n}\n');
    s = summaryNumbers((await runCli(['index', ws.root, '--embedder', 'none'])).stdout);
    assert.equal(s.changed, 1);
    let r = await runCli(['search', '--dir', ws.root, '--json', 'slugifyTitle']);
    assert.equal((JSON.parse(r.stdout) as JsonLine).results[0].path, 'src/util/slugify.ts');
    renameSync(join(ws.root, 'src/util/slugify.ts'), join(ws.root, 'src/util/slug.ts'));
    s = summaryNumbers((await runCli(['index', ws.root, '--embedder', 'none'])).stdout);
    assert.equal(s.removed, 1);
    r = await runCli(['search', '--dir', ws.root, '--json', 'slugifyTitle']);
    assert.equal((JSON.parse(r.stdout) as JsonLine).results[0].path, 'src/util/slug.ts');
  });

  it('degrades to lexical search with a notice when the embedder is unavailable', async () => {
    const r = await runCli(['index', ws.root, '--embedder', `transformers:${join(ws.root, 'no-such-model')}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /lexical-only/);
    const s = await runCli(['search', '--dir', ws.root, '--json', 'retry with backoff']);
    assert.equal(s.code, 0);
    assert.match(s.stderr, /lexical/);
    assert.equal((JSON.parse(s.stdout) as JsonLine).results[0].symbol, 'retryWithBackoff');
  });

  it('a damaged manifest: search answers from the shard files, index writes the rebuilt one', async () => {
    writeFileSync(join(ws.root, '.baton', 'manifest.json'), '{"format": 2, "shards": [tru');
    const damaged = await runCli(['search', '--dir', ws.root, '--json', 'verify session token']);
    assert.equal(damaged.code, 0, damaged.stderr);
    assert.match(damaged.stderr, /^baton: manifest\.json was damaged \(not valid JSON\): it was rebuilt from the shard files; run `baton index` to repair the index$/m);
    assert.equal((JSON.parse(damaged.stdout) as JsonLine).results[0].symbol, 'verifySessionToken');
    const r = await runCli(['index', ws.root, '--embedder', 'none']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /manifest\.json was damaged \(not valid JSON\): rebuilt it from the shard files/);
    const s = await runCli(['search', '--dir', ws.root, '--json', 'verify session token']);
    assert.doesNotMatch(s.stderr, /damaged/);
    assert.equal((JSON.parse(s.stdout) as JsonLine).results[0].symbol, 'verifySessionToken');
  });

  it('an index of another format: search says how to fix it, index rebuilds it', async () => {
    const manifest = join(ws.root, '.baton', 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), format: 1 }));
    const old = await runCli(['search', '--dir', ws.root, 'session']);
    assert.notEqual(old.code, 0);
    assert.match(old.stderr, /^baton: .*format 1.*baton index --rebuild.*\n$/);
    const r = await runCli(['index', ws.root, '--embedder', 'none']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /rebuilt the index/);
    const s = await runCli(['search', '--dir', ws.root, '--json', 'verify session token']);
    assert.equal((JSON.parse(s.stdout) as JsonLine).results[0].symbol, 'verifySessionToken');
  });

  it('rejects bad arguments with exit code 2', async () => {
    for (const args of [['search', '--dir', ws.root, '-k', 'zero', 'x'], ['search', '--dir', ws.root, '--mode', 'fuzzy', 'x'], ['frobnicate']]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^baton: /);
    }
  });
});

describe('baton CLI (dense, with a model generated by the test)', function () {
  let ws: TempWorkspace;
  let modelDir: string;
  before(async () => {
    ws = makeWorkspace();
    modelDir = join(ws.root, '..', 'tiny-model');
    await writeTinyModel(modelDir, [ws.root]);
    writeFileSync(join(ws.root, 'baton.config.json'), JSON.stringify({ embedder: { kind: 'transformers', model: modelDir } }));
  });
  after(() => ws.remove());

  it('embeds every chunk once, then nothing on an unchanged tree', async () => {
    const first = summaryNumbers((await runCli(['index', ws.root])).stdout);
    assert.ok(first.embedded > 0);
    assert.equal(first.embedded + first.fromCache, first.chunks);
    const second = summaryNumbers((await runCli(['index', ws.root])).stdout);
    assert.equal(second.embedded, 0);
    assert.equal(second.fromCache, 0);
  });

  it('a touched or renamed file reuses cached vectors; an edit embeds only new chunks', async () => {
    const file = join(ws.root, 'src/util/retry.ts');
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    let s = summaryNumbers((await runCli(['index', ws.root])).stdout);
    assert.equal(s.embedded, 0);
    renameSync(file, join(ws.root, 'src/util/retrying.ts'));
    s = summaryNumbers((await runCli(['index', ws.root])).stdout);
    assert.equal(s.embedded, 0);
    assert.ok(s.fromCache > 0);
    const session = join(ws.root, 'src/auth/session.ts');
    writeFileSync(session, readFileSync(session, 'utf8') + '\nexport function sessionAgeMs(s: Session): number {\n  return s.expiresAt - Date.now();\n}\n');
    s = summaryNumbers((await runCli(['index', ws.root])).stdout);
    assert.ok(s.embedded >= 1 && s.embedded < s.chunks / 2, JSON.stringify(s));
  });

  it('serves dense and hybrid search from the stored vectors', async () => {
    const dense = await runCli(['search', '--dir', ws.root, '--json', '--mode', 'dense', '-k', '5', 'invoice lines']);
    assert.equal(dense.code, 0, dense.stderr);
    assert.equal((JSON.parse(dense.stdout) as JsonLine).results.length, 5);
    const hybrid = await runCli(['search', '--dir', ws.root, '-k', '3', 'verify session token']);
    assert.equal(hybrid.code, 0, hybrid.stderr);
    assert.match(hybrid.stdout, /verifySessionToken.*lexical\+dense|verifySessionToken.*dense\+lexical/);
    assert.ok(!existsSync(join(ws.root, '.baton', 'index.lock')), 'lock released');
  });
});
