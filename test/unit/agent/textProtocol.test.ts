import assert from 'node:assert/strict';
import { callKey } from '../../../src/core/agent/callKey';
import { formatTextCall, historyToText, parseTextReply, textProtocolInstructions, toTextMessages } from '../../../src/core/agent/textProtocol';

describe('text tool protocol', () => {
  it('reads a fenced call, keeping the prose around it', () => {
    const r = parseTextReply('Let me look.\n```json\n{"tool": "search_code", "arguments": {"query": "retry", "k": 3}}\n```\n');
    assert.deepEqual(r, { kind: 'call', name: 'search_code', arguments: '{"query":"retry","k":3}', text: 'Let me look.', extraCalls: 0 });
  });

  it('reads bare JSON, other argument keys, Hermes-style name/arguments and string arguments', () => {
    const bare = parseTextReply('Searching now: {"tool": "grep", "args": {"pattern": "x"}}');
    assert.equal(bare.kind, 'call');
    assert.deepEqual(bare.kind === 'call' && [bare.name, bare.arguments, bare.text], ['grep', '{"pattern":"x"}', 'Searching now:']);
    const hermes = parseTextReply('```\n{"name": "read_file", "arguments": {"path": "a.ts"}}\n```');
    assert.deepEqual(hermes.kind === 'call' && [hermes.name, hermes.arguments], ['read_file', '{"path":"a.ts"}']);
    const str = parseTextReply('```json\n{"tool": "grep", "arguments": "{\\"pattern\\": \\"y\\"}"}\n```');
    assert.deepEqual(str.kind === 'call' && str.arguments, '{"pattern": "y"}');
    const none = parseTextReply('```json\n{"tool": "get_diagnostics"}\n```');
    assert.deepEqual(none.kind === 'call' && none.arguments, '{}');
  });

  it('runs only the first of several calls and says how many more there were', () => {
    const r = parseTextReply('```json\n{"tool": "a", "arguments": {}}\n```\n```json\n{"tool": "b", "arguments": {}}\n```');
    assert.equal(r.kind === 'call' && r.name, 'a');
    assert.equal(r.kind === 'call' && r.extraCalls, 1);
  });

  it('treats plain text and JSON that is not a call as an answer, unwrapping {"answer": ...}', () => {
    assert.deepEqual(parseTextReply('  The retry logic is in src/util/retry.ts.  '), { kind: 'answer', text: 'The retry logic is in src/util/retry.ts.' });
    const sample = 'Your config:\n```json\n{"name": "baton", "version": "1.0.0"}\n```';
    assert.deepEqual(parseTextReply(sample), { kind: 'answer', text: sample });
    assert.deepEqual(parseTextReply('{"answer": "42"}'), { kind: 'answer', text: '42' });
  });

  it('reports a block that tries to call a tool but cannot be read', () => {
    const broken = parseTextReply('```json\n{"tool": "search_code", "arguments": {"query": "x"},}\n```');
    assert.equal(broken.kind, 'invalid');
    assert.match(broken.kind === 'invalid' ? broken.error : '', /not valid JSON/);
    const cut = parseTextReply('```json\n{"tool": "search_code", "arguments": {"query": "x"\n```');
    assert.equal(cut.kind, 'invalid');
    const noName = parseTextReply('```json\n{"tool": 7, "arguments": {}}\n```');
    assert.match(noName.kind === 'invalid' ? noName.error : '', /no "tool" name/);
  });

  it('describes every tool with its schema', () => {
    const text = textProtocolInstructions([{ name: 'grep', description: 'Finds text.', parameters: { type: 'object', properties: { pattern: { type: 'string' } } } }]);
    assert.match(text, /- grep: Finds text\.\n {2}arguments \(JSON Schema\): \{"type":"object"/);
    assert.match(text, /"tool": "<tool name>"/);
  });

  it('turns native history and tool messages into plain alternating messages', () => {
    const history = historyToText([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'grep', arguments: '{"pattern":"x"}' }] },
      { role: 'tool', toolCallId: 'c1', name: 'grep', content: 'hit' },
    ]);
    assert.deepEqual(history[1], { role: 'assistant', content: formatTextCall('grep', '{"pattern":"x"}') });
    const wire = toTextMessages([...history, { role: 'tool', name: 'grep', content: 'hit 2' }, { role: 'user', content: 'next' }]);
    assert.deepEqual(wire.map((m) => m.role), ['user', 'assistant', 'user']);
    assert.equal(wire[2].content, 'hit\n\nhit 2\n\nnext');
    assert.ok(wire.every((m) => m.toolCalls === undefined && m.toolCallId === undefined));
  });

  it('identifies calls by tool and canonical arguments', () => {
    assert.equal(callKey('grep', '{"a": 1, "b": [1, {"y": 2, "x": 1}]}'), callKey('grep', '{"b":[1,{"x":1,"y":2}],"a":1}'));
    assert.notEqual(callKey('grep', '{"a": 1}'), callKey('find_files', '{"a": 1}'));
    assert.notEqual(callKey('grep', '{"a": 1}'), callKey('grep', '{"a": "1"}'));
    assert.equal(callKey('grep', ''), callKey('grep', '{}'));
    assert.equal(callKey('grep', ' {bad '), callKey('grep', '{bad'));
  });
});
