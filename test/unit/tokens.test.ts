import assert from 'node:assert/strict';
import { createTokenCounter } from '../../src/core/llm/tokens';

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
