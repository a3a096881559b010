// The entry point surfaces use (CLI, language server): where a workspace's index lives, which
// embedder it was built with, building it, and opening it for search.
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IndexStore } from './store';
import { Retriever, type FusionWeights } from './retriever';
import { writeFileAtomic } from '../util/atomicFile';
import { parseEmbedderSpec, type BatonConfig } from '../config';
import { createEmbedder, describeEmbedder } from '../embed/createEmbedder';
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
  /** Why the index opened degraded (its recorded embedder was not used, ...). */
  notices: string[];
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

/** Opens an existing index for search. The query embedder runs in-thread: one short text. */
export async function openIndexForSearch(root: string, opts: OpenIndexOptions = {}): Promise<OpenedIndex> {
  const dir = batonDirOf(root);
  const store = await IndexStore.open(dir, { create: false });
  const owned = opts.queryEmbedder === undefined;
  const notices: string[] = [];
  let spec: EmbedderSpec | null = null;
  if (owned) spec = opts.embedder ?? usableRecordedSpec(loadEmbedderSpec(dir), opts, notices);
  const embedder = owned ? (spec ? createEmbedder(spec, { inWorker: false }) : null) : opts.queryEmbedder!;
  const retriever = Retriever.fromStore(store, embedder, opts.weights);
  return {
    store,
    retriever,
    embedder,
    notices,
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
  notices.push(`the index was built with an embedder (${describeEmbedder(recorded)}) named by ${BATON_DIR}/${EMBEDDER_FILE}, a file in this untrusted workspace; not used: pass --embedder, configure that embedder yourself, or trust the workspace`);
  return null;
}

function sameSpec(a: EmbedderSpec, b: EmbedderSpec | undefined): boolean {
  if (!b) return false;
  const canonical = (s: EmbedderSpec) => JSON.stringify(Object.entries(s).sort(([x], [y]) => (x < y ? -1 : 1)));
  return canonical(a) === canonical(b);
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
