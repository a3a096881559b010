// The index kept open between requests. It is reopened when the indexer commits (the manifest on
// disk changes), so new text becomes searchable as soon as a phase commits, and requests still
// using the previous generation keep it until they release it. The query embedder stays loaded
// across reopens; it is replaced only when the configured embedder changes.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createEmbedder } from '../core/embed/createEmbedder';
import type { Embedder, EmbedderSpec } from '../core/embed/types';
import { batonDirOf, openIndexForSearch, type OpenedIndex } from '../core/indexing/workspaceIndex';

export interface IndexLease {
  index: OpenedIndex;
  release(): void;
}

interface Entry {
  index: OpenedIndex;
  key: string;
  users: number;
  current: boolean;
}

export class WarmIndex {
  private entry: Entry | undefined;
  private readonly retired = new Set<Entry>();
  private opening: Promise<Entry> | undefined;
  /** The query embedder an open in flight was given: not disposed under it. */
  private openingWith: Embedder | null | undefined;
  private query: { spec: string; embedder: Embedder | null } | undefined;
  /** Embedders replaced while an open index still used them: disposed with that index. */
  private readonly oldEmbedders = new Set<Embedder>();

  constructor(private readonly root: string) {}

  /** The embedder queries are embedded with; must match the one the index is built with. */
  useEmbedder(spec: EmbedderSpec): void {
    const key = JSON.stringify(spec);
    if (this.query?.spec === key) return;
    if (this.query?.embedder) this.oldEmbedders.add(this.query.embedder);
    this.query = { spec: key, embedder: createEmbedder(spec, { inWorker: false }) };
    this.retire();
    void this.disposeUnusedEmbedders();
  }

  /** The current index, opened or reopened as needed; null when the workspace has none yet. */
  async acquire(): Promise<IndexLease | null> {
    let entry: Entry | undefined;
    // An entry retired while this request waited for its open (another commit, a new embedder) is
    // closed or closing: open again rather than hand it out.
    while (!entry?.current) {
      const key = manifestKey(this.root);
      if (!key) return null;
      entry = this.entry;
      if (!entry || entry.key !== key) {
        // Concurrent requests share one open; a commit during it is picked up by the next acquire.
        this.opening ??= this.open(key).finally(() => { this.opening = undefined; });
        entry = await this.opening;
      }
    }
    const leased = entry;
    leased.users++;
    let released = false;
    return {
      index: leased.index,
      release: () => {
        if (released) return;
        released = true;
        leased.users--;
        if (!leased.current && leased.users === 0) void this.close(leased);
      },
    };
  }

  /** Forgets the open index (e.g. after a read error): the next acquire reopens it. */
  retire(): void {
    const old = this.entry;
    this.entry = undefined;
    if (!old) return;
    old.current = false;
    if (old.users === 0) void this.close(old);
    else this.retired.add(old);
  }

  async dispose(): Promise<void> {
    await this.opening?.catch(() => undefined); // an index opening now is closed with the rest
    this.retire();
    await Promise.all([...this.retired].map((e) => this.close(e)));
    if (this.query?.embedder) this.oldEmbedders.add(this.query.embedder);
    this.query = undefined;
    await this.disposeUnusedEmbedders();
  }

  private async open(key: string): Promise<Entry> {
    const embedder = this.query?.embedder ?? null;
    this.openingWith = embedder;
    let index: OpenedIndex;
    try {
      index = await openIndexForSearch(this.root, { queryEmbedder: embedder });
    } finally {
      this.openingWith = undefined;
    }
    this.retire();
    const entry: Entry = { index, key, users: 0, current: true };
    this.entry = entry;
    return entry;
  }

  private async close(entry: Entry): Promise<void> {
    this.retired.delete(entry);
    await entry.index.close().catch(() => undefined);
    await this.disposeUnusedEmbedders();
  }

  private async disposeUnusedEmbedders(): Promise<void> {
    const inUse = new Set([this.openingWith, ...[this.entry, ...this.retired].map((e) => e?.index.embedder)]);
    for (const embedder of this.oldEmbedders) {
      if (inUse.has(embedder)) continue;
      this.oldEmbedders.delete(embedder);
      await embedder.dispose().catch(() => undefined);
    }
  }
}

/** Identifies the committed state: every commit swaps manifest.json atomically (a new file). */
function manifestKey(root: string): string | null {
  try {
    const s = statSync(join(batonDirOf(root), 'manifest.json'));
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return null;
  }
}
