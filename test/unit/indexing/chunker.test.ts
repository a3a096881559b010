import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chunkFile, type ChunkerOptions } from '../../../src/core/indexing/chunker';
import { languageForPath } from '../../../src/core/indexing/languages';
import type { Chunk } from '../../../src/core/indexing/types';
import { contentHash } from '../../../src/base/node/hash';

const FIXTURES = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'chunker');
const KINDS = new Set([
  'function', 'class', 'method', 'interface', 'type', 'enum', 'struct', 'impl', 'module', 'section', 'block', 'window',
]);

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** `start-end kind symbol`, one per chunk: compact enough to compare whole files. */
function summary(chunks: Chunk[]): string[] {
  return chunks.map((c) => `${c.startLine}-${c.endLine} ${c.kind} ${c.symbol}`);
}

async function chunkFixture(name: string, opts?: ChunkerOptions): Promise<Chunk[]> {
  const text = fixture(name);
  const chunks = await chunkFile(name, text, opts);
  assertWellFormed(name, text, chunks);
  return chunks;
}

/** The contract every chunk list must meet, whatever the language or options. */
function assertWellFormed(relPath: string, text: string, chunks: Chunk[]): void {
  const lines = text.split(/\r?\n/);
  const covered = new Array<boolean>(lines.length).fill(false);
  let previousStart = 0;
  for (const c of chunks) {
    const where = `${relPath} ${c.startLine}-${c.endLine}`;
    assert.ok(c.startLine >= 1 && c.startLine <= c.endLine && c.endLine <= lines.length, `range ${where}`);
    assert.ok(c.startLine >= previousStart, `chunks in line order at ${where}`);
    previousStart = c.startLine;
    assert.equal(c.text, lines.slice(c.startLine - 1, c.endLine).join('\n'), `text of ${where}`);
    assert.equal(c.hash, contentHash(c.text), `hash of ${where}`);
    assert.equal(c.path, relPath);
    assert.equal(c.language, languageForPath(relPath));
    assert.ok(KINDS.has(c.kind), `kind ${c.kind} at ${where}`);
    assert.ok(c.text.trim() !== '', `no blank chunk at ${where}`);
    for (let i = c.startLine - 1; i < c.endLine; i++) covered[i] = true;
  }
  lines.forEach((line, i) => {
    if (line.trim() !== '') assert.ok(covered[i], `${relPath}: line ${i + 1} is in no chunk: ${JSON.stringify(line.slice(0, 80))}`);
  });
}

describe('languageForPath', () => {
  it('maps extensions and special names to language ids', () => {
    const cases: Record<string, string> = {
      'src/a.ts': 'typescript', 'a.mts': 'typescript', 'ui/App.tsx': 'tsx', 'b.jsx': 'javascript', 'c.cjs': 'javascript',
      'x.py': 'python', 'main.go': 'go', 'A.java': 'java', 'lib.rs': 'rust', 'a.c': 'c', 'a.h': 'c',
      'a.cc': 'cpp', 'a.hpp': 'cpp', 'P.cs': 'csharp', 'r.rb': 'ruby', 'Gemfile': 'ruby', 'i.php': 'php',
      'README.md': 'markdown', 'docs/A.MD': 'markdown', 'run.sh': 'shellscript', 'Dockerfile': 'dockerfile',
      'LICENSE': 'text', 'notes.txt': 'text', '.gitignore': 'text', 'weird.unknownext': 'text',
    };
    for (const [file, language] of Object.entries(cases)) assert.equal(languageForPath(file), language, file);
  });
});

describe('chunkFile: declarations per language', () => {
  it('TypeScript: exports, arrow consts, decorated class, enum, namespace, default class', async () => {
    assert.deepEqual(summary(await chunkFixture('sample.ts')), [
      '1-2 block null',
      '4-8 interface LoadOptions',
      '10-10 type Mode',
      '12-17 function loadConfig',
      '19-19 function double',
      '21-22 block null',
      '24-42 class Registry',
      '44-47 enum Color',
      '49-51 module Util',
      '53-55 class default',
      '57-59 function sealed',
    ]);
  });

  it('TSX: components as functions and arrow consts', async () => {
    const chunks = await chunkFixture('component.tsx');
    assert.deepEqual(summary(chunks), [
      '1-1 block null',
      '3-5 interface Props',
      '7-14 function Counter',
      '16-16 function Badge',
      '18-20 function App',
    ]);
    assert.equal(chunks[0].language, 'tsx');
    assert.match(chunks[2].text, /<button onClick=/);
  });

  it('JavaScript: module.exports/exports/prototype assignments, classes, object literals in blocks', async () => {
    assert.deepEqual(summary(await chunkFixture('legacy.js')), [
      '1-2 block null',
      '4-6 function Animal',
      '8-10 method Animal.speak',
      '12-14 function createAnimal',
      '16-16 function describe',
      '18-22 block null',
      '24-28 class Dog',
      '30-31 block null',
    ]);
  });

  it('Python: decorators and comments join their function, docstrings stay inside', async () => {
    const chunks = await chunkFixture('sample.py');
    assert.deepEqual(summary(chunks), [
      '1-5 block null',
      '8-11 function data_dir',
      '14-27 class Item',
      '30-31 function fetch',
      '34-35 block null',
    ]);
    assert.ok(chunks[1].text.startsWith('# Cached lookup of the data directory.\n@functools.cache\ndef data_dir'));
  });

  it('Go: methods are named Receiver.Method, type declarations by their kind', async () => {
    assert.deepEqual(summary(await chunkFixture('sample.go')), [
      '1-9 block null',
      '11-15 struct Store',
      '17-19 interface Getter',
      '21-24 function New',
      '26-35 method Store.Get',
    ]);
  });

  it('Java: class with Javadoc, interface, enum', async () => {
    assert.deepEqual(summary(await chunkFixture('Sample.java')), [
      '1-4 block null',
      '6-28 class BoundedQueue',
      '30-32 interface Sink',
      '34-40 enum Level',
    ]);
  });

  it('Rust: attributes and doc comments attach, impls are named by their type', async () => {
    const chunks = await chunkFixture('sample.rs');
    assert.deepEqual(summary(chunks), [
      '1-2 block null',
      '4-8 struct Counter',
      '10-19 impl Counter',
      '21-25 impl Counter',
      '27-29 interface Scorer',
      '31-34 enum Mode',
      '36-36 block null',
      '38-42 function main',
    ]);
    assert.ok(chunks[1].text.startsWith('/// A word counter.\n#[derive(Debug, Default)]'));
  });

  it('C: functions and structs inside #ifdef / extern "C", typedef struct named by its typedef', async () => {
    const chunks = await chunkFixture('sample.c');
    assert.deepEqual(summary(chunks), [
      '1-8 block null',
      '10-14 struct Buffer',
      '16-19 struct node',
      '21-21 block null',
      '23-30 function buffer_new',
      '32-36 function buffer_free',
      '38-40 block null',
      '42-48 function main',
    ]);
    assert.ok(chunks.every((c) => c.language === 'c'));
  });

  it('C++: namespaces, templates and out-of-line methods', async () => {
    assert.deepEqual(summary(await chunkFixture('sample.cpp')), [
      '1-2 block null',
      '4-23 module geo',
      '25-32 class Circle',
      '34-36 method Circle.area',
      '38-41 function main',
    ]);
    // Split further, the namespace's members appear and its closing line joins the last one.
    assert.deepEqual(summary(await chunkFixture('sample.cpp', { maxLines: 6 })), [
      '1-2 block null',
      '4-4 module geo',
      '6-10 struct Point',
      '12-16 class Shape',
      '18-23 function clamp',
      '25-26 class Circle',
      '27-27 method Circle.Circle',
      '28-32 class Circle',
      '34-36 method Circle.area',
      '38-41 function main',
    ]);
  });

  it('C#: a namespace that fits is one chunk; split, it yields types and Type.Method', async () => {
    assert.deepEqual(summary(await chunkFixture('Sample.cs')), ['1-2 block null', '4-36 module Demo.Shop']);
    assert.deepEqual(summary(await chunkFixture('Sample.cs', { maxLines: 6 })), [
      '1-2 block null',
      '4-5 module Demo.Shop',
      '6-10 class Cart',
      '12-15 method Cart.Add',
      '17-23 method Cart.Total',
      '25-28 interface IPricing',
      '30-30 enum Currency',
      '32-36 struct Money',
    ]);
  });

  it('Ruby: modules, classes, methods; comments above members attach', async () => {
    assert.deepEqual(summary(await chunkFixture('sample.rb')), [
      '1-1 block null',
      '3-25 module Parsing',
      '27-29 function helper',
      '31-31 block null',
    ]);
    assert.deepEqual(summary(await chunkFixture('sample.rb', { maxLines: 6 })), [
      '1-1 block null',
      '3-4 module Parsing',
      '5-7 class Tokenizer',
      '9-11 method Tokenizer.initialize',
      '13-15 method Tokenizer.tokens',
      '17-20 method Tokenizer.build',
      '22-25 function parse',
      '27-29 function helper',
      '31-31 block null',
    ]);
  });

  it('PHP: classes with attributes and docblocks, interfaces, traits, functions', async () => {
    assert.deepEqual(summary(await chunkFixture('sample.php')), [
      '1-5 block null',
      '7-24 class Post',
      '26-29 interface Publishable',
      '31-37 class HasAuthor',
      '39-42 function format_title',
      '44-44 block null',
    ]);
  });

  it('Markdown: sections by ATX and setext headings, fences and front matter ignored', async () => {
    const chunks = await chunkFixture('README.md');
    assert.deepEqual(summary(chunks), [
      '1-5 block null',
      '7-9 section Baton',
      '11-16 section Install',
      '18-19 section Usage',
      '21-24 section Setext Heading',
      '26-29 section Last', // the empty "### Empty" opens the next section
    ]);
    assert.match(chunks[2].text, /# not a heading/);
  });
});

describe('chunkFile: splitting large declarations', () => {
  it('splits a class over maxLines into a header chunk and Class.method chunks', async () => {
    const chunks = await chunkFixture('big_class.ts');
    const names = summary(chunks);
    assert.equal(names[0], '1-4 class LruCache'); // comment, declaration line and fields
    assert.equal(names[1], '6-8 method LruCache.constructor');
    assert.equal(names[2], '10-17 method LruCache.get'); // doc comment included
    assert.equal(names.at(-2), '118-121 method LruCache.size'); // the class's closing brace joins the last method
    assert.equal(names.at(-1), '123-123 block null');
    assert.equal(chunks.filter((c) => c.kind === 'method').length, 14);
  });

  it('keeps a class that fits as one chunk and splits it when maxLines shrinks (TS, Python, Java, Rust, PHP)', async () => {
    assert.deepEqual(summary(await chunkFixture('sample.ts', { maxLines: 6 })).slice(6, 11), [
      '24-26 class Registry',
      '28-28 method Registry.constructor',
      '30-33 method Registry.add',
      '35-37 method Registry.get',
      '39-42 method Registry.onChange',
    ]);
    assert.deepEqual(summary(await chunkFixture('sample.py', { maxLines: 8 })).slice(2, 5), [
      '14-19 class Item',
      '21-23 method Item.total',
      '25-27 method Item.empty',
    ]);
    assert.deepEqual(summary(await chunkFixture('Sample.java', { maxLines: 8 })).slice(1, 5), [
      '6-11 class BoundedQueue',
      '13-15 method BoundedQueue.BoundedQueue',
      '17-20 method BoundedQueue.toString',
      '22-28 method BoundedQueue.offer',
    ]);
    assert.deepEqual(summary(await chunkFixture('sample.rs', { maxLines: 6 })).slice(2, 5), [
      '10-10 impl Counter',
      '11-13 method Counter.new',
      '15-19 method Counter.add',
    ]);
    assert.deepEqual(summary(await chunkFixture('sample.php', { maxLines: 6 })).slice(1, 4), [
      '7-13 class Post',
      '15-18 method Post.__construct',
      '20-24 method Post.slug',
    ]);
  });

  it('splits a function longer than maxLines into overlapping windows that keep its symbol', async () => {
    const body = Array.from({ length: 200 }, (_, i) => `  total += ${i};`);
    const text = ['export function sum(): number {', '  let total = 0;', ...body, '  return total;', '}', ''].join('\n');
    const chunks = await chunkFile('long.ts', text);
    assertWellFormed('long.ts', text, chunks);
    assert.deepEqual(summary(chunks), [
      '1-60 function sum',
      '51-110 function sum',
      '101-160 function sum',
      '151-204 function sum',
    ]);
  });

  it('splits by maxChars as well as by lines', async () => {
    const chunks = await chunkFixture('sample.go', { maxChars: 120 });
    const get = chunks.filter((c) => c.symbol === 'Store.Get');
    assert.ok(get.length > 1, 'Store.Get is split');
    for (const c of get) assert.ok(c.text.length <= 120 || c.startLine === c.endLine, `chunk ${c.startLine} within maxChars`);
  });
});

describe('chunkFile: fallbacks and robustness', () => {
  it('covers every non-blank line of every fixture, with default and with tiny limits', async () => {
    const names = readdirSync(FIXTURES);
    assert.ok(names.length >= 15);
    for (const name of names) {
      assert.ok((await chunkFixture(name)).length > 0, name);
      await chunkFixture(name, { maxLines: 3, maxChars: 80, windowLines: 4, windowOverlap: 1 });
    }
  });

  it('windows unknown languages (60 lines, overlap 10, kind window, no symbol)', async () => {
    const chunks = await chunkFixture('notes.txt');
    assert.deepEqual(summary(chunks), ['1-60 window null', '51-110 window null', '101-150 window null']);
    const custom = await chunkFile('data.unknownext', fixture('notes.txt'), { windowLines: 100, windowOverlap: 0 });
    assert.deepEqual(summary(custom), ['1-100 window null', '101-150 window null']);
  });

  it('returns [] for empty and whitespace-only files', async () => {
    assert.deepEqual(await chunkFile('a.ts', ''), []);
    assert.deepEqual(await chunkFile('a.py', '  \n\t\n\r\n'), []);
    assert.deepEqual(await chunkFile('a.md', '\n\n'), []);
  });

  it('recovers declarations around syntax errors', async () => {
    const chunks = await chunkFixture('broken.ts');
    const symbols = chunks.map((c) => c.symbol);
    assert.ok(symbols.includes('ok'));
    assert.ok(symbols.includes('after'));
    assert.deepEqual(summary(chunks).find((s) => s.endsWith(' after')), '17-19 function after');
  });

  it('handles CRLF line endings: same ranges as LF, no \\r in chunk texts', async () => {
    const lf = fixture('sample.ts');
    const crlf = lf.replace(/\n/g, '\r\n');
    const a = await chunkFile('sample.ts', lf);
    const b = await chunkFile('sample.ts', crlf);
    assertWellFormed('sample.ts', crlf, b);
    assert.deepEqual(summary(b), summary(a));
    assert.deepEqual(b.map((c) => c.hash), a.map((c) => c.hash));
    assert.ok(b.every((c) => !c.text.includes('\r')));
  });

  it('handles a byte-order mark', async () => {
    const text = '\uFEFF' + fixture('sample.py');
    const chunks = await chunkFile('sample.py', text);
    assertWellFormed('sample.py', text, chunks);
    assert.ok(chunks.some((c) => c.symbol === 'data_dir' && c.startLine === 8));
  });

  it('handles a 50,000-line file', async function () {
    this.timeout(60_000);
    const unit = fixture('sample.go').split('\n').slice(20, 35).join('\n'); // New + Store.Get, 15 lines
    const parts = ['package big'];
    for (let i = 0; parts.length * 16 < 50_016; i++) parts.push(unit.replace(/New|Get/g, (m) => `${m}${i}`)); // 16 lines each
    const text = parts.join('\n\n');
    const started = Date.now();
    const chunks = await chunkFile('big.go', text);
    const elapsed = Date.now() - started;
    assertWellFormed('big.go', text, chunks);
    assert.ok(text.split('\n').length >= 50_000);
    assert.ok(chunks.some((c) => c.symbol === 'Store.Get1000' && c.kind === 'method'));
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
  });

  it('handles a file with one 10,000-character line', async () => {
    const body = Array.from({ length: 1500 }, (_, i) => `a${i}=${i};`).join('');
    const line = `function minified(){var ${body.slice(0, 10_000)}return 1}`;
    assert.ok(line.length >= 10_000);
    const text = `// header\n${line}\nconsole.log(minified());\n`;
    const chunks = await chunkFile('dist/app.min.js', text);
    assertWellFormed('dist/app.min.js', text, chunks);
    // Comment + function exceed maxChars, so they are windowed, and a line is never cut.
    assert.deepEqual(summary(chunks), ['1-1 function minified', '2-2 function minified', '3-3 block null']);
    // Without a grammar the long line is one window of its own: lines are never cut.
    const windows = await chunkFile('app.min.unknown', text);
    assertWellFormed('app.min.unknown', text, windows);
    assert.deepEqual(summary(windows), ['1-1 window null', '2-2 window null', '3-3 window null']);
  });

  it('windows files too large to parse instead of parsing them', async () => {
    const line = 'export const value = 1; // padding padding padding padding padding padding padding';
    const text = Array.from({ length: 60_000 }, () => line).join('\n');
    assert.ok(text.length > 4_000_000);
    const chunks = await chunkFile('generated.ts', text);
    assert.ok(chunks.every((c) => c.kind === 'window' && c.symbol === null));
    assertWellFormed('generated.ts', text, chunks);
  });
});
