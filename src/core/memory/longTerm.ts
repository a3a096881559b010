// Long-term memory: facts and past answers of one workspace, kept in `<ws>/.baton/memory/` as a
// vectra LocalIndex (`memory.json`) and retrieved by similarity with the workspace's embedder, or
// by BM25 over the same terms as code search when there is no embedder or it fails.
//
// The store is small (capped at `maxItems`), so every change rewrites the whole file: batched
// (rememberAll embeds and writes once), atomic (vectra's file storage is given writeFileAtomic),
// and under a lock file so a CLI and an editor never interleave a read-modify-write.
// Each item records the embedder id its vector came from; vectors of another space are never
// compared: items embedded by a different (or no) embedder are re-embedded on the next recall.
// Text that looks like a credential is refused: memory is persisted and later sent to models.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { LocalIndex, MetadataTypes } from 'vectra';
import type { Embedder } from '../embed/types';
import { codeTokens, queryTokens } from '../search/codeTokens';
import type { Trace } from '../trace/trace';
import { ensureBatonDir, writeFileAtomic } from '../../base/node/atomicFile';
import { contentHash } from '../../base/node/hash';
import { tryAcquireLock, type ReleaseLock } from '../../base/node/lock';
import { boundedPrefix } from '../../base/common/prefix';
import { findSecrets } from '../security/secrets';
import { errorMessage, errorLine } from '../../base/common/errors';

export const MEMORY_DIR = 'memory';
const INDEX_NAME = 'memory.json';

export type MemoryKind = 'fact' | 'answer';

export interface MemoryItem {
  id: string;
  text: string;
  /** Where it came from: a conversation id, a file, "user". Empty when unknown. */
  source: string;
  kind: MemoryKind;
  createdAt: string;
}

export interface MemoryHit extends MemoryItem {
  /** Cosine similarity (dense) or BM25 score (lexical): comparable within one recall only. */
  score: number;
  via: 'dense' | 'lexical';
}

export interface RememberOptions {
  source?: string;
  /** Default 'fact'. */
  kind?: MemoryKind;
}

export interface LongTermMemoryOptions {
  /** The workspace's embedder; null or absent: lexical recall only. Not disposed here. */
  embedder?: Embedder | null;
  /** Oldest items are pruned beyond this. Default 1000. */
  maxItems?: number;
  /** Longer texts are cut (past answers can be long). Default 8000 characters. */
  maxChars?: number;
  /** How long a write waits for another process's lock. Default 10 s. */
  lockTimeoutMs?: number;
  trace?: Trace;
  now?: () => Date;
}

export class SecretRejectedError extends Error {
  override name = 'SecretRejectedError';
  constructor(readonly what: string) {
    super(`refusing to remember text that looks like a credential (${what}); remove the secret and try again`);
  }
}

const SECRET_PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['a private key block', /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/],
  ['an API key like sk-…', /\bsk-[A-Za-z0-9_-]{16,}/],
  ['an AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['a GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/],
  ['a Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ['a Google API key', /\bAIza[0-9A-Za-z_-]{35}/],
  // `password = hunter22`, `api_key: "…"`; not `password = process.env.X` or `${PASSWORD}`.
  ['a password or key assignment',
    /\b(?:password|passwd|pwd|passphrase|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\s*[:=]\s*["']?(?!process\.env|os\.environ|\$|<|\{\{)[^\s"',;]{4,}/i],
];

/** What kind of credential `text` seems to hold, or null. */
export function detectSecret(text: string): string | null {
  for (const [what, re] of SECRET_PATTERNS) if (re.test(text)) return what;
  return null;
}

type Meta = { text: string; source: string; kind: MemoryKind; createdAt: string; embedder: string } & Record<string, MetadataTypes>;

export class LongTermMemory {
  readonly dir: string;
  private readonly batonDir: string;
  private readonly embedder: Embedder | null;
  private readonly maxItems: number;
  private readonly maxChars: number;
  private readonly lockTimeoutMs: number;
  private readonly now: () => Date;
  private queue: Promise<unknown> = Promise.resolve();
  /** Why the last recall or remember could not use the embedder; undefined when it could. */
  notice: string | undefined;

  constructor(workspaceRoot: string, private readonly opts: LongTermMemoryOptions = {}) {
    this.batonDir = path.join(workspaceRoot, '.baton');
    this.dir = path.join(this.batonDir, MEMORY_DIR);
    this.embedder = opts.embedder ?? null;
    this.maxItems = Math.max(1, opts.maxItems ?? 1000);
    this.maxChars = opts.maxChars ?? 8000;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.now = opts.now ?? (() => new Date());
  }

  async remember(text: string, opts: RememberOptions = {}): Promise<MemoryItem> {
    const [item] = await this.rememberAll([{ text, ...opts }]);
    return item;
  }

  /** Stores several items with one embedding call and one write. Remembering the same text again
   * refreshes it (same id) instead of duplicating it. */
  async rememberAll(entries: Array<{ text: string } & RememberOptions>): Promise<MemoryItem[]> {
    const now = this.now().toISOString();
    // Memory is recalled into later prompts: anything the content rules (security/secrets.ts) or the
    // stricter patterns above call a credential is refused outright rather than stored redacted.
    for (const { text, source = '' } of entries) {
      const found = (await findSecrets(text))[0] ?? (await findSecrets(source))[0];
      if (found) throw new SecretRejectedError(found.rule);
    }
    const items = entries.map(({ text, source = '', kind = 'fact' }) => {
      const trimmed = text.trim();
      if (!trimmed) throw new Error('cannot remember empty text');
      const secret = detectSecret(trimmed) ?? detectSecret(source);
      if (secret) throw new SecretRejectedError(secret);
      const stored = trimmed.length > this.maxChars ? `${trimmed.slice(0, this.maxChars)} … [truncated]` : trimmed;
      const item: MemoryItem = { id: contentHash(stored.replace(/\s+/g, ' ').toLowerCase()).slice(0, 16), text: stored, source, kind, createdAt: now };
      return item;
    });
    if (!items.length) return [];
    const space = await this.embedItems(items.map((i) => i.text));
    await this.mutate(async (index, existing) => {
      for (const [i, item] of items.entries()) {
        await index.upsertItem({ id: item.id, vector: space?.vectors[i] ?? [], metadata: toMeta(item, space?.id ?? '') });
      }
      // Oldest first out, never one just written.
      const fresh = new Set(items.map((i) => i.id));
      const kept = existing.filter((e) => !fresh.has(e.id)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      const excess = kept.length + fresh.size - this.maxItems;
      if (excess > 0) await index.deleteItems(kept.slice(-excess).map((e) => e.id));
    });
    return items;
  }

  /** The k items most similar to `query`, best first. */
  async recall(text: string, k = 5): Promise<MemoryHit[]> {
    const query = boundedPrefix(text); // recall reads the start of a long question
    if (k <= 0 || !query.trim()) return [];
    const items = await this.readItems();
    if (!items.length) return [];
    if (this.embedder) {
      try {
        await this.embedder.init();
        const id = this.embedder.id;
        const stale = items.filter((i) => i.metadata.embedder !== id);
        if (stale.length) await this.reembed(stale.map((i) => i.id));
        const [q] = await this.embedder.embed([query], 'query');
        const index = await this.openIndex();
        const results = await index.queryItems(Array.from(q), query, k);
        this.notice = undefined;
        return results
          .filter((r) => Number.isFinite(r.score))
          .map((r) => ({ ...fromMeta(r.item.id, r.item.metadata), score: r.score, via: 'dense' as const }));
      } catch (err) {
        this.fallback(err);
      }
    }
    return lexicalRank(items.map((i) => fromMeta(i.id, i.metadata)), query, k);
  }

  /** Removes an item; false when there was none with that id. */
  async forget(id: string): Promise<boolean> {
    return this.mutate(async (index, existing) => {
      if (!existing.some((e) => e.id === id)) return false;
      await index.deleteItem(id);
      return true;
    });
  }

  /** Every item, newest first. */
  async list(): Promise<MemoryItem[]> {
    const items = (await this.readItems()).map((i) => fromMeta(i.id, i.metadata));
    return items.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  // ---- internals ----

  /** Vectors for `texts` in the embedder's space, or null (no embedder, or it failed: lexical). */
  private async embedItems(texts: string[]): Promise<{ id: string; vectors: number[][] } | null> {
    if (!this.embedder) return null;
    try {
      await this.embedder.init();
      const vectors = await this.embedder.embed(texts, 'document');
      this.notice = undefined;
      // Six decimals keep cosines exact to ~1e-6 and halve the JSON.
      return { id: this.embedder.id, vectors: vectors.map((v) => Array.from(v, (x) => Math.round(x * 1e6) / 1e6)) };
    } catch (err) {
      this.fallback(err);
      return null;
    }
  }

  private async reembed(ids: string[]): Promise<void> {
    const current = await this.readItems();
    const wanted = current.filter((i) => ids.includes(i.id));
    const space = await this.embedItems(wanted.map((i) => i.metadata.text));
    if (!space) throw new Error(this.notice ?? 'the embedder is unavailable');
    await this.mutate(async (index) => {
      for (const [n, item] of wanted.entries()) {
        await index.upsertItem({ id: item.id, vector: space.vectors[n], metadata: { ...item.metadata, embedder: space.id } });
      }
    });
    this.opts.trace?.add('note', 'memory.reembedded', { items: wanted.length, embedder: space.id });
  }

  private fallback(err: unknown): void {
    const message = errorLine(err);
    this.notice = `long-term memory: dense recall unavailable (${message}); using lexical matching`;
    this.opts.trace?.add('note', 'memory.lexical-fallback', { message });
  }

  private async readItems(): Promise<Array<{ id: string; metadata: Meta }>> {
    // No memory yet (every ask until one is remembered): answer without loading vectra (~1 s).
    if (!fs.existsSync(path.join(this.dir, INDEX_NAME))) return [];
    const index = await this.openIndex();
    try {
      if (!(await index.isIndexCreated())) return [];
      return (await index.listItems<Meta>()).map((i) => ({ id: i.id, metadata: i.metadata }));
    } catch (err) {
      throw this.unreadable(err);
    }
  }

  private unreadable(err: unknown): Error {
    return new Error(`long-term memory ${path.join(this.dir, INDEX_NAME)} cannot be read (${errorMessage(err)}); delete it to start over`);
  }

  /** One read-modify-write of the whole index: one at a time in this process, under the lock
   * file across processes, on a freshly read index so another process's writes are kept. */
  private mutate<T>(change: (index: LocalIndex, existing: MemoryItem[]) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await ensureBatonDir(this.batonDir);
      await fsp.mkdir(this.dir, { recursive: true });
      const release = await this.lock();
      try {
        const index = await this.openIndex();
        let existing: MemoryItem[];
        try {
          if (!(await index.isIndexCreated())) await index.createIndex({ version: 1 });
          existing = (await index.listItems<Meta>()).map((i) => fromMeta(i.id, i.metadata));
        } catch (err) {
          throw this.unreadable(err);
        }
        await index.beginUpdate();
        try {
          const out = await change(index, existing);
          await index.endUpdate();
          return out;
        } catch (err) {
          index.cancelUpdate();
          throw err;
        }
      } finally {
        await release();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async lock(): Promise<ReleaseLock> {
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      const release = await tryAcquireLock(this.dir);
      if (release) return release;
      if (Date.now() > deadline) throw new Error(`long-term memory is locked by another Baton process (${this.dir}); try again`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async openIndex(): Promise<LocalIndex<Meta>> {
    const v = vectra();
    return new v.LocalIndex<Meta>(this.dir, INDEX_NAME, atomicStorage());
  }
}

function toMeta(item: MemoryItem, embedder: string): Meta {
  return { text: item.text, source: item.source, kind: item.kind, createdAt: item.createdAt, embedder };
}

function fromMeta(id: string, m: Meta): MemoryItem {
  return { id, text: String(m.text), source: String(m.source ?? ''), kind: m.kind === 'answer' ? 'answer' : 'fact', createdAt: String(m.createdAt) };
}

/** BM25 over code-search terms (camelCase/snake_case split, stemmed): relevance without vectors. */
export function lexicalRank(items: MemoryItem[], query: string, k: number): MemoryHit[] {
  const terms = [...new Set(queryTokens(query))];
  if (!terms.length) return [];
  const docs = items.map((i) => codeTokens(`${i.text} ${i.source}`));
  const avg = docs.reduce((n, d) => n + d.length, 0) / Math.max(1, docs.length);
  const df = new Map(terms.map((t) => [t, docs.filter((d) => d.includes(t)).length]));
  const k1 = 1.2;
  const b = 0.75;
  const scored = items.map((item, i) => {
    let score = 0;
    for (const t of terms) {
      const tf = docs[i].filter((x) => x === t).length;
      if (!tf) continue;
      const n = df.get(t)!;
      const idf = Math.log(1 + (items.length - n + 0.5) / (n + 0.5));
      score += idf * (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * docs[i].length) / Math.max(1, avg)));
    }
    return { ...item, score, via: 'lexical' as const };
  });
  return scored.filter((h) => h.score > 0).sort((a, b) => b.score - a.score).slice(0, k);
}

// ---- vectra, loaded lazily ----

let vectraModule: typeof import('vectra') | undefined;
let storage: import('vectra').FileStorage | undefined;

/** vectra pulls in openai, cheerio and grpc (~0.85 s): load it only when memory is touched. */
function vectra(): typeof import('vectra') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (vectraModule ??= require('vectra') as typeof import('vectra'));
}

/** vectra's heaviest dependencies, each a separate synchronous load of 50-270 ms. */
const VECTRA_DEPENDENCIES = ['gpt-tokenizer', 'cheerio', 'wink-eng-lite-web-model', 'openai'];

/**
 * Steps that load vectra ahead of use, for a long-running host (the language server) that would
 * rather pay for it before a request does, and in slices: run one per turn of the event loop, the
 * longest blocks for ~0.3 s instead of ~0.6 s for vectra at once. A dependency that is not where
 * expected is skipped; vectra itself then loads it.
 */
export function memoryStorePreloadSteps(): Array<() => void> {
  const fromVectra = () => createRequire(require.resolve('vectra'));
  return [...VECTRA_DEPENDENCIES.map((name) => () => { fromVectra()(name); }), () => { vectra(); }];
}

/** vectra's local storage with whole-file replacement made atomic. */
function atomicStorage(): import('vectra').FileStorage {
  if (!storage) {
    class AtomicStorage extends vectra().LocalFileStorage {
      override async upsertFile(file: string, content: Buffer | string): Promise<void> {
        await writeFileAtomic(file, content);
      }
    }
    storage = new AtomicStorage();
  }
  return storage;
}
