// Indexing and search figures for the README:
//  - pipeline files/s and chunks/s on a real repository, next to the embedder's raw throughput on
//    the same chunks in the same process (the ratio is the pipeline's overhead);
//  - re-index time after editing one file;
//  - hybrid search latency p50/p95 at 10k and 100k chunks (real code text, synthetic vectors);
//  - peak RSS.
//
//   node out/bench/indexing.js [DIR] [--embedder SPEC] [--sizes 10000,100000]
import { cpSync, mkdtempSync, rmSync, appendFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { indexWorkspace } from '../src/core/indexing/indexer';
import { IndexStore } from '../src/core/store/store';
import { Retriever } from '../src/core/search/retriever';
import { batonDirOf } from '../src/core/indexing/workspaceIndex';
import { embedderSpecFromFlag } from '../src/core/config/config';
import { createEmbedder, describeEmbedder } from '../src/core/embed/createEmbedder';
import { documentText } from '../src/core/embed/documentText';
import { chunkId, type IndexedChunk, type FileRecord } from '../src/core/indexing/types';
import type { Embedder } from '../src/core/embed/types';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { embedder: { type: 'string', default: 'baton' }, sizes: { type: 'string', default: '10000,100000' } },
});
const source = resolve(positionals[0] ?? join(__dirname, '..', '..', 'bench', 'data', 'retrieval', 'test', 'repos'));
const spec = embedderSpecFromFlag(values.embedder);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function firstFile(dir: string): string {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      const found = name.startsWith('.') ? '' : firstFile(full);
      if (found) return found;
    } else if (/\.(js|ts)$/.test(name)) return full;
  }
  return '';
}

/** Unit vectors for the latency test: the store and fusion cost is what is measured here. */
function randomUnit(dims: number): Float32Array {
  const v = new Float32Array(dims).map(() => Math.random() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

async function pipeline(): Promise<IndexedChunk[]> {
  const work = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  const root = join(work, 'repo');
  cpSync(source, root, { recursive: true, filter: (src) => !src.includes(`${'/'}.baton`) });
  try {
    const embedder = createEmbedder(spec, { inWorker: true });
    const full = await indexWorkspace({ root, batonDir: batonDirOf(root), embedder });
    console.log(`repository: ${source}\nembedder: ${describeEmbedder(spec)}${full.notice ? ` (${full.notice})` : ''}`);
    console.log(`pipeline: ${full.files} files, ${full.chunks} chunks in ${full.seconds.toFixed(2)} s = ` +
      `${(full.files / full.seconds).toFixed(1)} files/s, ${(full.chunks / full.seconds).toFixed(1)} chunks/s (${full.embedded} embedded)`);

    const store = await IndexStore.open(batonDirOf(root), { create: false });
    const chunks = [...store.chunks()];
    await store.close();
    if (embedder && full.embedded > 0) {
      // The texts the indexer embedded: documentText when the model declares it.
      const texts = [...new Set(chunks.map((c) => documentText(c, embedder.documentHeadRepeat ?? 0)))];
      const t0 = performance.now();
      for (let i = 0; i < texts.length; i += 64) await embedder.embed(texts.slice(i, i + 64), 'document');
      const raw = (performance.now() - t0) / 1000;
      console.log(`embedder alone on the same ${texts.length} unique chunks: ${raw.toFixed(2)} s = ${(texts.length / raw).toFixed(1)} chunks/s; ` +
        `pipeline/embedder time ratio ${(full.seconds / raw).toFixed(2)}`);
    }
    const again = await indexWorkspace({ root, batonDir: batonDirOf(root), embedder });
    console.log(`re-index, nothing changed: ${again.seconds.toFixed(2)} s (${again.embedded} embedded)`);
    const target = firstFile(root);
    appendFileSync(target, '\nexport function benchmarkTouched(a, b) {\n  return a + b;\n}\n');
    const touched = await indexWorkspace({ root, batonDir: batonDirOf(root), embedder });
    console.log(`re-index after editing one file: ${touched.seconds.toFixed(2)} s (${touched.changedFiles} changed, ${touched.embedded} embedded)`);
    await embedder?.dispose();
    return chunks;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function searchLatency(corpus: IndexedChunk[], size: number, dims = 384): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  try {
    const store = await IndexStore.open(join(work, '.baton'));
    await store.setEmbedder('bench:random', dims);
    const perFile = 20;
    let built = 0;
    const t0 = performance.now();
    while (built < size) {
      const upserts: { file: FileRecord; chunks: IndexedChunk[]; vectors: Float32Array[] }[] = [];
      for (let f = 0; f < 500 && built < size; f++) {
        const path = `pkg${Math.floor(built / 10000)}/dir${f % 37}/file${built}.ts`;
        const chunks: IndexedChunk[] = [];
        for (let i = 0; i < perFile && built < size; i++, built++) {
          const base = corpus[built % corpus.length];
          const c = { ...base, path, startLine: i * 40 + 1, endLine: i * 40 + 40 };
          chunks.push({ ...c, id: chunkId(c) });
        }
        upserts.push({
          file: { path, size: 1, mtimeMs: 1, hash: path, language: 'typescript', chunkCount: chunks.length },
          chunks,
          vectors: chunks.map(() => randomUnit(dims)),
        });
      }
      await store.commit({ upserts, deletes: [] });
    }
    const buildSeconds = (performance.now() - t0) / 1000;
    const fixed: Embedder = {
      id: 'bench:random', dimensions: dims,
      init: async () => {}, dispose: async () => {},
      embed: async (texts) => texts.map(() => randomUnit(dims)),
    };
    const t1 = performance.now();
    const retriever = Retriever.fromStore(store, fixed);
    const loadSeconds = (performance.now() - t1) / 1000;
    const queries = corpus.slice(0, 200).map((c) => (c.symbol ?? c.text.split(/\W+/).slice(0, 4).join(' ')) || 'parse options');
    const times: Record<string, number[]> = { lexical: [], dense: [], hybrid: [] };
    for (const mode of ['lexical', 'dense', 'hybrid'] as const) {
      await retriever.search(queries[0], { mode }); // warm-up
      for (const q of queries) {
        const t = performance.now();
        await retriever.search(q, { k: 10, mode });
        times[mode].push(performance.now() - t);
      }
    }
    console.log(`${size.toLocaleString('en')} chunks: store built in ${buildSeconds.toFixed(1)} s, lexical index loaded in ${loadSeconds.toFixed(2)} s; ` +
      Object.entries(times).map(([m, t]) => `${m} p50 ${pct(t, 50).toFixed(1)} ms / p95 ${pct(t, 95).toFixed(1)} ms`).join('; '));
    await store.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const chunks = await pipeline();
  for (const size of values.sizes.split(',').map(Number)) await searchLatency(chunks, size);
  console.log(`peak RSS: ${mb(process.resourceUsage().maxRSS * 1024)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
