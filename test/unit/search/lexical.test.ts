import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { codeTokens, computeTerms, unpackTermCounts } from '../../../src/core/search/codeTokens';
import { DEFAULT_BM25F, LexicalIndex } from '../../../src/core/search/lexical';
import { chunkId, type Chunk, type IndexedChunk } from '../../../src/core/indexing/types';

const ROOT = join(__dirname, '..', '..', '..', '..');

function indexed(c: Omit<Chunk, 'hash' | 'kind' | 'language'> & Partial<Chunk>): IndexedChunk {
  const full: Chunk = { kind: c.symbol ? 'function' : 'window', language: 'javascript', hash: 'h', ...c };
  return { ...full, id: chunkId(full), terms: computeTerms(full) };
}

/** Real code: every openai/*.js file cut into 40-line windows (about 1.4k chunks). */
function openaiCorpus(): IndexedChunk[] {
  const dir = join(ROOT, 'node_modules/openai');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) {
        if (name !== 'node_modules') walk(full);
      } else if (name.endsWith('.js')) files.push(full);
    }
  };
  walk(dir);
  const chunks: IndexedChunk[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let start = 0; start < lines.length; start += 40) {
      const text = lines.slice(start, start + 40).join('\n');
      const decl = /\b(?:function|class)\s+([A-Za-z_$][\w$]*)/.exec(text);
      chunks.push(indexed({ path: relative(dir, file), startLine: start + 1, endLine: start + 40, symbol: decl ? decl[1] : null, text }));
    }
  }
  return chunks;
}

function build(chunks: IndexedChunk[]): LexicalIndex {
  const index = new LexicalIndex();
  for (const c of chunks) index.add(c);
  return index;
}

/** What a search returns, comparable across indexes. */
function summary(index: LexicalIndex, query: string, k = 15): [string, number][] {
  return index.search(query, k).map((r) => [r.chunk.id, r.score]);
}

const QUERIES = ['stream response chunks', 'APIError status headers', 'toFile upload', 'retry timeout', 'buildURL query', 'Assistant thread run', 'parse json'];

describe('LexicalIndex', () => {
  const corpus = openaiCorpus();

  it('indexes the real corpus', () => {
    assert.ok(corpus.length > 1000, `corpus has ${corpus.length} chunks`);
    const index = build(corpus);
    assert.equal(index.size, corpus.length);
    assert.ok(index.has(corpus[0].id));
    assert.ok(!index.has('nope#1-2'));
  });

  it('ranks the chunk holding rare query terms first', () => {
    const index = build(corpus);
    // Document frequency of each term, to find identifiers that occur in exactly one chunk.
    const df = new Map<string, number>();
    for (const c of corpus) {
      c.terms.terms.forEach((t, i) => unpackTermCounts(c.terms.counts[i]).content > 0 && df.set(t, (df.get(t) ?? 0) + 1));
    }
    let checked = 0;
    for (let i = 7; i < corpus.length && checked < 25; i += 53) {
      const chunk = corpus[i];
      const rare = [...new Set(chunk.text.match(/[A-Za-z_$][\w$]{5,}/g) ?? [])].filter((id) => {
        const terms = codeTokens(id);
        return terms.length > 0 && df.get(terms[0]) === 1;
      });
      if (rare.length === 0) continue;
      const query = `${rare[0]} request options`; // the rare identifier plus common words
      const top = index.search(query, 5);
      assert.equal(top[0].chunk.id, chunk.id, `query ${query}`);
      assert.ok(top.length === 1 || top[0].score > top[1].score);
      checked++;
    }
    assert.ok(checked >= 10, `only ${checked} chunks had a unique identifier`);
  });

  it('returns best-first scores, at most k, and nothing for unknown or empty queries', () => {
    const index = build(corpus);
    const hits = index.search('stream chunks', 10);
    assert.equal(hits.length, 10);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
    assert.deepEqual(index.search('zzqqxxunknownterm', 10), []);
    assert.deepEqual(index.search('the of return', 10), []);
    assert.deepEqual(index.search('stream', 0), []);
    assert.deepEqual(new LexicalIndex().search('stream', 5), []);
  });

  it('boosts a chunk whose symbol matches over one that only mentions the term', () => {
    // A real 40-line body that mentions `tokenize` once, so lengths are typical.
    const text = `${corpus[100].text}\nconst out = items.map((item) => tokenize(item));`;
    const mention = indexed({ path: 'src/a.ts', startLine: 1, endLine: 3, symbol: 'processItems', text });
    const named = indexed({ path: 'src/b.ts', startLine: 1, endLine: 3, symbol: 'tokenize', text });
    const index = build([mention, named, ...corpus.slice(0, 200)]);
    const top = index.search('tokenize', 2);
    assert.deepEqual(top.map((r) => r.chunk.id), [named.id, mention.id]);
    assert.ok(top[0].score > top[1].score * 1.4, `${top[0].score} vs ${top[1].score}`);
  });

  it('matches path terms even when the content does not mention them', () => {
    const index = build(corpus);
    const top = index.search('pagination', 10);
    assert.ok(top.length > 0);
    assert.ok(top.slice(0, 3).every((r) => r.chunk.path.includes('pagination')), top.map((r) => r.chunk.path).join(', '));
    const byPathOnly = indexed({ path: 'src/core/index/lexicalRanker.ts', startLine: 1, endLine: 2, symbol: null, text: 'module.exports = build;' });
    const withIt = build([...corpus.slice(0, 300), byPathOnly]);
    assert.equal(withIt.search('lexical ranker', 1)[0].chunk.id, byPathOnly.id);
  });

  it('after incremental removes, searches exactly like a fresh index without those chunks', () => {
    const index = build(corpus);
    const removed = corpus.filter((_, i) => i % 7 === 3);
    for (const c of removed) assert.equal(index.remove(c.id), true);
    assert.equal(index.remove(removed[0].id), false);
    const kept = corpus.filter((_, i) => i % 7 !== 3);
    const fresh = build(kept);
    assert.equal(index.size, fresh.size);
    assert.equal(index.termCount, fresh.termCount);
    for (const q of QUERIES) assert.deepEqual(summary(index, q), summary(fresh, q), q);
    for (const c of removed) assert.ok(!index.has(c.id));
    // Re-adding restores the original results.
    for (const c of removed) index.add(c);
    const full = build(corpus);
    for (const q of QUERIES) assert.deepEqual(summary(index, q), summary(full, q), q);
  });

  it('stays exact when mass removal renumbers documents', () => {
    const index = build(corpus);
    const removed = corpus.filter((_, i) => i % 10 !== 0); // > 1024 holes, more than live docs
    for (const c of removed) index.remove(c.id);
    const fresh = build(corpus.filter((_, i) => i % 10 === 0));
    assert.equal(index.size, fresh.size);
    assert.equal(index.termCount, fresh.termCount);
    for (const q of QUERIES) assert.deepEqual(summary(index, q), summary(fresh, q), q);
    const name = corpus.find((c, i) => i % 10 === 0 && c.symbol)!.symbol!;
    assert.deepEqual(index.findSymbol(name).map((r) => r.chunk.id), fresh.findSymbol(name).map((r) => r.chunk.id));
  });

  it('replaces a chunk added twice under the same id', () => {
    const first = indexed({ path: 'src/a.ts', startLine: 1, endLine: 5, symbol: null, text: 'function oldName() {}' });
    const second = indexed({ path: 'src/a.ts', startLine: 1, endLine: 5, symbol: null, text: 'function brandNewName() {}' });
    const index = build([first, second]);
    assert.equal(index.size, 1);
    assert.deepEqual(index.search('old', 5), []);
    assert.deepEqual(index.search('oldName brandNewName', 5).map((r) => r.chunk.text), [second.text]);
  });

  it('exports tunable defaults and honours custom field weights', () => {
    assert.equal(DEFAULT_BM25F.k1, 1.2);
    assert.equal(DEFAULT_BM25F.fields.content.b, 0.75);
    assert.ok(DEFAULT_BM25F.fields.symbol.weight > DEFAULT_BM25F.fields.content.weight);
    const inPath = indexed({ path: 'src/tokenizer.ts', startLine: 1, endLine: 1, symbol: null, text: 'module.exports = {};' });
    const inText = indexed({ path: 'src/other.ts', startLine: 1, endLine: 1, symbol: null, text: 'tokenizer.run();' });
    const noPath = new LexicalIndex({ k1: 1.2, fields: { content: { weight: 1, b: 0.75 }, symbol: { weight: 4, b: 0.5 }, path: { weight: 0, b: 0.5 } } });
    noPath.add(inPath);
    noPath.add(inText);
    assert.deepEqual(noPath.search('tokenizer', 5).map((r) => r.chunk.id), [inText.id]);
  });
});

describe('LexicalIndex.findSymbol', () => {
  const symbols = ['parse', 'Parse', 'Parser', 'Parser.parse', 'Lexer.parse', 'Parser.reset', 'ns.Parser.parse', 'parseJson', 'tryParseValue', 'JsonParser.parseValue', 'format'];
  const chunks = symbols.map((symbol, i) => indexed({ path: `src/f${i}.ts`, startLine: 1, endLine: 9, symbol, text: `// ${symbol}\nfunction body${i}() {}` }));
  const index = build(chunks);
  const names = (query: string, k?: number): (string | null)[] => index.findSymbol(query, k).map((r) => r.chunk.symbol);

  it('puts exact matches first (same case on top), then Class.method matches, then name parts', () => {
    assert.deepEqual(names('parse'), ['parse', 'Parse', 'Lexer.parse', 'Parser.parse', 'ns.Parser.parse', 'parseJson', 'tryParseValue', 'JsonParser.parseValue']);
  });

  it('finds a class, then its members, then symbols containing the name', () => {
    assert.deepEqual(names('Parser'), ['Parser', 'Parser.parse', 'Parser.reset', 'ns.Parser.parse', 'JsonParser.parseValue']);
  });

  it('resolves a qualified query to the qualified symbol, then its parts', () => {
    assert.deepEqual(names('parser.parse').slice(0, 5), ['Parser.parse', 'ns.Parser.parse', 'parse', 'Parse', 'Parser']);
  });

  it('matches on identifier parts when nothing matches exactly', () => {
    // JsonParser.parseValue is a method-name match; tryParseValue shares all of the name's parts.
    const hits = index.findSymbol('parseValue');
    assert.deepEqual(hits.slice(0, 2).map((r) => r.chunk.symbol), ['JsonParser.parseValue', 'tryParseValue']);
    assert.ok(hits[0].score > 2 && hits[1].score <= 1);
    // All four parts, then two of four; symbols sharing under half of the parts ("parse") are left out.
    assert.deepEqual(names('valueTryParse'), ['tryParseValue', 'JsonParser.parseValue']);
    assert.deepEqual(names('nothingLikeIt'), []);
    assert.deepEqual(names('   '), []);
  });

  it('respects k and forgets removed chunks', () => {
    assert.equal(names('parse', 2).length, 2);
    const local = build(chunks);
    local.remove(chunks[0].id);
    local.remove(chunks[3].id);
    assert.deepEqual(local.findSymbol('parse').slice(0, 3).map((r) => r.chunk.symbol), ['Parse', 'Lexer.parse', 'ns.Parser.parse']);
  });
});
