// The entry point surfaces use (CLI, language server): where a workspace's index lives, which
// embedder it was built with, building it, and opening it for search.
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IndexStore } from './store';
import { Retriever, type FusionWeights } from './retriever';
import { writeFileAtomic } from '../util/atomicFile';
import { parseEmbedderSpec, type BatonConfig } from '../config';
import { createEmbedder } from '../embed/createEmbedder';
import type { Embedder, EmbedderSpec } from '../embed/types';
import { indexWorkspace, type IndexOptions, type IndexSummary } from './indexer';

export const BATON_DIR = '.baton';
const EMBEDDER_FILE = 'embedder.json';

export function batonDirOf(root: string): string {
  return join(resolve(root), BATON_DIR);
}

/** Remembers the embedder an index was built with, so search embeds queries in the same space. */
export async function saveEmbedderSpec(batonDir: string, spec: EmbedderSpec): Promise<void> {
  mkdirSync(batonDir, { recursive: true });
  await writeFileAtomic(join(batonDir, EMBEDDER_FILE), JSON.stringify(spec, null, 2) + '\n');
}

export function loadEmbedderSpec(batonDir: string): EmbedderSpec | null {
  const file = join(batonDir, EMBEDDER_FILE);
  if (!existsSync(file)) return null;
  try {
    return parseEmbedderSpec(JSON.parse(readFileSync(file, 'utf8')), file);
  } catch {
    return null; // unreadable: search falls back to lexical with a notice, `baton index` rewrites it
  }
}

export interface OpenedIndex {
  store: IndexStore;
  retriever: Retriever;
  embedder: Embedder | null;
  close(): Promise<void>;
}

export interface OpenIndexOptions {
  embedder?: EmbedderSpec;
  weights?: FusionWeights;
  /** A query embedder the caller owns (kept loaded across reopens): used instead of creating one
   * from the spec, and not disposed by close(). */
  queryEmbedder?: Embedder | null;
}

/** Opens an existing index for search. The query embedder runs in-thread: one short text. */
export async function openIndexForSearch(root: string, opts: OpenIndexOptions = {}): Promise<OpenedIndex> {
  const dir = batonDirOf(root);
  const store = await IndexStore.open(dir, { create: false });
  const owned = opts.queryEmbedder === undefined;
  const spec = owned ? opts.embedder ?? loadEmbedderSpec(dir) : null;
  const embedder = owned ? (spec ? createEmbedder(spec, { inWorker: false }) : null) : opts.queryEmbedder!;
  const retriever = Retriever.fromStore(store, embedder, opts.weights);
  return {
    store,
    retriever,
    embedder,
    async close() {
      if (owned) await embedder?.dispose();
      await store.close();
    },
  };
}

export interface BuildIndexOptions extends Pick<IndexOptions, 'rebuild' | 'signal' | 'onProgress' | 'onSkip'> {
  /** Embedder spec; default the configuration's. */
  spec?: EmbedderSpec;
  /** An embedder the caller owns (a server keeps its worker between runs): used for `spec` and
   * not disposed here. Default: one created for this run, in a worker. */
  embedder?: Embedder | null;
}

/** Indexes the workspace with the configured ignores and embedder, then records the embedder so
 * search embeds queries in the same space. */
export async function buildWorkspaceIndex(root: string, config: BatonConfig, opts: BuildIndexOptions = {}): Promise<IndexSummary> {
  const batonDir = batonDirOf(root);
  const spec = opts.spec ?? config.embedder;
  const owned = opts.embedder === undefined;
  const embedder = owned ? createEmbedder(spec, { inWorker: true }) : opts.embedder!;
  let summary: IndexSummary;
  try {
    summary = await indexWorkspace({
      root, batonDir, embedder, extraIgnores: config.ignore, maxFileBytes: config.maxFileBytes,
      rebuild: opts.rebuild, signal: opts.signal, onProgress: opts.onProgress, onSkip: opts.onSkip,
    });
  } finally {
    if (owned) await embedder?.dispose();
  }
  await saveEmbedderSpec(batonDir, spec);
  return summary;
}
