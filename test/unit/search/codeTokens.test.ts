import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeTokens, computeTerms, packTermCounts, queryTokens, stem, STOPWORDS, unpackTermCounts } from '../../../src/core/search/codeTokens';
import type { Chunk, ChunkTerms } from '../../../src/core/indexing/types';
import { QUERY_PREFIX_CHARS } from '../../../src/base/common/prefix';

const ROOT = join(__dirname, '..', '..', '..', '..');

function chunk(over: Partial<Chunk>): Chunk {
  return { path: 'src/a.ts', startLine: 1, endLine: 1, symbol: null, kind: 'window', language: 'typescript', text: '', hash: 'h', ...over };
}

describe('codeTokens', () => {
  it('keeps a camelCase identifier whole and adds its words', () => {
    assert.deepEqual(codeTokens('getUserName'), ['getusernam', 'get', 'user', 'name']);
  });

  it('ends an acronym before the next capitalised word', () => {
    assert.deepEqual(codeTokens('HTTPServer'), ['httpserver', 'http', 'server']);
    assert.deepEqual(codeTokens('parseURLQuery'), ['parseurlquery', 'pars', 'url', 'query']);
    assert.deepEqual(codeTokens('XMLHttpRequest'), ['xmlhttprequest', 'xml', 'http', 'request']);
  });

  it('splits snake_case into segments and digits off letters, dropping 1-char parts', () => {
    assert.deepEqual(codeTokens('parse_json2'), ['parse_json2', 'pars', 'json2', 'json']);
    assert.deepEqual(codeTokens('MAX_RETRY_COUNT'), ['max_retry_count', 'max', 'retry', 'count']);
    assert.deepEqual(codeTokens('utf8Decoder'), ['utf8decoder', 'utf', 'decoder']);
    assert.deepEqual(codeTokens('es2015'), ['es2015', 'es', '2015']);
    assert.deepEqual(codeTokens('$scope __dirname _privateField'), ['$scop', 'scop', '__dirnam', 'dirnam', '_privatefield', 'privatefield', 'privat', 'field']);
  });

  it('keeps kebab-case names whole and split', () => {
    assert.deepEqual(codeTokens('data-test-id'), ['data-test-id', 'data', 'test', 'id']);
    // A spaced minus is an operator, not a compound.
    assert.deepEqual(codeTokens('width - offset'), ['width', 'offset']);
  });

  it('handles unicode identifiers', () => {
    assert.deepEqual(codeTokens('größeBerechnen()'), ['größeberechnen', 'größe', 'berechnen']);
    assert.deepEqual(codeTokens('const 变量名 = ÄnderungDatum;'), ['变量名', 'änderungdatum', 'änderung', 'datum']);
  });

  it('drops punctuation, 1-char tokens, keywords and English stopwords', () => {
    assert.deepEqual(codeTokens('return the value of a;'), ['valu']);
    assert.deepEqual(codeTokens('if (x > 0) { const yz = fn(x); }'), ['yz']);
    assert.deepEqual(codeTokens('foo.bar(baz, 42) => {}'), ['foo', 'bar', 'baz', '42']);
    assert.deepEqual(codeTokens('___ $ -- ...'), []);
    for (const word of ['return', 'const', 'function', 'the', 'of']) assert.ok(STOPWORDS.has(word), word);
  });

  it('counts a plain word once per occurrence, not once per split level', () => {
    assert.deepEqual(codeTokens('user user'), ['user', 'user']);
    assert.deepEqual(codeTokens('isUser'), ['isuser', 'user']); // "is" is a stopword, the whole name is not
  });

  it('stems plural, -ing, -ed and final -e to one term, leaving short words intact', () => {
    const forms = (words: string[]): Set<string> => new Set(words.map(stem));
    assert.deepEqual(forms(['parse', 'parses', 'parsing', 'parsed']), new Set(['pars']));
    assert.deepEqual(forms(['embed', 'embeds', 'embedding', 'embedded']), new Set(['embed']));
    assert.deepEqual(forms(['index', 'indexes', 'indexed', 'indexing']), new Set(['index']));
    assert.deepEqual(forms(['entry', 'entries']), new Set(['entry']));
    assert.deepEqual(forms(['class', 'classes']), new Set(['class']));
    assert.deepEqual(forms(['string', 'strings']), new Set(['string']));
    assert.deepEqual(forms(['status', 'process', 'this']), new Set(['status', 'process', 'this']));
    assert.equal(stem('running'), 'run');
  });

  it('normalises queries exactly like documents (stemming symmetry)', () => {
    assert.deepEqual(queryTokens('parsing Users'), codeTokens('parse user'));
    assert.deepEqual(queryTokens('getUserNames'), codeTokens('getUserName'));
    assert.deepEqual(queryTokens('where is the file parsed?'), ['file', 'pars']);
  });

  it('reads only the start of a very long query', () => {
    const words = Array.from({ length: 20_000 }, (_, i) => `term${i}`).join(' ');
    const terms = queryTokens(`parse invoice ${words}`);
    assert.deepEqual(terms.slice(0, 2), ['pars', 'invoic']);
    assert.ok(terms.length < QUERY_PREFIX_CHARS / 2, `${terms.length} terms`);
    assert.ok(!terms.includes('term19999'));
  });

  it('tokenises real code into identifier words', () => {
    const source = readFileSync(join(ROOT, 'node_modules/openai/core/error.js'), 'utf8');
    const tokens = new Set(codeTokens(source));
    assert.ok(tokens.has('apierror') && tokens.has('api') && tokens.has('error'));
    assert.ok(tokens.has('ratelimiterror') && tokens.has('rate') && tokens.has('limit'));
    assert.ok(!tokens.has('return') && !tokens.has('const') && !tokens.has('the'));
    for (const t of tokens) assert.ok(t.length > 1 && t === t.toLowerCase(), t);
  });
});

/** ChunkTerms as one term → count record per field, for readable assertions. */
function byField(terms: ChunkTerms): Record<'content' | 'symbol' | 'path', Record<string, number>> {
  const out = { content: {} as Record<string, number>, symbol: {} as Record<string, number>, path: {} as Record<string, number> };
  terms.terms.forEach((term, i) => {
    const counts = unpackTermCounts(terms.counts[i]);
    for (const field of ['content', 'symbol', 'path'] as const) if (counts[field] > 0) out[field][term] = counts[field];
  });
  return out;
}

describe('computeTerms', () => {
  it('counts content, symbol and path terms separately', () => {
    const terms = computeTerms(chunk({
      path: 'src/core/index/lexicalIndex.ts',
      symbol: 'LexicalIndex.search',
      text: 'search(query) { return this.postings.search(query); }',
    }));
    const fields = byField(terms);
    assert.deepEqual(fields.content, { search: 2, query: 2, posting: 1 });
    assert.equal(terms.length, 5);
    assert.deepEqual(fields.symbol, { lexicalindex: 1, lexical: 1, index: 1, search: 1 });
    assert.equal(terms.symbolLength, 4);
    assert.deepEqual(fields.path, { src: 1, core: 1, index: 2, lexicalindex: 1, lexical: 1, ts: 1 });
    assert.equal(terms.pathLength, 7);
    // Each term once, content terms first, counts aligned with terms.
    assert.deepEqual(terms.terms, ['search', 'query', 'posting', 'lexicalindex', 'lexical', 'index', 'src', 'core', 'ts']);
    assert.equal(terms.counts.length, terms.terms.length);
  });

  it('gives a null symbol no terms and keeps prototype-like words as plain terms', () => {
    const terms = computeTerms(chunk({ text: 'obj.constructor.__proto__ hasOwnProperty toString' }));
    const fields = byField(terms);
    assert.deepEqual(fields.symbol, {});
    assert.equal(terms.symbolLength, 0);
    assert.equal(fields.content.constructor, 1);
    assert.equal(fields.content.hasownproperty, 1);
    assert.equal(unpackTermCounts(terms.counts[terms.terms.indexOf('__proto__')]).content, 1);
  });

  it('packs per-field counts into one integer, clamped to the field widths', () => {
    assert.deepEqual(unpackTermCounts(packTermCounts(3, 2, 1)), { content: 3, symbol: 2, path: 1 });
    assert.deepEqual(unpackTermCounts(packTermCounts(1e6, 300, 256)), { content: (1 << 14) - 1, symbol: 255, path: 255 });
    const text = Array.from({ length: 20_000 }, () => 'token').join(' ');
    const terms = computeTerms(chunk({ text }));
    assert.equal(unpackTermCounts(terms.counts[terms.terms.indexOf('token')]).content, (1 << 14) - 1);
    assert.equal(terms.length, 20_000);
  });
});
