// Lexical index bench: build time, memory and search latency at 10k and 100k chunks made from
// real code (node_modules/typescript/lib and node_modules/openai sliced into 40-line chunks, then
// repeated under varied paths). Prints figures only; no thresholds.
//   node out/bench/lexical.js              build + search figures
//   node out/bench/lexical.js --stopwords  document frequency of the most common terms
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { codeTokens, computeTerms, stem, STOPWORDS } from '../src/core/search/codeTokens';
import { LexicalIndex } from '../src/core/search/lexical';
import { chunkId, type Chunk, type IndexedChunk } from '../src/core/indexing/types';
import { contentHash } from '../src/base/node/hash';
import { seededRandom } from '../test/helpers/seededRandom';

const ROOT = join(__dirname, '..', '..');
const LINES_PER_CHUNK = 40;

// Exposes gc() so heap figures are measured after collection (no need for --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function listFiles(dir: string, exts: string[], limit: number): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (out.length >= limit) return;
      const full = join(d, name);
      if (statSync(full).isDirectory()) {
        if (name !== 'node_modules') walk(full);
      } else if (exts.some((e) => name.endsWith(e))) out.push(full);
    }
  };
  walk(dir);
  return out;
}

/** Base chunks: every real file cut into 40-line windows; the symbol is the first declared name. */
function baseChunks(): Chunk[] {
  const files = [
    ...listFiles(join(ROOT, 'node_modules/typescript/lib'), ['.js', '.d.ts'], 200).filter((f) => !/\/lib\.[^/]*\.d\.ts$/.test(f) || f.endsWith('lib.dom.d.ts') || f.endsWith('lib.es5.d.ts')),
    ...listFiles(join(ROOT, 'node_modules/openai'), ['.js'], 2000).filter((f) => !f.includes('.d.') && !f.endsWith('.map')),
  ];
  const chunks: Chunk[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    const path = relative(join(ROOT, 'node_modules'), file);
    for (let start = 0; start < lines.length; start += LINES_PER_CHUNK) {
      const text = lines.slice(start, start + LINES_PER_CHUNK).join('\n');
      if (text.trim().length === 0) continue;
      const decl = /\b(?:function|class|interface)\s+([A-Za-z_$][\w$]*)/.exec(text);
      chunks.push({
        path, startLine: start + 1, endLine: Math.min(lines.length, start + LINES_PER_CHUNK),
        symbol: decl ? decl[1] : null, kind: decl ? 'function' : 'window', language: 'javascript',
        text, hash: contentHash(text),
      });
    }
  }
  return chunks;
}

/** `n` chunks: the base set repeated under distinct package paths. */
function corpus(base: Chunk[], n: number): Chunk[] {
  const out: Chunk[] = [];
  for (let copy = 0; out.length < n; copy++) {
    for (const c of base) {
      if (out.length >= n) break;
      out.push(copy === 0 ? c : { ...c, path: `packages/app${copy}/vendor/${c.path}` });
    }
  }
  return out;
}

/** 200 queries: identifiers from the corpus, identifier pairs, and natural-language phrases. */
function makeQueries(chunks: Chunk[]): string[] {
  const rand = seededRandom(42);
  const phrases = [
    'create source file', 'parse json response', 'resolve module name', 'emit declaration file',
    'stream chunks from server', 'retry request on timeout', 'check type assignability',
    'get line and character of position', 'format diagnostic message', 'upload file to api',
    'build program from config', 'walk syntax tree nodes', 'find references to symbol',
    'abort controller signal', 'compute hash of text', 'read directory entries recursively',
  ];
  const identifiers: string[] = [];
  for (let i = 0; i < 400; i++) {
    const c = chunks[Math.floor(rand() * chunks.length)];
    const ids = c.text.match(/[A-Za-z_$][\w$]{3,}/g) ?? [];
    if (ids.length > 0) identifiers.push(ids[Math.floor(rand() * ids.length)]);
  }
  const queries: string[] = [];
  for (let i = 0; queries.length < 200; i++) {
    if (i % 4 === 0) queries.push(phrases[i % phrases.length]);
    else if (i % 4 === 1) queries.push(`${identifiers[i % identifiers.length]} ${identifiers[(i * 7) % identifiers.length]}`);
    else queries.push(identifiers[i % identifiers.length]);
  }
  return queries;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0) + ' MiB';
}

function timeMs<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return [value, Number(process.hrtime.bigint() - t0) / 1e6];
}

/** Wall and CPU milliseconds (CPU is the steadier figure on a shared machine; it includes GC
 * threads, so it can exceed wall time). */
function timeBoth<T>(fn: () => T): [T, number, number] {
  const cpu0 = process.cpuUsage();
  const [value, wall] = timeMs(fn);
  const cpu = process.cpuUsage(cpu0);
  return [value, wall, (cpu.user + cpu.system) / 1000];
}

/** Heap plus typed-array storage (posting lists live in ArrayBuffers, outside the JS heap). */
function usedMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function latencies(run: (q: string) => unknown, queries: string[]): string {
  for (const q of queries) run(q); // warm-up: one pass so the JIT has seen every query shape
  const times = queries.map((q) => timeMs(() => run(q))[1]).sort((a, b) => a - b);
  return `p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms (${queries.length} queries)`;
}

function benchSize(base: Chunk[], n: number, queries: string[]): void {
  const chunks = corpus(base, n);
  gc();
  const mem0 = usedMemory();
  const [indexed, termsWall, termsCpu] = timeBoth(() => chunks.map((c): IndexedChunk => ({ ...c, id: chunkId(c), terms: computeTerms(c) })));
  gc();
  const mem1 = usedMemory();
  const index = new LexicalIndex();
  const [, addWall, addCpu] = timeBoth(() => { for (const c of indexed) index.add(c); });
  gc();
  const mem2 = usedMemory();
  const perChunk = (ms: number): string => `${((ms * 1000) / n).toFixed(0)} µs/chunk`;
  console.log(`\n== ${n} chunks (${index.size} indexed, ${index.termCount} distinct terms)`);
  console.log(`computeTerms:  wall ${termsWall.toFixed(0)} ms, cpu ${termsCpu.toFixed(0)} ms (${perChunk(termsCpu)} cpu); chunk objects + terms ${mib(mem1 - mem0)}`);
  console.log(`index build:   wall ${addWall.toFixed(0)} ms, cpu ${addCpu.toFixed(0)} ms (${perChunk(addCpu)} cpu); index structures ${mib(mem2 - mem1)}; total heap+buffers ${mib(mem2)}, rss ${mib(process.memoryUsage().rss)}`);
  console.log(`search k=20:   ${latencies((q) => index.search(q, 20), queries)}`);
  console.log(`findSymbol:    ${latencies((q) => index.findSymbol(q.split(' ')[0], 10), queries)}`);
  // Churn: remove and re-add 1% of the chunks (a re-index of changed files).
  const churn = indexed.filter((_, i) => i % 100 === 0);
  const [, removeMs] = timeMs(() => { for (const c of churn) index.remove(c.id); });
  const [, readdMs] = timeMs(() => { for (const c of churn) index.add(c); });
  console.log(`churn 1%:      remove ${churn.length} in ${removeMs.toFixed(0)} ms, re-add in ${readdMs.toFixed(0)} ms`);
}

function stopwordReport(base: Chunk[]): void {
  const df = new Map<string, number>();
  for (const c of base) for (const t of new Set(codeTokens(c.text, { keepStopwords: true }))) df.set(t, (df.get(t) ?? 0) + 1);
  const top = [...df].sort((a, b) => b[1] - a[1]).slice(0, 120);
  console.log(`document frequency over ${base.length} chunks (* = in STOPWORDS):`);
  console.log(top.map(([t, n]) => `${STOPWORDS.has(t) || t === 'fals' || t === 'undefin' ? '*' : ''}${t} ${((100 * n) / base.length).toFixed(0)}%`).join(', '));
  const rare = [...STOPWORDS].map((t) => `${t} ${((100 * (df.get(stem(t)) ?? 0)) / base.length).toFixed(1)}%`);
  console.log(`\nSTOPWORDS' document frequency: ${rare.join(', ')}`);
}

function main(): void {
  const base = baseChunks();
  console.log(`base corpus: ${base.length} real 40-line chunks from node_modules/typescript/lib and node_modules/openai; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  if (process.argv.includes('--stopwords')) return stopwordReport(base);
  const queries = makeQueries(base);
  for (const n of [10_000, 100_000]) benchSize(base, n, queries);
}

main();
