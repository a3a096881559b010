// A damaged index, end to end through the CLI on real files: each form of damage leaves search
// (and ask) answering from the healthy shards with a notice, and a plain `baton index` rebuilds
// exactly the damaged shards from the workspace files, with vectors from the embedding cache.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/ports';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import { runCli, type CliResult } from '../helpers/runCli';
import { writeTinyModel } from '../helpers/tinyModel';

interface JsonResults { results: { path: string; symbol: string | null }[] }

const VICTIM = 'src/auth/session.ts';
const CONTROL = 'src/util/retry.ts';

function summary(stdout: string) {
  const m = /Indexed (\d+) files, (\d+) chunks .*?; (\d+) changed, (\d+) removed; (\d+) embedded, (\d+) from cache/.exec(stdout);
  assert.ok(m, `no summary line in: ${stdout}`);
  const [, files, chunks, changed, removed, embedded, fromCache] = m.map(Number);
  return { files, chunks, changed, removed, embedded, fromCache };
}

function truncate(file: string): void {
  fs.writeFileSync(file, fs.readFileSync(file).subarray(0, Math.floor(fs.statSync(file).size / 2)));
}

function flipBit(file: string): void {
  const bytes = fs.readFileSync(file);
  bytes[bytes.length >> 1] ^= 0x10;
  fs.writeFileSync(file, bytes);
}

describe('baton index repairs a damaged index', function () {
  this.timeout(120_000);
  let ws: TempWorkspace;
  let shardsDir: string;
  before(async () => {
    ws = makeWorkspace();
    shardsDir = join(ws.root, '.baton', 'shards');
    const modelDir = join(ws.root, '..', 'tiny-model');
    await writeTinyModel(modelDir, [ws.root]);
    fs.writeFileSync(join(ws.root, 'baton.config.json'), JSON.stringify({ embedder: { kind: 'transformers', model: modelDir } }));
    const r = await runCli(['index', ws.root]);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(shardOf(VICTIM), shardOf(CONTROL), 'the test needs the two files in different shards');
  });
  after(() => ws.remove());

  /** Shard number -> its generation directory's name. */
  function shardDirs(): Map<string, string> {
    return new Map(fs.readdirSync(shardsDir).map((name) => [name.split('.')[0], name]));
  }

  function shardOf(file: string): string {
    for (const name of fs.readdirSync(shardsDir)) {
      const listed = JSON.parse(fs.readFileSync(join(shardsDir, name, 'files.json'), 'utf8')) as { files: { path: string }[] };
      if (listed.files.some((f) => f.path === file)) return name;
    }
    throw new Error(`no shard lists ${file}`);
  }

  async function search(query: string, mode: string): Promise<CliResult & { paths: string[] }> {
    const r = await runCli(['search', '--dir', ws.root, '--json', '-k', '50', '--mode', mode, query]);
    assert.equal(r.code, 0, r.stderr);
    return { ...r, paths: (JSON.parse(r.stdout) as JsonResults).results.map((x) => x.path) };
  }

  const forms: { name: string; file: string; damage: (shardDir: string) => void; mode: 'lexical' | 'dense' }[] = [
    { name: 'a truncated docs.bin', file: 'docs.bin', damage: (d) => truncate(join(d, 'docs.bin')), mode: 'lexical' },
    { name: 'a bit-flipped docs.bin', file: 'docs.bin', damage: (d) => flipBit(join(d, 'docs.bin')), mode: 'lexical' },
    { name: 'a truncated index.f32', file: 'index.f32', damage: (d) => truncate(join(d, 'index.f32')), mode: 'dense' },
    { name: 'a bit-flipped index.f32', file: 'index.f32', damage: (d) => flipBit(join(d, 'index.f32')), mode: 'dense' },
    { name: 'garbage in docs.json', file: 'docs.json', damage: (d) => fs.writeFileSync(join(d, 'docs.json'), '<<<garbage>>>'), mode: 'lexical' },
    { name: 'garbage in files.json', file: 'files.json', damage: (d) => fs.writeFileSync(join(d, 'files.json'), '{"files": [{"pa'), mode: 'lexical' },
    { name: 'a deleted shard directory', file: 'files.json', damage: (d) => fs.rmSync(d, { recursive: true }), mode: 'lexical' },
  ];

  for (const form of forms) {
    it(`${form.name}: search answers from the healthy shards; a plain index rebuilds that shard alone`, async () => {
      const before = shardDirs();
      const victim = shardOf(VICTIM);
      form.damage(join(shardsDir, victim));

      const damaged = await search('verify session token', form.mode);
      const notice = new RegExp(`^baton: 1 of 64 index shards are damaged \\(shards/${victim.replace('.', '\\.')}/${form.file.replace('.', '\\.')}: [^)]+\\): results may be incomplete; run \`baton index\` to repair the index$`, 'm');
      assert.match(damaged.stderr, notice);
      assert.ok(!damaged.paths.includes(VICTIM), `${VICTIM} lives in the damaged shard: ${damaged.paths}`);
      assert.ok((await search('retry with backoff', form.mode)).paths.includes(CONTROL), 'the healthy shards answer');

      const index = await runCli(['index', ws.root]);
      assert.equal(index.code, 0, index.stderr);
      const s = summary(index.stdout);
      assert.match(index.stdout, /; repaired 1 damaged shard$/m);
      assert.match(index.stderr, new RegExp(`repaired 1 damaged shard from the workspace files \\(shards/${victim.replace('.', '\\.')}/${form.file.replace('.', '\\.')}: `));
      assert.equal(s.changed, 0);
      assert.equal(s.removed, 0);
      assert.equal(s.embedded, 0, 'no model time: vectors come from the embedding cache');
      assert.ok(s.fromCache > 0 && s.fromCache < s.chunks, JSON.stringify(s));

      const after = shardDirs();
      const rewritten = [...after].filter(([shard, name]) => before.get(shard) !== name).map(([shard]) => shard);
      assert.deepEqual(rewritten, [victim.split('.')[0]], 'only the damaged shard was rewritten');
      assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());

      const repaired = await search('verify session token', form.mode);
      assert.doesNotMatch(repaired.stderr, /damaged/);
      assert.ok(repaired.paths.includes(VICTIM));
    });
  }

  it('a damaged manifest: search answers in full; index writes it back and rewrites no shard', async () => {
    const before = shardDirs();
    fs.writeFileSync(join(ws.root, '.baton', 'manifest.json'), '{"format": 2, "seq": 4, "shards": [{"gen": 1, "chu');
    const damaged = await search('verify session token', 'hybrid');
    assert.match(damaged.stderr, /^baton: manifest\.json was damaged \(not valid JSON\): it was rebuilt from the shard files; run `baton index` to repair the index$/m);
    assert.ok(damaged.paths.includes(VICTIM));
    assert.ok(!damaged.stderr.includes('dense retrieval unavailable'), 'the vectors and their embedder were recovered too');
    const index = await runCli(['index', ws.root]);
    assert.equal(index.code, 0, index.stderr);
    assert.match(index.stderr, /manifest\.json was damaged \(not valid JSON\): rebuilt it from the shard files/);
    const s = summary(index.stdout);
    assert.equal(s.changed + s.embedded + s.fromCache, 0);
    assert.deepEqual(shardDirs(), before);
    JSON.parse(fs.readFileSync(join(ws.root, '.baton', 'manifest.json'), 'utf8'));
    assert.doesNotMatch((await search('verify session token', 'hybrid')).stderr, /damaged/);
  });

  it('ask without a model answers from the healthy shards with a notice, instead of failing', async () => {
    truncate(join(shardsDir, shardOf(VICTIM), 'docs.bin'));
    const env = { OPENAI_BASE_URL: `http://127.0.0.1:${await freePort()}/v1`, OPENAI_API_KEY: 'sk-none', BATON_MODEL: 'none' };
    const r = await runCli(['ask', '--dir', ws.root, 'how does retry with backoff wait between attempts?'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^baton: 1 of 64 index shards are damaged .*run `baton index` to repair the index$/m);
    assert.match(r.stdout, /The most relevant code for your question:/);
    assert.match(r.stdout, /Sources:\n {2}src\/util\/retry\.ts/);
    assert.equal((await runCli(['index', ws.root])).code, 0);
  });
});
