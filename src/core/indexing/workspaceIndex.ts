// The entry point surfaces use (CLI, language server): where a workspace's index lives, which
// embedder it was built with, building it, and opening it for search.
import { join, resolve } from 'node:path';
import { IndexChangedError, IndexStore } from '../store/store';
import { Retriever, type FusionWeights, type RetrieverContext } from '../search/retriever';
import type { BatonConfig } from '../config/config';
import { createEmbedder, describeEmbedder } from '../embed/createEmbedder';
import type { Embedder, EmbedderSpec } from '../embed/types';
import { indexWorkspace, type IndexOptions, type IndexSummary } from './indexer';
import { buildNotices, loadEmbedderSpec } from './buildState';

export { loadEmbedderSpec, saveEmbedderSpec } from './buildState';

export const BATON_DIR = '.baton';

export function batonDirOf(root: string): string {
  return join(resolve(root), BATON_DIR);
}

export interface OpenedIndex {
  store: IndexStore;
  retriever: Retriever;
  embedder: Embedder | null;
  /** What is wrong with the index now (damaged shards, an unfinished index run, a recorded
   * embedder not used). */
  notices(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OpenIndexOptions {
  embedder?: EmbedderSpec;
  weights?: FusionWeights;
  /** A query embedder the caller owns (kept loaded across reopens): used instead of creating one
   * from the spec, and not disposed by close(). */
  queryEmbedder?: Embedder | null;
  /** The workspace is trusted: its .baton/embedder.json may name any embedder. */
  trusted?: boolean;
  /** The embedder the user's (or trusted) configuration names; the recorded one is used when it is the same. */
  configured?: EmbedderSpec;
}

/** Opens an existing index for search. The query embedder runs in-thread: one short text. A
 * damaged index opens too: its healthy shards answer, with a notice. */
export async function openIndexForSearch(root: string, opts: OpenIndexOptions = {}): Promise<OpenedIndex> {
  const dir = batonDirOf(root);
  const owned = opts.queryEmbedder === undefined;
  const untrusted: string[] = [];
  const spec = owned ? opts.embedder ?? usableRecordedSpec(loadEmbedderSpec(dir), opts, untrusted) : null;
  const hasSpec = spec !== null || loadEmbedderSpec(dir) !== null;
  const build = await buildNotices(dir, hasSpec);
  const embedder = owned ? (spec ? createEmbedder(spec, { inWorker: false }) : null) : opts.queryEmbedder!;
  const buildNow = async () => (await buildNotices(dir, hasSpec)).notices;
  const context: RetrieverContext = { noEmbedderReason: build.noEmbedder, notices: buildNow };
  let opened: { store: IndexStore; retriever: Retriever };
  try {
    opened = await openRetriever(dir, embedder, opts.weights, context);
  } catch (err) {
    if (owned) await embedder?.dispose();
    throw err;
  }
  const { store, retriever } = opened;
  return {
    store,
    retriever,
    embedder,
    notices: async () => {
      const damage = store.damageNotice();
      return [...untrusted, ...(await buildNow()), ...(damage ? [damage] : [])];
    },
    async close() {
      if (owned) await embedder?.dispose();
      await store.close();
    },
  };
}

/**
 * .baton/embedder.json is a file in the workspace: a cloned repository can ship one that names a
 * remote embedder, which would receive every query (and the key). It is used as is only when the
 * workspace is trusted, when it runs locally (the packaged model, none), or when it is exactly the
 * embedder the user configured; otherwise search is lexical, and says why.
 */
function usableRecordedSpec(recorded: EmbedderSpec | null, opts: OpenIndexOptions, notices: string[]): EmbedderSpec | null {
  if (!recorded) return null;
  if (opts.trusted || recorded.kind === 'baton' || recorded.kind === 'none' || sameSpec(recorded, opts.configured)) return recorded;
  notices.push(`the index was built with an embedder (${describeEmbedder(recorded)}) named by ${BATON_DIR}/embedder.json, a file in this untrusted workspace; not used: pass --embedder, configure that embedder yourself, or trust the workspace`);
  return null;
}

function sameSpec(a: EmbedderSpec, b: EmbedderSpec | undefined): boolean {
  if (!b) return false;
  const canonical = (s: EmbedderSpec) => JSON.stringify(Object.entries(s).sort(([x], [y]) => (x < y ? -1 : 1)));
  return canonical(a) === canonical(b);
}

/** Opens the store and loads every chunk into the lexical index. That read races with another
 * process's commit deleting the generations it started from: then it opens the store again. */
async function openRetriever(dir: string, embedder: Embedder | null, weights: FusionWeights | undefined, context: RetrieverContext): Promise<{ store: IndexStore; retriever: Retriever }> {
  for (let attempt = 0; ; attempt++) {
    const store = await IndexStore.open(dir, { create: false });
    try {
      return { store, retriever: Retriever.fromStore(store, embedder, weights, context) };
    } catch (err) {
      await store.close();
      if (!(err instanceof IndexChangedError) || attempt >= 3) throw err;
    }
  }
}

export interface BuildIndexOptions extends Pick<IndexOptions, 'rebuild' | 'signal' | 'onProgress' | 'onSkip'> {
  /** Embedder spec; default the configuration's. */
  spec?: EmbedderSpec;
  /** An embedder the caller owns (a server keeps its worker between runs): used for `spec` and
   * not disposed here. Default: one created for this run, in a worker. */
  embedder?: Embedder | null;
}

/** Indexes the workspace with the configured ignores and embedder; the run records the embedder
 * so search embeds queries in the same space. */
export async function buildWorkspaceIndex(root: string, config: BatonConfig, opts: BuildIndexOptions = {}): Promise<IndexSummary> {
  const batonDir = batonDirOf(root);
  const spec = opts.spec ?? config.embedder;
  const owned = opts.embedder === undefined;
  const embedder = owned ? createEmbedder(spec, { inWorker: true }) : opts.embedder!;
  try {
    return await indexWorkspace({
      root, batonDir, embedder, embedderSpec: spec, extraIgnores: config.ignore, maxFileBytes: config.maxFileBytes,
      rebuild: opts.rebuild, signal: opts.signal, onProgress: opts.onProgress, onSkip: opts.onSkip,
    });
  } finally {
    if (owned) await embedder?.dispose();
  }
}
