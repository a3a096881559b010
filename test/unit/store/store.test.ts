import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IndexCorruptError, IndexStore } from '../../../src/core/store/store';
import { EmbeddingCache } from '../../../src/core/store/embeddingCache';
import { computeTerms } from '../../../src/core/search/codeTokens';
import { chunkId, type IndexedChunk } from '../../../src/core/indexing/types';
import { Float32Codec } from '../../../src/core/store/vectorCodec';
import { acquireLock, LockHeldError } from '../../../src/base/node/lock';
import { CRASH_DIMS, CRASH_EMBEDDER, fileRecord, makeChunk, modelOf, signature, vectorFor } from '../../helpers/crashWriter';

const CRASH_WRITER = path.join(__dirname, '..', '..', 'helpers', 'crashWriter.js');
const STORE_JS = path.join(__dirname, '..', '..', '..', 'src', 'core', 'store', 'store.js');

interface ManifestOnDisk {
  seq: number;
  shards: { gen: number; chunks: number; vectors: number; sums?: Record<string, number> }[];
}

function readManifest(dir: string): ManifestOnDisk {
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ManifestOnDisk;
}

function fileWith(p: string, n: number, tag = 'v1') {
  const chunks = Array.from({ length: n }, (_, k) => makeChunk(p, k * 5 + 1, k * 5 + 5, `${tag} ${p} part ${k}`));
  return { file: fileRecord(p, chunks), chunks };
}

function ids(chunks: Iterable<IndexedChunk>): string[] {
  return [...chunks].map((c) => c.id).sort();
}

function randomUnit(dims: number, rnd: () => number): Float32Array {
  const v = Float32Array.from({ length: dims }, () => rnd() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('IndexStore', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-'));
    dir = path.join(root, '.baton');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('round-trips a commit through close and reopen', async () => {
    const store = await IndexStore.open(dir, { shardCount: 4 });
    assert.equal(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8'), '*\n');
    await store.setEmbedder('e1', 4);
    const a = fileWith('src/a.ts', 3);
    const b = fileWith('lib/b.py', 2);
    const va = a.chunks.map((c) => vectorFor(c.text, 4));
    await store.commit({ upserts: [{ ...a, vectors: va }, b], deletes: [] });
    await store.close();

    const again = await IndexStore.open(dir, { create: false });
    assert.equal(again.embedderId, 'e1');
    assert.equal(again.dimensions, 4);
    assert.deepEqual([...again.files().keys()].sort(), ['lib/b.py', 'src/a.ts']);
    assert.deepEqual(again.files().get('src/a.ts'), a.file);
    assert.equal(again.chunkCount, 5);
    assert.equal(again.vectorCount, 3);
    assert.deepEqual(again.chunksOfFile('src/a.ts'), a.chunks);
    assert.deepEqual(ids(again.chunks()), ids([...a.chunks, ...b.chunks]));
    const stored = await again.vectorsOf(a.chunks.map((c) => c.id));
    a.chunks.forEach((c, i) => assert.deepEqual(stored.get(c.id), va[i]));
    assert.deepEqual(ids(again.chunksWithoutVectors()), ids(b.chunks));
    await again.close();
  });

  it('refuses to create with create:false and says how to build the index', async () => {
    await assert.rejects(IndexStore.open(dir, { create: false }), /no index at .*run `baton index` first/);
    assert.equal(fs.existsSync(dir), false);
  });

  it('an upsert replaces a file\'s chunks and a delete removes the file', async () => {
    const store = await IndexStore.open(dir, { shardCount: 4 });
    const a = fileWith('a.ts', 3);
    const b = fileWith('b.ts', 2);
    await store.commit({ upserts: [a, b], deletes: [] });
    const a2 = fileWith('a.ts', 1, 'v2');
    await store.commit({ upserts: [a2], deletes: ['b.ts', 'never-indexed.ts'] });
    assert.deepEqual([...store.files().keys()], ['a.ts']);
    assert.deepEqual(store.chunksOfFile('a.ts').map((c) => c.text), ['v2 a.ts part 0']);
    assert.deepEqual(store.chunksOfFile('b.ts'), []);
    assert.equal(store.chunkCount, 1);
    await store.close();
    const again = await IndexStore.open(dir);
    assert.deepEqual(ids(again.chunks()), ids(a2.chunks));
    await again.close();
  });

  it('rejects inconsistent updates', async () => {
    const store = await IndexStore.open(dir, { shardCount: 2 });
    const a = fileWith('a.ts', 2);
    await assert.rejects(store.commit({ upserts: [{ ...a, vectors: [new Float32Array(3)] }], deletes: [] }), /no embedder/);
    await store.setEmbedder('e', 4);
    await assert.rejects(store.commit({ upserts: [{ ...a, vectors: [new Float32Array(3)] }], deletes: [] }), /3 dimensions, expected 4/);
    await assert.rejects(store.commit({ upserts: [{ file: a.file, chunks: fileWith('b.ts', 1).chunks }], deletes: [] }), /does not belong/);
    await assert.rejects(store.commit({ upserts: [a], deletes: ['a.ts'] }), /both upserted and deleted/);
    assert.equal(store.chunkCount, 0);
    await store.close();
  });

  it('rewrites only the shards of the files a commit touches', async () => {
    const store = await IndexStore.open(dir, { shardCount: 8 });
    await store.setEmbedder('e', 4);
    const files = Array.from({ length: 40 }, (_, i) => fileWith(`src/file${i}.ts`, 2));
    await store.commit({ upserts: files.map((f) => ({ ...f, vectors: f.chunks.map((c) => vectorFor(c.text, 4)) })), deletes: [] });
    const before = readManifest(dir);
    assert.ok(before.shards.every((s) => s.gen === before.seq), 'the first commit fills every shard');
    const mtimes = new Map(fs.readdirSync(path.join(dir, 'shards')).map((n) => [n, fs.statSync(path.join(dir, 'shards', n, 'docs.json')).mtimeMs]));

    const target = 'src/file7.ts';
    const shard = store.shardOf(target);
    await store.commit({ upserts: [fileWith(target, 3, 'v2')], deletes: [] });
    const after = readManifest(dir);
    after.shards.forEach((s, i) => {
      if (i === shard) assert.equal(s.gen, after.seq);
      else assert.deepEqual(s, before.shards[i]);
    });
    const names = fs.readdirSync(path.join(dir, 'shards')).sort();
    assert.equal(names.length, 8, 'the superseded generation is deleted');
    for (const n of names) {
      if (n.startsWith(String(shard).padStart(3, '0'))) assert.ok(!mtimes.has(n));
      else assert.equal(fs.statSync(path.join(dir, 'shards', n, 'docs.json')).mtimeMs, mtimes.get(n));
    }
    // The rewritten file's other chunks kept their vectors; its own new chunks have none.
    assert.equal(store.vectorCount, 80 - 2);
    await store.close();
  });

  it('attaches vectors progressively with setVectors', async () => {
    const store = await IndexStore.open(dir, { shardCount: 4 });
    await store.setEmbedder('e', 4);
    const files = Array.from({ length: 6 }, (_, i) => fileWith(`f${i}.ts`, 3));
    await store.commit({ upserts: files, deletes: [] });
    const todo = store.chunksWithoutVectors();
    assert.equal(todo.length, 18);
    const shardsOfTodo = todo.map((c) => store.shardOf(c.path));
    assert.deepEqual(shardsOfTodo, [...shardsOfTodo].sort((x, y) => x - y), 'grouped by shard');

    const first = todo.slice(0, 7);
    const gensBefore = readManifest(dir).shards.map((s) => s.gen);
    await store.setVectors([...first.map((c) => ({ id: c.id, vector: vectorFor(c.text, 4) })), { id: 'ghost.ts#1-2', vector: vectorFor('x', 4) }]);
    assert.equal(store.vectorCount, 7);
    assert.deepEqual(ids(store.chunksWithoutVectors()), ids(todo.slice(7)));
    const touched = new Set(first.map((c) => store.shardOf(c.path)));
    readManifest(dir).shards.forEach((s, i) => assert.equal(s.gen !== gensBefore[i], touched.has(i)));
    await assert.rejects(store.setVectors([{ id: first[0].id, vector: new Float32Array(2) }]), /2 dimensions, expected 4/);
    await store.close();

    const again = await IndexStore.open(dir);
    assert.equal(again.vectorCount, 7);
    assert.equal(again.chunksWithoutVectors().length, 11);
    const got = await again.vectorsOf(first.map((c) => c.id));
    for (const c of first) assert.deepEqual(got.get(c.id), vectorFor(c.text, 4));
    await again.close();
  });

  it('keeps a vector across an upsert only while the chunk text is unchanged', async () => {
    const store = await IndexStore.open(dir, { shardCount: 2 });
    await store.setEmbedder('e', 4);
    const a = fileWith('a.ts', 2);
    await store.commit({ upserts: [{ ...a, vectors: a.chunks.map((c) => vectorFor(c.text, 4)) }], deletes: [] });
    const edited = [a.chunks[0], makeChunk('a.ts', 6, 10, 'edited text')];
    await store.commit({ upserts: [{ file: fileRecord('a.ts', edited, 200), chunks: edited }], deletes: [] });
    assert.deepEqual(ids(store.chunksWithoutVectors()), [edited[1].id]);
    assert.equal(store.files().get('a.ts')?.size, 200);
    await store.close();
  });

  it('setEmbedder with a new vector space drops every vector but keeps the chunks', async () => {
    const store = await IndexStore.open(dir, { shardCount: 4 });
    await store.setEmbedder('e1', 4);
    const files = Array.from({ length: 5 }, (_, i) => fileWith(`f${i}.ts`, 2));
    await store.commit({ upserts: files.map((f) => ({ ...f, vectors: f.chunks.map((c) => vectorFor(c.text, 4)) })), deletes: [] });
    await store.setEmbedder('e1', 4); // same space: nothing happens
    assert.equal(store.vectorCount, 10);
    await store.setEmbedder('e2', 8);
    assert.equal(store.vectorCount, 0);
    assert.equal(store.chunkCount, 10);
    assert.equal(store.chunksWithoutVectors().length, 10);
    assert.deepEqual(await store.queryDense(vectorFor('q', 8), 3), []);
    await store.close();
    const again = await IndexStore.open(dir);
    assert.equal(again.embedderId, 'e2');
    assert.equal(again.dimensions, 8);
    assert.equal(again.vectorCount, 0);
    assert.deepEqual(ids(again.chunks()), ids(files.flatMap((f) => f.chunks)));
    assert.equal(fs.readdirSync(path.join(dir, 'shards')).some((n) => fs.existsSync(path.join(dir, 'shards', n, 'index.f32'))), false);
    await again.close();
  });

  it('queryDense returns the brute-force top-k across shards', async () => {
    const dims = 16;
    const rnd = rng(42);
    const store = await IndexStore.open(dir, { shardCount: 8 });
    await store.setEmbedder('e', dims);
    const vectors = new Map<string, Float32Array>();
    const files = Array.from({ length: 60 }, (_, i) => fileWith(`src/m${i}.ts`, 5));
    const upserts = files.map((f) => {
      const vs = f.chunks.map((c, k) => (k === 4 ? null : randomUnit(dims, rnd))); // some unembedded
      f.chunks.forEach((c, k) => vs[k] && vectors.set(c.id, vs[k]));
      return { ...f, vectors: vs };
    });
    await store.commit({ upserts, deletes: [] });
    await store.close();
    const again = await IndexStore.open(dir);
    for (let q = 0; q < 10; q++) {
      const query = randomUnit(dims, rnd);
      const expected = [...vectors]
        .map(([id, v]) => ({ id, score: v.reduce((s, x, i) => s + x * query[i], 0) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 7);
      const got = await again.queryDense(query, 7);
      assert.deepEqual(got.map((r) => r.chunk.id), expected.map((e) => e.id));
      got.forEach((r, i) => assert.ok(Math.abs(r.score - expected[i].score) < 1e-5));
      assert.equal(got[0].chunk.text, files.flatMap((f) => f.chunks).find((c) => c.id === got[0].chunk.id)!.text);
    }
    await assert.rejects(again.queryDense(new Float32Array(3), 2), /3 dimensions/);
    await again.close();
  });

  it('round-trips chunk texts and terms exactly, Unicode and empty ones included', async () => {
    const texts = ['const naïve = "日本語"; // ✓ emoji 🚀', '', 'line\n\ttab "quotes" \\ back', 'getUserName(userId) { return users[userId]; }'];
    const chunks: IndexedChunk[] = texts.map((text, k) => {
      const c = { path: 'src/ü/a.ts', startLine: k * 5 + 1, endLine: k * 5 + 5, symbol: k % 2 ? null : `Sym${k}.métho${k}`, kind: 'function', language: 'typescript', text, hash: `h${k}` };
      return { ...c, id: chunkId(c), terms: computeTerms(c) };
    });
    const store = await IndexStore.open(dir, { shardCount: 2 });
    await store.commit({ upserts: [{ file: fileRecord('src/ü/a.ts', chunks), chunks }], deletes: [] });
    await store.close();
    const again = await IndexStore.open(dir);
    assert.deepEqual([...again.chunks()], chunks);
    await again.close();
  });

  it('queryDense breaks score ties by id and gives a zero query no hits', async () => {
    const store = await IndexStore.open(dir, { shardCount: 4 });
    await store.setEmbedder('e', 4);
    const files = ['d.ts', 'b.ts', 'c.ts', 'a.ts'].map((p) => fileWith(p, 2, 'same'));
    const v = vectorFor('one direction', 4);
    await store.commit({ upserts: files.map((f) => ({ ...f, vectors: f.chunks.map(() => v) })), deletes: [] });
    const all = files.flatMap((f) => f.chunks.map((c) => c.id)).sort();
    assert.deepEqual((await store.queryDense(v, 5)).map((r) => r.chunk.id), all.slice(0, 5));
    assert.deepEqual(await store.queryDense(new Float32Array(4), 3), []);
    await store.close();
  });

  it('writes vector files that vectra itself reads with the same ranking', async () => {
    const dims = 8;
    const rnd = rng(3);
    const store = await IndexStore.open(dir, { shardCount: 1 });
    await store.setEmbedder('e', dims);
    const f = fileWith('src/a.ts', 20);
    await store.commit({ upserts: [{ ...f, vectors: f.chunks.map(() => randomUnit(dims, rnd)) }], deletes: [] });
    const query = randomUnit(dims, rnd);
    const ours = (await store.queryDense(query, 5)).map((r) => r.chunk.id);
    await store.close();
    const shard = path.join(dir, 'shards', fs.readdirSync(path.join(dir, 'shards'))[0]);
    const { LocalIndex } = await import('vectra');
    const theirs = await new LocalIndex(shard, 'index.f32', undefined, new Float32Codec()).queryItems(query as unknown as number[], '', 5);
    assert.deepEqual(theirs.map((r) => r.item.id), ours);
  });

  it('opens and lists files without loading vectra or parsing vectors', async () => {
    const store = await IndexStore.open(dir, { shardCount: 4 });
    await store.setEmbedder('e', 4);
    const f = fileWith('a.ts', 4);
    await store.commit({ upserts: [{ ...f, vectors: f.chunks.map((c) => vectorFor(c.text, 4)) }], deletes: [] });
    await store.close();
    const script = `require(${JSON.stringify(STORE_JS)}).IndexStore.open(${JSON.stringify(dir)}).then(async (s) => {
      const out = { files: s.files().size, chunks: [...s.chunks()].length, todo: s.chunksWithoutVectors().length,
        vectra: Object.keys(require.cache).some((k) => k.includes('node_modules/vectra/')) };
      await s.close(); console.log(JSON.stringify(out)); })`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { files: 1, chunks: 4, todo: 0, vectra: false });
  });

  it('sweeps generations and temp files that no manifest names', async () => {
    const store = await IndexStore.open(dir, { shardCount: 4 });
    await store.commit({ upserts: [fileWith('a.ts', 1)], deletes: [] });
    await store.close();
    fs.mkdirSync(path.join(dir, 'shards', '002.77'));
    fs.writeFileSync(path.join(dir, 'shards', '002.77', 'docs.json'), '{');
    fs.writeFileSync(path.join(dir, '.manifest.json.1.abcd.tmp'), 'half');
    const again = await IndexStore.open(dir);
    assert.equal(fs.existsSync(path.join(dir, 'shards', '002.77')), false);
    assert.equal(fs.existsSync(path.join(dir, '.manifest.json.1.abcd.tmp')), false);
    assert.equal(again.chunkCount, 1);
    await again.close();
  });

  describe('damage', () => {
    async function build(): Promise<void> {
      const store = await IndexStore.open(dir, { shardCount: 4 });
      await store.setEmbedder('e', 4);
      const files = Array.from({ length: 8 }, (_, i) => fileWith(`f${i}.ts`, 2));
      await store.commit({ upserts: files.map((f) => ({ ...f, vectors: f.chunks.map((c) => vectorFor(c.text, 4)) })), deletes: [] });
      await store.close();
    }
    /** The first shard directory, its shard number and the files it lists. */
    function victim(): { dir: string; shard: number; files: string[] } {
      const name = fs.readdirSync(path.join(dir, 'shards')).sort()[0];
      const shardDir = path.join(dir, 'shards', name);
      const files = (JSON.parse(fs.readFileSync(path.join(shardDir, 'files.json'), 'utf8')) as { files: { path: string }[] }).files.map((f) => f.path);
      return { dir: shardDir, shard: Number(name.split('.')[0]), files };
    }
    function truncate(file: string): void {
      fs.writeFileSync(file, fs.readFileSync(file).subarray(0, Math.floor(fs.statSync(file).size / 2)));
    }
    /** Flips one bit in the middle: same size, still parses as far as a decoder can tell. */
    function flipBit(file: string): void {
      const bytes = fs.readFileSync(file);
      bytes[bytes.length >> 1] ^= 0x04;
      fs.writeFileSync(file, bytes);
    }

    const forms: { name: string; file: string; damage: (shardDir: string) => void; vectorsOnly?: boolean }[] = [
      { name: 'a truncated docs.bin', file: 'docs.bin', damage: (d) => truncate(path.join(d, 'docs.bin')) },
      { name: 'a bit-flipped docs.bin', file: 'docs.bin', damage: (d) => flipBit(path.join(d, 'docs.bin')) },
      { name: 'a truncated index.f32', file: 'index.f32', damage: (d) => truncate(path.join(d, 'index.f32')), vectorsOnly: true },
      { name: 'a bit-flipped index.f32', file: 'index.f32', damage: (d) => flipBit(path.join(d, 'index.f32')), vectorsOnly: true },
      { name: 'garbage in docs.json', file: 'docs.json', damage: (d) => fs.writeFileSync(path.join(d, 'docs.json'), '{"vocab": [tru') },
      { name: 'garbage in files.json', file: 'files.json', damage: (d) => fs.writeFileSync(path.join(d, 'files.json'), 'not json at all') },
      { name: 'a deleted shard directory', file: 'files.json', damage: (d) => fs.rmSync(d, { recursive: true }) },
    ];
    for (const form of forms) {
      it(`${form.name}: reads leave the shard out, checkShards names it, clearShards empties it`, async () => {
        await build();
        const v = victim();
        const all = await IndexStore.open(dir);
        const healthy = ids([...all.chunks()].filter((c) => !v.files.includes(c.path)));
        const victimChunks = ids([...all.chunks()].filter((c) => v.files.includes(c.path)));
        await all.close();
        form.damage(v.dir);

        const store = await IndexStore.open(dir); // never fails on a damaged shard
        const chunks = ids(store.chunks());
        assert.deepEqual(chunks, form.vectorsOnly ? [...healthy, ...victimChunks].sort() : healthy, 'chunks come from the intact docs only');
        const dense = await store.queryDense(vectorFor('q', 4), 100);
        assert.deepEqual(ids(dense.map((r) => r.chunk)), healthy, 'dense search leaves the damaged shard out');
        const damage = await store.checkShards();
        assert.deepEqual([...damage.keys()], [v.shard]);
        assert.match(damage.get(v.shard)!, new RegExp(form.file.replace('.', '\\.')));
        assert.match(store.damageNotice() ?? '', /1 of 4 index shards are damaged .*results may be incomplete; run `baton index`/);
        assert.deepEqual(store.chunksWithoutVectors(), []);
        await store.clearShards(damage.keys());
        assert.equal(store.damage().size, 0);
        assert.equal(store.damageNotice(), undefined);
        assert.deepEqual(ids(store.chunks()), healthy);
        assert.ok(!v.files.some((p) => store.files().has(p)), 'its files are gone, to be indexed again');
        assert.ok(!fs.existsSync(v.dir));
        await store.close();
        const again = await IndexStore.open(dir);
        assert.deepEqual(await again.checkShards(), new Map());
        await again.close();
      });
    }

    it('a commit rebuilds a damaged shard from its own files alone', async () => {
      await build();
      const v = victim();
      truncate(path.join(v.dir, 'docs.bin'));
      const store = await IndexStore.open(dir);
      await store.checkShards();
      const fresh = fileWith(v.files[0], 3, 'v2');
      await store.commit({ upserts: [fresh], deletes: [] });
      assert.equal(store.damage().size, 0);
      assert.deepEqual(store.chunksOfFile(v.files[0]), fresh.chunks);
      for (const p of v.files.slice(1)) assert.equal(store.files().has(p), false);
      await store.close();
    });

    it('a damaged manifest: readers use one rebuilt from the shard files; a writer saves it', async () => {
      await build();
      const before = await IndexStore.open(dir);
      const expected = signature(await modelOf(before));
      await before.close();
      const shardDirs = fs.readdirSync(path.join(dir, 'shards')).sort();
      truncate(path.join(dir, 'manifest.json'));
      const reader = await IndexStore.open(dir);
      assert.equal(signature(await modelOf(reader)), expected);
      assert.equal(reader.dimensions, 4);
      assert.match(reader.damageNotice() ?? '', /manifest\.json was damaged .*rebuilt from the shard files.*run `baton index`/);
      await reader.close();
      assert.throws(() => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')), 'a reader writes nothing');
      const writer = await IndexStore.open(dir);
      await writer.beginWriting();
      await writer.close();
      assert.equal(readManifest(dir).shards.filter((e) => e.gen > 0).length, shardDirs.length);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'shards')).sort(), shardDirs, 'no shard rewritten');
      const after = await IndexStore.open(dir);
      assert.equal(after.damageNotice(), undefined);
      assert.equal(signature(await modelOf(after)), expected);
      await after.close();
    });

    it('a damaged manifest: each shard comes from its newest intact generation', async () => {
      await build();
      const v = victim();
      // What a writer killed mid-commit leaves: a newer, incomplete generation of the shard.
      const [num, gen] = path.basename(v.dir).split('.');
      const newer = path.join(dir, 'shards', `${num}.${Number(gen) + 5}`);
      fs.cpSync(v.dir, newer, { recursive: true });
      truncate(path.join(newer, 'docs.bin'));
      const before = await IndexStore.open(dir);
      const expected = signature(await modelOf(before));
      await before.close();
      fs.writeFileSync(path.join(dir, 'manifest.json'), '{"format": 2, "shards": "garbage"}');
      const store = await IndexStore.open(dir);
      assert.equal(signature(await modelOf(store)), expected);
      assert.equal(store.damage().size, 0);
      await store.close();
    });

    it('an index written before checksums opens unverified and gains them with the next write', async () => {
      await build();
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ManifestOnDisk & { shards: { sums?: unknown }[] };
      for (const e of m.shards) delete e.sums;
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
      const store = await IndexStore.open(dir);
      assert.equal(store.files().size, 8);
      assert.deepEqual(await store.checkShards(), new Map());
      await store.commit({ upserts: [fileWith('new.ts', 1)], deletes: [] });
      await store.close();
      assert.ok(readManifest(dir).shards.every((e) => e.gen === 0 || e.sums), 'every shard has checksums now');
      // Without checksums a truncation is still caught by decoding.
      const v = victim();
      const upgraded = readManifest(dir);
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...upgraded, shards: upgraded.shards.map((e) => ({ gen: e.gen, chunks: e.chunks, vectors: e.vectors })) }));
      truncate(path.join(v.dir, 'docs.bin'));
      const legacy = await IndexStore.open(dir);
      assert.deepEqual([...(await legacy.checkShards()).keys()], [v.shard]);
      await legacy.close();
    });

    it('a manifest of another format version', async () => {
      await build();
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...m, format: 99 }));
      await assert.rejects(IndexStore.open(dir), (err: Error) => err instanceof IndexCorruptError && /format 99/.test(err.message) && /baton index --rebuild/.test(err.message));
    });

    it('an index of the previous format (1) asks for a rebuild, and reset() rebuilds it', async () => {
      await build();
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...m, format: 1 }));
      await assert.rejects(IndexStore.open(dir), /format 1, this baton reads format 2/);
      await IndexStore.reset(dir);
      const store = await IndexStore.open(dir);
      assert.equal(store.chunkCount, 0);
      await store.close();
    });

    it('reset() recovers and keeps the embedding cache', async () => {
      await build();
      const cache = await EmbeddingCache.open(dir, 'e', 4);
      await cache.putMany([{ hash: 'ab'.repeat(16), vector: vectorFor('x', 4) }]);
      await cache.close();
      truncate(path.join(dir, 'manifest.json'));
      await IndexStore.reset(dir);
      const store = await IndexStore.open(dir);
      assert.equal(store.chunkCount, 0);
      assert.equal(store.files().size, 0);
      await store.commit({ upserts: [fileWith('a.ts', 1)], deletes: [] });
      await store.close();
      const cacheAgain = await EmbeddingCache.open(dir, 'e', 4);
      assert.deepEqual(cacheAgain.get('ab'.repeat(16)), vectorFor('x', 4));
      await cacheAgain.close();
    });
  });

  describe('writer lock', () => {
    let holder: ChildProcess | undefined;
    afterEach(() => {
      holder?.kill('SIGKILL');
      holder = undefined;
    });

    async function holdInChild(): Promise<ChildProcess> {
      const lockJs = path.join(__dirname, '..', '..', '..', 'src', 'base', 'node', 'lock.js');
      const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(lockJs)}).acquireLock(${JSON.stringify(dir)}).then(() => { console.log('held'); setInterval(() => {}, 1000); })`]);
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
        child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      return child;
    }

    it('is exclusive within a process and released by its release function', async () => {
      fs.mkdirSync(dir, { recursive: true });
      const release = await acquireLock(dir);
      await assert.rejects(acquireLock(dir), LockHeldError);
      await release();
      await release(); // idempotent
      assert.equal(fs.existsSync(path.join(dir, 'index.lock')), false);
      const again = await acquireLock(dir);
      await again();
    });

    it('names the live process that holds it, and takes it over once that process died', async () => {
      const store = await IndexStore.open(dir, { shardCount: 2 });
      holder = await holdInChild();
      const pid = holder.pid!;
      await assert.rejects(acquireLock(dir), new RegExp(`another baton process is indexing this workspace \\(pid ${pid}, .*\\); wait for it`));
      await assert.rejects(store.commit({ upserts: [fileWith('a.ts', 1)], deletes: [] }), new RegExp(`pid ${pid}`));
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder!.once('exit', resolve));
      assert.ok(fs.existsSync(path.join(dir, 'index.lock')), 'a killed holder leaves its lock file');
      await store.commit({ upserts: [fileWith('a.ts', 1)], deletes: [] });
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'index.lock'), 'utf8')).pid, process.pid);
      await store.close();
      assert.equal(fs.existsSync(path.join(dir, 'index.lock')), false);
    });

    it('a writer that opened before another committed starts from the newer state', async () => {
      const first = await IndexStore.open(dir, { shardCount: 2 });
      const second = await IndexStore.open(dir);
      await first.commit({ upserts: [fileWith('a.ts', 1)], deletes: [] });
      await first.close();
      await second.commit({ upserts: [fileWith('b.ts', 1)], deletes: [] });
      assert.deepEqual([...second.files().keys()].sort(), ['a.ts', 'b.ts']);
      await second.close();
    });
  });

  it('survives SIGKILL at random moments: it reopens in a committed state', async function () {
    this.timeout(120_000);
    const rnd = rng(Date.now());
    let midCommit = 0;
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const child = spawn(process.execPath, [CRASH_WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let last = ''; // signature of the last completed state
      let pending: string | null = null; // announced by `begin`, not yet `done`
      let commits = 0;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let buf = '';
      const enoughCommits = new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            const [word, sig] = line.split(' ');
            if (word === 'start') last = sig;
            else if (word === 'begin') pending = sig;
            else if (word === 'done') {
              last = pending!;
              pending = null;
              if (++commits === 2) resolve();
            }
          }
        });
      });
      const outcome = await Promise.race([enoughCommits.then(() => 'ok'), exited.then(() => 'exited')]);
      assert.equal(outcome, 'ok', `crash writer stopped early: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20 + rnd() * 400));
      child.kill('SIGKILL');
      await exited;
      if (pending) midCommit++;

      const store = await IndexStore.open(dir);
      const sig = signature(await modelOf(store));
      const allowed = pending ? [last, pending] : [last];
      assert.ok(allowed.includes(sig), `round ${round}: reopened state is none of the announced ones (${commits} commits)`);
      assert.equal(store.embedderId, CRASH_EMBEDDER);
      assert.equal(store.dimensions, CRASH_DIMS);
      const m = readManifest(dir);
      const live = m.shards.filter((s) => s.gen > 0).length;
      assert.equal(fs.readdirSync(path.join(dir, 'shards')).length, live, 'leftover generations are swept');
      await store.close();
    }
    // Most kills should land inside a commit; report rather than fail, timing is random.
    if (midCommit === 0) console.warn(`      (no kill landed mid-commit in ${rounds} rounds)`);
  });
});
