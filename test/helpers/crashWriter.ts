// Child process for the store's kill test: commits to the store in an endless loop and reports
// each operation on stdout as `begin <signature of the state it will leave>` / `done`. The test
// SIGKILLs it at random moments and checks that the store reopens in a state it announced.
//   node out/test/helpers/crashWriter.js <batonDir>
import { createHash } from 'node:crypto';
import { IndexStore } from '../../src/core/store/store';
import { chunkId, type FileRecord, type IndexedChunk } from '../../src/core/indexing/types';
import { contentHash } from '../../src/base/node/hash';

export const CRASH_EMBEDDER = 'crash-test-embedder';
export const CRASH_DIMS = 8;
export const CRASH_SHARDS = 8;

interface ModelFile {
  file: FileRecord;
  chunks: IndexedChunk[];
  vectors: (Float32Array | null)[];
}

/** What the store should hold: embedder and, per file, its record, chunks and vectors. */
export interface Model {
  embedderId: string | null;
  files: Map<string, ModelFile>;
}

export function makeChunk(path: string, startLine: number, endLine: number, text: string): IndexedChunk {
  const c = { path, startLine, endLine, symbol: null, kind: 'window', language: 'typescript', text, hash: contentHash(text) };
  return { ...c, id: chunkId(c), terms: { terms: [text.split(' ')[0]], counts: Int32Array.of(1), length: 1, symbolLength: 0, pathLength: 0 } };
}

export function fileRecord(path: string, chunks: IndexedChunk[], size = 100): FileRecord {
  return { path, size, mtimeMs: 1_700_000_000_000 + size, hash: contentHash(path + size), language: 'typescript', chunkCount: chunks.length };
}

/** A deterministic unit vector derived from text. */
export function vectorFor(text: string, dims: number): Float32Array {
  const bytes = createHash('sha256').update(text).digest();
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) v[i] = bytes[i % bytes.length] - 127.5;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

export async function modelOf(store: IndexStore): Promise<Model> {
  const files = new Map<string, ModelFile>();
  for (const [p, file] of store.files()) {
    const chunks = store.chunksOfFile(p);
    const vecs = await store.vectorsOf(chunks.map((c) => c.id));
    files.set(p, { file, chunks, vectors: chunks.map((c) => vecs.get(c.id) ?? null) });
  }
  return { embedderId: store.embedderId, files };
}

export function signature(m: Model): string {
  const files = [...m.files.values()]
    .sort((a, b) => (a.file.path < b.file.path ? -1 : 1))
    .map((f) => ({
      file: f.file,
      chunks: f.chunks.map((c) => [c.id, c.hash, c.text]),
      vectors: f.vectors.map((v) => (v ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : null)),
    }));
  return createHash('sha256').update(JSON.stringify({ e: m.embedderId, files })).digest('hex');
}

async function main(dir: string): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const store = await IndexStore.open(dir, { shardCount: CRASH_SHARDS });
  const model = await modelOf(store);
  say(`start ${signature(model)}`);
  if (store.embedderId !== CRASH_EMBEDDER) {
    model.embedderId = CRASH_EMBEDDER;
    say(`begin ${signature(model)}`);
    await store.setEmbedder(CRASH_EMBEDDER, CRASH_DIMS);
    say('done');
  }
  let i = (model.files.get('counter')?.file.size ?? 0) + 1;
  for (;; i++) {
    // One commit: the counter file, one source file rewritten, sometimes one deleted.
    const target = `src/f${i % 13}.ts`;
    const chunks = Array.from({ length: (i % 4) + 1 }, (_, k) => makeChunk(target, k * 10 + 1, k * 10 + 10, `step${i} chunk${k} of ${target}`));
    const vectors = chunks.map((c) => (i % 2 === 0 ? vectorFor(c.text, CRASH_DIMS) : null));
    const victim = `src/f${(i * 7) % 13}.ts`;
    const deletes = i % 5 === 0 && victim !== target ? [victim] : [];
    const upserts = [
      { file: fileRecord('counter', [], i), chunks: [], vectors: [] },
      { file: fileRecord(target, chunks, i), chunks, vectors },
    ];
    for (const u of upserts) {
      const old = model.files.get(u.file.path);
      const kept = u.chunks.map((c, k) => {
        const prev = old?.chunks.findIndex((o) => o.id === c.id && o.hash === c.hash) ?? -1;
        return u.vectors[k] ?? (prev >= 0 ? old!.vectors[prev] : null);
      });
      model.files.set(u.file.path, { file: u.file, chunks: u.chunks, vectors: kept });
    }
    for (const d of deletes) model.files.delete(d);
    say(`begin ${signature(model)}`);
    await store.commit({ upserts, deletes });
    say('done');

    if (i % 3 === 0) {
      // Progressive embedding: attach vectors to a few chunks that lack them.
      const todo = store.chunksWithoutVectors().slice(0, 5);
      if (todo.length === 0) continue;
      for (const c of todo) {
        const f = model.files.get(c.path)!;
        f.vectors[f.chunks.findIndex((o) => o.id === c.id)] = vectorFor(c.text, CRASH_DIMS);
      }
      say(`begin ${signature(model)}`);
      await store.setVectors(todo.map((c) => ({ id: c.id, vector: vectorFor(c.text, CRASH_DIMS) })));
      say('done');
    }
  }
}

if (require.main === module) {
  main(process.argv[2]).catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
