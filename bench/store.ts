// Benchmark of the index store (and the embedding cache) at realistic sizes, with synthetic
// 40-line code-like chunks (terms from computeTerms) and random 384-d unit vectors. Prints
// figures; no thresholds.
//   node out/bench/store.js [--sizes 10000,100000]
// Each size runs in its own process (peak RSS per size). What `baton search` pays (open, load
// every chunk, build the lexical index, first hybrid query) runs in a fresh process.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Embedder } from '../src/core/embed/types';
import { computeTerms } from '../src/core/search/codeTokens';
import { EmbeddingCache } from '../src/core/store/embeddingCache';
import { LexicalIndex } from '../src/core/search/lexical';
import { Retriever } from '../src/core/search/retriever';
import { IndexStore } from '../src/core/store/store';
import { chunkId, type FileRecord, type IndexedChunk } from '../src/core/indexing/types';
import { contentHash } from '../src/base/node/hash';

const DIMS = 384;
const CHUNKS_PER_FILE = 10;
const EMBEDDER = 'bench/random-384';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function unitVector(rnd: () => number): Float32Array {
  const v = new Float32Array(DIMS);
  let n = 0;
  for (let i = 0; i < DIMS; i++) n += (v[i] = rnd() * 2 - 1) ** 2;
  n = Math.sqrt(n);
  for (let i = 0; i < DIMS; i++) v[i] /= n;
  return v;
}

const WORDS = Array.from({ length: 2000 }, (_, i) => `w${i.toString(36)}${'abcdefgh'[i % 8]}`);
/** 20k camelCase identifiers, drawn with a skew (a few are everywhere, most are rare). */
const IDENTS = Array.from({ length: 20_000 }, (_, i) => WORDS[i % 2000] + WORDS[(i * 7919) % 2000].replace(/^./, (c) => c.toUpperCase()));

/** ~1.5 KB of code-like text: 40 lines over a local vocabulary of 16 identifiers and 16 words,
 * which gives ~70 distinct terms per chunk, as 40-line windows of real code do. */
function syntheticText(rnd: () => number, k: number, tag: string): string {
  const ids = Array.from({ length: 16 }, () => IDENTS[Math.floor(rnd() * rnd() * IDENTS.length)]);
  const words = Array.from({ length: 16 }, () => WORDS[Math.floor(rnd() * WORDS.length)]);
  const any = (xs: string[]) => xs[Math.floor(rnd() * xs.length)];
  const lines = [`${tag}function f${k}() {`];
  for (let l = 0; l < 38; l++) lines.push(`  const ${any(ids)} = ${any(ids)}("${any(words)}");`);
  return lines.join('\n') + '\n}';
}

function syntheticFile(i: number, rnd: () => number, tag = ''): { file: FileRecord; chunks: IndexedChunk[]; vectors: Float32Array[] } {
  const p = `src/module${Math.floor(i / 50)}/file${i}.ts`;
  const chunks: IndexedChunk[] = [];
  for (let k = 0; k < CHUNKS_PER_FILE; k++) {
    const text = syntheticText(rnd, k, tag);
    const c = { path: p, startLine: k * 20 + 1, endLine: k * 20 + 20, symbol: `f${k}`, kind: 'function', language: 'typescript', text, hash: contentHash(text) };
    chunks.push({ ...c, id: chunkId(c), terms: computeTerms(c) });
  }
  const file: FileRecord = { path: p, size: 4000, mtimeMs: 1_700_000_000_000 + i, hash: contentHash(p + tag), language: 'typescript', chunkCount: CHUNKS_PER_FILE };
  return { file, chunks, vectors: chunks.map(() => unitVector(rnd)) };
}

function dirSize(dir: string, skip?: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.name === skip) continue;
    total += e.isDirectory() ? dirSize(full) : fs.statSync(full).size;
  }
  return total;
}

/** Bytes of files written (not hard-linked) in generation dirs that `before` lacked, plus the manifest. */
function bytesWritten(dir: string, before: Set<string>): number {
  let total = fs.statSync(path.join(dir, 'manifest.json')).size;
  for (const name of fs.readdirSync(path.join(dir, 'shards'))) {
    if (before.has(name)) continue;
    for (const f of fs.readdirSync(path.join(dir, 'shards', name))) {
      const st = fs.statSync(path.join(dir, 'shards', name, f));
      if (st.nlink === 1) total += st.size;
    }
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
/** Wall time and, since the machine may be shared, this process's CPU time next to it. */
interface Took {
  wall: number;
  cpu: number;
}
const ms = (t: Took) => `${t.wall.toFixed(0)} ms (cpu ${t.cpu.toFixed(0)})`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, Took]> {
  const t = performance.now();
  const c = process.cpuUsage();
  const r = await fn();
  const used = process.cpuUsage(c);
  return [r, { wall: performance.now() - t, cpu: (used.user + used.system) / 1000 }];
}

async function build(n: number): Promise<void> {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-')), '.baton');
  const rnd = rng(n);
  const files = Array.from({ length: n / CHUNKS_PER_FILE }, (_, i) => syntheticFile(i, rnd));
  const out: Record<string, string> = { chunks: String(n), files: String(files.length) };

  const [store, tBuild] = await timed(async () => {
    const s = await IndexStore.open(dir);
    await s.setEmbedder(EMBEDDER, DIMS);
    await s.commit({ upserts: files, deletes: [] });
    return s;
  });
  out['initial build (1 commit, vectra load included)'] = ms(tBuild);

  const victim = files.length >> 1;
  const before = new Set(fs.readdirSync(path.join(dir, 'shards')));
  const [, tUpdate] = await timed(() => store.commit({ upserts: [syntheticFile(victim, rnd, 'edited ')], deletes: [] }));
  out['one-file update (10 chunks + vectors)'] = `${ms(tUpdate)}, ${mb(bytesWritten(dir, before))} written`;

  const before2 = new Set(fs.readdirSync(path.join(dir, 'shards')));
  const noVec = syntheticFile(victim + 1, rnd, 'edited ');
  await store.commit({ upserts: [{ file: noVec.file, chunks: noVec.chunks }], deletes: [] });
  const before3 = new Set(fs.readdirSync(path.join(dir, 'shards')));
  const [, tSet] = await timed(() => store.setVectors(noVec.chunks.map((c, i) => ({ id: c.id, vector: noVec.vectors[i] }))));
  out['one-file update without vectors'] = `${mb(bytesWritten(dir, before2))} written`;
  out['setVectors of that file (10 vectors)'] = `${ms(tSet)}, ${mb(bytesWritten(dir, before3))} written`;
  await store.close();
  out['index size on disk'] = mb(dirSize(dir, 'embeddings'));

  // Embedding cache holding every vector.
  const [cache, tCache] = await timed(async () => {
    const c = await EmbeddingCache.open(dir, EMBEDDER, DIMS);
    await c.putMany(files.flatMap((f) => f.chunks.map((ch, i) => ({ hash: ch.hash, vector: f.vectors[i] }))));
    return c;
  });
  await cache.close();
  const [reopened, tCacheOpen] = await timed(() => EmbeddingCache.open(dir, EMBEDDER, DIMS));
  out[`embedding cache: putMany(${n})`] = `${ms(tCache)}; reopen ${ms(tCacheOpen)} (${reopened.size} entries, ${mb(fs.statSync(reopened.file).size)})`;
  await reopened.close();
  out['peak RSS (build process)'] = mb(process.resourceUsage().maxRSS * 1024);

  const q = spawnSync(process.execPath, ['--max-old-space-size=8192', __filename, '--query', dir], { encoding: 'utf8' });
  if (q.status !== 0) throw new Error(q.stderr);
  Object.assign(out, JSON.parse(q.stdout) as Record<string, string>);
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  console.log(JSON.stringify(out));
}

// Exposes gc() so heap figures are measured after collection (no need for --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap plus typed-array and Buffer storage, after a full collection. */
function liveMemory(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Answers every query with one fixed vector: the bench measures the index, not a model. */
function fixedEmbedder(vector: Float32Array): Embedder {
  return { id: EMBEDDER, dimensions: DIMS, init: async () => {}, embed: async (texts) => texts.map(() => vector), dispose: async () => {} };
}

async function query(dir: string): Promise<void> {
  const out: Record<string, string> = {};
  const rnd = rng(7);
  const mem0 = liveMemory();
  // What one `baton search` pays: open, every chunk into the lexical index, one hybrid query.
  const [store, tOpen] = await timed(() => IndexStore.open(dir, { create: false }));
  const [chunks, tChunks] = await timed(async () => [...store.chunks()]);
  const lexical = new LexicalIndex();
  const [, tAdd] = await timed(async () => { for (const c of chunks) lexical.add(c); });
  const memLexical = liveMemory();
  const retriever = new Retriever(store, lexical, fixedEmbedder(unitVector(rnd)));
  const [first, tFirst] = await timed(() => retriever.search('wabca wbcde function', { k: 10 }));
  if (first.mode !== 'hybrid') throw new Error(`first query ran ${first.mode}: ${first.notices.join('; ')}`);
  const memAll = liveMemory();
  const sum = (...ts: Took[]): Took => ({ wall: ts.reduce((n, t) => n + t.wall, 0), cpu: ts.reduce((n, t) => n + t.cpu, 0) });
  out['open (manifest + file lists)'] = ms(tOpen);
  out['load all chunks (store.chunks())'] = `${ms(tChunks)} (${chunks.length})`;
  out['build LexicalIndex (add all)'] = ms(tAdd);
  out['first hybrid query (loads vectors)'] = ms(tFirst);
  out['TOTAL open → first hybrid answer'] = ms(sum(tOpen, tChunks, tAdd, tFirst));
  out['memory: chunks + lexical index'] = mb(memLexical - mem0);
  out['memory: + vectors (everything loaded)'] = mb(memAll - mem0);
  const took: Took[] = [];
  for (let i = 0; i < 100; i++) took.push((await timed(() => store.queryDense(unitVector(rnd), 10)))[1]);
  const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1].toFixed(1);
  const wall = took.map((t) => t.wall);
  const cpu = took.map((t) => t.cpu);
  out['queryDense k=10 p50 / p95 (100 queries)'] = `${pct(wall, 50)} / ${pct(wall, 95)} ms (cpu ${pct(cpu, 50)} / ${pct(cpu, 95)})`;
  await store.close();
  // A fresh instance: dense alone, as `--mode dense` or the first query before the lexical index.
  const fresh = await IndexStore.open(dir, { create: false });
  const [, tDense] = await timed(() => fresh.queryDense(unitVector(rnd), 10));
  out['first queryDense alone, fresh open'] = ms(tDense);
  await fresh.close();
  // What every `baton index` now pays first: each shard file read and checked against its CRC-32.
  const checked = await IndexStore.open(dir, { create: false });
  const [damage, tCheck] = await timed(() => checked.checkShards());
  const [, tAgain] = await timed(() => checked.checkShards());
  out['checkShards (every shard file read + CRC-32)'] = `${ms(tCheck)} (${damage.size} damaged); again in this process ${ms(tAgain)}`;
  await checked.close();
  out['peak RSS (query process)'] = mb(process.resourceUsage().maxRSS * 1024);
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--query') return query(args[1]);
  if (args[0] === '--build') return build(Number(args[1]));
  const sizes = (args[args.indexOf('--sizes') + 1] && args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : '10000,100000').split(',').map(Number);
  console.log(`store bench: ${DIMS}-d vectors, ${CHUNKS_PER_FILE} chunks/file, 64 shards, node ${process.version}, ${os.cpus().length} cpus`);
  for (const n of sizes) {
    const r = spawnSync(process.execPath, ['--max-old-space-size=8192', __filename, '--build', String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench at ${n} failed`);
    const figures = JSON.parse(r.stdout) as Record<string, string>;
    console.log(`\n== ${n} chunks ==`);
    for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(48)} ${v}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
