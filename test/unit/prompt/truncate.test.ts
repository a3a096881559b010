// truncateToTokens: the one cut the prompt builder and conversation history share.
import assert from 'node:assert/strict';
import { createTokenCounter } from '../../../src/core/llm/tokens';
import { truncate, truncateToTokens } from '../../../src/core/prompt/truncate';

const MARKER = /\n\[\.\.\. truncated: (\d+) of (\d+) characters not shown \.\.\.\]$/;

describe('truncateToTokens', () => {
  const counters = [createTokenCounter('gpt-4o'), createTokenCounter('qwen2.5-coder:7b')];

  it('keeps a text that fits, and otherwise cuts it within the budget with a marker saying how much went', () => {
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}: const value${i} = compute(a, b);`).join('\n');
    for (const counter of counters) {
      assert.equal(truncateToTokens('short', 50, counter), 'short');
      for (const max of [30, 64, 200, 1000]) {
        const cut = truncateToTokens(text, max, counter);
        assert.ok(counter.count(cut) <= max, `max ${max}: ${counter.count(cut)}`);
        const m = MARKER.exec(cut);
        assert.ok(m, cut.slice(-80));
        assert.equal(Number(m[2]), text.length);
        assert.equal(cut.length - m[0].length + Number(m[1]), text.length, 'the marker counts what is missing');
        assert.ok(text.startsWith(cut.slice(0, cut.length - m[0].length)));
      }
    }
  });

  it('ends the kept text at a line break when one is close', () => {
    const text = Array.from({ length: 200 }, (_, i) => `line number ${i} of the file`).join('\n');
    const { text: cut, kept } = truncate(text, 100, counters[0]);
    assert.equal(text[kept], '\n');
    assert.ok(cut.startsWith(text.slice(0, kept)));
  });

  it('falls back to a short marker, then to nothing, when the budget is tiny', () => {
    const text = 'word '.repeat(500);
    const counter = counters[0];
    const small = truncateToTokens(text, 8, counter);
    assert.ok(counter.count(small) <= 8);
    assert.match(small, /\[\.\.\. truncated \.\.\.\]$/);
    assert.equal(truncateToTokens(text, 2, counter), '');
  });

  it('cuts a million characters to a small budget about as fast as ten thousand', () => {
    const counter = counters[0];
    const best = (fn: () => void) => {
      let ms = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = process.hrtime.bigint();
        fn();
        ms = Math.min(ms, Number(process.hrtime.bigint() - start) / 1e6);
      }
      return ms;
    };
    for (const make of [(n: number) => 'a'.repeat(n), (n: number) => 'The quick brown fox jumps over the lazy dog. '.repeat(n / 45)]) {
      const huge = make(1_000_000);
      const cut = truncateToTokens(huge, 200, counter);
      assert.ok(counter.count(cut) <= 200 && cut.length > 200);
      const ratio = best(() => truncateToTokens(huge, 200, counter)) / Math.max(0.05, best(() => truncateToTokens(make(10_000), 200, counter)));
      assert.ok(ratio < 20, `100x the text cost ${ratio.toFixed(1)}x`);
    }
  });

  it('never leaves half a surrogate pair', () => {
    const text = '😀 '.repeat(2000);
    for (const max of [20, 21, 22, 50]) {
      const { kept } = truncate(text, max, counters[0]);
      const c = text.charCodeAt(kept);
      assert.ok(!(c >= 0xdc00 && c <= 0xdfff), `max ${max}`);
    }
  });
});
