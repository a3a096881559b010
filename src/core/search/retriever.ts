// Hybrid retrieval: BM25F + dense vectors (+ symbol lookup for identifier-like queries), fused by
// weighted reciprocal rank. Falls back to lexical-only, with a notice, whenever the dense side
// is unavailable, so search always answers.
import { LexicalIndex } from './lexical';
import { fuseRankings, type FusionInput } from './fusion';
import type { IndexStore } from '../store/store';
import type { RankedChunk, RetrievalSource, SearchResult } from '../indexing/types';
import type { Embedder } from '../embed/types';
import { boundedPrefix } from '../../base/common/prefix';
import { errorMessage } from '../../base/common/errors';

export type SearchMode = 'hybrid' | 'lexical' | 'dense';

export interface SearchOptions {
  k?: number;
  mode?: SearchMode;
  signal?: AbortSignal;
}

export interface SearchResponse {
  results: SearchResult[];
  /** The mode actually used (hybrid degrades to lexical when there are no vectors). */
  mode: SearchMode;
  notices: string[];
}

export interface FusionWeights {
  lexical: number;
  dense: number;
  symbol: number;
}

/** Dense weight chosen on the benchmark's dev split (`node out/bench/retrieval.js --split dev --tune`)
 * with the packaged model: MRR@10 rises from 0.535 (lexical only) to its best at 1.5 and falls
 * beyond 2. Symbol lookup only fires on identifier-like queries, which that benchmark has none of. */
export const DEFAULT_FUSION_WEIGHTS: FusionWeights = { lexical: 1, dense: 1.5, symbol: 0.5 };
export const RRF_K = 60;
/** Candidates taken from each retriever before fusion. */
const CANDIDATES = 50;

const IDENTIFIER_QUERY = /^[\p{L}_$][\p{L}\p{N}_$]*(?:(?:\.|::|#)[\p{L}_$][\p{L}\p{N}_$]*)*$/u;

/** What the index's surroundings say, besides the store itself. */
export interface RetrieverContext {
  /** Why there is no embedder, when it is not simply that none is configured. */
  noEmbedderReason?: string;
  /** Said with every search (e.g. the last index run did not finish); asked for each search. */
  notices?: () => Promise<string[]>;
}

export class Retriever {
  private denseProblem: string | null | undefined;

  constructor(
    private readonly store: IndexStore,
    private readonly lexical: LexicalIndex,
    private readonly embedder: Embedder | null,
    private readonly weights: FusionWeights = DEFAULT_FUSION_WEIGHTS,
    private readonly context: RetrieverContext = {},
  ) {}

  /** Builds the in-memory lexical index from the stored chunks (their terms are precomputed);
   * damaged shards are left out. */
  static fromStore(store: IndexStore, embedder: Embedder | null, weights?: FusionWeights, context?: RetrieverContext): Retriever {
    const lexical = new LexicalIndex();
    for (const chunk of store.chunks()) lexical.add(chunk);
    return new Retriever(store, lexical, embedder, weights, context);
  }

  get lexicalIndex(): LexicalIndex {
    return this.lexical;
  }

  async search(query: string, opts: SearchOptions = {}): Promise<SearchResponse> {
    const response = await this.searchIndex(query, opts);
    // Damage is found as shards are read (vectors on the first dense query): ask the store after.
    const damage = this.store.damageNotice();
    response.notices.push(...((await this.context.notices?.()) ?? []), ...(damage ? [damage] : []));
    return response;
  }

  private async searchIndex(query: string, opts: SearchOptions): Promise<SearchResponse> {
    const k = opts.k ?? 10;
    const wanted = opts.mode ?? 'hybrid';
    const notices: string[] = [];
    // A search reads the start of a long query (a whole pasted question): embedding and BM25 cost grow with it.
    const trimmed = boundedPrefix(query.trim()).trim();
    if (!trimmed) return { results: [], mode: wanted, notices: ['empty query'] };

    let dense: RankedChunk[] | null = null;
    if (wanted !== 'lexical') {
      const problem = await this.denseUnavailable(opts.signal);
      if (problem) {
        if (wanted === 'dense') throw new Error(`dense search unavailable: ${problem}`);
        notices.push(`dense retrieval unavailable (${problem}); showing lexical results only`);
      } else {
        const [vector] = await this.embedder!.embed([trimmed], 'query', opts.signal);
        dense = await this.store.queryDense(vector, wanted === 'dense' ? k * 3 : CANDIDATES);
      }
    }
    if (wanted === 'dense') return { results: rawScored('dense', dense!, k), mode: 'dense', notices };

    const lexical = this.lexical.search(trimmed, wanted === 'lexical' ? k * 3 : CANDIDATES);
    if (wanted === 'lexical' || !dense) {
      return { results: rawScored('lexical', lexical, k), mode: 'lexical', notices };
    }
    const inputs: FusionInput[] = [
      { source: 'lexical', results: lexical, weight: this.weights.lexical },
      { source: 'dense', results: dense, weight: this.weights.dense },
    ];
    if (IDENTIFIER_QUERY.test(trimmed)) {
      inputs.push({ source: 'symbol', results: this.lexical.findSymbol(trimmed, 10), weight: this.weights.symbol });
    }
    // Scale so a chunk ranked first by every retriever scores 1.
    const best = inputs.reduce((sum, input) => sum + input.weight / (RRF_K + 1), 0);
    const results = fuseRankings(inputs, { k, rrfK: RRF_K }).map((r) => ({ ...r, score: r.score / best }));
    return { results, mode: 'hybrid', notices };
  }

  /** Why dense search cannot run, or null when it can. Decided once per retriever. */
  private async denseUnavailable(signal?: AbortSignal): Promise<string | null> {
    if (this.denseProblem !== undefined) return this.denseProblem;
    this.denseProblem = await this.checkDense(signal);
    return this.denseProblem;
  }

  private async checkDense(signal?: AbortSignal): Promise<string | null> {
    if (!this.embedder) return this.context.noEmbedderReason ?? 'no embedder configured';
    if (this.store.vectorCount === 0) return 'the index has no vectors yet; run `baton index`';
    try {
      await this.embedder.init(signal);
    } catch (err) {
      return errorMessage(err);
    }
    if (this.store.embedderId !== this.embedder.id) {
      return `the index was embedded with ${this.store.embedderId}, not ${this.embedder.id}; run \`baton index\``;
    }
    return null;
  }
}

/** Single-retriever results keep that retriever's own score, after overlap deduplication. */
function rawScored(source: RetrievalSource, ranked: RankedChunk[], k: number): SearchResult[] {
  const raw = new Map(ranked.map((r) => [r.chunk.id, r.score]));
  return fuseRankings([{ source, results: ranked, weight: 1 }], { k }).map((r) => ({
    ...r,
    score: raw.get(`${r.path}#${r.startLine}-${r.endLine}`) ?? r.score,
  }));
}
