// Mines (natural language, code) pairs for Baton's code-search model from npm packages:
//  - doc comment first sentence → the documented function with its comments blanked,
//  - the whole doc comment (description + @param/@returns words) → the same function,
//  - README section (heading + sentence before a JS/TS code block) → that code block.
// Sources: train/packages.txt (pinned name@version). Only permissive licences are kept; the
// benchmark packages and reserved code (rxjs, lodash*, three, CPython) are excluded by name, and
// any pair whose query equals a benchmark query is dropped.
//   node out/train/mine.js  → train/data/pairs.{train,valid}.jsonl, train/SOURCES.tsv
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CODE_EXT, DECLARATION, mineSource, usableQuery } from '../bench/dataset/docMining';
import { fetchPackage, listFiles, readLicense, tarballName } from '../bench/dataset/npmFetch';
import { chunkFile } from '../src/core/indexing/chunker';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const DATA = join(ROOT, 'train/data');
const CACHE = join(DATA, 'cache');
const MINED = join(DATA, 'mined');
// v2: the positive is the chunk Baton's chunker makes around the function (what the index
// retrieves), and each package also keeps a sample of its other chunks as hard negatives.
// v3: positives and negatives carry the chunk's symbol (documentText finds its declaration line by
// it) and path (for inspection).
const MINER_VERSION = 3;
const MAX_NEGATIVES_PER_PACKAGE = 400;

const PERMISSIVE = new Set(['MIT', 'ISC', 'BSD-2-CLAUSE', 'BSD-3-CLAUSE', 'APACHE-2.0', '0BSD', 'UNLICENSE', 'CC0-1.0', 'MIT-0']);
const RESERVED = /^(rxjs|three)$|lodash|^@?rxjs\//;
// Packages whose code is vendored inside a benchmark package (node-forge ships lib/jsbn.js).
const BENCH_COPIES = new Set(['jsbn']);
const MAX_PAIRS_PER_PACKAGE = 1500; // keeps a few giant packages from dominating
const MAX_CODE_CHARS = 6000;
const VALID_FRACTION = 0.05;

/** SPDX expression → permissive? 'A OR B' needs one side, 'A AND B' both. */
export function permissive(license: string): boolean {
  const s = license.toUpperCase().replace(/[()]/g, ' ').trim();
  if (!s) return false;
  return s.split(/\s+OR\s+/).some((alt) => alt.split(/\s+AND\s+/).every((l) => PERMISSIVE.has(l.trim())));
}

/** Where a chunk lives (README code blocks have no symbol). */
interface ChunkPlace { path: string; symbol: string | null }
interface Pair extends ChunkPlace { pkg: string; kind: 'first' | 'doc' | 'readme'; query: string; code: string }
interface NegativeChunk extends ChunkPlace { code: string }
interface Mined { pairs: Pair[]; negatives: NegativeChunk[] }

function norm(q: string): string {
  return q.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/** One copy of the sources: src/ when the package ships it, otherwise everything but bundles. */
function sourceFiles(dir: string): string[] {
  const all = listFiles(dir).filter((f) => CODE_EXT.test(f) && !DECLARATION.test(f) &&
    !/(^|\/)(__tests__|__mocks__|tests?|node_modules|umd|bundles?|cdn)\//.test(f) &&
    !/\.(test|spec)\.[cm]?[jt]sx?$|[.-]min\.[cm]?js$|(^|\/)cdn\.js$/.test(f));
  const src = all.filter((f) => f.startsWith('src/'));
  const files = src.length > 0 ? src : all;
  return files.filter((f) => statSync(join(dir, f)).size <= 400_000).slice(0, 600);
}

function readmePairs(dir: string, pkg: string): Pair[] {
  const name = listFiles(dir).find((f) => /^readme(\.md|\.markdown)?$/i.test(f));
  if (!name) return [];
  const text = readFileSync(join(dir, name), 'utf8').replace(/\r\n/g, '\n');
  const out: Pair[] = [];
  let heading = '';
  let para: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) { heading = h[1].replace(/[`*_[\]]|\(.*?\)|<[^>]*>/g, '').trim(); para = []; continue; }
    const fence = /^\s*(```|~~~)\s*([\w-]*)/.exec(line);
    if (fence) {
      const lang = fence[2].toLowerCase();
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence[1]); i++) body.push(lines[i]);
      const code = body.join('\n');
      const js = /^(js|javascript|ts|typescript|jsx|tsx|mjs|cjs|node)$/.test(lang);
      const sentence = para.join(' ').replace(/[`*_]|<[^>]*>/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        .split(/(?<=[.!?:])\s/)[0]?.replace(/:$/, '').trim() ?? '';
      const query = [heading, sentence].filter(Boolean).join('. ');
      if (js && code.trim().split('\n').length >= 2 && query.split(/\s+/).length >= 3 && !/install/i.test(heading)) {
        out.push({ pkg, kind: 'readme', query: query.slice(0, 300), code: code.slice(0, MAX_CODE_CHARS), path: name, symbol: null });
      }
      para = [];
      continue;
    }
    if (line.trim() !== '') para.push(line.trim());
    if (para.length > 6) para = para.slice(-6);
  }
  return out;
}

/** The chunk the benchmark would count as a hit for a function: the one holding its declaration
 * line, else the first one inside it (same rule as bench/retrieval.ts's isHit). */
function hitChunk<C extends { startLine: number; endLine: number }>(chunks: C[], startLine: number, endLine: number): C | undefined {
  return chunks.find((c) => c.startLine <= startLine && startLine <= c.endLine) ??
    chunks.find((c) => c.startLine >= startLine && c.endLine <= endLine);
}

function stableHash(s: string): number {
  return parseInt(createHash('sha1').update(s).digest('hex').slice(0, 8), 16);
}

async function minePackage(dir: string, pkg: string, banned: Set<string>): Promise<Mined> {
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  const others = new Map<string, { rank: number; place: ChunkPlace }>(); // chunk text -> sample order, place
  const positives = new Set<string>();
  for (const f of sourceFiles(dir)) {
    let text: string;
    try { text = readFileSync(join(dir, f), 'utf8'); } catch { continue; }
    if (text.length > 0 && text.split('\n').length < 3 && text.length > 5000) continue; // minified
    let mined;
    try { mined = mineSource(text, f); } catch { continue; }
    if (pairs.length >= MAX_PAIRS_PER_PACKAGE) break;
    // Baton's own chunker over the comment-blanked file, as the benchmark indexes it.
    const chunks = await chunkFile(f, mined.stripped);
    for (const c of chunks) if (/\w/.test(c.text)) others.set(c.text, { rank: stableHash(`${f}:${c.startLine}`), place: { path: f, symbol: c.symbol } });
    for (const fn of mined.functions) {
      if (!usableQuery(fn.firstSentence)) continue;
      const key = norm(fn.firstSentence);
      if (seen.has(key) || banned.has(key)) continue;
      const chunk = hitChunk(chunks, fn.startLine, fn.endLine);
      if (!chunk) continue;
      seen.add(key);
      const code = chunk.text.slice(0, MAX_CODE_CHARS);
      positives.add(chunk.text);
      const place = { path: f, symbol: chunk.symbol };
      pairs.push({ pkg, kind: 'first', query: fn.firstSentence, code, ...place });
      const full = [fn.doc.replace(/```[\s\S]*?```/g, ' '), fn.tagText].join(' ').replace(/\s+/g, ' ').trim().slice(0, 600);
      if (norm(full) !== key && full.split(' ').length >= 6) pairs.push({ pkg, kind: 'doc', query: full, code, ...place });
    }
  }
  for (const p of readmePairs(dir, pkg)) if (!banned.has(norm(p.query))) pairs.push(p);
  // Hard negatives: a stable sample of the package's other chunks (blocks, undocumented code).
  const negatives = [...others].filter(([t]) => !positives.has(t)).sort((a, b) => a[1].rank - b[1].rank)
    .slice(0, MAX_NEGATIVES_PER_PACKAGE).map(([t, { place }]) => ({ code: t.slice(0, MAX_CODE_CHARS), ...place }));
  return { pairs: pairs.slice(0, MAX_PAIRS_PER_PACKAGE), negatives };
}

/** npm pack in batches with a few processes at a time (network bound, polite to the registry). */
async function fetchAll(specs: string[], parallel = 6, batch = 8): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const todo = specs.filter((s) => {
    const at = s.lastIndexOf('@');
    return !existsSync(join(CACHE, tarballName(s.slice(0, at), s.slice(at + 1))));
  });
  const batches: string[][] = [];
  for (let i = 0; i < todo.length; i += batch) batches.push(todo.slice(i, i + batch));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const b = batches[next++];
      try {
        await run('npm', ['pack', ...b, '--silent', '--pack-destination', CACHE], { timeout: 300_000 });
      } catch {
        for (const s of b) { // one bad spec fails the batch: retry one by one
          try { await run('npm', ['pack', s, '--silent', '--pack-destination', CACHE], { timeout: 300_000 }); }
          catch { console.warn(`npm pack failed: ${s}`); }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

async function main(): Promise<void> {
  const specs = readFileSync(join(ROOT, 'train/packages.txt'), 'utf8').split('\n')
    .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const bench = JSON.parse(readFileSync(join(ROOT, 'bench/dataset/packages.json'), 'utf8'));
  const benchNames = new Set<string>([...bench.dev, ...bench.test].map((p: { name: string }) => p.name));
  // Benchmark queries can never appear as training queries (copies of code live in other packages).
  const banned = new Set<string>();
  for (const split of ['dev', 'test']) {
    const f = join(ROOT, 'bench/data/retrieval', split, 'queries.jsonl');
    if (!existsSync(f)) throw new Error(`build the benchmark first: ${f} is missing`);
    for (const l of readFileSync(f, 'utf8').split('\n')) if (l.trim()) banned.add(norm(JSON.parse(l).query));
  }
  // --offline: mine only what is already in the tarball cache (no registry calls).
  if (!process.argv.includes('--offline')) {
    console.log(`fetching ${specs.length} packages`);
    await fetchAll(specs);
  }

  mkdirSync(MINED, { recursive: true });
  const train: Pair[] = [];
  const valid: Pair[] = [];
  const negs: (NegativeChunk & { split: string; pkg: string })[] = [];
  const sources: string[] = ['name\tversion\tlicense\tpairs\tsplit'];
  const seenPair = new Set<string>();
  let skippedLicense = 0;
  let done = 0;
  for (const spec of specs) {
    const at = spec.lastIndexOf('@');
    const name = spec.slice(0, at), version = spec.slice(at + 1);
    if (benchNames.has(name) || RESERVED.test(name) || BENCH_COPIES.has(name)) continue;
    if (!existsSync(join(CACHE, tarballName(name, version)))) continue;
    // Per-package results are cached (keyed by name@version and the miner's version) so that
    // growing the package list does not re-parse everything.
    const cacheFile = join(MINED, `${tarballName(name, version)}.v${MINER_VERSION}.json`);
    let license: string;
    let mined: Pair[];
    let negatives: NegativeChunk[];
    if (existsSync(cacheFile)) {
      ({ license, mined, negatives } = JSON.parse(readFileSync(cacheFile, 'utf8')));
    } else {
      let dir: string;
      try { dir = fetchPackage(name, version, CACHE); } catch { continue; }
      license = readLicense(dir);
      try {
        ({ pairs: mined, negatives } = permissive(license) ? await minePackage(dir, name, new Set()) : { pairs: [], negatives: [] });
      } finally {
        // Unpacked sources are dropped again (the tarball stays cached): tsconfig's train/**/*.ts
        // would otherwise sweep thousands of third-party .ts files into every type check.
        rmSync(dir, { recursive: true, force: true });
      }
      writeFileSync(cacheFile, JSON.stringify({ license, mined, negatives }));
    }
    if (!permissive(license)) { skippedLicense++; continue; }
    mined = mined.filter((p) => !banned.has(norm(p.query)));
    if (++done % 100 === 0) console.log(`mined ${done} packages, ${train.length + valid.length} pairs`);
    const pairs = mined.filter((p) => {
      const h = createHash('sha1').update(norm(p.query) + '\0' + p.code.replace(/\s+/g, ' ')).digest('hex');
      if (seenPair.has(h)) return false;
      seenPair.add(h);
      return true;
    });
    if (pairs.length === 0) continue;
    // Split by package so validation measures generalisation to unseen code bases.
    const bucket = parseInt(createHash('sha1').update(name).digest('hex').slice(0, 8), 16) / 0xffffffff;
    const split = bucket < VALID_FRACTION ? 'valid' : 'train';
    (split === 'valid' ? valid : train).push(...pairs);
    for (const n of negatives ?? []) negs.push({ split, pkg: name, ...n });
    sources.push(`${name}\t${version}\t${license}\t${pairs.length}\t${split}`);
  }
  mkdirSync(DATA, { recursive: true });
  writeFileSync(join(DATA, 'pairs.train.jsonl'), train.map((p) => JSON.stringify(p)).join('\n') + '\n');
  writeFileSync(join(DATA, 'pairs.valid.jsonl'), valid.map((p) => JSON.stringify(p)).join('\n') + '\n');
  for (const split of ['train', 'valid']) {
    writeFileSync(join(DATA, `negatives.${split}.jsonl`), negs.filter((n) => n.split === split)
      .map(({ split: _, ...n }) => JSON.stringify(n)).join('\n') + '\n');
  }
  console.log(`hard negatives: ${negs.length}`);
  writeFileSync(join(ROOT, 'train/SOURCES.tsv'), sources.join('\n') + '\n');
  const kinds = (ps: Pair[]) => ['first', 'doc', 'readme'].map((k) => `${k}=${ps.filter((p) => p.kind === k).length}`).join(' ');
  console.log(`packages used: ${sources.length - 1}, skipped for licence: ${skippedLicense}`);
  console.log(`train pairs: ${train.length} (${kinds(train)}); valid pairs: ${valid.length} (${kinds(valid)})`);
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
