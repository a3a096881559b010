// Weighted reciprocal rank fusion of several retrievers' rankings, then removal of hits that
// cover the same lines of the same file. RRF uses ranks only, so retrievers whose scores live on
// different scales (BM25, cosine, symbol tiers) combine without calibration.
import type { IndexedChunk, RankedChunk, RetrievalSource, SearchResult } from '../indexing/types';

export interface FusionInput {
  source: RetrievalSource;
  /** Best first. */
  results: RankedChunk[];
  /** 0 (or less) switches the input off. */
  weight: number;
}

export interface FusionOptions {
  /** Results wanted after deduplication. */
  k: number;
  /** Rank offset: larger values flatten the advantage of the top ranks. Default 60. */
  rrfK?: number;
}

export const DEFAULT_RRF_K = 60;

interface Fused {
  chunk: IndexedChunk;
  score: number;
  /** Contribution per source, for ordering `sources`. */
  bySource: Map<RetrievalSource, number>;
  /** Best 1-based rank in any input, the first tie-breaker. */
  bestRank: number;
  /** First-seen order, the last tie-breaker (keeps fusion deterministic). */
  order: number;
}

/**
 * score(d) = Σ over inputs of weight / (rrfK + rank(d)), rank 1-based; a chunk repeated within
 * one input counts at its best rank only. Hits overlapping a better-scoring hit's line range in
 * the same file are dropped (not merged). Best first, at most `k`.
 */
export function fuseRankings(inputs: FusionInput[], opts: FusionOptions): SearchResult[] {
  const rrfK = opts.rrfK ?? DEFAULT_RRF_K;
  if (!Number.isFinite(rrfK) || rrfK < 0) throw new RangeError(`rrfK must be a finite number >= 0, got ${rrfK}`);
  if (opts.k <= 0) return [];

  const fused = new Map<string, Fused>();
  for (const input of inputs) {
    if (!(input.weight > 0)) continue;
    const seen = new Set<string>();
    input.results.forEach((hit, i) => {
      const id = hit.chunk.id;
      if (seen.has(id)) return;
      seen.add(id);
      const rank = i + 1;
      const value = input.weight / (rrfK + rank);
      let entry = fused.get(id);
      if (!entry) {
        entry = { chunk: hit.chunk, score: 0, bySource: new Map(), bestRank: rank, order: fused.size };
        fused.set(id, entry);
      }
      entry.score += value;
      entry.bestRank = Math.min(entry.bestRank, rank);
      entry.bySource.set(input.source, (entry.bySource.get(input.source) ?? 0) + value);
    });
  }

  const ranked = [...fused.values()].sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || a.order - b.order);
  return dedupeOverlaps(ranked, opts.k).map(toResult);
}

/** Keeps, best first, each hit that overlaps no already kept hit of the same file. */
function dedupeOverlaps(ranked: Fused[], k: number): Fused[] {
  const keptByPath = new Map<string, Fused[]>();
  const kept: Fused[] = [];
  for (const hit of ranked) {
    if (kept.length >= k) break;
    const { path, startLine, endLine } = hit.chunk;
    const sameFile = keptByPath.get(path);
    if (sameFile?.some((o) => startLine <= o.chunk.endLine && o.chunk.startLine <= endLine)) continue;
    if (sameFile) sameFile.push(hit);
    else keptByPath.set(path, [hit]);
    kept.push(hit);
  }
  return kept;
}

function toResult(hit: Fused): SearchResult {
  const { path, startLine, endLine, symbol, language, text } = hit.chunk;
  // Stable sort: equal contributions keep input order.
  const sources = [...hit.bySource].sort((a, b) => b[1] - a[1]).map(([source]) => source);
  return { path, startLine, endLine, score: hit.score, symbol, language, text, sources };
}
