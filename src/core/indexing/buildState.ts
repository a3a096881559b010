// What an index run leaves next to the store: the embedder it used (embedder.json, so search
// embeds queries in the same space) and whether the run finished (build.json). A run killed
// half-way leaves build.json unfinished, so search can say that the index is incomplete instead
// of guessing a reason ("no embedder configured") from what is missing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBatonDir, writeFileAtomic } from '../../base/node/atomicFile';
import { liveLockOwner } from '../../base/node/lock';
import { parseEmbedderSpec } from '../config/config';
import type { EmbedderSpec } from '../embed/types';

const EMBEDDER_FILE = 'embedder.json';
const BUILD_FILE = 'build.json';

interface BuildState {
  finished: boolean;
  startedAt: string;
  finishedAt?: string;
}

/** Remembers the embedder an index was built with, so search embeds queries in the same space. */
export async function saveEmbedderSpec(batonDir: string, spec: EmbedderSpec): Promise<void> {
  await ensureBatonDir(batonDir);
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

/** Called by an index run once it holds the writer lock. */
export async function markBuildStarted(batonDir: string): Promise<void> {
  const state: BuildState = { finished: false, startedAt: new Date().toISOString() };
  await writeFileAtomic(join(batonDir, BUILD_FILE), JSON.stringify(state) + '\n');
}

/** Called by an index run that completed, after everything else it writes. */
export async function markBuildFinished(batonDir: string): Promise<void> {
  const started = readBuildState(batonDir)?.startedAt ?? new Date().toISOString();
  const state: BuildState = { finished: true, startedAt: started, finishedAt: new Date().toISOString() };
  await writeFileAtomic(join(batonDir, BUILD_FILE), JSON.stringify(state) + '\n');
}

function readBuildState(batonDir: string): BuildState | null {
  try {
    const parsed = JSON.parse(readFileSync(join(batonDir, BUILD_FILE), 'utf8')) as Partial<BuildState> | null;
    return typeof parsed?.finished === 'boolean' && typeof parsed.startedAt === 'string' ? (parsed as BuildState) : null;
  } catch {
    return null; // none (an index from before build.json) or unreadable: nothing to say
  }
}

export interface BuildNotices {
  /** Why dense search has no embedder, when that is not simply "none configured". */
  noEmbedder?: string;
  /** Said with every search while it holds. */
  notices: string[];
}

/** What search should say about how the last index run ended (asked again for each search: a run
 * may finish or start while an index stays open). */
export async function buildNotices(batonDir: string, hasEmbedderSpec: boolean): Promise<BuildNotices> {
  const state = readBuildState(batonDir);
  if (!state || state.finished) return { notices: [] };
  const owner = await liveLockOwner(batonDir);
  // This very process is indexing (a language server): it says so itself.
  if (owner?.pid === process.pid) return { notices: [] };
  if (owner) {
    const running = `an index run is in progress (pid ${owner.pid}${owner.command ? `, ${owner.command}` : ''}): results may be incomplete`;
    return hasEmbedderSpec ? { notices: [running] } : { noEmbedder: 'the first `baton index` has not finished yet', notices: [running] };
  }
  if (!hasEmbedderSpec) return { noEmbedder: 'the first `baton index` did not finish; run `baton index` to complete the index', notices: [] };
  return { notices: ['the last `baton index` did not finish: results may be incomplete; run `baton index` to complete the index'] };
}
