// In-memory BM25F index over the content / symbol / path fields of chunks, plus symbol lookup.
// Built from the terms precomputed at index time (ChunkTerms), so loading never re-tokenises.
// Scales by keeping per-term posting lists (search touches only documents that contain a query
// term) and running field-length sums (average lengths without a scan); removal updates every
// statistic at once and leaves only tombstoned posting entries, compacted lazily.
import { MAX_CONTENT_TF, MAX_SHORT_TF, PATH_SHIFT, queryTokens, SYMBOL_SHIFT } from './codeTokens';
import type { IndexedChunk, RankedChunk } from '../indexing/types';

export type LexicalField = 'content' | 'symbol' | 'path';

export interface FieldParams {
  /** Multiplier of the field's (length-normalised) term frequency. */
  weight: number;
  /** Length normalisation strength, 0 (none) .. 1 (full). */
  b: number;
}

export interface Bm25fParams {
  /** Term-frequency saturation. */
  k1: number;
  fields: Readonly<Record<LexicalField, Readonly<FieldParams>>>;
}

/** Defaults, to be tuned by the retrieval bench. A symbol or path hit is worth several content
 * hits: it says what the chunk *is*, not only what it mentions. Short fields get milder length
 * normalisation since one extra word in a name matters less than in a body. */
export const DEFAULT_BM25F: Readonly<Bm25fParams> = Object.freeze({
  k1: 1.2,
  fields: Object.freeze({
    content: Object.freeze({ weight: 1, b: 0.75 }),
    symbol: Object.freeze({ weight: 4, b: 0.5 }),
    path: Object.freeze({ weight: 2, b: 0.5 }),
  }),
});

// A posting's term frequencies are ChunkTerms.counts as computed at index time: content in the
// low 14 bits, symbol and path in 8 bits each (packTermCounts in codeTokens.ts).

/**
 * Documents containing one term, in increasing document number (numbers are never reused).
 * One Int32Array of interleaved (document, packed tf) pairs: measured against number[] at 7.5M
 * postings it took 40% less CPU to fill and ~100 MB instead of ~160 MB (Node runs without pointer
 * compression, so a number[] element costs 8 bytes), and its storage is off the GC-scanned heap.
 */
class Postings {
  entries = new Int32Array(4);
  /** Used length of `entries` (twice the number of postings). */
  used = 0;
  /** Entries whose document was removed; skipped by search, dropped by compact(). */
  dead = 0;

  get count(): number {
    return this.used >> 1;
  }

  get df(): number {
    return this.count - this.dead;
  }

  push(doc: number, packed: number): void {
    if (this.used === this.entries.length) {
      const grown = new Int32Array(this.used * 2);
      grown.set(this.entries);
      this.entries = grown;
    }
    this.entries[this.used++] = doc;
    this.entries[this.used++] = packed;
  }

  /** Drops dead entries and renumbers the living ones via `map` (old number → new, -1 = dead). */
  compact(map: (doc: number) => number): void {
    const e = this.entries;
    let w = 0;
    for (let r = 0; r < this.used; r += 2) {
      const doc = map(e[r]);
      if (doc < 0) continue;
      e[w] = doc;
      e[w + 1] = e[r + 1];
      w += 2;
    }
    this.used = w;
    this.dead = 0;
    if (w * 4 < e.length && e.length > 16) this.entries = e.slice(0, Math.max(4, w * 2));
  }
}

/** Splits a qualified symbol name ("Foo.bar", "Foo::bar", "Foo#bar") into lowercased segments. */
export function symbolSegments(symbol: string): string[] {
  return symbol.toLowerCase().split(/::|[.#/\\]/).filter((s) => s.length > 0);
}

function addTo(map: Map<string, Set<number>>, key: string, doc: number): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(doc);
}

function deleteFrom(map: Map<string, Set<number>>, key: string, doc: number): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(doc);
  if (set.size === 0) map.delete(key);
}

/** Orders hits by score, ties by id, so results do not depend on insertion history. */
function byScoreThenId(a: RankedChunk, b: RankedChunk): number {
  return b.score - a.score || (a.chunk.id < b.chunk.id ? -1 : a.chunk.id > b.chunk.id ? 1 : 0);
}

export class LexicalIndex {
  private readonly params: Bm25fParams;
  /** Document number → chunk; undefined once removed. Numbers grow monotonically between
   * renumberings, so a tombstoned posting entry can never be mistaken for a newer document. */
  private chunks: (IndexedChunk | undefined)[] = [];
  private lenContent: number[] = [];
  private lenSymbol: number[] = [];
  private lenPath: number[] = [];
  /** Distinct symbol terms per document (tightness of a symbol-part match). */
  private symbolTermCount: number[] = [];
  private readonly byId = new Map<string, number>();
  private readonly postings = new Map<string, Postings>();
  private sumContent = 0;
  private sumSymbol = 0;
  private sumPath = 0;
  // Symbol lookup tables: whole lowercased symbol, segments of qualified symbols, and symbol terms.
  private readonly symbolExact = new Map<string, Set<number>>();
  private readonly symbolSegment = new Map<string, Set<number>>();
  private readonly symbolPart = new Map<string, Set<number>>();
  /** Scratch score accumulator and list of documents scored, reused across searches: a search
   * over a common term touches most documents, and allocating that much per query made major GC
   * (which marks every stored chunk) run inside searches on a large index. */
  private scratch = new Float64Array(0);
  private touchedBuf = new Int32Array(0);

  constructor(params: Bm25fParams = DEFAULT_BM25F) {
    this.params = params;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Number of distinct terms with at least one live document. */
  get termCount(): number {
    return this.postings.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Adds a chunk; a chunk with the same id is replaced. Uses `chunk.terms` as given. */
  add(chunk: IndexedChunk): void {
    if (this.byId.has(chunk.id)) this.remove(chunk.id);
    const doc = this.chunks.length;
    const { terms, counts, length, symbolLength, pathLength } = chunk.terms;
    this.chunks.push(chunk);
    this.byId.set(chunk.id, doc);
    this.lenContent.push(length);
    this.lenSymbol.push(symbolLength);
    this.lenPath.push(pathLength);
    this.sumContent += length;
    this.sumSymbol += symbolLength;
    this.sumPath += pathLength;
    // One posting per distinct term; its packed counts are the posting's payload as they are.
    for (let i = 0; i < terms.length; i++) this.postingsOf(terms[i]).push(doc, counts[i]);
    this.indexSymbol(chunk, doc);
  }

  /** Removes a chunk by id; false when it was not indexed. */
  remove(id: string): boolean {
    const doc = this.byId.get(id);
    if (doc === undefined) return false;
    const chunk = this.chunks[doc]!;
    this.byId.delete(id);
    this.chunks[doc] = undefined;
    this.sumContent -= this.lenContent[doc];
    this.sumSymbol -= this.lenSymbol[doc];
    this.sumPath -= this.lenPath[doc];
    for (const term of chunk.terms.terms) this.retire(term); // what add() posted, each once
    this.unindexSymbol(chunk, doc);
    // Renumber once tombstoned slots outnumber live documents, bounding memory under churn.
    const holes = this.chunks.length - this.byId.size;
    if (holes > 1024 && holes > this.byId.size) this.renumber();
    return true;
  }

  /** BM25F ranking of the chunks matching any query term; at most `k`, best first. */
  search(query: string, k: number): RankedChunk[] {
    const n = this.byId.size;
    if (k <= 0 || n === 0) return [];
    const terms = [...new Set(queryTokens(query))];
    const { k1, fields } = this.params;
    // norm(field) = 1 - b + b * len / avgLen, written as base + slope * len.
    const wC = fields.content.weight, baseC = 1 - fields.content.b, slopeC = (fields.content.b * n) / (this.sumContent || 1);
    const wS = fields.symbol.weight, baseS = 1 - fields.symbol.b, slopeS = (fields.symbol.b * n) / (this.sumSymbol || 1);
    const wP = fields.path.weight, baseP = 1 - fields.path.b, slopeP = (fields.path.b * n) / (this.sumPath || 1);
    this.ensureScratch();
    const scores = this.scratch, touched = this.touchedBuf;
    let touchedCount = 0;
    const chunks = this.chunks, lenC = this.lenContent, lenS = this.lenSymbol, lenP = this.lenPath;

    for (const term of terms) {
      const p = this.postings.get(term);
      if (!p) continue;
      const df = p.df;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const e = p.entries, used = p.used;
      for (let i = 0; i < used; i += 2) {
        const doc = e[i];
        if (chunks[doc] === undefined) continue;
        const packed = e[i + 1];
        const tfC = packed & MAX_CONTENT_TF, tfS = (packed >> SYMBOL_SHIFT) & MAX_SHORT_TF, tfP = (packed >>> PATH_SHIFT) & MAX_SHORT_TF;
        let tf = 0;
        if (tfC > 0) tf += (wC * tfC) / (baseC + slopeC * lenC[doc]);
        if (tfS > 0) tf += (wS * tfS) / (baseS + slopeS * lenS[doc]);
        if (tfP > 0) tf += (wP * tfP) / (baseP + slopeP * lenP[doc]);
        if (tf <= 0) continue; // a zero-weighted field: keeps `scores[doc] === 0` meaning untouched
        if (scores[doc] === 0) touched[touchedCount++] = doc;
        scores[doc] += (idf * tf) / (k1 + tf);
      }
    }

    const top = new TopK(k, byScoreThenId);
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i];
      const score = scores[doc];
      scores[doc] = 0;
      if (score >= top.threshold) top.offer({ chunk: chunks[doc]!, score });
    }
    return top.sorted();
  }

  /**
   * Chunks whose symbol matches `name`, best first: exact case-insensitive match (exact case
   * first), then qualified matches (`Class.method` whose method or class part is `name`, or whose
   * segments end/start with a qualified `name`), then symbols sharing most of `name`'s
   * identifier parts. Looks candidates up in maps; never scans all chunks.
   */
  findSymbol(name: string, k = 20): RankedChunk[] {
    const q = name.trim();
    if (q.length === 0 || k <= 0) return [];
    // Tiers 1 and 2 yield few candidates; keep each document's best tier score.
    const best = new Map<number, number>();
    const offer = (doc: number, score: number): void => {
      if (score > (best.get(doc) ?? 0)) best.set(doc, score);
    };

    // Tier 1 (3.x): the whole symbol, case-insensitively; identical case on top.
    for (const doc of this.symbolExact.get(q.toLowerCase()) ?? []) {
      offer(doc, this.chunks[doc]!.symbol === q ? 3.5 : 3);
    }

    // Tier 2 (2.x): qualified names. A symbol whose last segment is the name (a method of that
    // name) beats one whose first segment is (a member of that class).
    const qSegs = symbolSegments(q);
    if (qSegs.length === 1) {
      for (const doc of this.symbolSegment.get(qSegs[0]) ?? []) {
        const segs = symbolSegments(this.chunks[doc]!.symbol!);
        offer(doc, segs[segs.length - 1] === qSegs[0] ? 2.5 : segs[0] === qSegs[0] ? 2.3 : 2.2);
      }
    } else if (qSegs.length > 1) {
      const first = qSegs[0], last = qSegs[qSegs.length - 1];
      const candidates = new Set([...(this.symbolSegment.get(last) ?? []), ...(this.symbolSegment.get(first) ?? [])]);
      for (const doc of candidates) {
        const segs = symbolSegments(this.chunks[doc]!.symbol!);
        if (endsWith(segs, qSegs)) offer(doc, 2.5);
        else if (endsWith(segs.slice(0, qSegs.length), qSegs)) offer(doc, 2.3);
      }
      // The unqualified method chunk ("bar" for "Foo.bar"), then the class chunk itself ("Foo").
      for (const doc of this.symbolExact.get(last) ?? []) offer(doc, 2.1);
      for (const doc of this.symbolExact.get(first) ?? []) offer(doc, 2);
    }

    const top = new TopK(k, bySymbolRank);
    for (const [doc, score] of best) top.offer({ chunk: this.chunks[doc]!, score });

    // Tier 3 (0..1): symbols sharing at least half of the name's identifier parts, scored by the
    // share of the query covered, then by how little else the symbol contains. A common part
    // ("get") can match thousands of symbols, so hits are counted in the scratch buffers.
    const parts = [...new Set(queryTokens(q))];
    if (parts.length === 0) return top.sorted();
    this.ensureScratch();
    const counts = this.scratch, touched = this.touchedBuf;
    let touchedCount = 0;
    for (const part of parts) {
      for (const doc of this.symbolPart.get(part) ?? []) {
        if (counts[doc] === 0) touched[touchedCount++] = doc;
        counts[doc]++;
      }
    }
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i];
      const hits = counts[doc];
      counts[doc] = 0;
      if (hits * 2 < parts.length || best.has(doc)) continue;
      const score = 0.9 * (hits / parts.length) + 0.1 * Math.min(1, hits / this.symbolTermCount[doc]);
      if (score >= top.threshold) top.offer({ chunk: this.chunks[doc]!, score });
    }
    return top.sorted();
  }

  /** Sizes the scratch buffers (all zero between calls) to the document-number range. */
  private ensureScratch(): void {
    if (this.scratch.length >= this.chunks.length) return;
    const size = Math.max(this.chunks.length, this.scratch.length * 2);
    this.scratch = new Float64Array(size);
    this.touchedBuf = new Int32Array(size);
  }

  private postingsOf(term: string): Postings {
    let p = this.postings.get(term);
    if (!p) this.postings.set(term, (p = new Postings()));
    return p;
  }

  /** One document holding `term` is gone: drop the term or compact when half its list is dead. */
  private retire(term: string): void {
    const p = this.postings.get(term);
    if (!p) return;
    p.dead++;
    if (p.df === 0) this.postings.delete(term);
    else if (p.dead * 2 > p.count) p.compact((doc) => (this.chunks[doc] === undefined ? -1 : doc));
  }

  private indexSymbol(chunk: IndexedChunk, doc: number): void {
    if (chunk.symbol) {
      addTo(this.symbolExact, chunk.symbol.toLowerCase(), doc);
      const segs = symbolSegments(chunk.symbol);
      if (segs.length > 1) for (const seg of new Set(segs)) addTo(this.symbolSegment, seg, doc);
    }
    let parts = 0;
    const { terms, counts } = chunk.terms;
    for (let i = 0; i < terms.length; i++) {
      if (((counts[i] >>> SYMBOL_SHIFT) & MAX_SHORT_TF) === 0) continue;
      addTo(this.symbolPart, terms[i], doc);
      parts++;
    }
    this.symbolTermCount[doc] = parts;
  }

  private unindexSymbol(chunk: IndexedChunk, doc: number): void {
    if (chunk.symbol) {
      deleteFrom(this.symbolExact, chunk.symbol.toLowerCase(), doc);
      const segs = symbolSegments(chunk.symbol);
      if (segs.length > 1) for (const seg of new Set(segs)) deleteFrom(this.symbolSegment, seg, doc);
    }
    const { terms, counts } = chunk.terms;
    for (let i = 0; i < terms.length; i++) if (((counts[i] >>> SYMBOL_SHIFT) & MAX_SHORT_TF) !== 0) deleteFrom(this.symbolPart, terms[i], doc);
  }

  /** Gives live documents consecutive numbers again and drops every tombstone. */
  private renumber(): void {
    const map = new Int32Array(this.chunks.length).fill(-1);
    const chunks: IndexedChunk[] = [];
    const lenC: number[] = [], lenS: number[] = [], lenP: number[] = [];
    for (let old = 0; old < this.chunks.length; old++) {
      const chunk = this.chunks[old];
      if (!chunk) continue;
      map[old] = chunks.length;
      this.byId.set(chunk.id, chunks.length);
      chunks.push(chunk);
      lenC.push(this.lenContent[old]);
      lenS.push(this.lenSymbol[old]);
      lenP.push(this.lenPath[old]);
    }
    for (const p of this.postings.values()) p.compact((doc) => map[doc]);
    this.chunks = chunks;
    this.lenContent = lenC;
    this.lenSymbol = lenS;
    this.lenPath = lenP;
    this.symbolTermCount = [];
    this.symbolExact.clear();
    this.symbolSegment.clear();
    this.symbolPart.clear();
    chunks.forEach((chunk, doc) => this.indexSymbol(chunk, doc));
  }
}

function endsWith(segs: string[], suffix: string[]): boolean {
  if (suffix.length > segs.length) return false;
  const offset = segs.length - suffix.length;
  return suffix.every((s, i) => segs[offset + i] === s);
}

/** Symbol ties: shorter symbol (the tighter match) first, then id for determinism. */
function bySymbolRank(a: RankedChunk, b: RankedChunk): number {
  return b.score - a.score || (a.chunk.symbol?.length ?? 0) - (b.chunk.symbol?.length ?? 0) || byScoreThenId(a, b);
}

/** Keeps the k best of a long stream of hits in a bounded heap (worst at the root), so ranking
 * thousands of matches costs O(n log k) rather than a full sort. */
class TopK {
  private readonly heap: RankedChunk[] = [];

  constructor(
    private readonly k: number,
    /** Negative when `a` ranks before `b`. */
    private readonly order: (a: RankedChunk, b: RankedChunk) => number,
  ) {}

  /** Lowest score that could still enter (hits below it need not be built). */
  get threshold(): number {
    return this.heap.length < this.k ? -Infinity : this.heap[0].score;
  }

  offer(hit: RankedChunk): void {
    const heap = this.heap;
    if (heap.length < this.k) {
      heap.push(hit);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (this.order(heap[i], heap[parent]) <= 0) break;
        [heap[i], heap[parent]] = [heap[parent], heap[i]];
        i = parent;
      }
    } else if (this.order(hit, heap[0]) < 0) {
      heap[0] = hit;
      for (let i = 0; ; ) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && this.order(heap[l], heap[m]) > 0) m = l;
        if (r < heap.length && this.order(heap[r], heap[m]) > 0) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
  }

  sorted(): RankedChunk[] {
    return [...this.heap].sort(this.order);
  }
}
