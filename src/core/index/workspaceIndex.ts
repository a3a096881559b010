// The entry point surfaces use (CLI now, the language server later): where a workspace's index
// lives, which embedder it was built with, and opening it for search.
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IndexStore } from './store';
import { Retriever, type FusionWeights } from './retriever';
import { writeFileAtomic } from '../util/atomicFile';
import { parseEmbedderSpec } from '../config';
import { createEmbedder } from '../embed/createEmbedder';
import type { Embedder, EmbedderSpec } from '../embed/types';

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

/** Opens an existing index for search. The query embedder runs in-thread: one short text. */
export async function openIndexForSearch(root: string, opts: { embedder?: EmbedderSpec; weights?: FusionWeights } = {}): Promise<OpenedIndex> {
  const dir = batonDirOf(root);
  const store = await IndexStore.open(dir, { create: false });
  const spec = opts.embedder ?? loadEmbedderSpec(dir);
  const embedder = spec ? createEmbedder(spec, { inWorker: false }) : null;
  const retriever = Retriever.fromStore(store, embedder, opts.weights);
  return {
    store,
    retriever,
    embedder,
    async close() {
      await embedder?.dispose();
      await store.close();
    },
  };
}
