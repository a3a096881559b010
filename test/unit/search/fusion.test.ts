import assert from 'node:assert/strict';
import { computeTerms } from '../../../src/core/search/codeTokens';
import { DEFAULT_RRF_K, fuseRankings, type FusionInput } from '../../../src/core/search/fusion';
import { chunkId, type Chunk, type IndexedChunk, type RankedChunk, type RetrievalSource } from '../../../src/core/indexing/types';

function chunk(path: string, startLine: number, endLine: number, symbol: string | null = null): IndexedChunk {
  const c: Chunk = { path, startLine, endLine, symbol, kind: symbol ? 'function' : 'window', language: 'typescript', text: `// ${path}:${startLine}`, hash: 'h' };
  return { ...c, id: chunkId(c), terms: computeTerms(c) };
}

function ranking(...chunks: IndexedChunk[]): RankedChunk[] {
  return chunks.map((c, i) => ({ chunk: c, score: 100 - i }));
}

function input(source: RetrievalSource, weight: number, ...chunks: IndexedChunk[]): FusionInput {
  return { source, weight, results: ranking(...chunks) };
}

const where = (r: { path: string; startLine: number; endLine: number }): string => `${r.path}#${r.startLine}-${r.endLine}`;
const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);

const A = chunk('src/a.ts', 1, 10, 'alpha');
const B = chunk('src/b.ts', 1, 10, 'beta');
const C = chunk('src/c.ts', 1, 10);
const D = chunk('src/d.ts', 1, 10);

describe('fuseRankings', () => {
  it('keeps a single input in its order with scores weight / (rrfK + rank)', () => {
    const out = fuseRankings([input('lexical', 1, A, B, C, D)], { k: 10 });
    assert.deepEqual(out.map(where), [A, B, C, D].map(where));
    out.forEach((r, i) => close(r.score, 1 / (DEFAULT_RRF_K + i + 1)));
    assert.deepEqual(out[0].sources, ['lexical']);
    assert.equal(out[0].symbol, 'alpha');
    assert.equal(out[0].text, A.text);
    assert.equal(out[0].language, 'typescript');
  });

  it('sums weighted reciprocal ranks across inputs', () => {
    const out = fuseRankings([input('lexical', 1, A, B, C), input('dense', 2, B, C, A)], { k: 10 });
    // B: 1/62 + 2/61 = 0.04892, A: 1/61 + 2/63 = 0.04814, C: 1/63 + 2/62 = 0.04813
    assert.deepEqual(out.map(where), [B, A, C].map(where));
    close(out[0].score, 1 / 62 + 2 / 61);
    close(out[1].score, 1 / 61 + 2 / 63);
    close(out[2].score, 1 / 63 + 2 / 62);
  });

  it('lets rrfK change how much top ranks dominate', () => {
    // B is second and third; A and C are each first in one input. The default rrfK rewards
    // agreement (B wins); rrfK = 0 rewards a first place (A and C win, tie broken by input order).
    const inputs = [input('lexical', 1, A, B), input('dense', 1, C, D, B)];
    const smooth = fuseRankings(inputs, { k: 4 });
    assert.deepEqual(smooth.map(where), [B, A, C, D].map(where));
    close(smooth[0].score, 1 / 62 + 1 / 63);
    const sharp = fuseRankings(inputs, { k: 4, rrfK: 0 });
    assert.deepEqual(sharp.map(where), [A, C, B, D].map(where));
    close(sharp[2].score, 1 / 2 + 1 / 3);
    close(fuseRankings(inputs, { k: 4, rrfK: 10 })[0].score, 1 / 12 + 1 / 13);
    assert.throws(() => fuseRankings(inputs, { k: 1, rrfK: -1 }), RangeError);
  });

  it('lists sources by their contribution, best first', () => {
    const out = fuseRankings([input('lexical', 1, C, A), input('dense', 1, A), input('symbol', 0.5, A)], { k: 10 });
    const a = out.find((r) => r.symbol === 'alpha')!;
    assert.deepEqual(a.sources, ['dense', 'lexical', 'symbol']); // 1/61 > 1/62 > 0.5/61
    close(a.score, 1 / 62 + 1 / 61 + 0.5 / 61);
    assert.deepEqual(out.find((r) => r.path === 'src/c.ts')!.sources, ['lexical']);
  });

  it('ignores inputs with weight 0 or no results', () => {
    const out = fuseRankings([input('lexical', 1, A, B), input('dense', 0, B, C), input('symbol', 1)], { k: 10 });
    assert.deepEqual(out.map(where), [A, B].map(where));
    assert.deepEqual(out[1].sources, ['lexical']);
    assert.deepEqual(fuseRankings([], { k: 5 }), []);
    assert.deepEqual(fuseRankings([input('lexical', 1, A)], { k: 0 }), []);
  });

  it('counts a chunk repeated within one input once, at its best rank', () => {
    const out = fuseRankings([input('lexical', 1, A, B, A)], { k: 10 });
    assert.deepEqual(out.map(where), [A, B].map(where));
    close(out[0].score, 1 / 61);
  });

  it('drops hits overlapping a better hit in the same file, keeping the better one unmerged', () => {
    const cls = chunk('src/parser.ts', 1, 80, 'Parser');
    const method = chunk('src/parser.ts', 20, 35, 'Parser.parse');
    const windowA = chunk('src/util.ts', 1, 40);
    const windowB = chunk('src/util.ts', 30, 70); // overlaps windowA on 30-40
    const adjacent = chunk('src/util.ts', 71, 90); // touches windowB, does not overlap
    const sameLinesOtherFile = chunk('src/lexer.ts', 20, 35);
    const out = fuseRankings([input('lexical', 1, method, windowB, cls, sameLinesOtherFile, windowA, adjacent)], { k: 10 });
    assert.deepEqual(out.map(where), [method, windowB, sameLinesOtherFile, adjacent].map(where));
    assert.deepEqual([out[0].startLine, out[0].endLine], [20, 35]); // not widened to the class
  });

  it('applies k after deduplication and keeps the higher-scoring of two overlapping hits', () => {
    const cls = chunk('src/parser.ts', 1, 80, 'Parser');
    const method = chunk('src/parser.ts', 20, 35, 'Parser.parse');
    // The class is found by both retrievers, the method by one: the class wins.
    const out = fuseRankings([input('lexical', 1, method, cls, B), input('dense', 1, cls, C)], { k: 3 });
    assert.deepEqual(out.map(where), [cls, C, B].map(where));
    assert.deepEqual(out[0].sources, ['dense', 'lexical']);
  });
});
