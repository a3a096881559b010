import assert from 'node:assert/strict';
import { z } from 'zod';
import { extractJson, generateStructured, StructuredOutputError, structuredModeFor, type ChatFn } from '../../../src/core/prompt/structured';
import type { ChatRequest, ChatResult, ToolCall } from '../../../src/core/llm/types';

const Plan = z.object({ steps: z.array(z.string()).min(1), risky: z.boolean() });

/** A scripted model: each call returns the next reply and records the request. */
function scripted(...replies: (string | ToolCall)[]): ChatFn & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  const fn = (async (req: ChatRequest): Promise<ChatResult> => {
    requests.push(structuredClone({ ...req, signal: undefined }));
    const reply = replies.shift();
    if (reply === undefined) throw new Error('no more scripted replies');
    const call = typeof reply === 'string' ? null : reply;
    return { content: call ? '' : (reply as string), toolCalls: call ? [call] : [], usage: { promptTokens: 1, completionTokens: 1 }, model: 'scripted', finishReason: call ? 'tool_calls' : 'stop' };
  }) as ChatFn & { requests: ChatRequest[] };
  fn.requests = requests;
  return fn;
}

describe('structured output', () => {
  describe('extractJson', () => {
    it('accepts bare JSON, a ```json fence, and JSON after or between prose', () => {
      assert.deepEqual(extractJson('{"a":1}'), { a: 1 });
      assert.deepEqual(extractJson('Here you go:\n```json\n{"a": [1, 2]}\n```\nAnything else?'), { a: [1, 2] });
      assert.deepEqual(extractJson('Sure! The plan [draft] is {"s": "a } in a string", "n": {"x": [ ]}} as requested.'), { s: 'a } in a string', n: { x: [] } });
      assert.deepEqual(extractJson('  [1, {"b": "\\"}"}]  trailing'), [1, { b: '"}' }]);
    });

    it('explains what is wrong when there is no JSON', () => {
      assert.throws(() => extractJson(''), /empty/);
      assert.throws(() => extractJson('I cannot do that.'), /no JSON object or array found/);
      assert.throws(() => extractJson('{"steps": ["a", "b"'), /never closed/);
      assert.throws(() => extractJson('{steps: [a]}'), /not valid JSON/);
    });
  });

  it('picks the strongest mode the server supports', () => {
    assert.equal(structuredModeFor({ supportsJsonSchema: true, supportsTools: true }), 'json_schema');
    assert.equal(structuredModeFor({ supportsTools: true }), 'tool');
    assert.equal(structuredModeFor({}), 'json_object');
  });

  it('sends the zod schema as response_format json_schema and returns the validated value', async () => {
    const chat = scripted('```json\n{"steps": ["read", "edit"], "risky": false}\n```');
    const out = await generateStructured({ chat, messages: [{ role: 'system', content: 'You plan.' }, { role: 'user', content: 'Plan it.' }], schema: Plan, name: 'plan' });
    assert.deepEqual(out.value, { steps: ['read', 'edit'], risky: false });
    assert.equal(out.attempts, 1);
    const format = chat.requests[0].responseFormat;
    assert.equal(format?.type, 'json_schema');
    assert.deepEqual((format as { schema: Record<string, unknown> }).schema.required, ['steps', 'risky']);
    assert.equal(chat.requests[0].messages.filter((m) => m.role === 'system').length, 1, 'the format rule joins the leading system message');
  });

  describe('repair loop (unit test with a scripted ChatFn)', () => {
    it('succeeds after one invalid reply, showing the model its validation error', async () => {
      const chat = scripted('{"steps": [], "risky": "no"}', '{"steps": ["fix"], "risky": false}');
      const out = await generateStructured({ chat, messages: [{ role: 'user', content: 'Plan.' }], schema: Plan, name: 'plan', mode: 'json_object' });
      assert.deepEqual(out.value, { steps: ['fix'], risky: false });
      assert.equal(out.attempts, 2);
      const repair = chat.requests[1].messages;
      assert.equal(repair[repair.length - 2].role, 'assistant');
      assert.equal(repair[repair.length - 2].content, '{"steps": [], "risky": "no"}');
      const fix = repair[repair.length - 1].content!;
      assert.match(fix, /at steps: Too small/);
      assert.match(fix, /at risky: Invalid input: expected boolean/);
      assert.equal(chat.requests[1].responseFormat?.type, 'json_object');
    });

    it('fails with a clear error after a second invalid reply, without a third call', async () => {
      const chat = scripted('not json at all', '{"steps": "one", "risky": true}', '{"steps": ["x"], "risky": true}');
      await assert.rejects(
        generateStructured({ chat, messages: [{ role: 'user', content: 'Plan.' }], schema: Plan, name: 'plan' }),
        (err: unknown) => {
          assert.ok(err instanceof StructuredOutputError);
          assert.match(err.message, /did not match the plan schema after 2 attempts: - at steps: Invalid input: expected array/);
          assert.equal(err.attempts.length, 2);
          assert.match(err.attempts[0].error, /no JSON object or array found/);
          return true;
        },
      );
      assert.equal(chat.requests.length, 2);
    });

    it('in tool mode reads the call arguments and answers the failed call before asking again', async () => {
      const chat = scripted({ id: 'c1', name: 'plan', arguments: '{"steps": ["a"]}' }, { id: 'c2', name: 'plan', arguments: '{"steps": ["a"], "risky": true}' });
      const out = await generateStructured({ chat, messages: [{ role: 'user', content: 'Plan.' }], schema: Plan, name: 'plan', mode: 'tool' });
      assert.equal(out.value.risky, true);
      assert.equal(chat.requests[0].tools?.[0].name, 'plan');
      const repair = chat.requests[1].messages;
      const toolMsg = repair.find((m) => m.role === 'tool')!;
      assert.equal(toolMsg.toolCallId, 'c1');
      assert.match(toolMsg.content!, /at risky/);
      assert.equal(repair[repair.indexOf(toolMsg) - 1].toolCalls?.[0].id, 'c1');
    });
  });
});
