// Builds Baton's retrieval benchmark: for each pinned package (bench/dataset/packages.json) a copy
// of its sources with doc comments blanked (line numbers unchanged) and one query per documented
// function: the comment's first sentence, answered by the function's path and line range.
//   node out/bench/dataset/build.js          → bench/data/retrieval/{dev,test}/{repos/,queries.jsonl,manifest.json}
// Deterministic and idempotent: tarballs are cached in bench/data/cache/, outputs are rewritten.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CODE_EXT, DECLARATION, mineSource, usableQuery } from './docMining';
import { fetchPackage, listFiles, readLicense } from './npmFetch';

interface PackageSpec { name: string; version: string; include: string[] }
interface Config { maxQueriesPerRepo: number; exclude: string[]; dev: PackageSpec[]; test: PackageSpec[] }

export interface BenchQuery {
  repo: string; query: string; path: string; startLine: number; endLine: number; symbol: string;
}

const ROOT = resolve(__dirname, '../../..');
const MAX_FILE_BYTES = 1_500_000; // bundles above this are not source

/** Folder name for a package: '@tanstack/query-core' → 'tanstack__query-core'. */
export function repoDirName(name: string): string {
  return name.replace(/^@/, '').replace(/\//g, '__');
}

function normalise(q: string): string {
  return q.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

function buildRepo(spec: PackageSpec, cfg: Config, outRepos: string): { queries: BenchQuery[]; files: number; lines: number; license: string } {
  const src = fetchPackage(spec.name, spec.version, join(ROOT, 'bench/data/cache'));
  const include = spec.include.map((r) => new RegExp(r));
  const exclude = cfg.exclude.map((r) => new RegExp(r));
  const repo = repoDirName(spec.name);
  const files = listFiles(src).filter((f) => CODE_EXT.test(f) && !DECLARATION.test(f) &&
    include.some((r) => r.test(f)) && !exclude.some((r) => r.test(f)) && statSync(join(src, f)).size <= MAX_FILE_BYTES);
  const found: BenchQuery[] = [];
  let lines = 0;
  for (const f of files) {
    const text = readFileSync(join(src, f), 'utf8');
    const mined = mineSource(text, f);
    const dest = join(outRepos, repo, f);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, mined.stripped);
    lines += mined.stripped.split('\n').length;
    for (const fn of mined.functions) {
      if (!usableQuery(fn.firstSentence)) continue;
      found.push({ repo, query: fn.firstSentence, path: f, startLine: fn.startLine, endLine: fn.endLine, symbol: fn.symbol });
    }
  }
  // Identical queries in one repo are ambiguous (overloads, copies): drop every copy.
  const count = new Map<string, number>();
  for (const q of found) count.set(normalise(q.query), (count.get(normalise(q.query)) ?? 0) + 1);
  let queries = found.filter((q) => count.get(normalise(q.query)) === 1);
  if (queries.length > cfg.maxQueriesPerRepo) {
    // Stable sample so that one large package does not dominate the averages.
    const key = (q: BenchQuery) => createHash('sha1').update(`${q.repo}\0${q.path}\0${q.startLine}`).digest('hex');
    queries = [...queries].sort((a, b) => (key(a) < key(b) ? -1 : 1)).slice(0, cfg.maxQueriesPerRepo)
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.startLine - b.startLine));
  }
  return { queries, files: files.length, lines, license: readLicense(src) };
}

function main(): void {
  const cfg: Config = JSON.parse(readFileSync(join(ROOT, 'bench/dataset/packages.json'), 'utf8'));
  const names = new Set<string>();
  for (const p of [...cfg.dev, ...cfg.test]) {
    if (names.has(p.name)) throw new Error(`${p.name} is in both splits`);
    names.add(p.name);
  }
  for (const split of ['dev', 'test'] as const) {
    const outDir = join(ROOT, 'bench/data/retrieval', split);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(join(outDir, 'repos'), { recursive: true });
    const all: BenchQuery[] = [];
    const manifest: unknown[] = [];
    for (const spec of cfg[split]) {
      const r = buildRepo(spec, cfg, join(outDir, 'repos'));
      all.push(...r.queries);
      manifest.push({ repo: repoDirName(spec.name), name: spec.name, version: spec.version, license: r.license, files: r.files, lines: r.lines, queries: r.queries.length });
      console.log(`${split}  ${spec.name}@${spec.version}  files=${r.files} lines=${r.lines} queries=${r.queries.length}  (${r.license})`);
    }
    writeFileSync(join(outDir, 'queries.jsonl'), all.map((q) => JSON.stringify(q)).join('\n') + '\n');
    writeFileSync(join(outDir, 'manifest.json'), JSON.stringify({ split, packages: manifest, queries: all.length }, null, 2) + '\n');
    console.log(`${split}: ${all.length} queries`);
  }
  // Only the tarballs stay cached: unpacked .ts sources under bench/ would join tsconfig's bench/**/*.ts.
  rmSync(join(ROOT, 'bench/data/cache/unpacked'), { recursive: true, force: true });
}

if (require.main === module) main();
