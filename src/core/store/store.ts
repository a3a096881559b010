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
// manifest.json records a CRC-32 of every shard file (manifest.ts). files.json is checked at
// open, docs and vectors when first read, and all of them by checkShards(), which the indexer
// runs first. A damaged shard never fails a read: it is left out (search degrades to the healthy
// shards, with damageNotice()) until the indexer rebuilds it from the workspace files. A
// manifest.json that cannot be read is rebuilt from the generations' own files.json.
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
import { assertNotAFile, diskFullOr, ensureBatonDir, fsyncDir, fsyncFile, isTempFile, writeFileDurable } from '../../base/node/atomicFile';
import { crc32 } from '../../base/node/crc32';
import { acquireLock, tryAcquireLock, type ReleaseLock } from '../../base/node/lock';
import { decodeDocs, encodeDocs, parseDocsJson } from './docsCodec';
import {
  DEFAULT_SHARD_COUNT, DOCS_BIN, DOCS_JSON, FILES_JSON, MANIFEST, ManifestDamagedError, SHARDS, STORE_FORMAT, VECTORS_FILE,
  emptyManifest, readManifest, recoverManifest, shardDirName, writeManifest,
  type Manifest, type ShardMeta, type ShardSums,
} from './manifest';
import type { FileRecord, IndexedChunk, RankedChunk } from '../indexing/types';
import { decodeVectorFile, Float32Codec, readVectorIds, rowOf, scanCosine, TopHits, vectorNorm, vectorSetOf, type VectorSet } from './vectorCodec';
import { errorMessage, errorCode } from '../../base/common/errors';

export { DEFAULT_SHARD_COUNT, IndexCorruptError, STORE_FORMAT } from './manifest';

/** Shards written at once: overlaps the fsync waits without holding many shards in memory. */
const WRITE_CONCURRENCY = 4;
/** Vector files read at once by a query: overlaps reads with decoding. */
const READ_CONCURRENCY = 8;

/** A generation this process read while another process replaced it: open the store again. */
export class IndexChangedError extends Error {
  constructor(dir: string) {
    super(`the index at ${dir} was updated by another process while reading it; open it again`);
    this.name = 'IndexChangedError';
  }
}

/** Per store folder: generations whose files were verified by this process, with the stat
 * signature they had then. A later check of an unchanged generation costs a few stats. */
const verifiedGenerations = new Map<string, Map<string, string>>();

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

/** The embedder a generation's vectors belong to (recorded in its files.json). */
interface VectorSpace {
  embedderId: string | null;
  dimensions: number | null;
}

export class IndexStore {
  private manifest: Manifest = emptyManifest(1);
  private shards: ShardCache[] = [];
  private allFiles = new Map<string, FileRecord>();
  /** Shards known to be damaged, with what is wrong: left out of every read until rewritten. */
  private damaged = new Map<number, string>();
  /** Checksums of shards written before checksums, once verified; the next publish records them. */
  private pendingSums = new Map<number, { gen: number; sums: ShardSums }>();
  /** Why manifest.json was rebuilt from the shard files, when it was. */
  private recoveredBecause: string | undefined;
  private release: ReleaseLock | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(readonly dir: string) {}

  static async open(batonDir: string, opts: OpenOptions = {}): Promise<IndexStore> {
    const dir = path.resolve(batonDir);
    assertNotAFile(dir);
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
      } catch (err) {
        throw diskFullOr(err);
      } finally {
        await release();
      }
    }
    const store = new IndexStore(dir);
    store.load();
    // Sweep what a killed writer left behind: only when there is something to sweep, only while no
    // live writer is mid-commit, and not from a rebuilt manifest (the writer persists it first). A
    // reader never waits for the lock and never fails on it.
    if (!store.recoveredBecause && store.hasLeftovers()) {
      const release = await tryAcquireLock(dir).catch(() => null);
      if (release) {
        try {
          await store.resync();
          if (!store.recoveredBecause) await store.sweep();
        } catch {
          // best effort: the next writer sweeps
        } finally {
          await release();
        }
      }
    }
    return store;
  }

  /** Deletes the index data (manifest and shards); the embedding cache stays. */
  static async reset(batonDir: string): Promise<void> {
    const dir = path.resolve(batonDir);
    if (!fs.existsSync(dir)) return;
    assertNotAFile(dir);
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

  /** Shards found damaged so far (at open, on a read, or by checkShards), with what is wrong. */
  damage(): ReadonlyMap<number, string> {
    return this.damaged;
  }

  /** Why manifest.json was rebuilt from the shard files, when it had to be. */
  get recoveredManifest(): string | undefined {
    return this.recoveredBecause;
  }

  /** Whether the shard holding `filePath` is damaged (its chunks read as none). */
  isDamaged(filePath: string): boolean {
    return this.damaged.has(this.shardOf(filePath));
  }

  /** One line for search and ask while something is known to be wrong; undefined otherwise. */
  damageNotice(): string | undefined {
    const parts: string[] = [];
    if (this.recoveredBecause) parts.push(`${this.recoveredBecause}: it was rebuilt from the shard files`);
    if (this.damaged.size) {
      const [first] = this.damaged.values();
      const more = this.damaged.size > 1 ? ` and ${this.damaged.size - 1} more` : '';
      parts.push(`${this.damaged.size} of ${this.manifest.shardCount} index shards are damaged (${first}${more}): results may be incomplete`);
    }
    return parts.length ? `${parts.join('; ')}; run \`baton index\` to repair the index` : undefined;
  }

  files(): ReadonlyMap<string, FileRecord> {
    return this.allFiles;
  }

  /** Every chunk of the healthy shards. */
  *chunks(): Iterable<IndexedChunk> {
    for (let s = 0; s < this.shards.length; s++) {
      if (this.manifest.shards[s].chunks > 0) yield* this.docs(s).docs;
    }
  }

  /** The file's chunks; none when its shard is damaged. */
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
      const { docs } = this.docs(s);
      if (this.damaged.has(s)) continue; // nothing can be attached until it is rebuilt
      for (const c of docs) if (!ids.has(c.id)) out.push(c);
    }
    return out;
  }

  /** Stored vectors of the given chunk ids (unknown, unembedded or damaged ids are absent). */
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

  /** Applies upserts and deletes. A damaged shard is rebuilt from this commit's files alone (the
   * indexer clears and re-indexes damaged shards before it commits anything else). */
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
        if (!this.docs(s).byId.has(id)) continue; // unknown ids (and those of damaged shards) are ignored
        let m = byShard.get(s);
        if (!m) byShard.set(s, (m = new Map<string, Float32Array>()));
        m.set(id, vector);
      }
      if (byShard.size === 0) return;
      const seq = this.manifest.seq + 1;
      const written = await mapLimit([...byShard], WRITE_CONCURRENCY, async ([s, fresh]) => {
        // Damaged vectors read as none: the new generation holds the fresh ones, the rest come back
        // from the embedding cache on the next run.
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
      const space = { embedderId: id, dimensions };
      const withVectors = this.manifest.shards.flatMap((e, s) => (e.vectors > 0 ? [s] : []));
      const written = await mapLimit(withVectors, WRITE_CONCURRENCY, (s) => this.writeGeneration(s, seq, { vectors: new Map(), reuseDocs: true }, space));
      await this.publish(seq, written, space);
    });
  }

  /** Takes the writer lock now (it is otherwise taken by the first write): a run that cannot write
   * learns it before doing any work. A rebuilt manifest is written out here. */
  beginWriting(): Promise<void> {
    return this.exclusive(async () => undefined);
  }

  /**
   * Reads every shard file this process has not verified yet and checks it against its checksum;
   * a shard written before checksums is decoded instead, and its checksums are recorded by the
   * next write. Returns the damaged shards (also left out of reads from now on).
   */
  async checkShards(): Promise<ReadonlyMap<number, string>> {
    this.assertOpen();
    const known = verifiedGenerations.get(this.dir) ?? new Map<string, string>();
    const verified = new Map<string, string>();
    for (let s = 0; s < this.manifest.shardCount; s++) {
      const entry = this.manifest.shards[s];
      if (entry.gen === 0 || this.damaged.has(s)) continue;
      const name = shardDirName(s, entry.gen);
      const signature = this.verifiedSignature(s);
      if (signature !== null && known.get(name) === signature) {
        verified.set(name, signature);
        continue;
      }
      if (entry.sums) {
        const ok = (await this.verifyFile(s, DOCS_JSON, entry.sums.docs)) && (await this.verifyFile(s, DOCS_BIN, entry.sums.bin));
        if (ok && entry.vectors > 0) await this.verifyFile(s, VECTORS_FILE, entry.sums.vectors);
      } else {
        this.docs(s);
        await this.shardVectorSet(s);
        if (!this.damaged.has(s)) this.pendingSums.set(s, { gen: entry.gen, sums: await this.sumsOf(s) });
      }
      const now = this.verifiedSignature(s); // with the checksums just recorded for an old shard
      if (!this.damaged.has(s) && now !== null) verified.set(name, now);
    }
    verifiedGenerations.set(this.dir, verified);
    return this.damaged;
  }

  /** Empties the given shards (their files, chunks and vectors): the indexer's first step in
   * repairing damaged shards, whose files it then indexes again. */
  clearShards(shards: Iterable<number>): Promise<void> {
    return this.exclusive(async () => {
      const list = [...new Set(shards)].filter((s) => s >= 0 && s < this.manifest.shardCount && (this.manifest.shards[s].gen > 0 || this.damaged.has(s)));
      if (list.length === 0) return;
      const seq = this.manifest.seq + 1;
      await this.publish(seq, list.map((s) => emptyWritten(s)), {});
    });
  }

  /** Top-k chunks by cosine similarity over every healthy shard (ties: lower id first). */
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
    await mapLimit(withVectors, READ_CONCURRENCY, async (s) => {
      const set = await this.shardVectorSet(s);
      if (set) scanCosine(set, vector, norm, top);
    });
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
    return path.join(this.dir, SHARDS, shardDirName(s, gen));
  }

  /** Reads the committed state and the file records; retries while another process's commit
   * removes generations under it. */
  private load(): void {
    for (let attempt = 0; ; attempt++) {
      this.readState();
      if (this.loadFileRecords() || attempt >= 4) return;
    }
  }

  /** manifest.json, or one rebuilt from the shard files when it is damaged. */
  private readState(): { manifest: Manifest; damaged: Map<number, string>; because?: string } {
    let state: { manifest: Manifest; damaged: Map<number, string>; because?: string };
    try {
      state = { manifest: readManifest(this.dir), damaged: new Map() };
    } catch (err) {
      if (!(err instanceof ManifestDamagedError)) throw err;
      const r = recoverManifest(this.dir);
      state = { ...r, because: `${MANIFEST} was damaged (${err.detail})` };
    }
    this.manifest = state.manifest;
    this.damaged = new Map(state.damaged);
    this.pendingSums = new Map();
    this.recoveredBecause = state.because;
    return state;
  }

  /** (Re)loads the file records of every shard: what `open` must read, nothing more. A shard whose
   * files.json is damaged is marked so and lists no files. False when a generation vanished
   * because another process committed meanwhile. */
  private loadFileRecords(): boolean {
    const m = this.manifest;
    this.shards = [];
    this.allFiles = new Map();
    let vanished = false;
    for (let s = 0; s < m.shardCount; s++) {
      const files = new Map<string, FileRecord>();
      this.shards.push({ files });
      if (m.shards[s].gen === 0 || this.damaged.has(s)) continue;
      try {
        const bytes = fs.readFileSync(path.join(this.shardDir(s), FILES_JSON));
        checkSum(bytes, m.shards[s].sums?.files);
        const parsed = JSON.parse(bytes.toString('utf8')) as { files?: FileRecord[] } | null;
        if (!Array.isArray(parsed?.files)) throw new Error('no file list');
        for (const f of parsed.files) {
          if (typeof f?.path !== 'string' || this.shardOf(f.path) !== s) throw new Error('lists a file of another shard');
          files.set(f.path, f);
        }
      } catch (err) {
        files.clear();
        if (this.vanished(s, FILES_JSON, err)) vanished = true;
        else this.markDamaged(s, FILES_JSON, err);
        continue;
      }
      for (const [p, f] of files) this.allFiles.set(p, f);
    }
    return !vanished;
  }

  private docs(s: number): LoadedDocs {
    this.assertOpen();
    const cache = this.shards[s];
    if (!cache.docs) {
      const entry = this.manifest.shards[s];
      let chunks: IndexedChunk[] = [];
      if (entry.chunks > 0 && !this.damaged.has(s)) {
        let name = DOCS_JSON;
        try {
          const dir = this.shardDir(s);
          const json = fs.readFileSync(path.join(dir, DOCS_JSON));
          checkSum(json, entry.sums?.docs);
          const index = parseDocsJson(json.toString('utf8'));
          name = DOCS_BIN;
          const bin = fs.readFileSync(path.join(dir, DOCS_BIN));
          checkSum(bin, entry.sums?.bin);
          chunks = decodeDocs(index, bin);
          if (chunks.length !== entry.chunks) throw new Error(`holds ${chunks.length} chunks, the manifest says ${entry.chunks}`);
        } catch (err) {
          if (this.vanished(s, name, err)) throw new IndexChangedError(this.dir);
          this.markDamaged(s, name, err);
          chunks = [];
        }
      }
      setDocs(cache, chunks);
    }
    return cache as LoadedDocs;
  }

  private vectorIds(s: number): Set<string> {
    const cache = this.shards[s];
    if (!cache.vectorIds) {
      const entry = this.manifest.shards[s];
      let ids: string[] = [];
      if (entry.vectors > 0 && !this.damaged.has(s)) {
        try {
          ids = cache.vectors?.ids ?? readVectorIds(path.join(this.shardDir(s), VECTORS_FILE));
          if (ids.length !== entry.vectors) throw new Error(`holds ${ids.length} vectors, the manifest says ${entry.vectors}`);
        } catch (err) {
          if (this.vanished(s, VECTORS_FILE, err)) throw new IndexChangedError(this.dir);
          this.markDamaged(s, VECTORS_FILE, err);
          ids = [];
        }
      }
      cache.vectorIds = new Set(ids);
    }
    return cache.vectorIds;
  }

  /** Shard s's vectors, read once: straight from the file, without vectra. Null when it has none
   * or they are damaged. */
  private async shardVectorSet(s: number): Promise<VectorSet | null> {
    const cache = this.shards[s];
    if (cache.vectors) return cache.vectors;
    const entry = this.manifest.shards[s];
    if (entry.vectors === 0 || this.damaged.has(s)) return null;
    let set: VectorSet;
    try {
      const bytes = await fsp.readFile(path.join(this.shardDir(s), VECTORS_FILE));
      checkSum(bytes, entry.sums?.vectors);
      set = decodeVectorFile(bytes);
      if (set.ids.length !== entry.vectors) throw new Error(`holds ${set.ids.length} vectors, the manifest says ${entry.vectors}`);
      if (set.dims !== this.manifest.dimensions) throw new Error(`holds ${set.dims}-d vectors, the manifest says ${String(this.manifest.dimensions)}`);
    } catch (err) {
      // A commit of this process may have replaced the shard while it was read.
      if (this.shards[s] !== cache) return null;
      if (this.vanished(s, VECTORS_FILE, err)) throw new IndexChangedError(this.dir);
      this.markDamaged(s, VECTORS_FILE, err);
      return null;
    }
    if (this.shards[s] !== cache) return set;
    cache.vectors = set;
    return set;
  }

  private async shardVectors(s: number): Promise<Map<string, Float32Array>> {
    const set = await this.shardVectorSet(s);
    return set ? new Map(set.ids.map((id, i) => [id, rowOf(set, i)])) : new Map();
  }

  /** Reads one shard file and checks its checksum; false (and the shard marked) when it fails. */
  private async verifyFile(s: number, name: string, expected: number | undefined): Promise<boolean> {
    try {
      checkSum(await fsp.readFile(path.join(this.shardDir(s), name)), expected);
      return true;
    } catch (err) {
      if (this.vanished(s, name, err)) throw new IndexChangedError(this.dir);
      this.markDamaged(s, name, err);
      return false;
    }
  }

  private async sumsOf(s: number): Promise<ShardSums> {
    const sum = async (name: string) => crc32(await fsp.readFile(path.join(this.shardDir(s), name)));
    const sums: ShardSums = { files: await sum(FILES_JSON), docs: await sum(DOCS_JSON), bin: await sum(DOCS_BIN) };
    if (this.manifest.shards[s].vectors > 0) sums.vectors = await sum(VECTORS_FILE);
    return sums;
  }

  /** What checkShards remembers of a verified generation: its files' identity and the checksums
   * they matched. Null when a file is missing or no checksums are known yet. */
  private verifiedSignature(s: number): string | null {
    const sums = this.manifest.shards[s].sums ?? this.pendingSums.get(s)?.sums;
    const files = this.statSignature(s);
    return sums && files !== null ? `${files}#${JSON.stringify(sums)}` : null;
  }

  /** Identity of the current generation's files as they are now (null when one is missing). */
  private statSignature(s: number): string | null {
    const names = [FILES_JSON, DOCS_JSON, DOCS_BIN, ...(this.manifest.shards[s].vectors > 0 ? [VECTORS_FILE] : [])];
    try {
      return names.map((n) => {
        const st = fs.statSync(path.join(this.shardDir(s), n));
        return `${st.ino}:${st.size}:${st.mtimeMs}`;
      }).join('|');
    } catch {
      return null;
    }
  }

  /** A missing file means damage, unless another process committed since we loaded the manifest
   * and deleted the generation we were about to read. */
  private vanished(s: number, name: string, err: unknown): boolean {
    if (errorCode(err) !== 'ENOENT' && fs.existsSync(path.join(this.shardDir(s), name))) return false;
    try {
      return JSON.stringify(readManifest(this.dir)) !== JSON.stringify(this.manifest);
    } catch {
      return false; // a damaged manifest on disk changes nothing here
    }
  }

  private markDamaged(s: number, name: string, err: unknown): void {
    const code = errorCode(err);
    const what = code === 'ENOENT' ? 'missing' : code ?? errorMessage(err);
    if (!this.damaged.has(s)) this.damaged.set(s, `${this.rel(s, name)}: ${what}`);
  }

  private rel(s: number, name: string): string {
    return path.relative(this.dir, path.join(this.shardDir(s), name));
  }

  // ---- writing ----

  /** Runs write operations one at a time, holding the writer lock. */
  private exclusive(op: () => Promise<void>): Promise<void> {
    this.assertOpen();
    const run = this.queue.then(async () => {
      try {
        await this.ensureWritable();
        await op();
      } catch (err) {
        // Drop the failed operation's generations; the manifest on disk says which are live.
        if (this.release) {
          await this.resync()
            .then(() => this.sweep())
            .catch(() => undefined);
        }
        throw diskFullOr(err);
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ensureWritable(): Promise<void> {
    if (this.release) return;
    const release = await acquireLock(this.dir);
    try {
      // Another writer may have committed since we opened: start from the state on disk.
      await this.resync();
      if (this.recoveredBecause) await writeManifest(this.dir, this.manifest);
      await this.sweep();
    } catch (err) {
      await release();
      throw err;
    }
    this.release = release;
  }

  /** Adopts the state on disk when it differs from the one in memory. Damage found in a
   * generation that is still current stays known. */
  private async resync(): Promise<void> {
    const before = { manifest: this.manifest, damaged: this.damaged, pendingSums: this.pendingSums, because: this.recoveredBecause };
    const state = this.readState();
    if (JSON.stringify(state.manifest) === JSON.stringify(before.manifest)) {
      this.damaged = new Map([...before.damaged, ...state.damaged]);
      this.pendingSums = before.pendingSums;
      this.recoveredBecause = state.because ?? before.because;
      return;
    }
    const same = (s: number) => before.manifest.shardCount === state.manifest.shardCount && before.manifest.shards[s]?.gen === state.manifest.shards[s]?.gen;
    for (const [s, why] of before.damaged) if (same(s) && !this.damaged.has(s)) this.damaged.set(s, why);
    for (const [s, p] of before.pendingSums) if (same(s)) this.pendingSums.set(s, p);
    this.loadFileRecords();
  }

  /** Whether generations or temp files that no manifest names lie around. */
  private hasLeftovers(): boolean {
    const live = new Set(this.manifest.shards.map((e, s) => (e.gen > 0 ? shardDirName(s, e.gen) : '')));
    try {
      if (fs.readdirSync(path.join(this.dir, SHARDS)).some((name) => !live.has(name))) return true;
    } catch {
      // no shards yet
    }
    try {
      return fs.readdirSync(this.dir).some(isTempFile);
    } catch {
      return false;
    }
  }

  /** Deletes generations and temp files no manifest names (leftovers of a killed writer). Only
   * call it holding the lock. */
  private async sweep(): Promise<void> {
    const live = new Set(this.manifest.shards.map((e, s) => (e.gen > 0 ? shardDirName(s, e.gen) : '')));
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
   * without a vector keeps its old one when its id and content hash are unchanged. A damaged shard
   * starts from nothing. */
  private async rewriteShard(s: number, seq: number, deletes: Set<string>, upserts: StoreUpdate['upserts']): Promise<Written> {
    const entry = this.manifest.shards[s];
    const replaced = new Set([...deletes, ...upserts.map((u) => u.file.path)]);
    const loaded = entry.chunks > 0 ? this.docs(s) : null;
    const loadedVectors = entry.vectors > 0 ? await this.shardVectors(s) : new Map<string, Float32Array>();
    const fresh = this.damaged.has(s);
    const old = fresh ? null : loaded;
    const oldVectors = fresh ? new Map<string, Float32Array>() : loadedVectors;
    const files = fresh ? new Map<string, FileRecord>() : new Map(this.shards[s].files);
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
   * reuseDocs, docs.json and docs.bin are hard-linked from the current generation (a damaged shard
   * then becomes empty: its files are indexed again by the next run). files.json, which describes
   * the generation and the checksums of the other files, is written last. */
  private async writeGeneration(
    s: number,
    seq: number,
    what: { vectors: Map<string, Float32Array>; reuseDocs: true } | { files: Map<string, FileRecord>; chunks: IndexedChunk[]; vectors: Map<string, Float32Array> },
    space: VectorSpace = this.manifest,
  ): Promise<Written> {
    const files = 'files' in what ? what.files : this.shards[s].files;
    const chunks = 'chunks' in what ? what.chunks : this.docs(s).docs;
    if ('reuseDocs' in what && this.damaged.has(s)) return emptyWritten(s);
    const result: Written = { shard: s, gen: 0, files, chunks, vectorIds: new Set(what.vectors.keys()), vectors: undefined };
    if (files.size === 0) return result; // empty shard: no directory
    const dir = this.shardDir(s, seq);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { recursive: true });
    let sums: Omit<ShardSums, 'files'>;
    if ('reuseDocs' in what) {
      await linkOrCopy(path.join(this.shardDir(s), DOCS_JSON), path.join(dir, DOCS_JSON));
      await linkOrCopy(path.join(this.shardDir(s), DOCS_BIN), path.join(dir, DOCS_BIN));
      const known = this.manifest.shards[s].sums ?? this.pendingSums.get(s)?.sums;
      sums = known
        ? { docs: known.docs, bin: known.bin }
        : { docs: crc32(await fsp.readFile(path.join(dir, DOCS_JSON))), bin: crc32(await fsp.readFile(path.join(dir, DOCS_BIN))) };
    } else {
      const docs = encodeDocs(chunks, STORE_FORMAT);
      const json = Buffer.from(docs.json);
      await writeFileDurable(path.join(dir, DOCS_JSON), json);
      await writeFileDurable(path.join(dir, DOCS_BIN), docs.bin);
      sums = { docs: crc32(json), bin: crc32(docs.bin) };
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
      const file = path.join(dir, VECTORS_FILE);
      await fsyncFile(file);
      // Checksum what is on disk (vectra wrote it; reading it back is a page-cache read).
      sums.vectors = crc32(await fsp.readFile(file));
      // The file's rows, kept for queries (a copy: callers may reuse their buffers, and views
      // would pin the previous generation's buffers).
      result.vectors = vectorSetOf(ids, what.vectors, what.vectors.values().next().value!.length);
    }
    const meta: ShardMeta = {
      index: s, gen: seq, shardCount: this.manifest.shardCount, embedderId: space.embedderId, dimensions: space.dimensions,
      chunks: chunks.length, vectors: result.vectorIds.size, sums,
    };
    const filesJson = Buffer.from(JSON.stringify({ format: STORE_FORMAT, shard: meta, files: [...files.values()] }));
    await writeFileDurable(path.join(dir, FILES_JSON), filesJson);
    await fsyncDir(dir);
    result.gen = seq;
    result.sums = { files: crc32(filesJson), ...sums };
    return result;
  }

  /** Makes the written generations current: one atomic manifest swap, then the in-memory state,
   * then the superseded generations are deleted. */
  private async publish(seq: number, written: Written[], embedder: Partial<VectorSpace>): Promise<void> {
    const next: Manifest = { ...this.manifest, ...embedder, seq, shards: this.manifest.shards.map((e) => ({ ...e })) };
    for (const [s, p] of this.pendingSums) if (next.shards[s].gen === p.gen && !next.shards[s].sums) next.shards[s].sums = p.sums;
    const superseded: string[] = [];
    for (const w of written) {
      if (this.manifest.shards[w.shard].gen > 0) superseded.push(this.shardDir(w.shard));
      next.shards[w.shard] = { gen: w.gen, chunks: w.chunks.length, vectors: w.vectorIds.size, ...(w.gen > 0 && w.sums ? { sums: w.sums } : {}) };
    }
    await fsyncDir(path.join(this.dir, SHARDS)).catch(() => undefined);
    await writeManifest(this.dir, next);
    this.manifest = next;
    this.pendingSums = new Map();
    for (const w of written) {
      const cache: ShardCache = { files: w.files, vectorIds: w.vectorIds, vectors: w.vectors };
      setDocs(cache, w.chunks);
      this.shards[w.shard] = cache;
      this.damaged.delete(w.shard);
    }
    this.allFiles = new Map();
    for (const c of this.shards) for (const [p, f] of c.files) this.allFiles.set(p, f);
    // What this process just wrote needs no reading back to be trusted.
    const verified = verifiedGenerations.get(this.dir) ?? new Map<string, string>();
    for (const w of written) {
      const signature = w.gen > 0 ? this.verifiedSignature(w.shard) : null;
      if (signature !== null) verified.set(shardDirName(w.shard, w.gen), signature);
    }
    verifiedGenerations.set(this.dir, verified);
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
  sums?: ShardSums;
}

function emptyWritten(shard: number): Written {
  return { shard, gen: 0, files: new Map(), chunks: [], vectorIds: new Set(), vectors: undefined };
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

/** Throws when `bytes` do not have the recorded checksum (none recorded: unverified, accepted). */
function checkSum(bytes: Uint8Array, expected: number | undefined): void {
  if (expected !== undefined && crc32(bytes) !== expected) throw new Error('checksum mismatch');
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
  const out = new Array<R>(items.length);
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
