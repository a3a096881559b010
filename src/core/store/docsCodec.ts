// How a shard's chunks are stored: small per-chunk metadata as JSON (docs.json) and the bulk, the
// texts and terms, as binary (docs.bin). Measured at 100k chunks on a loaded 2-core machine, one
// JSON file holding everything took ~11 s to load (texts full of escapes, and term lists are
// millions of short strings); here only the metadata and each shard's vocabulary are parsed,
// terms are vocabulary indexes and texts are sliced out of one UTF-8 block.
//
// docs.json: {format, vocab: string[], chunks: [{id, path, startLine, endLine, symbol, kind,
//             language, hash}]}
// docs.bin:  'BDC1' | u32 chunks N | u32 terms T | u32 text bytes B |
//            u32[N] term end | u32[3N] lengths (content, symbol, path) | u32[N] text end |
//            u32[T] vocab index | i32[T] packed counts | B bytes of UTF-8 text
import type { IndexedChunk } from '../indexing/types';

const MAGIC = 'BDC1';
const HEAD = 16;

type ChunkMeta = Omit<IndexedChunk, 'text' | 'terms'>;

export interface EncodedDocs {
  json: string;
  bin: Buffer;
}

export function encodeDocs(chunks: readonly IndexedChunk[], format: number): EncodedDocs {
  const vocab: string[] = [];
  const vocabIndex = new Map<string, number>();
  let termTotal = 0, textBytes = 0;
  const textLengths = chunks.map((c) => {
    termTotal += c.terms.terms.length;
    const n = Buffer.byteLength(c.text, 'utf8');
    textBytes += n;
    return n;
  });
  const n = chunks.length;
  const bin = Buffer.alloc(HEAD + 4 * (5 * n + 2 * termTotal) + textBytes);
  bin.write(MAGIC, 0, 'latin1');
  bin.writeUInt32LE(n, 4);
  bin.writeUInt32LE(termTotal, 8);
  bin.writeUInt32LE(textBytes, 12);
  const words = new Uint32Array(bin.buffer, bin.byteOffset + HEAD, 5 * n + 2 * termTotal);
  const termEnd = 0, lengths = n, textEnd = 4 * n, ids = 5 * n, counts = 5 * n + termTotal;
  const countsOut = new Int32Array(words.buffer, words.byteOffset + 4 * counts, termTotal);
  let t = 0, text = 0, at = HEAD + 4 * (5 * n + 2 * termTotal);
  const meta: ChunkMeta[] = chunks.map((c, i) => {
    const { terms, counts: tf } = c.terms;
    for (let j = 0; j < terms.length; j++, t++) {
      let v = vocabIndex.get(terms[j]);
      if (v === undefined) vocabIndex.set(terms[j], (v = vocab.push(terms[j]) - 1));
      words[ids + t] = v;
      countsOut[t] = tf[j];
    }
    words[termEnd + i] = t;
    words[lengths + 3 * i] = c.terms.length;
    words[lengths + 3 * i + 1] = c.terms.symbolLength;
    words[lengths + 3 * i + 2] = c.terms.pathLength;
    at += bin.write(c.text, at, 'utf8');
    words[textEnd + i] = text += textLengths[i];
    return { id: c.id, path: c.path, startLine: c.startLine, endLine: c.endLine, symbol: c.symbol, kind: c.kind, language: c.language, hash: c.hash };
  });
  return { json: JSON.stringify({ format, vocab, chunks: meta }), bin };
}

/** docs.json's content, checked for shape. */
export interface DocsIndex {
  vocab: unknown[];
  chunks: ChunkMeta[];
}

export function parseDocsJson(json: string): DocsIndex {
  const parsed = JSON.parse(json) as Partial<DocsIndex> | null;
  if (!Array.isArray(parsed?.vocab) || !Array.isArray(parsed.chunks)) throw new Error('no chunk list');
  return parsed as DocsIndex;
}

/** Rebuilds the chunks from docs.json's content and docs.bin; throws on anything malformed,
 * truncated or inconsistent. */
export function decodeDocs({ vocab, chunks: meta }: DocsIndex, bin: Buffer): IndexedChunk[] {
  if (bin.length < HEAD || bin.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a Baton docs file');
  const n = bin.readUInt32LE(4), termTotal = bin.readUInt32LE(8), textBytes = bin.readUInt32LE(12);
  const textStart = HEAD + 4 * (5 * n + 2 * termTotal);
  if (n !== meta.length) throw new Error(`${meta.length} chunks listed, ${n} stored`);
  if (bin.length !== textStart + textBytes) throw new Error(`docs data is ${bin.length} bytes, expected ${textStart + textBytes}`);
  // Typed arrays need 4-byte aligned offsets; a pooled Buffer may not give one.
  const aligned = bin.byteOffset % 4 === 0 ? bin : Buffer.from(bin);
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset + HEAD, 5 * n + 2 * termTotal);
  const termEnd = 0, lengths = n, textEnd = 4 * n, ids = 5 * n;
  // Copied out so that the chunks' count views do not pin the file's text bytes.
  const counts = new Int32Array(words.buffer.slice(words.byteOffset + 4 * (5 * n + termTotal), words.byteOffset + 4 * (5 * n + 2 * termTotal)));
  const out = new Array<IndexedChunk>(n);
  let t = 0, text = 0;
  for (let i = 0; i < n; i++) {
    const m = meta[i];
    if (typeof m?.id !== 'string' || typeof m.path !== 'string') throw new Error('malformed chunk');
    const tEnd = words[termEnd + i], xEnd = words[textEnd + i];
    if (tEnd < t || tEnd > termTotal || xEnd < text || xEnd > textBytes) throw new Error('malformed offsets');
    const terms = new Array<string>(tEnd - t);
    for (let j = t; j < tEnd; j++) {
      const term = vocab[words[ids + j]];
      if (typeof term !== 'string') throw new Error('term outside the vocabulary');
      terms[j - t] = term;
    }
    out[i] = {
      id: m.id, path: m.path, startLine: m.startLine, endLine: m.endLine, symbol: m.symbol, kind: m.kind, language: m.language, hash: m.hash,
      text: aligned.toString('utf8', textStart + text, textStart + xEnd),
      terms: { terms, counts: counts.subarray(t, tEnd), length: words[lengths + 3 * i], symbolLength: words[lengths + 3 * i + 1], pathLength: words[lengths + 3 * i + 2] },
    };
    t = tEnd;
    text = xEnd;
  }
  if (t !== termTotal || text !== textBytes) throw new Error('malformed offsets');
  return out;
}
