// The persistent index of a workspace, in `<workspace>/.baton/`.
//
// Layout (format 2):
//   manifest.json            the committed state: embedder, shard count, generation per shard
//   shards/<nnn>.<gen>/      one immutable generation of shard nnn:
//     files.json             FileRecords of the shard's files (read at open: small)
//     docs.json, docs.bin    IndexedChunks of the shard (read on first use; docsCodec.ts)
//     index.f32              vectra LocalIndex of the shard's vectors (absent when it has none;
//                            vectorCodec.ts, which also reads and searches it without vectra)
//   index.lock               writer lock (util/lock.ts)
//   embeddings/              embedding cache (embeddingCache.ts), kept by reset()
//
// Why sharded copy-on-write: vectra rewrites its whole index file on every update and one JSON
// file cannot hold 100k vectors. Files are spread over shards by a stable hash of their path, so
// a commit rewrites only the shards its files live in. A commit writes fresh generation
// directories and then swaps manifest.json atomically; a kill at any moment leaves the previous
// manifest, which names only complete generations. Generations no manifest names are swept.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { LocalIndex } from 'vectra';
import { ensureBatonDir, fsyncDir, fsyncFile, isTempFile, writeFileAtomic, writeFileDurable } from '../util/atomicFile';
import { acquireLock, tryAcquireLock, type ReleaseLock } from '../util/lock';
import { decodeDocs, encodeDocs, parseDocsJson } from './docsCodec';
import type { FileRecord, IndexedChunk, RankedChunk } from './types';
import { decodeVectorFile, Float32Codec, readVectorIds, rowOf, scanCosine, TopHits, vectorNorm, vectorSetOf, type VectorSet } from './vectorCodec';

/** 2: chunk texts and terms moved from docs.json into docs.bin. */
export const STORE_FORMAT = 2;
export const DEFAULT_SHARD_COUNT = 64;
const MANIFEST = 'manifest.json';
const SHARDS = 'shards';
const FILES_JSON = 'files.json';
const DOCS_JSON = 'docs.json';
const DOCS_BIN = 'docs.bin';
const VECTORS_FILE = 'index.f32';
/** Shards written at once: overlaps the fsync waits without holding many shards in memory. */
const WRITE_CONCURRENCY = 4;
/** Vector files read at once by a query: overlaps reads with decoding. */
const READ_CONCURRENCY = 8;

export class IndexCorruptError extends Error {
  constructor(dir: string, what: string) {
    super(`the index at ${dir} is corrupt (${what}); run \`baton index --rebuild\` to rebuild it`);
    this.name = 'IndexCorruptError';
  }
}

interface ShardEntry {
  /** Commit sequence number that wrote the shard's directory; 0 = empty shard, no directory. */
  gen: number;
  chunks: number;
  vectors: number;
}

interface Manifest {
  format: number;
  embedderId: string | null;
  dimensions: number | null;
  shardCount: number;
  /** Number of the last commit; names the generations it wrote. */
  seq: number;
  shards: ShardEntry[];
}

/** What is loaded of one shard; docs and vectors load on first use. */
interface ShardCache {
  files: Map<string, FileRecord>;
  docs?: IndexedChunk[];
  byFile?: Map<string, IndexedChunk[]>;
  byId?: Map<string, IndexedChunk>;
  vectorIds?: Set<string>;
  vectors?: VectorSet;
}

export interface StoreUpdate {
  upserts: { file: FileRecord; chunks: IndexedChunk[]; vectors?: (Float32Array | null)[] }[];
  deletes: string[];
}

export interface OpenOptions {
  /** Shards of a new store (an existing store keeps its own). Default 64. */
  shardCount?: number;
  /** Create the store when missing. Default true. */
  create?: boolean;
}

export class IndexStore {
  private manifest: Manifest;
  private shards: ShardCache[] = [];
  private allFiles = new Map<string, FileRecord>();
  private release: ReleaseLock | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(readonly dir: string, manifest: Manifest) {
    this.manifest = manifest;
  }

  static async open(batonDir: string, opts: OpenOptions = {}): Promise<IndexStore> {
    const dir = path.resolve(batonDir);
    const manifestPath = path.join(dir, MANIFEST);
    if (!fs.existsSync(manifestPath)) {
      if (opts.create === false) throw new Error(`no index at ${dir}; run \`baton index\` first`);
      const shardCount = opts.shardCount ?? DEFAULT_SHARD_COUNT;
      if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 4096) {
        throw new Error(`shardCount must be an integer in 1..4096, got ${shardCount}`);
      }
      await ensureBatonDir(dir);
      const release = await acquireLock(dir);
      try {
        if (!fs.existsSync(manifestPath)) await writeManifest(dir, emptyManifest(shardCount));
      } finally {
        await release();
      }
    }
    // Sweep what a killed writer left behind, but only while no live writer is mid-commit.
    const release = await tryAcquireLock(dir);
    try {
      const store = new IndexStore(dir, readManifest(dir));
      store.loadFileRecords();
      if (release) await store.sweep();
      return store;
    } finally {
      await release?.();
    }
  }

  /** Deletes the index data (manifest and shards); the embedding cache stays. */
  static async reset(batonDir: string): Promise<void> {
    const dir = path.resolve(batonDir);
    if (!fs.existsSync(dir)) return;
    const release = await acquireLock(dir);
    try {
      // Manifest first: a kill in between leaves "no index", never a manifest naming missing shards.
      await fsp.rm(path.join(dir, MANIFEST), { force: true });
      await fsyncDir(dir);
      await fsp.rm(path.join(dir, SHARDS), { recursive: true, force: true });
    } finally {
      await release();
    }
  }

  get embedderId(): string | null {
    return this.manifest.embedderId;
  }

  get dimensions(): number | null {
    return this.manifest.dimensions;
  }

  get shardCount(): number {
    return this.manifest.shardCount;
  }

  get chunkCount(): number {
    return this.manifest.shards.reduce((n, s) => n + s.chunks, 0);
  }

  get vectorCount(): number {
    return this.manifest.shards.reduce((n, s) => n + s.vectors, 0);
  }

  files(): ReadonlyMap<string, FileRecord> {
    return this.allFiles;
  }

  *chunks(): Iterable<IndexedChunk> {
    for (let s = 0; s < this.shards.length; s++) {
      if (this.manifest.shards[s].chunks > 0) yield* this.docs(s).docs;
    }
  }

  chunksOfFile(filePath: string): IndexedChunk[] {
    const s = this.shardOf(filePath);
    if (this.manifest.shards[s].chunks === 0) return [];
    return [...(this.docs(s).byFile.get(filePath) ?? [])];
  }

  /** Chunks without a vector, grouped by shard: embedding them in this order and passing each
   * batch to setVectors keeps every setVectors commit down to one or two shards. */
  chunksWithoutVectors(): IndexedChunk[] {
    const out: IndexedChunk[] = [];
    for (let s = 0; s < this.shards.length; s++) {
      const entry = this.manifest.shards[s];
      if (entry.chunks === entry.vectors) continue;
      const ids = this.vectorIds(s);
      for (const c of this.docs(s).docs) if (!ids.has(c.id)) out.push(c);
    }
    return out;
  }

  /** Stored vectors of the given chunk ids (unknown or unembedded ids are absent). */
  async vectorsOf(ids: Iterable<string>): Promise<Map<string, Float32Array>> {
    const byShard = new Map<number, string[]>();
    for (const id of ids) {
      const s = this.shardOf(pathOfId(id));
      byShard.set(s, [...(byShard.get(s) ?? []), id]);
    }
    const out = new Map<string, Float32Array>();
    for (const [s, list] of byShard) {
      if (this.manifest.shards[s].vectors === 0) continue;
      const vectors = await this.shardVectors(s);
      for (const id of list) {
        const v = vectors.get(id);
        if (v) out.set(id, v);
      }
    }
    return out;
  }

  commit(update: StoreUpdate): Promise<void> {
    return this.exclusive(async () => {
      if (update.upserts.length === 0 && update.deletes.length === 0) return;
      const touched = new Map<number, { deletes: Set<string>; upserts: StoreUpdate['upserts'] }>();
      const plan = (s: number) => {
        let t = touched.get(s);
        if (!t) touched.set(s, (t = { deletes: new Set(), upserts: [] }));
        return t;
      };
      const seen = new Set<string>();
      for (const u of update.upserts) {
        this.validateUpsert(u, seen);
        plan(this.shardOf(u.file.path)).upserts.push(u);
      }
      for (const p of update.deletes) {
        if (seen.has(p)) throw new Error(`commit: ${p} is both upserted and deleted`);
        const s = this.shardOf(p);
        if (this.shards[s].files.has(p)) plan(s).deletes.add(p);
      }
      const seq = this.manifest.seq + 1;
      const written = await mapLimit([...touched], WRITE_CONCURRENCY, ([s, t]) => this.rewriteShard(s, seq, t.deletes, t.upserts));
      await this.publish(seq, written, {});
    });
  }

  setVectors(items: { id: string; vector: Float32Array }[]): Promise<void> {
    return this.exclusive(async () => {
      const dims = this.manifest.dimensions;
      const byShard = new Map<number, Map<string, Float32Array>>();
      for (const { id, vector } of items) {
        if (dims === null) throw new Error('setVectors: the store has no embedder; call setEmbedder first');
        if (vector.length !== dims) throw new Error(`setVectors: vector of ${id} has ${vector.length} dimensions, expected ${dims}`);
        const s = this.shardOf(pathOfId(id));
        if (this.manifest.shards[s].chunks === 0) continue;
        if (!this.docs(s).byId.has(id)) continue; // unknown ids are ignored
        let m = byShard.get(s);
        if (!m) byShard.set(s, (m = new Map()));
        m.set(id, vector);
      }
      if (byShard.size === 0) return;
      const seq = this.manifest.seq + 1;
      const written = await mapLimit([...byShard], WRITE_CONCURRENCY, async ([s, fresh]) => {
        const vectors = this.manifest.shards[s].vectors > 0 ? new Map(await this.shardVectors(s)) : new Map<string, Float32Array>();
        for (const [id, v] of fresh) vectors.set(id, v);
        return this.writeGeneration(s, seq, { vectors, reuseDocs: true });
      });
      await this.publish(seq, written, {});
    });
  }

  setEmbedder(id: string | null, dimensions: number | null): Promise<void> {
    return this.exclusive(async () => {
      if (id === this.manifest.embedderId && dimensions === this.manifest.dimensions) return;
      if ((id === null) !== (dimensions === null)) throw new Error('setEmbedder: id and dimensions are both set or both null');
      if (dimensions !== null && (!Number.isInteger(dimensions) || dimensions < 1)) throw new Error(`setEmbedder: bad dimensions ${dimensions}`);
      const seq = this.manifest.seq + 1;
      const withVectors = this.manifest.shards.flatMap((e, s) => (e.vectors > 0 ? [s] : []));
      const written = await mapLimit(withVectors, WRITE_CONCURRENCY, (s) => this.writeGeneration(s, seq, { vectors: new Map(), reuseDocs: true }));
      await this.publish(seq, written, { embedderId: id, dimensions });
    });
  }

  /** Top-k chunks by cosine similarity over every shard (ties: lower id first). */
  async queryDense(vector: Float32Array, k: number): Promise<RankedChunk[]> {
    this.assertOpen();
    const dims = this.manifest.dimensions;
    if (dims !== null && vector.length !== dims) throw new Error(`queryDense: query has ${vector.length} dimensions, the index ${dims}`);
    if (k <= 0 || this.vectorCount === 0) return [];
    const norm = vectorNorm(vector);
    if (norm === 0) return []; // no direction: cosine is undefined for every vector
    const top = new TopHits(k);
    const withVectors = this.manifest.shards.flatMap((e, s) => (e.vectors > 0 ? [s] : []));
    // Scanning as each shard arrives overlaps the other reads with the arithmetic.
    await mapLimit(withVectors, READ_CONCURRENCY, async (s) => scanCosine(await this.shardVectorSet(s), vector, norm, top));
    const out: RankedChunk[] = [];
    for (const h of top.sorted()) {
      const chunk = this.docs(this.shardOf(pathOfId(h.id))).byId.get(h.id);
      if (chunk) out.push({ chunk, score: h.score });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.catch(() => undefined);
    this.closed = true;
    this.shards = [];
    this.allFiles = new Map();
    await this.release?.();
    this.release = null;
  }

  // ---- reading ----

  shardOf(filePath: string): number {
    return fnv1a(filePath) % this.manifest.shardCount;
  }

  private shardDir(s: number, gen = this.manifest.shards[s].gen): string {
    return path.join(this.dir, SHARDS, `${String(s).padStart(3, '0')}.${gen}`);
  }

  /** (Re)loads the file records of every shard: what `open` must read, nothing more. */
  private loadFileRecords(): void {
    const m = this.manifest;
    this.shards = [];
    this.allFiles = new Map();
    for (let s = 0; s < m.shardCount; s++) {
      const files = new Map<string, FileRecord>();
      if (m.shards[s].gen > 0) {
        const parsed = this.readJson(s, FILES_JSON) as { files?: FileRecord[] };
        if (!Array.isArray(parsed.files)) throw new IndexCorruptError(this.dir, `${this.rel(s, FILES_JSON)} has no file list`);
        for (const f of parsed.files) {
          if (typeof f?.path !== 'string' || this.shardOf(f.path) !== s) {
            throw new IndexCorruptError(this.dir, `${this.rel(s, FILES_JSON)} lists a file of another shard`);
          }
          files.set(f.path, f);
          this.allFiles.set(f.path, f);
        }
      }
      this.shards.push({ files });
    }
  }

  private docs(s: number): LoadedDocs {
    this.assertOpen();
    const cache = this.shards[s];
    if (!cache.docs) {
      const dir = this.shardDir(s);
      const index = this.guard(s, DOCS_JSON, () => parseDocsJson(fs.readFileSync(path.join(dir, DOCS_JSON), 'utf8')));
      const chunks = this.guard(s, DOCS_BIN, () => decodeDocs(index, fs.readFileSync(path.join(dir, DOCS_BIN))));
      if (chunks.length !== this.manifest.shards[s].chunks) {
        throw new IndexCorruptError(this.dir, `${this.rel(s, DOCS_JSON)} does not hold the ${this.manifest.shards[s].chunks} chunks the manifest names`);
      }
      setDocs(cache, chunks);
    }
    return cache as LoadedDocs;
  }

  private vectorIds(s: number): Set<string> {
    const cache = this.shards[s];
    if (!cache.vectorIds) {
      cache.vectorIds = this.manifest.shards[s].vectors === 0 ? new Set() : new Set(this.guard(s, VECTORS_FILE, () => readVectorIds(path.join(this.shardDir(s), VECTORS_FILE))));
    }
    return cache.vectorIds;
  }

  /** Shard s's vectors, read once: straight from the file, without vectra. */
  private async shardVectorSet(s: number): Promise<VectorSet> {
    const cache = this.shards[s];
    if (!cache.vectors) {
      const file = path.join(this.shardDir(s), VECTORS_FILE);
      let set: VectorSet;
      try {
        set = decodeVectorFile(await fsp.readFile(file));
      } catch (err) {
        throw this.readError(s, VECTORS_FILE, err);
      }
      const { vectors } = this.manifest.shards[s];
      if (set.ids.length !== vectors) {
        throw new IndexCorruptError(this.dir, `${this.rel(s, VECTORS_FILE)} holds ${set.ids.length} vectors, the manifest says ${vectors}`);
      }
      if (set.dims !== this.manifest.dimensions) {
        throw new IndexCorruptError(this.dir, `${this.rel(s, VECTORS_FILE)} holds ${set.dims}-d vectors, the manifest says ${String(this.manifest.dimensions)}`);
      }
      // A commit may have replaced the cache while this shard was being read.
      if (this.shards[s] !== cache) return set;
      cache.vectors = set;
    }
    return cache.vectors;
  }

  private async shardVectors(s: number): Promise<Map<string, Float32Array>> {
    const set = await this.shardVectorSet(s);
    return new Map(set.ids.map((id, i) => [id, rowOf(set, i)]));
  }

  private readJson(s: number, name: string): unknown {
    return this.guard(s, name, () => JSON.parse(fs.readFileSync(path.join(this.shardDir(s), name), 'utf8')));
  }

  private guard<T>(s: number, name: string, read: () => T): T {
    try {
      return read();
    } catch (err) {
      throw this.readError(s, name, err);
    }
  }

  /** A missing generation means corruption, unless another process committed since we loaded
   * the manifest and deleted the generation we were about to read. */
  private readError(s: number, name: string, err: unknown): Error {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || !fs.existsSync(path.join(this.shardDir(s), name))) {
      let changed = false;
      try {
        changed = JSON.stringify(readManifest(this.dir)) !== JSON.stringify(this.manifest);
      } catch {
        // a broken manifest on disk is reported by the next open
      }
      if (changed) return new Error(`the index at ${this.dir} was updated by another process while reading it; open it again`);
    }
    return new IndexCorruptError(this.dir, `${this.rel(s, name)}: ${errMessage(err)}`);
  }

  private rel(s: number, name: string): string {
    return path.relative(this.dir, path.join(this.shardDir(s), name));
  }

  // ---- writing ----

  /** Runs write operations one at a time, holding the writer lock. */
  private exclusive(op: () => Promise<void>): Promise<void> {
    this.assertOpen();
    const run = this.queue.then(async () => {
      await this.ensureWritable();
      try {
        await op();
      } catch (err) {
        // Drop the failed operation's generations; the manifest on disk says which are live.
        await this.resync()
          .then(() => this.sweep())
          .catch(() => undefined);
        throw err;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ensureWritable(): Promise<void> {
    if (this.release) return;
    this.release = await acquireLock(this.dir);
    // Another writer may have committed since we opened: start from the state on disk.
    await this.resync();
    await this.sweep();
  }

  /** Adopts the manifest on disk when it differs from the one in memory. */
  private async resync(): Promise<void> {
    const onDisk = readManifest(this.dir);
    if (JSON.stringify(onDisk) !== JSON.stringify(this.manifest)) {
      this.manifest = onDisk;
      this.loadFileRecords();
    }
  }

  /** Deletes generations and temp files no manifest names (leftovers of a killed writer). Only
   * call it holding the lock. */
  private async sweep(): Promise<void> {
    const live = new Set(this.manifest.shards.map((e, s) => (e.gen > 0 ? path.basename(this.shardDir(s)) : '')));
    const shardsDir = path.join(this.dir, SHARDS);
    let names: string[] = [];
    try {
      names = await fsp.readdir(shardsDir);
    } catch {
      // no shards yet
    }
    for (const name of names) if (!live.has(name)) await fsp.rm(path.join(shardsDir, name), { recursive: true, force: true });
    for (const name of await fsp.readdir(this.dir)) if (isTempFile(name)) await fsp.rm(path.join(this.dir, name), { force: true });
  }

  private validateUpsert(u: StoreUpdate['upserts'][number], seen: Set<string>): void {
    const p = u.file.path;
    if (seen.has(p)) throw new Error(`commit: ${p} is upserted twice`);
    seen.add(p);
    const ids = new Set<string>();
    for (const c of u.chunks) {
      if (c.path !== p) throw new Error(`commit: chunk ${c.id} does not belong to ${p}`);
      if (ids.has(c.id)) throw new Error(`commit: duplicate chunk id ${c.id}`);
      ids.add(c.id);
    }
    const vectors = u.vectors ?? [];
    if (vectors.length > u.chunks.length) throw new Error(`commit: ${p} has more vectors than chunks`);
    if (vectors.some((v) => v)) {
      const dims = this.manifest.dimensions;
      if (dims === null) throw new Error('commit: vectors given but the store has no embedder; call setEmbedder first');
      for (const v of vectors) if (v && v.length !== dims) throw new Error(`commit: a vector of ${p} has ${v.length} dimensions, expected ${dims}`);
    }
  }

  /** New generation of shard s with the given files deleted and upserts applied. A chunk upserted
   * without a vector keeps its old one when its id and content hash are unchanged. */
  private async rewriteShard(s: number, seq: number, deletes: Set<string>, upserts: StoreUpdate['upserts']): Promise<Written> {
    const entry = this.manifest.shards[s];
    const replaced = new Set([...deletes, ...upserts.map((u) => u.file.path)]);
    const old = entry.chunks > 0 ? this.docs(s) : null;
    const oldVectors = entry.vectors > 0 ? await this.shardVectors(s) : new Map<string, Float32Array>();
    const files = new Map(this.shards[s].files);
    const chunks: IndexedChunk[] = [];
    const vectors = new Map<string, Float32Array>();
    for (const c of old?.docs ?? []) {
      if (replaced.has(c.path)) continue;
      chunks.push(c);
      const v = oldVectors.get(c.id);
      if (v) vectors.set(c.id, v);
    }
    for (const p of replaced) files.delete(p);
    for (const u of upserts) {
      files.set(u.file.path, { ...u.file, chunkCount: u.chunks.length });
      u.chunks.forEach((c, i) => {
        chunks.push(c);
        const given = u.vectors?.[i];
        const prev = old?.byId.get(c.id);
        const v = given ?? (prev && prev.hash === c.hash ? oldVectors.get(c.id) : undefined);
        if (v) vectors.set(c.id, v);
      });
    }
    chunks.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.startLine - b.startLine || a.endLine - b.endLine));
    return this.writeGeneration(s, seq, { files, chunks, vectors });
  }

  /** Writes shard s's generation `seq` completely (fsynced) without publishing it. With
   * reuseDocs, files.json and docs.json are hard-linked from the current generation. */
  private async writeGeneration(
    s: number,
    seq: number,
    what: { vectors: Map<string, Float32Array>; reuseDocs: true } | { files: Map<string, FileRecord>; chunks: IndexedChunk[]; vectors: Map<string, Float32Array> },
  ): Promise<Written> {
    const files = 'files' in what ? what.files : this.shards[s].files;
    const chunks = 'chunks' in what ? what.chunks : this.docs(s).docs;
    const result: Written = { shard: s, gen: 0, files, chunks, vectorIds: new Set(what.vectors.keys()), vectors: undefined };
    if (files.size === 0) return result; // empty shard: no directory
    const dir = this.shardDir(s, seq);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { recursive: true });
    if ('reuseDocs' in what) {
      await linkOrCopy(path.join(this.shardDir(s), FILES_JSON), path.join(dir, FILES_JSON));
      await linkOrCopy(path.join(this.shardDir(s), DOCS_JSON), path.join(dir, DOCS_JSON));
      await linkOrCopy(path.join(this.shardDir(s), DOCS_BIN), path.join(dir, DOCS_BIN));
    } else {
      await writeFileDurable(path.join(dir, FILES_JSON), JSON.stringify({ format: STORE_FORMAT, files: [...files.values()] }));
      const docs = encodeDocs(chunks, STORE_FORMAT);
      await writeFileDurable(path.join(dir, DOCS_JSON), docs.json);
      await writeFileDurable(path.join(dir, DOCS_BIN), docs.bin);
    }
    if (what.vectors.size > 0) {
      const index = openVectorIndex(dir);
      await index.createIndex({ version: 1 });
      // One beginUpdate/endUpdate per shard: vectra writes its file once per endUpdate.
      await index.beginUpdate();
      const ids: string[] = [];
      for (const c of chunks) {
        const v = what.vectors.get(c.id);
        if (!v) continue;
        ids.push(c.id);
        await index.insertItem({ id: c.id, vector: v as unknown as number[], metadata: {} });
      }
      await index.endUpdate();
      await fsyncFile(path.join(dir, VECTORS_FILE));
      // The file's rows, kept for queries (a copy: callers may reuse their buffers, and views
      // would pin the previous generation's buffers).
      result.vectors = vectorSetOf(ids, what.vectors, what.vectors.values().next().value!.length);
    }
    await fsyncDir(dir);
    result.gen = seq;
    return result;
  }

  /** Makes the written generations current: one atomic manifest swap, then the in-memory state,
   * then the superseded generations are deleted. */
  private async publish(seq: number, written: Written[], embedder: { embedderId?: string | null; dimensions?: number | null }): Promise<void> {
    const next: Manifest = { ...this.manifest, ...embedder, seq, shards: this.manifest.shards.map((e) => ({ ...e })) };
    const superseded: string[] = [];
    for (const w of written) {
      if (this.manifest.shards[w.shard].gen > 0) superseded.push(this.shardDir(w.shard));
      next.shards[w.shard] = { gen: w.gen, chunks: w.chunks.length, vectors: w.vectorIds.size };
    }
    await fsyncDir(path.join(this.dir, SHARDS)).catch(() => undefined);
    await writeManifest(this.dir, next);
    this.manifest = next;
    for (const w of written) {
      const cache: ShardCache = { files: w.files, vectorIds: w.vectorIds, vectors: w.vectors };
      setDocs(cache, w.chunks);
      this.shards[w.shard] = cache;
    }
    this.allFiles = new Map();
    for (const c of this.shards) for (const [p, f] of c.files) this.allFiles.set(p, f);
    for (const dir of superseded) await fsp.rm(dir, { recursive: true, force: true });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the index store is closed');
  }
}

type LoadedDocs = Required<Pick<ShardCache, 'docs' | 'byFile' | 'byId'>>;

interface Written {
  shard: number;
  /** 0 when the shard became empty. */
  gen: number;
  files: Map<string, FileRecord>;
  chunks: IndexedChunk[];
  vectorIds: Set<string>;
  vectors: VectorSet | undefined;
}

function setDocs(cache: ShardCache, chunks: IndexedChunk[]): void {
  cache.docs = chunks;
  cache.byFile = new Map();
  cache.byId = new Map();
  for (const c of chunks) {
    cache.byId.set(c.id, c);
    const list = cache.byFile.get(c.path);
    if (list) list.push(c);
    else cache.byFile.set(c.path, [c]);
  }
}

function emptyManifest(shardCount: number): Manifest {
  return {
    format: STORE_FORMAT,
    embedderId: null,
    dimensions: null,
    shardCount,
    seq: 0,
    shards: Array.from({ length: shardCount }, () => ({ gen: 0, chunks: 0, vectors: 0 })),
  };
}

async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST), JSON.stringify(m, null, 1));
}

function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST);
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no index at ${dir}; run \`baton index\` first`);
    throw new IndexCorruptError(dir, `${MANIFEST}: ${errMessage(err)}`);
  }
  if (m?.format !== STORE_FORMAT) throw new IndexCorruptError(dir, `${MANIFEST} has format ${String(m?.format)}, this baton reads format ${STORE_FORMAT}`);
  const ok =
    Number.isInteger(m.shardCount) &&
    m.shardCount >= 1 &&
    Number.isInteger(m.seq) &&
    Array.isArray(m.shards) &&
    m.shards.length === m.shardCount &&
    m.shards.every((e) => Number.isInteger(e?.gen) && Number.isInteger(e?.chunks) && Number.isInteger(e?.vectors) && e.gen <= m.seq) &&
    (m.embedderId === null || typeof m.embedderId === 'string') &&
    (m.dimensions === null || Number.isInteger(m.dimensions));
  if (!ok) throw new IndexCorruptError(dir, `${MANIFEST} is malformed`);
  return m;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fsp.link(from, to); // generations are immutable, so sharing the inode is safe
  } catch {
    await fsp.copyFile(from, to);
    await fsyncFile(to);
  }
}

/** Chunk ids are `${path}#${start}-${end}`; the path picks the shard. */
function pathOfId(id: string): string {
  const i = id.lastIndexOf('#');
  return i < 0 ? id : id.slice(0, i);
}

/** FNV-1a over UTF-16 code units: stable across runs and platforms, and cheap. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  // Let every worker finish before failing: none may keep writing after the operation ended.
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return out;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- vectors on disk ----

let vectraModule: typeof import('vectra') | undefined;

/** vectra pulls in openai, cheerio and grpc (~0.85 s): load it only when vectors are touched. */
function vectra(): typeof import('vectra') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (vectraModule ??= require('vectra') as typeof import('vectra'));
}

function openVectorIndex(dir: string): LocalIndex {
  const v = vectra();
  return new v.LocalIndex(dir, VECTORS_FILE, undefined, new Float32Codec());
}

