// Shared data shapes of the workspace index. Every index module speaks these; keep them small.

/** A piece of a source file that is retrieved as a unit. */
export interface Chunk {
  /** Path relative to the workspace root, always with `/` separators. */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  /** 1-based, inclusive. */
  endLine: number;
  /** Name of the function/class/method/section the chunk covers, or null for a plain line window. */
  symbol: string | null;
  /** What the chunk is: 'function' | 'class' | 'method' | 'section' | 'window' | ... */
  kind: string;
  /** Language id, e.g. 'typescript', 'python', 'markdown', 'text'. */
  language: string;
  text: string;
  /** Content hash of `text` (hex sha256, first 32 chars): the key of the embedding cache (the hash
   * of documentText(chunk) instead, for a model that declares document preprocessing). */
  hash: string;
}

/** Term frequencies of one chunk, computed once at index time so that loading the lexical index
 * never re-tokenises the corpus. Parallel arrays rather than term → count records: V8 parses,
 * stores and walks objects whose key set differs per chunk slowly (dictionary mode, a hidden
 * class per key set), while a list of terms plus packed counts decodes from disk in one pass
 * and is what LexicalIndex.add posts without any lookup. */
export interface ChunkTerms {
  /** Distinct terms over the content, symbol and path fields, each once. */
  terms: string[];
  /** Per term (same index), its occurrences in each field packed into one integer: see
   * packTermCounts in codeTokens.ts (content in bits 0-13, symbol 14-21, path 22-29, clamped). */
  counts: Int32Array;
  /** Number of content tokens (BM25 document length). */
  length: number;
  /** Number of symbol and path tokens (their BM25F field lengths). */
  symbolLength: number;
  pathLength: number;
}

/** What the store keeps for each chunk. */
export interface IndexedChunk extends Chunk {
  /** Stable within one index generation: `${path}#${startLine}-${endLine}`. */
  id: string;
  terms: ChunkTerms;
}

/** What the index remembers about a file to decide whether it changed. */
export interface FileRecord {
  path: string;
  size: number;
  mtimeMs: number;
  /** Content hash of the whole file (hex sha256, first 32 chars). */
  hash: string;
  language: string;
  chunkCount: number;
  /** Version of the secret redaction its chunks went through (indexer.ts); absent: none. */
  redaction?: number;
}

export type RetrievalSource = 'lexical' | 'dense' | 'symbol';

/** One retrieval hit; the CLI's `--json` output is exactly these fields (+ text when asked). */
export interface SearchResult {
  path: string;
  startLine: number;
  endLine: number;
  score: number;
  symbol: string | null;
  language: string;
  text: string;
  /** Which retrievers found it, best first. */
  sources: RetrievalSource[];
}

/** A ranked hit from a single retriever, before fusion. */
export interface RankedChunk {
  chunk: IndexedChunk;
  score: number;
}

export function chunkId(c: Pick<Chunk, 'path' | 'startLine' | 'endLine'>): string {
  return `${c.path}#${c.startLine}-${c.endLine}`;
}
