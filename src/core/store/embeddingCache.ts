// Vectors keyed by chunk content hash, one file per embedder id. Unlike the store (keyed by
// path and lines), it survives branch switches, renames and `baton index --rebuild`: a chunk
// whose text was embedded once is never embedded again by the same embedder.
//
// File `<batonDir>/embeddings/<sha of embedder id>.bin`, an append-only log:
//   header:  'BATONEMB' | u32 version | u32 dims | u32 id byte length | id (utf8) | zero pad to 4
//   records: 16-byte hash (the 32 hex chars of the embedded text's contentHash: Chunk.hash, or
//            that of documentText(chunk)) | dims × float32 LE
// Appends are never rewritten, so a kill can only tear the last record; load ignores it and
// truncates it away so the next append stays aligned. Later records win over earlier ones.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ensureBatonDir, writeFileAtomic } from '../../base/node/atomicFile';
import { contentHash } from '../../base/node/hash';
import { errorCode } from '../../base/common/errors';

const MAGIC = 'BATONEMB';
const VERSION = 1;
const HASH_BYTES = 16;
const HEX_HASH = /^[0-9a-f]{32}$/;

export class EmbeddingCache {
  private readonly entries = new Map<string, Float32Array>();
  /** Records in the file, superseded duplicates included (compaction hint). */
  private records = 0;
  private handle: fsp.FileHandle | null = null;
  private readonly recordBytes: number;
  private readonly header: Buffer;

  private constructor(readonly file: string, readonly embedderId: string, readonly dimensions: number) {
    this.recordBytes = HASH_BYTES + dimensions * 4;
    this.header = encodeHeader(embedderId, dimensions);
  }

  static async open(batonDir: string, embedderId: string, dimensions: number): Promise<EmbeddingCache> {
    if (!Number.isInteger(dimensions) || dimensions < 1) throw new Error(`EmbeddingCache: bad dimensions ${dimensions}`);
    await ensureBatonDir(batonDir);
    const dir = path.join(batonDir, 'embeddings');
    await fsp.mkdir(dir, { recursive: true });
    const cache = new EmbeddingCache(path.join(dir, `${contentHash(embedderId).slice(0, 16)}.bin`), embedderId, dimensions);
    await cache.load();
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Records in the file including superseded ones; compact when far above the live chunk count. */
  get fileRecords(): number {
    return this.records;
  }

  get(hash: string): Float32Array | undefined {
    return this.entries.get(hash);
  }

  has(hash: string): boolean {
    return this.entries.has(hash);
  }

  async putMany(entries: { hash: string; vector: Float32Array }[]): Promise<void> {
    const fresh = new Map<string, Float32Array>();
    for (const { hash, vector } of entries) {
      if (!HEX_HASH.test(hash)) throw new Error(`EmbeddingCache: bad hash ${JSON.stringify(hash)} (expected 32 lowercase hex chars)`);
      if (vector.length !== this.dimensions) throw new Error(`EmbeddingCache: vector of ${vector.length} dimensions, expected ${this.dimensions}`);
      const known = this.entries.get(hash);
      if (known && sameVector(known, vector)) continue;
      fresh.set(hash, vector);
    }
    if (fresh.size === 0) return;
    const buf = this.encodeRecords(fresh);
    const fh = await this.appendHandle();
    await fh.write(buf, 0, buf.length);
    await fh.datasync();
    this.records += fresh.size;
    this.index(buf, 0);
  }

  /** Rewrites the file atomically with the entries `keep` accepts (default: all), dropping
   * superseded duplicates. */
  async compact(keep: (hash: string) => boolean = () => true): Promise<void> {
    const kept = new Map([...this.entries].filter(([hash]) => keep(hash)));
    const records = this.encodeRecords(kept);
    await this.handle?.close();
    this.handle = null;
    await writeFileAtomic(this.file, Buffer.concat([this.header, records]));
    this.entries.clear();
    this.records = kept.size;
    this.index(records, 0);
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }

  private async load(): Promise<void> {
    let buf: Buffer;
    try {
      buf = await fsp.readFile(this.file);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
      await writeFileAtomic(this.file, this.header);
      return;
    }
    if (buf.length < this.header.length || !buf.subarray(0, this.header.length).equals(this.header)) {
      // Not ours or a broken header: a cache may always start over.
      await writeFileAtomic(this.file, this.header);
      return;
    }
    const count = Math.floor((buf.length - this.header.length) / this.recordBytes);
    const valid = this.header.length + count * this.recordBytes;
    if (valid < buf.length) await fsp.truncate(this.file, valid); // torn last record
    this.records = count;
    this.index(buf.subarray(0, valid), this.header.length);
  }

  /** Adds the records in buf[from..] to the map as views on buf (no copies). */
  private index(buf: Buffer, from: number): void {
    // Float32Array views need 4-byte aligned offsets; record and header sizes are multiples of 4.
    const bytes = (buf.byteOffset + from) % 4 === 0 ? buf : Buffer.from(new Uint8Array(buf).buffer); // copy starts at offset 0
    for (let off = from; off + this.recordBytes <= bytes.length; off += this.recordBytes) {
      const hash = bytes.toString('hex', off, off + HASH_BYTES);
      this.entries.set(hash, new Float32Array(bytes.buffer, bytes.byteOffset + off + HASH_BYTES, this.dimensions));
    }
  }

  private encodeRecords(entries: Map<string, Float32Array>): Buffer {
    const out = Buffer.alloc(entries.size * this.recordBytes);
    let off = 0;
    for (const [hash, vector] of entries) {
      out.write(hash, off, HASH_BYTES, 'hex');
      new Float32Array(out.buffer, out.byteOffset + off + HASH_BYTES, this.dimensions).set(vector);
      off += this.recordBytes;
    }
    return out;
  }

  private async appendHandle(): Promise<fsp.FileHandle> {
    if (!this.handle) {
      if (!fs.existsSync(this.file)) await writeFileAtomic(this.file, this.header);
      this.handle = await fsp.open(this.file, 'a');
    }
    return this.handle;
  }
}

function encodeHeader(embedderId: string, dimensions: number): Buffer {
  const id = Buffer.from(embedderId, 'utf8');
  const len = (8 + 12 + id.length + 3) & ~3;
  const out = Buffer.alloc(len);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(VERSION, 8);
  out.writeUInt32LE(dimensions, 12);
  out.writeUInt32LE(id.length, 16);
  id.copy(out, 20);
  return out;
}

function sameVector(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
