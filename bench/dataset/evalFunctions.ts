// Development evaluator for the retrieval benchmark (the official one is bench/retrieval.ts, which
// indexes with Baton's own chunker). Fixed 40-line chunks per file; a query's relevant chunks are
// those overlapping its function; candidates are the chunks of the query's own repository.
// Ranks with BM25, with a transformers.js model folder, and with reciprocal-rank fusion of both.
//   node out/bench/dataset/evalFunctions.js --split test --model models/baton-code-search
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listFiles } from './npmFetch';

const ROOT = resolve(__dirname, '../../..');
const CHUNK_LINES = 40;
const RRF_K = 60;

interface Query { repo: string; query: string; path: string; startLine: number; endLine: number }
interface Chunk { repo: string; text: string }

/** Code-aware words: camelCase and snake_case split, lower case, letter and digit runs. */
export function codeWords(text: string): string[] {
  return text.replace(/(?<=\p{Ll})(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/gu, ' ').toLowerCase().match(/\p{L}+|\p{N}+/gu) ?? [];
}

class Bm25 {
  private readonly idf = new Map<string, number>();
  private readonly docs: Map<string, number>[] = [];
  private readonly lens: number[] = [];
  private avg = 0;
  constructor(texts: string[], private readonly k1 = 1.2, private readonly b = 0.75) {
    const df = new Map<string, number>();
    for (const t of texts) {
      const tf = new Map<string, number>();
      const ws = codeWords(t);
      for (const w of ws) tf.set(w, (tf.get(w) ?? 0) + 1);
      for (const w of tf.keys()) df.set(w, (df.get(w) ?? 0) + 1);
      this.docs.push(tf);
      this.lens.push(ws.length);
    }
    this.avg = this.lens.reduce((a, b) => a + b, 0) / Math.max(1, texts.length);
    for (const [w, n] of df) this.idf.set(w, Math.log(1 + (texts.length - n + 0.5) / (n + 0.5)));
  }
  scores(query: string): Float64Array {
    const out = new Float64Array(this.docs.length);
    const terms = [...new Set(codeWords(query))];
    this.docs.forEach((tf, i) => {
      let s = 0;
      for (const w of terms) {
        const f = tf.get(w);
        if (!f) continue;
        s += this.idf.get(w)! * (f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + this.b * this.lens[i] / this.avg));
      }
      out[i] = s;
    });
    return out;
  }
}

function rankOfBest(scores: ArrayLike<number>, relevant: number[]): number {
  let best = -Infinity;
  for (const r of relevant) best = Math.max(best, scores[r]);
  let rank = 1;
  for (let i = 0; i < scores.length; i++) if (scores[i] > best) rank++;
  return rank;
}

function rrf(lists: ArrayLike<number>[]): Float64Array {
  const n = lists[0].length;
  const out = new Float64Array(n);
  for (const s of lists) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => s[b] - s[a]);
    order.forEach((doc, r) => { out[doc] += 1 / (RRF_K + r + 1); });
  }
  return out;
}

function summarise(ranks: number[]): { mrr10: number; r1: number; r10: number } {
  const n = Math.max(1, ranks.length);
  return {
    mrr10: ranks.reduce((s, r) => s + (r <= 10 ? 1 / r : 0), 0) / n,
    r1: ranks.filter((r) => r === 1).length / n,
    r10: ranks.filter((r) => r <= 10).length / n,
  };
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
  const split = arg('--split', 'dev');
  const model = arg('--model', '');
  const dir = join(ROOT, 'bench/data/retrieval', split);
  const queries: Query[] = readFileSync(join(dir, 'queries.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const repos = [...new Set(queries.map((q) => q.repo))];

  let embed: ((texts: string[]) => Promise<Float32Array[]>) | undefined;
  let dispose = async () => {};
  if (model) {
    const folder = resolve(model);
    if (!existsSync(join(folder, 'config.json'))) throw new Error(`no model at ${folder}`);
    const tf = await import('@huggingface/transformers');
    tf.env.allowRemoteModels = false;
    const pipe = await tf.pipeline('feature-extraction', folder, { local_files_only: true, dtype: 'q8' });
    embed = async (texts) => {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += 16) {
        const t = await pipe(texts.slice(i, i + 16), { pooling: 'mean', normalize: true });
        const [n, d] = t.dims;
        const data = t.data as Float32Array;
        for (let k = 0; k < n; k++) out.push(data.slice(k * d, (k + 1) * d));
      }
      return out;
    };
    dispose = () => pipe.dispose();
  }

  const ranks: Record<string, number[]> = { bm25: [], dense: [], rrf: [] };
  const perRepo: Record<string, Record<string, unknown>> = {};
  let chunkCount = 0, embedSeconds = 0;
  for (const repo of repos) {
    const chunks: Chunk[] = [];
    const where = new Map<string, number>();
    for (const f of listFiles(join(dir, 'repos', repo))) {
      const lines = readFileSync(join(dir, 'repos', repo, f), 'utf8').split('\n');
      where.set(f, chunks.length);
      for (let s = 0; s < lines.length; s += CHUNK_LINES) chunks.push({ repo, text: `${f}\n${lines.slice(s, s + CHUNK_LINES).join('\n')}` });
    }
    chunkCount += chunks.length;
    const qs = queries.filter((q) => q.repo === repo);
    const bm25 = new Bm25(chunks.map((c) => c.text));
    let docVecs: Float32Array[] = [], qVecs: Float32Array[] = [];
    if (embed) {
      const t0 = performance.now();
      docVecs = await embed(chunks.map((c) => c.text));
      embedSeconds += (performance.now() - t0) / 1000;
      qVecs = await embed(qs.map((q) => q.query));
    }
    const repoRanks: Record<string, number[]> = { bm25: [], dense: [], rrf: [] };
    qs.forEach((q, qi) => {
      const first = where.get(q.path)!;
      const relevant: number[] = [];
      for (let c = Math.floor((q.startLine - 1) / CHUNK_LINES); c <= Math.floor((q.endLine - 1) / CHUNK_LINES); c++) relevant.push(first + c);
      const lex = bm25.scores(q.query);
      repoRanks.bm25.push(rankOfBest(lex, relevant));
      if (embed) {
        const dense = new Float64Array(docVecs.length);
        const v = qVecs[qi];
        docVecs.forEach((d, i) => { let s = 0; for (let k = 0; k < v.length; k++) s += v[k] * d[k]; dense[i] = s; });
        repoRanks.dense.push(rankOfBest(dense, relevant));
        repoRanks.rrf.push(rankOfBest(rrf([lex, dense]), relevant));
      }
    });
    for (const k of Object.keys(ranks)) ranks[k].push(...repoRanks[k]);
    perRepo[repo] = { queries: qs.length, chunks: chunks.length, ...Object.fromEntries(Object.entries(repoRanks).filter(([, r]) => r.length).map(([k, r]) => [k, summarise(r)])) };
    console.log(`${repo.padEnd(22)} q=${String(qs.length).padStart(4)} chunks=${String(chunks.length).padStart(5)}  ` +
      Object.entries(repoRanks).filter(([, r]) => r.length).map(([k, r]) => `${k} ${summarise(r).mrr10.toFixed(3)}`).join('  '));
  }
  await dispose();
  const overall = Object.fromEntries(Object.entries(ranks).filter(([, r]) => r.length).map(([k, r]) => [k, summarise(r)]));
  console.log(`\n${split}: ${queries.length} queries, ${chunkCount} chunks of ${CHUNK_LINES} lines`);
  for (const [k, m] of Object.entries(overall)) console.log(`${k.padEnd(6)} MRR@10 ${m.mrr10.toFixed(4)}  R@1 ${m.r1.toFixed(4)}  R@10 ${m.r10.toFixed(4)}`);
  if (embed) console.log(`embedding speed: ${(chunkCount / embedSeconds).toFixed(0)} chunks/s (batch 16)`);
  writeFileSync(join(dir, 'eval.json'), JSON.stringify({ split, model: model || null, chunkLines: CHUNK_LINES, overall, perRepo,
    chunksPerSecond: embed ? chunkCount / embedSeconds : null }, null, 2) + '\n');
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
