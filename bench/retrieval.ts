// Retrieval quality on real npm code: doc-comment first sentence -> the documented function,
// with doc comments stripped from the indexed copy (built by bench/dataset/build.ts).
// Every repo is indexed by Baton's own pipeline; BM25, dense and hybrid answer the same queries.
//
//   node out/bench/retrieval.js [--split test|dev] [--embedder SPEC] [--tune] [--limit N]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { indexWorkspace } from '../src/core/indexing/indexer';
import { IndexStore } from '../src/core/store/store';
import { DEFAULT_BM25F, LexicalIndex, type Bm25fParams } from '../src/core/search/lexical';
import { Retriever, DEFAULT_FUSION_WEIGHTS, type FusionWeights, type SearchMode } from '../src/core/search/retriever';
import { embedderSpecFromFlag } from '../src/core/config/config';
import { createEmbedder, describeEmbedder } from '../src/core/embed/createEmbedder';
import type { SearchResult } from '../src/core/indexing/types';

interface Query { repo: string; query: string; path: string; startLine: number; endLine: number; symbol: string }

const { values } = parseArgs({
  options: {
    split: { type: 'string', default: 'test' },
    embedder: { type: 'string', default: 'baton' },
    tune: { type: 'boolean', default: false },
    limit: { type: 'string' },
  },
});
const dataDir = resolve(__dirname, '..', '..', 'bench', 'data', 'retrieval', values.split);
// Indexes live beside the dataset, not inside its repos, so the repos stay pristine.
const indexRoot = resolve(__dirname, '..', '..', 'bench', 'data', 'indexes', values.split, sanitize(values.embedder));
if (!existsSync(join(dataDir, 'queries.jsonl'))) {
  console.error(`no benchmark data at ${dataDir}; run \`node out/bench/dataset/build.js\` first`);
  process.exit(1);
}

function sanitize(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').slice(0, 80);
}

/** A hit is a result in the target file that holds the declaration line, or lies inside the function. */
function isHit(r: SearchResult, q: Query): boolean {
  if (r.path !== q.path) return false;
  const holdsStart = r.startLine <= q.startLine && q.startLine <= r.endLine;
  const inside = r.startLine >= q.startLine && r.endLine <= q.endLine;
  return holdsStart || inside;
}

/** Classic BM25 over the chunk text: Baton's BM25F with its symbol and path fields switched off. */
const PLAIN_BM25: Bm25fParams = {
  k1: DEFAULT_BM25F.k1,
  fields: { content: DEFAULT_BM25F.fields.content, symbol: { weight: 0, b: 0 }, path: { weight: 0, b: 0 } },
};

function plainBm25(store: IndexStore): LexicalIndex {
  const index = new LexicalIndex(PLAIN_BM25);
  for (const chunk of store.chunks()) index.add(chunk);
  return index;
}

interface Metrics { mrr10: number; r1: number; r10: number; n: number }
function score(ranks: (number | null)[]): Metrics {
  const n = ranks.length;
  const sum = (f: (r: number | null) => number) => ranks.reduce((a: number, r) => a + f(r), 0) / Math.max(n, 1);
  return {
    mrr10: sum((r) => (r !== null && r <= 10 ? 1 / r : 0)),
    r1: sum((r) => (r === 1 ? 1 : 0)),
    r10: sum((r) => (r !== null && r <= 10 ? 1 : 0)),
    n,
  };
}

async function main() {
  const queries: Query[] = readFileSync(join(dataDir, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const limit = values.limit ? Number(values.limit) : Infinity;
  const spec = embedderSpecFromFlag(values.embedder);
  const repos = readdirSync(join(dataDir, 'repos')).sort();
  console.log(`split ${values.split}: ${repos.length} repos, ${queries.length} queries; embedder ${describeEmbedder(spec)}`);

  const weightGrid: FusionWeights[] = values.tune
    ? [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5].flatMap((dense) => [0, 0.5].map((symbol) => ({ lexical: 1, dense, symbol })))
    : [DEFAULT_FUSION_WEIGHTS];
  const ranks = new Map<string, (number | null)[]>();
  const record = (key: string, rank: number | null) => (ranks.get(key) ?? ranks.set(key, []).get(key)!).push(rank);

  let indexSeconds = 0;
  let chunks = 0;
  for (const repo of repos) {
    const root = join(dataDir, 'repos', repo);
    const repoQueries = queries.filter((q) => q.repo === repo).slice(0, limit);
    if (!repoQueries.length) continue;
    const embedder = createEmbedder(spec, { inWorker: true });
    const batonDir = join(indexRoot, repo);
    const summary = await indexWorkspace({ root, batonDir, embedder });
    await embedder?.dispose();
    indexSeconds += summary.seconds;
    chunks += summary.chunks;
    if (summary.notice) console.log(`  ${repo}: ${summary.notice}`);

    const store = await IndexStore.open(batonDir, { create: false });
    const queryEmbedder = createEmbedder(spec, { inWorker: false });
    const runs: { key: string; mode: SearchMode; weights: FusionWeights; lexical?: LexicalIndex }[] = [
      { key: 'BM25 (content only)', mode: 'lexical', weights: DEFAULT_FUSION_WEIGHTS, lexical: plainBm25(store) },
      { key: 'BM25F (lexical)', mode: 'lexical', weights: DEFAULT_FUSION_WEIGHTS },
      { key: 'dense', mode: 'dense', weights: DEFAULT_FUSION_WEIGHTS },
      ...weightGrid.map((w) => ({ key: values.tune ? `hybrid l=${w.lexical} d=${w.dense} s=${w.symbol}` : 'Baton hybrid', mode: 'hybrid' as const, weights: w })),
    ];
    const lexicalIndex = Retriever.fromStore(store, queryEmbedder).lexicalIndex;
    for (const run of runs) {
      const retriever = new Retriever(store, run.lexical ?? lexicalIndex, queryEmbedder, run.weights);
      for (const q of repoQueries) {
        let results: SearchResult[] = [];
        try {
          results = (await retriever.search(q.query, { k: 10, mode: run.mode })).results;
        } catch {
          results = []; // dense unavailable: counts as a miss
        }
        const at = results.findIndex((r) => isHit(r, q));
        record(run.key, at < 0 ? null : at + 1);
      }
    }
    await queryEmbedder?.dispose();
    await store.close();
    console.log(`  ${repo}: ${summary.files} files, ${summary.chunks} chunks, ${repoQueries.length} queries`);
  }

  console.log(`\nindexed ${chunks} chunks in ${indexSeconds.toFixed(1)} s`);
  console.log(`\n| retriever | MRR@10 | Recall@1 | Recall@10 | queries |\n|---|---|---|---|---|`);
  const rows = [...ranks.entries()].map(([key, r]) => ({ key, m: score(r) }));
  if (values.tune) rows.sort((a, b) => b.m.mrr10 - a.m.mrr10);
  for (const { key, m } of rows) {
    console.log(`| ${key} | ${m.mrr10.toFixed(3)} | ${m.r1.toFixed(3)} | ${m.r10.toFixed(3)} | ${m.n} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
