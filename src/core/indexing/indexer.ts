// Builds or updates the workspace index in two phases:
//  1. walk -> read -> classify -> chunk -> commit (lexical search works as soon as this is done);
//  2. embed the chunks that have no vector yet, reusing the content-hash cache, flushing vectors
//     to the store progressively so an interrupted run keeps its work. What is embedded (and
//     hashed for the cache) is the chunk text, or documentText(chunk) when the model asks for it.
// Before both, it checks every shard against its checksums and rebuilds the damaged ones from the
// workspace files (their vectors come back from the cache, so a repair costs no model time).
import { readFile } from 'node:fs/promises';
import { walkWorkspace } from './walker';
import { classifyContent, type SkipReason } from './fileClassifier';
import { chunkFile } from './chunker';
import { redactSecrets } from '../security/secrets';
import { languageForPath } from './languages';
import { computeTerms } from '../search/codeTokens';
import { IndexStore, IndexCorruptError } from '../store/store';
import { EmbeddingCache } from '../store/embeddingCache';
import { contentHash } from '../../base/node/hash';
import { chunkId, type FileRecord, type IndexedChunk } from './types';
import { documentText } from '../embed/documentText';
import type { Embedder, EmbedderSpec } from '../embed/types';
import { diskFullOr } from '../../base/node/atomicFile';
import { markBuildFinished, markBuildStarted, saveEmbedderSpec } from './buildState';
import { errorMessage, errorCode } from '../../base/common/errors';

export interface IndexProgress {
  phase: 'scan' | 'embed';
  filesScanned: number;
  filesChanged: number;
  chunksToEmbed: number;
  chunksEmbedded: number;
}

export interface IndexSummary {
  files: number;
  chunks: number;
  changedFiles: number;
  deletedFiles: number;
  /** Chunks whose vectors were computed by the embedder in this run. */
  embedded: number;
  /** Chunks whose vectors came from the content-hash cache. */
  fromCache: number;
  /** Chunks still without a vector (no embedder, or it failed). */
  withoutVectors: number;
  /** Damaged shards this run rebuilt from the workspace files. */
  repairedShards: number;
  /** Secrets replaced by placeholders in the files chunked in this run. */
  secretsRedacted: number;
  skipped: Partial<Record<SkipReason, number>>;
  seconds: number;
  embedderId: string | null;
  /** Set when dense retrieval is unavailable; the index is lexical-only until it is fixed. */
  notice?: string;
}

export interface IndexOptions {
  root: string;
  batonDir: string;
  embedder: Embedder | null;
  /** Recorded (embedder.json) when the run completes, so search embeds queries the same way. */
  embedderSpec?: EmbedderSpec;
  extraIgnores?: string[];
  maxFileBytes?: number;
  /** Drop the stored index first (the embedding cache is kept). */
  rebuild?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
  onSkip?: (path: string, reason: SkipReason, detail: string) => void;
}

/** Files per phase-1 commit: big enough that an initial build rewrites each shard only a few times. */
const COMMIT_EVERY_CHUNKS = 20_000;
/** Texts per embed() call; the embedder may split further into its own batch size. */
const EMBED_REQUEST_SIZE = 64;

export async function indexWorkspace(opts: IndexOptions): Promise<IndexSummary> {
  try {
    return await runIndex(opts);
  } catch (err) {
    throw diskFullOr(err); // one clear line, whichever write hit the full disk
  }
}

async function runIndex(opts: IndexOptions): Promise<IndexSummary> {
  const started = performance.now();
  if (opts.rebuild) await IndexStore.reset(opts.batonDir);
  const { store, recovered } = await openOrRecover(opts.batonDir);
  try {
    // The lock first: a run that cannot write says so before scanning anything.
    await store.beginWriting();
    await markBuildStarted(opts.batonDir);
    const repair = await repairDamaged(store);
    const scan = await scanAndCommit(store, opts, repair);
    const dense = await embedMissing(store, opts);
    if (opts.embedderSpec) await saveEmbedderSpec(opts.batonDir, opts.embedderSpec);
    await markBuildFinished(opts.batonDir);
    return {
      files: store.files().size,
      chunks: store.chunkCount,
      changedFiles: scan.changed,
      deletedFiles: scan.deleted,
      embedded: dense.embedded,
      fromCache: dense.fromCache,
      withoutVectors: store.chunkCount - store.vectorCount,
      repairedShards: repair.shards.size,
      secretsRedacted: scan.redacted,
      skipped: scan.skipped,
      seconds: (performance.now() - started) / 1000,
      embedderId: store.embedderId,
      notice: [recovered, repair.notice, dense.notice].filter(Boolean).join('; ') || undefined,
    };
  } finally {
    await store.close();
  }
}

/** The index is a cache of the workspace: when it is from another format, indexing starts it
 * over (the embedding cache survives, so this costs no model time) and says so. */
async function openOrRecover(batonDir: string): Promise<{ store: IndexStore; recovered?: string }> {
  try {
    // The store takes the writer lock on its first write and holds it until close().
    return { store: await IndexStore.open(batonDir) };
  } catch (err) {
    if (!(err instanceof IndexCorruptError)) throw err;
    await IndexStore.reset(batonDir);
    return { store: await IndexStore.open(batonDir), recovered: `rebuilt the index: ${err.message.replace(/; run .*$/, '')}` };
  }
}

interface Repair {
  /** Shards found damaged and emptied: their files are indexed again. */
  shards: Set<number>;
  /** The file records from before the repair: what "changed" and "removed" are measured against. */
  previous: Map<string, FileRecord>;
  notice?: string;
}

/** Checks every shard, empties the damaged ones (the scan then indexes their files again), and
 * writes out a manifest that had to be rebuilt from the shard files. */
async function repairDamaged(store: IndexStore): Promise<Repair> {
  const damage = new Map(await store.checkShards());
  const previous = new Map(store.files());
  const notices: string[] = [];
  if (store.recoveredManifest) notices.push(`${store.recoveredManifest}: rebuilt it from the shard files`);
  if (damage.size) {
    await store.clearShards(damage.keys());
    const listed = [...damage.values()].slice(0, 3).join('; ');
    const more = damage.size > 3 ? `; and ${damage.size - 3} more` : '';
    notices.push(`repaired ${plural(damage.size, 'damaged shard')} from the workspace files (${listed}${more})`);
  }
  return { shards: new Set(damage.keys()), previous, notice: notices.join('; ') || undefined };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

interface ScanResult { changed: number; deleted: number; redacted: number; skipped: Partial<Record<SkipReason, number>> }

/** Bumped when the redaction rules change enough that indexed files must be chunked again. */
const REDACTION_VERSION = 1;

async function scanAndCommit(store: IndexStore, opts: IndexOptions, repair: Repair): Promise<ScanResult> {
  const known = repair.previous;
  // Repaired shards whose file list was lost: their files cannot be told new from unchanged.
  const withRecords = new Set([...known.keys()].map((p) => store.shardOf(p)));
  const seen = new Set<string>();
  const skipped: Partial<Record<SkipReason, number>> = {};
  const skip = (path: string, reason: SkipReason, detail: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
    opts.onSkip?.(path, reason, detail);
  };
  let pending: { file: FileRecord; chunks: IndexedChunk[] }[] = [];
  let pendingChunks = 0;
  let scanned = 0;
  let changed = 0;
  let redacted = 0;
  const progress = () => opts.onProgress?.({ phase: 'scan', filesScanned: scanned, filesChanged: changed, chunksToEmbed: 0, chunksEmbedded: 0 });

  for await (const file of walkWorkspace({
    root: opts.root,
    extraIgnores: opts.extraIgnores,
    maxFileBytes: opts.maxFileBytes,
    signal: opts.signal,
    onSkip: skip,
  })) {
    scanned++;
    const before = known.get(file.path);
    const shard = store.shardOf(file.path);
    const repairing = repair.shards.has(shard);
    // Same size and mtime: trust it without reading (what git and every watcher do), unless its
    // shard is being rebuilt.
    // A file indexed before secrets were redacted (or under older rules) is chunked again.
    const current = before?.redaction === REDACTION_VERSION;
    if (before && current && !repairing && before.size === file.size && before.mtimeMs === file.mtimeMs) {
      seen.add(file.path);
      if (scanned % 200 === 0) progress();
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(file.absPath);
    } catch (err) {
      skip(file.path, 'unreadable', errorCode(err) ?? errorMessage(err));
      continue; // deleted or unreadable since the walk listed it: treated as absent
    }
    const content = classifyContent(file.path, bytes);
    if (!content.ok) {
      skip(file.path, content.reason, content.detail);
      continue;
    }
    seen.add(file.path);
    const hash = contentHash(bytes);
    const language = languageForPath(file.path);
    const record: FileRecord = { path: file.path, size: file.size, mtimeMs: file.mtimeMs, hash, language, chunkCount: 0, redaction: REDACTION_VERSION };
    // Touched but identical content: keep the chunks, just refresh the record.
    let chunks: IndexedChunk[];
    if (before && current && before.hash === hash && !repairing) {
      chunks = store.chunksOfFile(file.path);
    } else {
      // Secrets never reach a chunk: not the store, the lexical terms, an embedder or a prompt.
      const clean = await redactSecrets(content.text, { path: file.path });
      redacted += clean.redactions.length;
      chunks = await chunkAndPrepare(file.path, clean.text);
    }
    record.chunkCount = chunks.length;
    if (before ? before.hash !== hash : !(repairing && !withRecords.has(shard))) changed++;
    pending.push({ file: record, chunks });
    pendingChunks += chunks.length;
    if (pendingChunks >= COMMIT_EVERY_CHUNKS) {
      await store.commit({ upserts: pending, deletes: [] });
      pending = [];
      pendingChunks = 0;
    }
    if (scanned % 50 === 0) progress();
  }
  const gone = [...known.keys()].filter((p) => !seen.has(p));
  // Files of repaired shards are no longer in the store: nothing to delete there.
  const deletes = gone.filter((p) => store.files().has(p));
  if (pending.length || deletes.length) await store.commit({ upserts: pending, deletes });
  progress();
  return { changed, deleted: gone.length, redacted, skipped };
}

async function chunkAndPrepare(path: string, text: string): Promise<IndexedChunk[]> {
  const chunks = await chunkFile(path, text);
  return chunks.map((c) => ({ ...c, id: chunkId(c), terms: computeTerms(c) }));
}

interface DenseResult { embedded: number; fromCache: number; notice?: string }

async function embedMissing(store: IndexStore, opts: IndexOptions): Promise<DenseResult> {
  const embedder = opts.embedder;
  if (!embedder) {
    await store.setEmbedder(null, null);
    return { embedded: 0, fromCache: 0, notice: 'no embedder configured: search is lexical-only' };
  }
  try {
    await embedder.init(opts.signal);
  } catch (err) {
    if (opts.signal?.aborted) throw err; // interrupted while the model loaded: not "unavailable"
    // The existing vectors stay: they may belong to this very embedder once it is reachable again.
    return { embedded: 0, fromCache: 0, notice: `embedder unavailable (${errorMessage(err)}): search is lexical-only` };
  }
  await store.setEmbedder(embedder.id, embedder.dimensions);
  const cache = await EmbeddingCache.open(opts.batonDir, embedder.id, embedder.dimensions);
  try {
    return await embedWithCache(store, cache, embedder, opts);
  } finally {
    await cache.close();
  }
}

async function embedWithCache(store: IndexStore, cache: EmbeddingCache, embedder: Embedder, opts: IndexOptions): Promise<DenseResult> {
  const missing = store.chunksWithoutVectors();
  let fromCache = 0;
  let embedded = 0;
  let pending: { id: string; vector: Float32Array }[] = [];
  // Flushing rewrites the touched shards, so flush rarely on big indexes but often enough that
  // vectors become searchable while a long first build runs.
  const flushEvery = Math.max(1000, Math.ceil(store.chunkCount / 8));
  const flush = async () => {
    if (pending.length) await store.setVectors(pending);
    pending = [];
  };

  // Cache hits first: free, and they make most of a branch switch searchable at once.
  const headRepeat = embedder.documentHeadRepeat ?? 0;
  const byHash = new Map<string, { text: string; chunks: IndexedChunk[] }>();
  for (const chunk of missing) {
    const text = documentText(chunk, headRepeat);
    const hash = text === chunk.text ? chunk.hash : contentHash(text);
    const cached = cache.get(hash);
    if (cached) {
      pending.push({ id: chunk.id, vector: cached });
      fromCache++;
      continue;
    }
    const group = byHash.get(hash);
    if (group) group.chunks.push(chunk);
    else byHash.set(hash, { text, chunks: [chunk] });
  }
  await flush();

  const todo = [...byHash];
  const total = missing.length - fromCache;
  const report = () => opts.onProgress?.({ phase: 'embed', filesScanned: store.files().size, filesChanged: 0, chunksToEmbed: total, chunksEmbedded: embedded });
  report();
  try {
    for (let i = 0; i < todo.length; i += EMBED_REQUEST_SIZE) {
      opts.signal?.throwIfAborted();
      const groups = todo.slice(i, i + EMBED_REQUEST_SIZE);
      const vectors = await embedder.embed(groups.map(([, g]) => g.text), 'document', opts.signal);
      const entries = groups.map(([hash], j) => ({ hash, vector: vectors[j] }));
      await cache.putMany(entries); // durable first: a crash after this loses no model time
      groups.forEach(([, g], j) => {
        for (const chunk of g.chunks) pending.push({ id: chunk.id, vector: vectors[j] });
        embedded += g.chunks.length;
      });
      if (pending.length >= flushEvery) await flush();
      report();
    }
  } catch (err) {
    await flush();
    if (opts.signal?.aborted) throw err;
    return { embedded, fromCache, notice: `embedding stopped (${errorMessage(err)}): ${total - embedded} chunks are lexical-only until the next \`baton index\`` };
  }
  await flush();
  return { embedded, fromCache };
}
