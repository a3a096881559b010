// Builds the WordPiece vocabulary from the training pairs, writes the tokenizer (train/onnxExport.ts'
// format), and tokenises everything with transformers.js itself, so training sees exactly the ids
// the shipped model will see. Also tokenises the benchmark's dev split (40-line chunks) so that
// train.py can early-stop on real retrieval, not only on pair validation.
//   node out/train/prepare.js → train/data/tok/{tokenizer.json,…,vocab.txt,*.ids.bin,*.off.bin,dev.*}
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listFiles } from '../bench/dataset/npmFetch';
import { CAMEL_BOUNDARY_REGEX, WORD_REGEX, tokenizeForTraining, writeTokenizer } from './onnxExport';
import { chunkFile } from '../src/core/indexing/chunker';
import { documentText } from '../src/core/embed/documentText';

const ROOT = resolve(__dirname, '../..');
const DATA = join(ROOT, 'train/data');
const TOK = join(DATA, 'tok');

export const VOCAB_WORDS = 20000; // whole words (identifier parts and English)
export const VOCAB_PIECES = 4000; // '##' continuation pieces for the long tail
export const MAX_LENGTH = 512;

const camel = new RegExp(CAMEL_BOUNDARY_REGEX, 'gu');
const word = new RegExp(WORD_REGEX, 'gu');

/** The tokenizer's normaliser + pre-tokeniser, in JS (only used to count words for the vocab). */
export function words(text: string): string[] {
  return text.replace(camel, ' ').toLowerCase().match(word) ?? [];
}

interface Pair { pkg: string; kind: string; query: string; code: string; path: string; symbol: string | null }
interface Negative { pkg: string; code: string; path: string; symbol: string | null }

function readPairs<T = Pair>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function buildVocab(texts: Iterable<string>): string[] {
  const freq = new Map<string, number>();
  for (const t of texts) for (const w of words(t)) freq.set(w, (freq.get(w) ?? 0) + 1);
  const chars = new Map<string, number>();
  for (const [w, f] of freq) for (const c of w) chars.set(c, (chars.get(c) ?? 0) + f);
  const vocab: string[] = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];
  const have = new Set(vocab);
  const add = (t: string) => { if (!have.has(t)) { have.add(t); vocab.push(t); } };
  // Every frequent character, alone and as a continuation, so almost nothing maps to [UNK].
  const byFreq = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [c, f] of byFreq(chars)) if (f >= 20) { add(c); add('##' + c); }
  let n = 0;
  for (const [w, f] of byFreq(freq)) {
    if (n >= VOCAB_WORDS || f < 5) break;
    if (w.length > 24 || have.has(w)) continue;
    add(w);
    n++;
  }
  // Continuation pieces: substrings (2-8 chars, not at the start) of the out-of-vocabulary words.
  const pieces = new Map<string, number>();
  for (const [w, f] of freq) {
    if (have.has(w) || w.length > 40) continue;
    for (let i = 1; i < w.length; i++) {
      for (let L = 2; L <= 8 && i + L <= w.length; L++) {
        const p = '##' + w.slice(i, i + L);
        pieces.set(p, (pieces.get(p) ?? 0) + f);
      }
    }
  }
  n = 0;
  for (const [p] of byFreq(pieces)) {
    if (n >= VOCAB_PIECES) break;
    if (!have.has(p)) { add(p); n++; }
  }
  return vocab;
}

/** Concatenated ids (int32) and offsets (int64, length n+1) for numpy. */
function writeIds(prefix: string, ids: number[][]): void {
  let total = 0;
  for (const a of ids) total += a.length;
  const flat = new Int32Array(total);
  const off = new BigInt64Array(ids.length + 1);
  let k = 0;
  ids.forEach((a, i) => { off[i] = BigInt(k); flat.set(a, k); k += a.length; });
  off[ids.length] = BigInt(k);
  writeFileSync(prefix + '.ids.bin', flat);
  writeFileSync(prefix + '.off.bin', off);
}

async function tokenize(texts: string[], label: string): Promise<number[][]> {
  const t0 = Date.now();
  const out: number[][] = [];
  const step = 20000;
  for (let i = 0; i < texts.length; i += step) {
    // Pre-truncate very long texts: only the first MAX_LENGTH tokens survive anyway.
    out.push(...await tokenizeForTraining(TOK, texts.slice(i, i + step).map((t) => t.slice(0, 8000))));
  }
  console.log(`${label}: ${texts.length} texts tokenised in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

/** The dev benchmark as Baton indexes it: chunkFile's chunks, the text documentText gives the
 * embedder, and a query's relevant chunks are bench/retrieval.ts's hits (the chunk holding the
 * declaration line, or any chunk inside the function). */
async function devChunks(): Promise<{ chunks: string[]; chunkRepo: number[]; queries: string[]; relevant: number[][]; queryRepo: number[] } | undefined> {
  const dir = join(ROOT, 'bench/data/retrieval/dev');
  if (!existsSync(join(dir, 'queries.jsonl'))) return undefined;
  const chunks: string[] = [];
  const chunkRepo: number[] = [];
  const where = new Map<string, { first: number; ranges: { startLine: number; endLine: number }[] }>();
  const repos = listFiles(join(dir, 'repos')).map((f) => f.split('/')[0]).filter((r, i, a) => a.indexOf(r) === i);
  for (const [r, repo] of repos.entries()) {
    for (const f of listFiles(join(dir, 'repos', repo))) {
      const rel = f;
      const cs = await chunkFile(rel, readFileSync(join(dir, 'repos', repo, f), 'utf8'));
      where.set(`${repo}/${rel}`, { first: chunks.length, ranges: cs });
      for (const c of cs) { chunks.push(documentText(c)); chunkRepo.push(r); }
    }
  }
  const queries: string[] = [];
  const relevant: number[][] = [];
  const queryRepo: number[] = [];
  for (const l of readFileSync(join(dir, 'queries.jsonl'), 'utf8').split('\n')) {
    if (!l.trim()) continue;
    const q = JSON.parse(l);
    const w = where.get(`${q.repo}/${q.path}`);
    const rel: number[] = [];
    w?.ranges.forEach((c, i) => {
      if ((c.startLine <= q.startLine && q.startLine <= c.endLine) || (c.startLine >= q.startLine && c.endLine <= q.endLine)) rel.push(w.first + i);
    });
    if (!rel.length) continue;
    queries.push(q.query);
    relevant.push(rel);
    queryRepo.push(repos.indexOf(q.repo));
  }
  return { chunks, chunkRepo, queries, relevant, queryRepo };
}

async function main(): Promise<void> {
  const train = readPairs(join(DATA, 'pairs.train.jsonl'));
  const valid = readPairs(join(DATA, 'pairs.valid.jsonl'));
  const negatives = { train: readPairs<Negative>(join(DATA, 'negatives.train.jsonl')), valid: readPairs<Negative>(join(DATA, 'negatives.valid.jsonl')) };
  mkdirSync(TOK, { recursive: true });
  const uniqueCode = new Set(train.map((p) => p.code));
  const vocab = buildVocab((function* () { for (const p of train) yield p.query; yield* uniqueCode; })());
  writeTokenizer(TOK, { vocab, maxLength: MAX_LENGTH });
  writeFileSync(join(TOK, 'vocab.txt'), vocab.join('\n') + '\n');
  console.log(`vocab: ${vocab.length} tokens`);

  for (const [name, pairs] of [['train', train], ['valid', valid]] as const) {
    writeIds(join(TOK, `${name}.q`), await tokenize(pairs.map((p) => p.query), `${name} queries`));
    writeIds(join(TOK, `${name}.c`), await tokenize(pairs.map((p) => documentText({ text: p.code, symbol: p.symbol })), `${name} code`));
    writeFileSync(join(TOK, `${name}.meta.json`), JSON.stringify({
      pkg: pairs.map((p) => p.pkg), kind: pairs.map((p) => p.kind),
    }));
    // Other chunks of the same packages: hard negatives (train) and extra candidates (valid).
    writeIds(join(TOK, `${name}.n`), await tokenize(negatives[name].map((n) => documentText({ text: n.code, symbol: n.symbol })), `${name} negatives`));
    writeFileSync(join(TOK, `${name}.n.meta.json`), JSON.stringify({ pkg: negatives[name].map((n) => n.pkg) }));
  }
  const dev = await devChunks();
  if (dev) {
    writeIds(join(TOK, 'dev.chunks'), await tokenize(dev.chunks, 'dev chunks'));
    writeIds(join(TOK, 'dev.queries'), await tokenize(dev.queries, 'dev queries'));
    writeFileSync(join(TOK, 'dev.meta.json'), JSON.stringify({ relevant: dev.relevant, chunkRepo: dev.chunkRepo, queryRepo: dev.queryRepo }));
  }
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
