// The shard vector file (`index.f32`): a vectra index stored as raw float32, and the brute-force
// search over it. vectra writes these files through Float32Codec; reading needs neither vectra
// (whose require alone costs ~0.85 s: it pulls in openai, cheerio and grpc) nor its per-item
// objects: a search walks one Float32Array per shard.
//
// File: 'BVF1' | u32 header length | header JSON {version, metadata_config, dims, ids} |
// padding to 4 bytes | count × dims float32 LE. Metadata is not stored (the store keeps it in
// its docs), so every item's metadata reads back as {}.
import * as fs from 'node:fs';
import type { IndexCodec, IndexData, IndexItem, MetadataTypes } from 'vectra';

const MAGIC = 'BVF1';

interface VectorHeader {
  version: number;
  metadata_config: IndexData['metadata_config'];
  dims: number;
  ids: string[];
}

/** vectra codec for the format above. Decoding makes Float32Array views on the file's bytes
 * instead of number arrays: no per-number parsing, and half the memory. */
export class Float32Codec implements IndexCodec {
  readonly extension = '.f32';

  serializeIndex(data: IndexData): Buffer {
    const dims = data.items.length > 0 ? data.items[0].vector.length : 0;
    const header = Buffer.from(JSON.stringify({ version: data.version, metadata_config: data.metadata_config, dims, ids: data.items.map((i) => i.id) }));
    const start = align4(8 + header.length);
    const out = Buffer.alloc(start + data.items.length * dims * 4);
    out.write(MAGIC, 0, 'latin1');
    out.writeUInt32LE(header.length, 4);
    header.copy(out, 8);
    const floats = new Float32Array(out.buffer, out.byteOffset + start, data.items.length * dims);
    data.items.forEach((item, i) => {
      if (item.vector.length !== dims) throw new Error(`vector ${item.id} has ${item.vector.length} dimensions, expected ${dims}`);
      floats.set(item.vector, i * dims);
    });
    return out;
  }

  deserializeIndex(buffer: Buffer): IndexData {
    const { header, floats, norms } = decode(buffer);
    const { ids, dims } = header;
    const items: IndexItem[] = ids.map((id, i) => ({ id, metadata: {}, vector: floats.subarray(i * dims, (i + 1) * dims) as unknown as number[], norm: norms[i] }));
    return { version: header.version, metadata_config: header.metadata_config, items };
  }

  serializeCatalog(): Buffer {
    throw new Error('Float32Codec stores vector indexes only');
  }

  deserializeCatalog(): never {
    throw new Error('Float32Codec stores vector indexes only');
  }

  serializeMetadata(metadata: Record<string, MetadataTypes>): Buffer {
    return Buffer.from(JSON.stringify(metadata));
  }

  deserializeMetadata(buffer: Buffer): Record<string, MetadataTypes> {
    return JSON.parse(buffer.toString('utf8')) as Record<string, MetadataTypes>;
  }
}

/** One shard's vectors in memory: row i of `floats` is the vector of `ids[i]`. */
export interface VectorSet {
  ids: string[];
  dims: number;
  floats: Float32Array;
  /** Euclidean norm of each row, computed once at load rather than per query. */
  norms: Float64Array;
}

/** Decodes a vector file; throws on anything malformed or truncated. */
export function decodeVectorFile(buffer: Buffer): VectorSet {
  const { header, floats, norms } = decode(buffer);
  return { ids: header.ids, dims: header.dims, floats, norms };
}

/** A VectorSet from vectors held in memory (after a write), rows in `ids` order. */
export function vectorSetOf(ids: string[], vectors: Map<string, Float32Array>, dims: number): VectorSet {
  const floats = new Float32Array(ids.length * dims);
  ids.forEach((id, i) => floats.set(vectors.get(id)!, i * dims));
  return { ids, dims, floats, norms: rowNorms(floats, ids.length, dims) };
}

/** The vector of row i, as a view (no copy). */
export function rowOf(set: VectorSet, i: number): Float32Array {
  return set.floats.subarray(i * set.dims, (i + 1) * set.dims);
}

/** A cosine hit: the row of a VectorSet. */
export interface VectorHit {
  id: string;
  score: number;
}

/**
 * Offers every row of `set` with a finite cosine similarity to `query` (of norm `queryNorm`) to
 * `top`. Rows of norm 0 have no cosine and are skipped (vectra scores them NaN).
 */
export function scanCosine(set: VectorSet, query: Float32Array, queryNorm: number, top: TopHits): void {
  const { floats, norms, dims, ids } = set;
  const q = query;
  for (let row = 0, base = 0; row < ids.length; row++, base += dims) {
    const norm = norms[row];
    if (norm === 0) continue;
    // Four accumulators: one serial sum is bound by add latency; this runs ~3x faster.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let j = 0;
    for (; j + 3 < dims; j += 4) {
      s0 += floats[base + j] * q[j];
      s1 += floats[base + j + 1] * q[j + 1];
      s2 += floats[base + j + 2] * q[j + 2];
      s3 += floats[base + j + 3] * q[j + 3];
    }
    for (; j < dims; j++) s0 += floats[base + j] * q[j];
    const score = (s0 + s1 + s2 + s3) / (queryNorm * norm);
    if (score >= top.threshold) top.offer(ids[row], score);
  }
}

/** The k best hits (score descending, then id ascending), kept in a bounded min-heap. */
export class TopHits {
  private readonly heap: VectorHit[] = [];

  constructor(private readonly k: number) {}

  /** Lowest score that could still enter. */
  get threshold(): number {
    return this.heap.length < this.k ? -Infinity : this.heap[0].score;
  }

  offer(id: string, score: number): void {
    if (!Number.isFinite(score) || this.k <= 0) return;
    const heap = this.heap;
    const hit = { id, score };
    if (heap.length < this.k) {
      heap.push(hit);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i], heap[parent])) break;
        [heap[i], heap[parent]] = [heap[parent], heap[i]];
        i = parent;
      }
    } else if (worse(heap[0], hit)) {
      heap[0] = hit;
      for (let i = 0; ; ) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && worse(heap[l], heap[m])) m = l;
        if (r < heap.length && worse(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
  }

  sorted(): VectorHit[] {
    return [...this.heap].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** Whether a ranks below b: lower score, or the same score and a later id. */
function worse(a: VectorHit, b: VectorHit): boolean {
  return a.score < b.score || (a.score === b.score && a.id > b.id);
}

/** The norm of a query vector (0 when it has none). */
export function vectorNorm(v: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}

/** The ids in a vector file, reading only its header. */
export function readVectorIds(file: string): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(8);
    if (fs.readSync(fd, head, 0, 8, 0) !== 8) throw new Error('truncated header');
    const len = head.readUInt32LE(4);
    const buf = Buffer.alloc(8 + len);
    if (fs.readSync(fd, buf, 0, buf.length, 0) !== buf.length) throw new Error('truncated header');
    return parseHeader(buf).header.ids;
  } finally {
    fs.closeSync(fd);
  }
}

function decode(buffer: Buffer): { header: VectorHeader; floats: Float32Array; norms: Float64Array } {
  const { header, start } = parseHeader(buffer);
  const { ids, dims } = header;
  if (buffer.length !== start + ids.length * dims * 4) throw new Error(`vector data is ${buffer.length - start} bytes, expected ${ids.length * dims * 4}`);
  // Float32Array needs a 4-byte aligned offset; pooled Buffers may not give one.
  const bytes = (buffer.byteOffset + start) % 4 === 0 ? buffer : Buffer.from(new Uint8Array(buffer).buffer); // copy starts at offset 0
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset + start, ids.length * dims);
  return { header, floats, norms: rowNorms(floats, ids.length, dims) };
}

function rowNorms(floats: Float32Array, rows: number, dims: number): Float64Array {
  const norms = new Float64Array(rows);
  for (let i = 0, base = 0; i < rows; i++, base += dims) {
    let sum = 0;
    for (let j = base; j < base + dims; j++) sum += floats[j] * floats[j];
    norms[i] = Math.sqrt(sum);
  }
  return norms;
}

function parseHeader(buffer: Buffer): { header: VectorHeader; start: number } {
  if (buffer.length < 8 || buffer.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a Baton vector file');
  const len = buffer.readUInt32LE(4);
  if (8 + len > buffer.length) throw new Error('truncated header');
  const header = JSON.parse(buffer.toString('utf8', 8, 8 + len)) as VectorHeader;
  if (!Array.isArray(header.ids) || !Number.isInteger(header.dims) || header.dims < 0) throw new Error('malformed header');
  return { header, start: align4(8 + len) };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
