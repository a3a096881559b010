// Secret detection bench: (a) recall on the planted secrets of test/helpers/plantedSecrets.ts over
// many seeds, plus findings on its decoy files (should be none); (b) false positives on ordinary
// code, the JS/TS sources of a fixed list of npm packages under node_modules, with a breakdown by
// rule and a few sample lines (secrets masked); (c) throughput. Prints figures only; no thresholds.
//   node out/bench/secrets.js                       all three
//   node out/bench/secrets.js --seeds 50            seeds for the recall figure (default 100)
//   node out/bench/secrets.js --samples 40          sample lines to print (default 12)
//   node out/bench/secrets.js --all                 print every finding on the packages
//   node out/bench/secrets.js --verify-precheck     also lint every package file without the pre-check
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { clearSecretCache, findSecrets, type SecretFinding } from '../src/core/security/secrets';
import { loadSecretlint, presetMayMatch, secretlintFindings } from '../src/core/security/secretlintScan';
import { isCodePath, scanBatonRules } from '../src/core/security/secretRules';
import { decoyFiles, plantedSecretFiles } from '../test/helpers/plantedSecrets';

const ROOT = join(__dirname, '..', '..');
const NODE_MODULES = join(ROOT, 'node_modules');

/**
 * Ordinary code: fixed so that runs compare. lodash, rxjs, three.js and express are kept out on
 * purpose (reserved for an independent evaluation).
 */
const PACKAGES = [
  'typescript/lib', 'yaml', 'zod', 'ignore', 'openai', 'vscode-languageserver', 'vscode-languageserver-protocol',
  'vscode-languageserver-types', 'vscode-jsonrpc', 'diff', 'mocha', 'markdown-it', 'marked', 'js-yaml', 'jsonwebtoken',
  'jws', 'semver', 'minimatch', 'commander', 'yargs', 'undici', '@azure/identity', '@azure/msal-node', '@azure/msal-common',
  '@azure/core-rest-pipeline', '@azure/core-auth', 'dotenv', 'uuid', 'qs', 'cheerio', 'htmlparser2', 'parse5', 'protobufjs',
  'vectra', '@huggingface/transformers', 'playwright-core', 'esbuild', '@vscode/vsce', 'typed-rest-client',
  'azure-devops-node-api', 'sax', 'xml2js', 'glob', 'chokidar', 'jszip', 'web-tree-sitter',
];
const SOURCE = /\.(?:[cm]?js|[cm]?ts)$/;
/** The same packages' data and docs (READMEs, package.json, YAML), where unquoted values count too. */
const DATA = /\.(?:md|markdown|json|ya?ml|txt)$/i;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function filesUnder(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) {
        if (name !== 'node_modules') walk(full);
      } else if (pattern.test(name) && st.size < 16_000_000) out.push(full);
    }
  };
  try {
    walk(dir);
  } catch {
    // A package of the list that is not installed here.
  }
  return out;
}

/** The finding's line with the secret shown as its first 4 characters and its length. */
function safeLine(text: string, f: SecretFinding): string {
  const lineStart = text.lastIndexOf('\n', f.start - 1) + 1;
  let lineEnd = text.indexOf('\n', f.start);
  if (lineEnd < 0 || lineEnd > f.end) lineEnd = Math.max(f.end, lineEnd < 0 ? text.length : lineEnd);
  const value = text.slice(f.start, f.end);
  const masked = `«${value.slice(0, 4).replace(/\s/g, ' ')}…${value.length}»`;
  const before = text.slice(Math.max(lineStart, f.start - 60), f.start).replace(/\s+/g, ' ');
  const after = text.slice(f.end, Math.min(text.indexOf('\n', f.end) < 0 ? text.length : text.indexOf('\n', f.end), f.end + 40)).replace(/\s+/g, ' ');
  return `${before}${masked}${after}`.trim();
}

function pct(n: number, d: number): string {
  return d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(2)}%`;
}

async function recall(seeds: number): Promise<void> {
  let planted = 0;
  let found = 0;
  let labelled = 0;
  const misses = new Map<string, number>();
  let decoyFindings = 0;
  let decoyFilesSeen = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    for (const file of plantedSecretFiles(seed)) {
      const findings = await findSecrets(file.content, { path: file.path });
      for (const secret of file.secrets) {
        planted++;
        const at = file.content.indexOf(secret.value);
        const cover = findings.find((f) => f.start <= at && f.end >= at + secret.value.length);
        if (!cover) misses.set(secret.rule, (misses.get(secret.rule) ?? 0) + 1);
        else {
          found++;
          if (cover.rule === secret.rule) labelled++;
        }
      }
    }
    for (const file of decoyFiles(seed)) {
      decoyFilesSeen++;
      decoyFindings += (await findSecrets(file.content, { path: file.path })).length;
    }
  }
  const perSeed = plantedSecretFiles(1);
  console.log(`(a) recall on planted secrets: ${perSeed.reduce((n, f) => n + f.secrets.length, 0)} secrets in ${perSeed.length} files per seed, seeds 1..${seeds}`);
  console.log(`    found ${found}/${planted} = ${pct(found, planted)}; expected rule id on ${pct(labelled, found)} of those`);
  if (misses.size > 0) console.log(`    misses by rule: ${[...misses].map(([r, n]) => `${r} ${n}`).join(', ')}`);
  console.log(`    decoy files (digests, UUIDs, base64 data, placeholders, references): ${decoyFindings} findings in ${decoyFilesSeen} files`);
}

interface Scanned {
  path: string;
  text: string;
  findings: SecretFinding[];
  ms: number;
}

async function falsePositives(samples: number, all: boolean, verify: boolean): Promise<void> {
  const files = PACKAGES.flatMap((p) => filesUnder(join(NODE_MODULES, p), SOURCE));
  await loadSecretlint();
  await findSecrets('warm up: password = process.env.PASSWORD; AKIA', { path: 'warm.ts' });
  clearSecretCache();
  const scanned: Scanned[] = [];
  let bytes = 0;
  let batonMs = 0;
  let secretlintMs = 0;
  let secretlintRuns = 0;
  const started = performance.now();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const path = relative(NODE_MODULES, file);
    bytes += Buffer.byteLength(text);
    const t0 = performance.now();
    const findings = await findSecrets(text, { path });
    scanned.push({ path, text, findings, ms: performance.now() - t0 });
  }
  const wallMs = performance.now() - started;
  // The same work split by rule set, to show where the time goes.
  for (const { path, text } of scanned) {
    const t0 = performance.now();
    scanBatonRules(text, isCodePath(path));
    const t1 = performance.now();
    await secretlintFindings(text, path);
    batonMs += t1 - t0;
    secretlintMs += performance.now() - t1;
    if (presetMayMatch(text)) secretlintRuns++;
  }
  const mb = bytes / 1e6;
  const findings = scanned.flatMap((s) => s.findings.map((f) => ({ s, f })));
  const withFinding = scanned.filter((s) => s.findings.length > 0).length;
  const byRule = new Map<string, number>();
  for (const { f } of findings) byRule.set(f.rule, (byRule.get(f.rule) ?? 0) + 1);

  console.log(`\n(b) false positives on ordinary code: ${PACKAGES.length} packages under node_modules (those installed), JS/TS sources`);
  console.log(`    files ${scanned.length}, ${mb.toFixed(1)} MB; findings ${findings.length} (${(findings.length / mb).toFixed(3)} per MB); files with a finding ${withFinding} (${pct(withFinding, scanned.length)})`);
  console.log(`    by rule: ${[...byRule].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ') || 'none'}`);
  const shown = all ? findings : findings.filter((_, i) => i % Math.max(1, Math.ceil(findings.length / samples)) === 0).slice(0, samples);
  for (const { s, f } of shown) console.log(`    ${s.path}:${f.line} ${f.rule}: ${safeLine(s.text, f)}`);

  const typical = scanned.filter((s) => s.text.length >= 20_000 && s.text.length <= 40_000).map((s) => s.ms).sort((a, b) => a - b);
  const median = typical.length > 0 ? typical[Math.floor(typical.length / 2)] : NaN;
  console.log(`\n(c) throughput: ${(mb / (wallMs / 1000)).toFixed(1)} MB/s over ${mb.toFixed(1)} MB (findSecrets, sequential, cache cleared)`);
  console.log(`    split: Baton's rules ${(mb / (batonMs / 1000)).toFixed(0)} MB/s, secretlint incl. its pre-check ${(mb / (secretlintMs / 1000)).toFixed(0)} MB/s`);
  console.log(`    20-40 KB files: median ${median.toFixed(2)} ms each (${typical.length} files)`);
  console.log(`    the pre-check let secretlint run on ${secretlintRuns} of ${scanned.length} files (${pct(secretlintRuns, scanned.length)})`);

  // The same sources with no path, as a prompt or a tool's output would carry them: unquoted values
  // are then judged as data, not dismissed as code.
  clearSecretCache();
  const plain = new Map<string, number>();
  let plainFindings = 0;
  for (const { text } of scanned) {
    for (const f of await findSecrets(text)) {
      plainFindings++;
      plain.set(f.rule, (plain.get(f.rule) ?? 0) + 1);
    }
  }
  console.log(`\n(b'') the same sources read as plain text (no path): findings ${plainFindings} (${(plainFindings / mb).toFixed(3)} per MB); ${[...plain].map(([r, n]) => `${r} ${n}`).join(', ')}`);

  if (verify) {
    // Lints every file regardless of the pre-check, to show the pre-check changes nothing.
    const { lintSource, config } = await loadSecretlint();
    let differing = 0;
    let linted = 0;
    for (const { path, text } of scanned) {
      const full = await lintSource({ source: { content: text, filePath: path, ext: '.js', contentType: 'text' }, options: { config, noPhysicFilePath: true } });
      const fast = await secretlintFindings(text, path);
      linted++;
      if (full.messages.length !== fast.length) differing++;
    }
    console.log(`    pre-check verified: ${differing} of ${linted} files differ with secretlint run on every file`);
  }
}

async function dataFiles(samples: number): Promise<void> {
  const files = PACKAGES.flatMap((p) => filesUnder(join(NODE_MODULES, p), DATA));
  let bytes = 0;
  const found: Array<{ path: string; text: string; f: SecretFinding }> = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const path = relative(NODE_MODULES, file);
    bytes += Buffer.byteLength(text);
    for (const f of await findSecrets(text, { path })) found.push({ path, text, f });
  }
  const mb = bytes / 1e6;
  console.log(`\n(b') the same packages' Markdown, JSON, YAML and text files: ${files.length} files, ${mb.toFixed(1)} MB; findings ${found.length} (${(found.length / mb).toFixed(3)} per MB)`);
  for (const { path, text, f } of found.slice(0, samples)) console.log(`    ${path}:${f.line} ${f.rule}: ${safeLine(text, f)}`);
}

async function main(): Promise<void> {
  console.log(`secrets bench: node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
  await recall(arg('--seeds', 100));
  await falsePositives(arg('--samples', 12), process.argv.includes('--all'), process.argv.includes('--verify-precheck'));
  await dataFiles(arg('--samples', 12));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
