import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTokenCounter, EXACT_CHARS } from '../../../src/core/llm/tokens';
import { REPO_ROOT } from '../../helpers/workspace';

describe('token counting', () => {
  it('is exact for OpenAI model families, with their own encodings', () => {
    const gpt4o = createTokenCounter('gpt-4o-mini');
    const gpt4 = createTokenCounter('gpt-4-turbo');
    assert.equal(gpt4o.exact, true);
    assert.equal(gpt4.exact, true);
    // Known counts: o200k splits "hello world" into 2 tokens, as does cl100k.
    assert.equal(gpt4o.count('hello world'), 2);
    assert.equal(gpt4.count('hello world'), 2);
  });

  it('estimates other models with a margin above the o200k count', () => {
    const exact = createTokenCounter('gpt-4o');
    const local = createTokenCounter('qwen2.5-coder:7b');
    assert.equal(local.exact, false);
    const code = 'export function retryWithBackoff<T>(op: () => Promise<T>, attempts = 3): Promise<T> {}';
    assert.ok(local.count(code) > exact.count(code));
  });

  it('charges per-message overhead and tool-call arguments', () => {
    const c = createTokenCounter('gpt-4o');
    const one = c.countMessages([{ role: 'user', content: 'hi' }]);
    const two = c.countMessages([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hi' }]);
    assert.equal(two - one, c.count('hi') + 4);
    const withCall = c.countMessages([{ role: 'assistant', content: null, toolCalls: [{ id: '1', name: 'grep', arguments: '{"pattern":"TODO"}' }] }]);
    assert.ok(withCall > c.countMessages([{ role: 'assistant', content: null }]));
    assert.equal(c.count(''), 0);
  });
});

describe('token counting of long and unusual text', () => {
  const o200k = require('gpt-tokenizer/encoding/o200k_base') as { countTokens(t: string, o?: object): number };
  const cl100k = require('gpt-tokenizer/encoding/cl100k_base') as { countTokens(t: string, o?: object): number };
  const literal = { disallowedSpecial: new Set<string>() };
  const source = (rel: string) => readFileSync(join(REPO_ROOT, rel), 'utf8');

  /** Best of a few runs, in ms: one slow run on a shared machine is not the code's cost. */
  const timed = (fn: () => void): number => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = process.hrtime.bigint();
      fn();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
    }
    return best;
  };

  it('counts ordinary text exactly, piece by piece, in both encodings', () => {
    const texts = ['src/core/orchestration/orchestrator.ts', 'src/core/llm/pieces.ts', 'README.md', 'package.json', 'media/chat.css'].map(source);
    texts.push('Der Gültigkeitsbereich ist überschritten.\n\tindented\r\n\r\n  // comment\n.\n// after punctuation\n{"a":[1,2,3],"b":"x y"}\n');
    for (const text of texts) {
      assert.equal(createTokenCounter('gpt-4o').count(text), o200k.countTokens(text, literal));
      assert.equal(createTokenCounter('gpt-4').count(text), cl100k.countTokens(text, literal));
    }
  });

  it('counts special-token names as text instead of throwing', () => {
    const c = createTokenCounter('gpt-4o');
    assert.ok(c.count('before <|endoftext|> after <|im_start|>') > 5);
  });

  it('counts a million repeated characters quickly and sanely, as an estimate', () => {
    const c = createTokenCounter('gpt-4o');
    const million = c.measure('a'.repeat(1_000_000));
    assert.equal(million.exact, false, 'text this long is estimated');
    // o200k spends a token on about every 8 repeated letters.
    assert.ok(million.tokens > 100_000 && million.tokens < 200_000, String(million.tokens));
    for (const ch of [' ', '中', '😀', '!']) {
      const n = c.count(ch.repeat(1_000_000));
      assert.ok(n > 1_000 && n < 5_000_000, `${JSON.stringify(ch)}: ${n}`);
    }
  });

  it('costs time linear in the text: ten times the text, well under a hundred times the time', () => {
    const c = createTokenCounter('gpt-4o');
    c.count('warm up');
    // Below EXACT_CHARS, so both are counted in full. Before, one letter repeated cost quadratic time.
    const ratio = (make: (n: number) => string) => timed(() => c.count(make(120_000))) / Math.max(0.05, timed(() => c.count(make(12_000))));
    const repeated = ratio((n) => 'x'.repeat(n));
    assert.ok(repeated < 40, `repeated letter: ${repeated.toFixed(1)}x`);
    const code = source('src/core/orchestration/orchestrator.ts');
    const mixed = ratio((n) => code.repeat(Math.ceil(n / code.length)).slice(0, n));
    assert.ok(mixed < 40, `code: ${mixed.toFixed(1)}x`);
  });

  it('estimates texts past EXACT_CHARS close to their real count, and says so', () => {
    const c = createTokenCounter('gpt-4o');
    const code = source('src/core/orchestration/orchestrator.ts');
    const long = code.repeat(Math.ceil((EXACT_CHARS * 3) / code.length));
    const estimate = c.measure(long);
    assert.equal(estimate.exact, false);
    const real = o200k.countTokens(long, literal);
    assert.ok(estimate.tokens >= real * 0.95 && estimate.tokens <= real * 1.25, `${estimate.tokens} vs ${real}`);
    assert.deepEqual(c.measure(code), { tokens: o200k.countTokens(code, literal), exact: true });
    assert.equal(createTokenCounter('qwen2.5-coder:7b').measure(code).exact, false);
  });

  it('fit finds the longest prefix within a budget, reading only as far as the budget reaches', () => {
    const text = source('src/core/orchestration/orchestrator.ts');
    for (const c of [createTokenCounter('gpt-4o'), createTokenCounter('qwen2.5-coder:7b')]) {
      for (const max of [0, 1, 7, 100, 1000]) {
        const cut = c.fit(text, max);
        assert.ok(c.count(text.slice(0, cut)) <= max, `max ${max}`);
        assert.ok(c.count(text.slice(0, cut + 40)) > max, `max ${max}: a longer prefix would fit`);
      }
      assert.equal(c.fit(text, 1_000_000), text.length);
    }
    const c = createTokenCounter('gpt-4o');
    const huge = text.repeat(300); // ~6 MB
    const ratio = timed(() => c.fit(huge, 200)) / Math.max(0.05, timed(() => c.fit(text, 200)));
    assert.ok(ratio < 20, `fitting 200 tokens of 300x the text cost ${ratio.toFixed(1)}x`);
  });

  it('never splits a surrogate pair', () => {
    const c = createTokenCounter('gpt-4o');
    const text = '😀'.repeat(5000);
    for (const max of [1, 2, 3, 50, 333]) {
      const cut = c.fit(text, max);
      assert.equal(cut % 2, 0, `max ${max}: cut ${cut}`);
    }
  });
});
