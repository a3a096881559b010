// The store's committed state (manifest.json) and how to rebuild it when it is damaged.
//
// manifest.json names one generation per shard and records a CRC-32 of each of its files, so a
// truncated or bit-flipped shard file is noticed before it is trusted. Each generation's
// files.json, written last, describes the generation itself (shard, generation, embedder, counts,
// checksums of the other files): when manifest.json cannot be read, the newest generation of each
// shard whose files match their checksums is taken instead (recoverManifest).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../base/node/atomicFile';
import { crc32 } from '../../base/node/crc32';
import { errorMessage, errorCode } from '../../base/common/errors';

/** 2: chunk texts and terms moved from docs.json into docs.bin. Checksums (optional fields) came
 * later without a format change: an index written before them opens unverified. */
export const STORE_FORMAT = 2;
export const DEFAULT_SHARD_COUNT = 64;
export const MANIFEST = 'manifest.json';
export const SHARDS = 'shards';
export const FILES_JSON = 'files.json';
export const DOCS_JSON = 'docs.json';
export const DOCS_BIN = 'docs.bin';
export const VECTORS_FILE = 'index.f32';

/** CRC-32 of each file of a generation; `vectors` only when it has a vector file. */
export interface ShardSums {
  files: number;
  docs: number;
  bin: number;
  vectors?: number;
}

export interface ShardEntry {
  /** Commit sequence number that wrote the shard's directory; 0 = empty shard, no directory. */
  gen: number;
  chunks: number;
  vectors: number;
  /** Absent in indexes written before checksums. */
  sums?: ShardSums;
}

export interface Manifest {
  format: number;
  embedderId: string | null;
  dimensions: number | null;
  shardCount: number;
  /** Number of the last commit; names the generations it wrote. */
  seq: number;
  shards: ShardEntry[];
}

/** What a generation's files.json says about the generation (`shard` in the file). */
export interface ShardMeta {
  index: number;
  gen: number;
  shardCount: number;
  embedderId: string | null;
  dimensions: number | null;
  chunks: number;
  vectors: number;
  sums: Omit<ShardSums, 'files'>;
}

export class IndexCorruptError extends Error {
  constructor(dir: string, what: string) {
    super(`the index at ${dir} is corrupt (${what}); run \`baton index --rebuild\` to rebuild it`);
    this.name = 'IndexCorruptError';
  }
}

/** manifest.json exists but cannot be parsed or is malformed: recoverManifest can stand in. */
export class ManifestDamagedError extends IndexCorruptError {
  constructor(dir: string, readonly detail: string) {
    super(dir, `${MANIFEST}: ${detail}`);
    this.name = 'ManifestDamagedError';
  }
}

export function shardDirName(shard: number, gen: number): string {
  return `${String(shard).padStart(3, '0')}.${gen}`;
}

export function emptyManifest(shardCount: number): Manifest {
  return {
    format: STORE_FORMAT,
    embedderId: null,
    dimensions: null,
    shardCount,
    seq: 0,
    shards: Array.from({ length: shardCount }, () => ({ gen: 0, chunks: 0, vectors: 0 })),
  };
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST), JSON.stringify(m, null, 1));
}

const isCount = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
const isSum = (n: unknown): n is number => isCount(n) && n <= 0xffffffff;

function validSums(s: unknown): boolean {
  if (s === undefined) return true;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- wrong here: without it `o` is `{}` and tsc fails
  const o = s as Partial<ShardSums> | null;
  return !!o && isSum(o.files) && isSum(o.docs) && isSum(o.bin) && (o.vectors === undefined || isSum(o.vectors));
}

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST);
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') throw new Error(`no index at ${dir}; run \`baton index\` first`);
    throw new ManifestDamagedError(dir, err instanceof SyntaxError ? 'not valid JSON' : errorCode(err) ?? errorMessage(err));
  }
  if (typeof m?.format === 'number' && m.format !== STORE_FORMAT) {
    throw new IndexCorruptError(dir, `${MANIFEST} has format ${m.format}, this baton reads format ${STORE_FORMAT}`);
  }
  const ok =
    m?.format === STORE_FORMAT &&
    Number.isInteger(m.shardCount) &&
    m.shardCount >= 1 &&
    Number.isInteger(m.seq) &&
    Array.isArray(m.shards) &&
    m.shards.length === m.shardCount &&
    m.shards.every((e) => isCount(e?.gen) && isCount(e.chunks) && isCount(e.vectors) && e.gen <= m.seq && validSums(e.sums)) &&
    (m.embedderId === null || typeof m.embedderId === 'string') &&
    (m.dimensions === null || Number.isInteger(m.dimensions));
  if (!ok) throw new ManifestDamagedError(dir, 'malformed');
  return m;
}

export interface RecoveredManifest {
  manifest: Manifest;
  /** Shards kept with a problem of their own (vectors of another embedder), and shards whose
   * directories held no intact generation (now empty). */
  damaged: Map<number, string>;
}

/**
 * A manifest rebuilt from the shard directories: for each shard the newest generation whose
 * files.json describes it and whose files match the checksums it records. Generations written
 * before checksums cannot be told apart from damaged ones and are dropped (indexing re-adds their
 * files). Reads every candidate file: a rare, slow path.
 */
export function recoverManifest(dir: string): RecoveredManifest {
  const byShard = new Map<number, number[]>();
  let seq = 0;
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(dir, SHARDS));
  } catch {
    // no shards at all
  }
  for (const name of names) {
    const m = /^(\d+)\.(\d+)$/.exec(name);
    if (!m) continue;
    const [s, gen] = [Number(m[1]), Number(m[2])];
    seq = Math.max(seq, gen);
    byShard.set(s, [...(byShard.get(s) ?? []), gen]);
  }
  const chosen = new Map<number, { meta: ShardMeta; filesSum: number }>();
  const lost = new Set<number>();
  for (const [s, gens] of byShard) {
    const found = gens.sort((a, b) => b - a).map((gen) => intactGeneration(dir, s, gen)).find((g) => g !== null);
    if (found) chosen.set(s, found);
    else lost.add(s);
  }
  // The newest generation speaks for the store: shard count, embedder (among shards with vectors).
  const newest = [...chosen.values()].sort((a, b) => b.meta.gen - a.meta.gen);
  const shardCount = newest[0]?.meta.shardCount ?? DEFAULT_SHARD_COUNT;
  const space = newest.find((c) => c.meta.vectors > 0)?.meta ?? newest[0]?.meta;
  const manifest = emptyManifest(shardCount);
  manifest.seq = seq;
  manifest.embedderId = space?.embedderId ?? null;
  manifest.dimensions = space?.dimensions ?? null;
  const damaged = new Map<number, string>();
  for (const [s, { meta, filesSum }] of chosen) {
    if (s >= shardCount || meta.shardCount !== shardCount) continue; // left from another shard count: swept
    manifest.shards[s] = { gen: meta.gen, chunks: meta.chunks, vectors: meta.vectors, sums: { files: filesSum, ...meta.sums } };
    if (meta.vectors > 0 && (meta.embedderId !== manifest.embedderId || meta.dimensions !== manifest.dimensions)) {
      damaged.set(s, `${SHARDS}/${shardDirName(s, meta.gen)} holds vectors of another embedder`);
    }
  }
  for (const s of lost) if (s < shardCount) damaged.set(s, `${SHARDS}/${String(s).padStart(3, '0')}.*: no intact generation`);
  return { manifest, damaged };
}

function intactGeneration(dir: string, s: number, gen: number): { meta: ShardMeta; filesSum: number } | null {
  const genDir = path.join(dir, SHARDS, shardDirName(s, gen));
  try {
    const bytes = fs.readFileSync(path.join(genDir, FILES_JSON));
    const meta = (JSON.parse(bytes.toString('utf8')) as { shard?: ShardMeta }).shard;
    if (!meta || meta.index !== s || meta.gen !== gen || !isCount(meta.chunks) || !isCount(meta.vectors) || !Number.isInteger(meta.shardCount)) return null;
    if (!validSums({ files: 0, ...meta.sums })) return null;
    if (crc32(fs.readFileSync(path.join(genDir, DOCS_JSON))) !== meta.sums.docs) return null;
    if (crc32(fs.readFileSync(path.join(genDir, DOCS_BIN))) !== meta.sums.bin) return null;
    if (meta.vectors > 0 && crc32(fs.readFileSync(path.join(genDir, VECTORS_FILE))) !== meta.sums.vectors) return null;
    return { meta, filesSum: crc32(bytes) };
  } catch {
    return null;
  }
}

