// Code-aware tokenisation shared by indexing and querying. Documents and queries go through the
// same normalisation (split identifiers, lowercase, drop noise, light stemming) so that
// "getUserNames", "get_user_name" and "user name" meet on the same terms.
import type { Chunk, ChunkTerms } from '../indexing/types';
import { boundedPrefix } from '../../base/common/prefix';

/** Identifier-like runs: letters, digits, `_`, `$`, and hyphens joining word characters
 * (kebab-case). Unicode letters count, so non-ASCII identifiers survive. */
const RUN = /[\p{L}\p{M}\p{N}_$]+(?:-[\p{L}\p{M}\p{N}_$]+)*/gu;

/** Word boundaries inside one identifier segment: lower→Upper ("getUser"), the end of an acronym
 * ("HTTPServer" → HTTP|Server), and letter↔digit ("utf8", "es2015"). */
const CASE_SPLIT = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})|(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u;

/**
 * Words dropped from documents and queries: they occur in most chunks of real code, so they carry
 * almost no ranking signal while their posting lists are the longest in the index. Chosen by
 * measurement (`node out/bench/lexical.js --stopwords` prints document frequencies over 11k
 * 40-line chunks of typescript/lib and openai/*.js): keywords in 20-80% of chunks (return 81%,
 * if 75%, const 72%, function 69%, void 53%, true 40%, let 29%, null 25%, var 20%...), English
 * function words (is 71%, of 56%, for 54%, to 42%, the 25%...), and rarer function words that are
 * pure noise in natural-language queries ("where is the ..."). Frequent words that name concepts a
 * user may search for ("get" 65%, "type" 57%, "name", "node", "class", "async", "error",
 * "string") are kept: IDF already discounts them. Matched before stemming.
 */
export const STOPWORDS: ReadonlySet<string> = new Set([
  // English
  'the', 'an', 'of', 'to', 'in', 'is', 'it', 'its', 'and', 'or', 'for', 'on', 'at', 'by', 'be',
  'as', 'with', 'from', 'that', 'this', 'these', 'those', 'are', 'was', 'were', 'has', 'have',
  'had', 'not', 'no', 'but', 'if', 'so', 'than', 'then', 'there', 'which', 'who', 'what', 'when',
  'where', 'how', 'all', 'any', 'can', 'will', 'would', 'should', 'may', 'do', 'does', 'into',
  'we', 'you', 'our', 'your', 'they', 'their', 'them', 'he', 'she', 'his', 'her', 'me', 'my', 'us',
  // keywords
  'var', 'let', 'const', 'return', 'function', 'else', 'new', 'self', 'true', 'false', 'null',
  'undefined', 'none', 'void', 'typeof', 'instanceof', 'def', 'elif', 'func', 'fn', 'case',
  'break', 'continue', 'default', 'while',
]);

/**
 * Light suffix stemming (plural -s/-es/-ies, -ing, -ed, final -e) so "parse", "parses",
 * "parsing", "parsed" share a term. -ing/-ed/-e need a stem of at least 4 letters, so short words
 * ("string", "embed", "used") are not mangled into collisions. Only ASCII words are touched.
 */
export function stem(term: string): string {
  if (term.length < 4 || !/[a-z]{3}$/.test(term)) return term;
  if (term.endsWith('ies') && term.length > 4) return term.slice(0, -3) + 'y';
  if (term.endsWith('sses')) return term.slice(0, -2);
  if (term.endsWith('ss') || term.endsWith('us') || term.endsWith('is')) return term;
  if (term.endsWith('s')) return dropE(term.slice(0, -1));
  if (term.endsWith('eed')) return term;
  if (term.endsWith('ing') && term.length - 3 >= 4) return dropE(undouble(term.slice(0, -3)));
  if (term.endsWith('ed') && term.length - 2 >= 4) return dropE(undouble(term.slice(0, -2)));
  return dropE(term);
}

function dropE(term: string): string {
  return term.endsWith('e') && term.length - 1 >= 4 ? term.slice(0, -1) : term;
}

/** "running" → "runn" → "run"; keeps ll/ss/zz ("install", "process"). */
function undouble(stemmed: string): string {
  const n = stemmed.length;
  const last = stemmed[n - 1];
  if (n >= 4 && last === stemmed[n - 2] && /[bcdfgkmnprt]/.test(last)) return stemmed.slice(0, -1);
  return stemmed;
}

export interface TokenOptions {
  /** Keep STOPWORDS (used to measure their document frequency). Default false. */
  keepStopwords?: boolean;
}

function keep(term: string, options: TokenOptions): boolean {
  if (term.length < 2 || /^[_$-]+$/.test(term)) return false;
  return options.keepStopwords === true || !STOPWORDS.has(term);
}

/**
 * The terms of one identifier-like run: the whole identifier, its `_`/`$`/`-` segments, and the
 * camel/acronym/digit words of each segment. Each distinct term appears once per occurrence, so a
 * plain word like "user" counts once, not three times.
 */
function identifierTerms(run: string, options: TokenOptions): string[] {
  const out: string[] = [];
  const push = (raw: string): void => {
    const lower = raw.toLowerCase();
    if (!keep(lower, options)) return;
    const t = stem(lower);
    if (!out.includes(t)) out.push(t);
  };
  push(run);
  const segments = run.split(/[_$-]+/).filter((s) => s.length > 0);
  for (const seg of segments) {
    if (seg !== run) push(seg); // "$scope", "__dirname" must also match "scope", "dirname"
    const words = seg.split(CASE_SPLIT);
    if (words.length > 1) for (const w of words) push(w);
  }
  return out;
}

// Identifiers repeat heavily across a code base, so splitting each distinct one once makes
// tokenisation several times faster. Bounded: cleared when full (cheap, and output is identical).
const runCache = new Map<string, readonly string[]>();
const RUN_CACHE_MAX = 100_000;

function cachedTerms(run: string): readonly string[] {
  let terms = runCache.get(run);
  if (terms === undefined) {
    if (runCache.size >= RUN_CACHE_MAX) runCache.clear();
    terms = identifierTerms(run, {});
    runCache.set(run, terms);
  }
  return terms;
}

/** Lowercased, stemmed terms of code or prose, with identifiers split into their words. */
export function codeTokens(text: string, options: TokenOptions = {}): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(RUN)) {
    const terms = options.keepStopwords ? identifierTerms(m[0], options) : cachedTerms(m[0]);
    for (const t of terms) out.push(t);
  }
  return out;
}

/** Terms of a search query (its first QUERY_PREFIX_CHARS): exactly the document normalisation, so
 * both sides meet. */
export function queryTokens(query: string): string[] {
  return codeTokens(boundedPrefix(query));
}

// Layout of ChunkTerms.counts: one int32 per term holding its count in each field. Clamped,
// but BM25 saturates long before (and a chunk is at most a few thousand tokens).
export const MAX_CONTENT_TF = (1 << 14) - 1;
export const MAX_SHORT_TF = 0xff;
export const SYMBOL_SHIFT = 14;
export const PATH_SHIFT = 22;

export function packTermCounts(content: number, symbol: number, path: number): number {
  return Math.min(content, MAX_CONTENT_TF) | (Math.min(symbol, MAX_SHORT_TF) << SYMBOL_SHIFT) | (Math.min(path, MAX_SHORT_TF) << PATH_SHIFT);
}

/** The per-field counts packed by packTermCounts. */
export function unpackTermCounts(packed: number): { content: number; symbol: number; path: number } {
  return { content: packed & MAX_CONTENT_TF, symbol: (packed >>> SYMBOL_SHIFT) & MAX_SHORT_TF, path: (packed >>> PATH_SHIFT) & MAX_SHORT_TF };
}

function frequencies(terms: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** Term frequencies of a chunk per field, content terms first. The path field holds directory
 * names and the file name's parts ("src/core/index/lexical.ts" → src, core, index, lexical, ts). */
export function computeTerms(chunk: Chunk): ChunkTerms {
  const contentTerms = codeTokens(chunk.text);
  const symbolTerms = chunk.symbol ? codeTokens(chunk.symbol) : [];
  const pathTerms = codeTokens(chunk.path.replace(/[/\\.]+/g, ' '));
  const content = frequencies(contentTerms), symbol = frequencies(symbolTerms), path = frequencies(pathTerms);
  const terms = [...new Set([...content.keys(), ...symbol.keys(), ...path.keys()])];
  const counts = Int32Array.from(terms, (t) => packTermCounts(content.get(t) ?? 0, symbol.get(t) ?? 0, path.get(t) ?? 0));
  return { terms, counts, length: contentTerms.length, symbolLength: symbolTerms.length, pathLength: pathTerms.length };
}
