import assert from 'node:assert/strict';
import { LlmCancelledError, LlmClient, LlmError, type LlmChatOptions } from '../../../src/core/llm/client';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../../src/core/llm/retry';
import type { ChatRequest, ModelConfig } from '../../../src/core/llm/types';
import { Trace } from '../../../src/core/trace/trace';
import { OpenAIProtocolServer, serveDuringSuite, sendJson } from '../../helpers/openaiProtocolServer';
import { seededRandom } from '../../helpers/seededRandom';

const ROUTE = 'POST /v1/chat/completions';
const SECRET = 'sk-live-very-secret-0123456789';
const KEY_ENV = 'BATON_TEST_LLM_KEY';
const POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxRetries: 2, baseDelayMs: 5, maxDelayMs: 40 };

interface Sent { model: string; messages: Array<Record<string, unknown>>; temperature?: number; max_tokens?: number; stream?: boolean; stream_options?: unknown; tools?: unknown[] }

describe('LlmClient', function () {
  this.timeout(20_000);
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  serveDuringSuite(server, (url) => { baseURL = url; });

  const model = (name: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
    model: name, baseURL, apiKeyEnv: KEY_ENV, contextWindow: 8192, maxOutputTokens: 256, timeoutMs: 5_000, ...extra,
  });
  const make = (names: string[] = ['primary'], extra: Partial<ModelConfig> = {}, retry: Partial<RetryPolicy> = {}) =>
    new LlmClient({
      models: { chat: names.map((n) => model(n, extra)) },
      retry: { ...POLICY, ...retry },
      random: seededRandom(7),
      env: { [KEY_ENV]: SECRET },
    });
  const ask = (text = 'hello there', extra: Partial<ChatRequest> = {}): ChatRequest => ({ messages: [{ role: 'user', content: text }], ...extra });
  const sent = (): Sent[] => server.requestsTo(ROUTE).map((r) => r.body as Sent);
  const streamed = () => {
    const tokens: string[] = [];
    return { tokens, onToken: (t: string) => { tokens.push(t); } };
  };
  /** Runs a chat expected to fail and returns its error, checking it is one line without the key. */
  async function failure(p: Promise<unknown>): Promise<LlmError> {
    const err = await p.then(() => assert.fail('expected a failure'), (e: unknown) => e);
    assert.ok(err instanceof LlmError, `not an LlmError: ${err}`);
    assert.ok(!err.message.includes('\n'), `multi-line error: ${err.message}`);
    assert.ok(!err.message.includes(SECRET));
    return err;
  }

  it('answers a plain request and sends model, messages, temperature, max tokens and the key', async () => {
    const trace = new Trace();
    const result = await make().chat(ask('what is 2+2'), { trace });
    assert.equal(result.content, 'echo: what is 2+2');
    assert.equal(result.model, 'primary');
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, { promptTokens: 3, completionTokens: 4, estimated: false });
    const [body] = sent();
    assert.equal(body.model, 'primary');
    assert.deepEqual(body.messages, [{ role: 'user', content: 'what is 2+2' }]);
    assert.equal(body.temperature, 0.3);
    assert.equal(body.max_tokens, 256);
    assert.equal(body.stream, undefined);
    assert.equal(server.requests.at(-1)!.headers.authorization, `Bearer ${SECRET}`);
    assert.deepEqual(trace.events.map((e) => e.kind), ['llm.attempt', 'llm.done']);
  });

  it('picks the temperature by task unless the request sets one', async () => {
    const client = make();
    await client.chat(ask(), { task: 'edit' });
    await client.chat(ask(), { task: 'brainstorm' });
    await client.chat(ask('x', { temperature: 0.55, maxTokens: 40 }), { task: 'edit' });
    assert.deepEqual(sent().map((b) => b.temperature), [0.1, 0.8, 0.55]);
    assert.equal(sent()[2].max_tokens, 40);
  });

  it('sends response formats, downgrading json_schema to json_object where the model lacks it', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    const format = { type: 'json_schema' as const, name: 'verdict', schema };
    await make().chat(ask('x', { responseFormat: format }));
    await make(['primary'], { supportsJsonSchema: false }).chat(ask('x', { responseFormat: format }));
    await make().chat(ask('x', { responseFormat: { type: 'text' } }));
    assert.deepEqual(server.requestsTo(ROUTE).map((r) => (r.body as { response_format?: unknown }).response_format), [
      { type: 'json_schema', json_schema: { name: 'verdict', schema } }, { type: 'json_object' }, undefined,
    ]);
  });

  it('resolves its models from the environment', async () => {
    const client = await LlmClient.fromConfig({}, { BATON_MODEL: 'env-model', OPENAI_BASE_URL: baseURL });
    assert.equal((await client.chat(ask('hi'))).model, 'env-model');
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer sk-no-key-required');
  });

  it('streams tokens in order; the content is their concatenation and usage comes from the stream', async () => {
    const { tokens, onToken } = streamed();
    server.script(ROUTE, { kind: 'chat', content: 'one two three four five' });
    const trace = new Trace();
    const result = await make().chat(ask('count', { onToken }), { trace });
    assert.deepEqual(tokens, ['one ', 'two ', 'three ', 'four ', 'five']);
    assert.equal(result.content, tokens.join(''));
    assert.equal(result.usage.estimated, false);
    assert.equal(result.usage.completionTokens, 5);
    assert.deepEqual(sent()[0].stream_options, { include_usage: true });
    assert.equal(sent()[0].stream, true);
    assert.equal(trace.ofKind('llm.done')[0].data!.usageEstimated, false);
  });

  it('estimates usage, and says so, when the server reports none', async () => {
    server.chatModel.streamUsage = false;
    const trace = new Trace();
    const result = await make().chat(ask('count', { onToken: () => {} }), { trace });
    assert.equal(result.usage.estimated, true);
    assert.ok(result.usage.promptTokens > 0 && result.usage.completionTokens > 0);
    assert.equal(trace.ofKind('llm.done')[0].data!.usageEstimated, true);
    server.script(ROUTE, { kind: 'chat', content: 'plain', usage: false });
    assert.equal((await make().chat(ask())).usage.estimated, true);
  });

  it('assembles tool calls from streamed argument deltas and sends tools and tool messages in wire format', async () => {
    const args1 = JSON.stringify({ path: 'src/core/llm/client.ts', startLine: 10, endLine: 42 });
    const args2 = JSON.stringify({ query: 'retry with backoff', k: 5 });
    server.script(ROUTE, { kind: 'chat', toolCalls: [{ id: 'call_a', name: 'read_file', arguments: args1 }, { id: 'call_b', name: 'search', arguments: args2 }] });
    const req = ask('look', {
      onToken: () => {},
      tools: [{ name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
    });
    req.messages.push(
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_0', name: 'search', arguments: '{"query":"x"}' }] },
      { role: 'tool', content: 'no results', toolCallId: 'call_0' },
    );
    const result = await make().chat(req);
    assert.equal(result.finishReason, 'tool_calls');
    assert.deepEqual(result.toolCalls, [
      { id: 'call_a', name: 'read_file', arguments: args1 },
      { id: 'call_b', name: 'search', arguments: args2 },
    ]);
    const body = sent()[0];
    assert.deepEqual(body.tools, [{ type: 'function', function: { name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }]);
    assert.deepEqual(body.messages[1], { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'search', arguments: '{"query":"x"}' } }] });
    assert.deepEqual(body.messages[2], { role: 'tool', content: 'no results', tool_call_id: 'call_0' });

    server.script(ROUTE, { kind: 'chat', toolCalls: [{ id: 'call_c', name: 'search', arguments: args2 }] });
    const plain = await make().chat(ask('look'));
    assert.deepEqual(plain.toolCalls, [{ id: 'call_c', name: 'search', arguments: args2 }]);
  });

  it('retries a 429 after exactly the Retry-After the server asked for', async () => {
    server.script(ROUTE, { kind: 'error', status: 429, retryAfter: 1 });
    const trace = new Trace();
    const result = await make().chat(ask('hi'), { trace });
    assert.equal(result.content, 'echo: hi');
    assert.equal(result.attempts, 2);
    const [retry] = trace.ofKind('llm.retry');
    assert.deepEqual(
      { status: retry.data!.status, delayMs: retry.data!.delayMs, source: retry.data!.delaySource, reason: retry.data!.reason },
      { status: 429, delayMs: 1000, source: 'retry-after', reason: 'http' },
    );
  });

  it('backs off with jitter on a 429 without Retry-After, then on 500 and 503', async () => {
    server.script(ROUTE, { kind: 'error', status: 429 }, { kind: 'error', status: 500 });
    const trace = new Trace();
    const result = await make().chat(ask('hi'), { trace });
    assert.equal(result.content, 'echo: hi');
    const random = seededRandom(7);
    const expected = [backoffDelay(0, POLICY, random), backoffDelay(1, POLICY, random)];
    assert.deepEqual(trace.ofKind('llm.retry').map((e) => [e.data!.status, e.data!.delayMs, e.data!.delaySource]), [
      [429, expected[0], 'backoff'], [500, expected[1], 'backoff'],
    ]);
    server.script(ROUTE, { kind: 'error', status: 503 });
    assert.equal((await make().chat(ask('again'))).content, 'echo: again');
  });

  it('falls back to the next model when retries run out, and the trace says why', async () => {
    server.script(ROUTE, { kind: 'error', status: 503 }, { kind: 'error', status: 503 }, { kind: 'error', status: 503 });
    const trace = new Trace();
    const result = await make(['primary', 'backup']).chat(ask('hi'), { trace });
    assert.equal(result.model, 'backup');
    assert.equal(result.content, 'echo: hi');
    assert.deepEqual(sent().map((b) => b.model), ['primary', 'primary', 'primary', 'backup']);
    assert.equal(trace.ofKind('llm.retry').length, 2);
    const [fallback] = trace.ofKind('llm.fallback');
    assert.equal(fallback.name, 'primary');
    assert.equal(fallback.data!.to, 'backup');
    assert.equal(fallback.data!.status, 503);
    assert.deepEqual(trace.ofKind('llm.attempt').map((e) => e.data!.attempt), [1, 2, 3, 4]);
  });

  it('falls back at once when Retry-After is longer than the policy allows', async () => {
    server.script(ROUTE, { kind: 'error', status: 429, retryAfter: 3600 });
    const trace = new Trace();
    const result = await make(['primary', 'backup']).chat(ask(), { trace });
    assert.equal(result.model, 'backup');
    assert.equal(trace.ofKind('llm.retry').length, 0);
    assert.match(String(trace.ofKind('llm.fallback')[0].data!.note), /Retry-After 3600000 ms/);
  });

  it('times out a server that never answers and retries', async () => {
    server.script(ROUTE, { kind: 'hang' });
    const trace = new Trace();
    const result = await make(['primary'], { timeoutMs: 300 }).chat(ask('hi', { onToken: () => {} }), { trace });
    assert.equal(result.content, 'echo: hi');
    const [retry] = trace.ofKind('llm.retry');
    assert.equal(retry.data!.reason, 'timeout');
    assert.match(String(retry.data!.message), /no reply within 300 ms/);
  });

  it('ends in a one-line timeout error when every attempt hangs', async () => {
    server.script(ROUTE, { kind: 'hang' }, { kind: 'hang' });
    const err = await failure(make(['primary'], { timeoutMs: 200 }, { maxRetries: 1 }).chat(ask()));
    assert.equal(err.kind, 'timeout');
    assert.match(err.message, /primary.*no reply within 200 ms/);
  });

  it('times out a stream that stalls mid-answer (the timeout is an inactivity limit)', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'a b c d', stallAfter: 2 });
    const resets: string[] = [];
    const { tokens, onToken } = streamed();
    const result = await make(['primary'], { timeoutMs: 300 }).chat(ask('z', { onToken }), { onReset: (i) => { resets.push(i.reason); tokens.length = 0; } });
    assert.deepEqual(resets, ['timeout']);
    assert.equal(result.content, 'echo: z');
    assert.equal(tokens.join(''), result.content);
  });

  it('retries a dropped connection and a garbled JSON body', async () => {
    server.script(ROUTE, { kind: 'drop' }, { kind: 'malformed', text: '{"id": "chatcmpl-1", "choices": [' });
    const trace = new Trace();
    const result = await make().chat(ask('hi'), { trace });
    assert.equal(result.content, 'echo: hi');
    assert.deepEqual(trace.ofKind('llm.retry').map((e) => e.data!.reason), ['connection', 'invalid-reply']);
  });

  it('a stream cut mid-way is retried after onReset; the result holds only the completed answer', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'first attempt words here', cutAfter: 2 }, { kind: 'chat', content: 'the full answer' });
    const trace = new Trace();
    const shown: string[] = []; // what a chat UI displays: cleared on reset
    const all: string[] = [];
    const resets: Array<{ model: string; reason: string }> = [];
    const result = await make().chat(ask('q', { onToken: (t) => { shown.push(t); all.push(t); } }), {
      trace, onReset: (info) => { resets.push(info); shown.length = 0; },
    });
    assert.deepEqual(all.slice(0, 2), ['first ', 'attempt ']);
    assert.deepEqual(resets, [{ model: 'primary', reason: 'stream-cut' }]);
    assert.equal(result.content, 'the full answer');
    assert.equal(shown.join(''), result.content);
    assert.equal(trace.ofKind('llm.retry')[0].data!.reason, 'stream-cut');
  });

  it('a stream cut mid-way falls back to the next model when retries run out', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'partial answer here', cutAfter: 1 });
    const trace = new Trace();
    let resets = 0;
    const { tokens, onToken } = streamed();
    const result = await make(['primary', 'backup'], {}, { maxRetries: 0 }).chat(ask('q', { onToken }), {
      trace, onReset: () => { resets++; tokens.length = 0; },
    });
    assert.equal(result.model, 'backup');
    assert.equal(resets, 1);
    assert.equal(tokens.join(''), result.content);
    assert.equal(trace.ofKind('llm.fallback')[0].data!.reason, 'stream-cut');
  });

  it('without onReset a stream cut after tokens is an error, not a duplicated answer; before tokens it is retried', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'partial answer here', cutAfter: 2 });
    const err = await failure(make(['primary', 'backup']).chat(ask('q', { onToken: () => {} })));
    assert.equal(err.kind, 'stream-cut');
    assert.match(err.message, /broke off after 2 tokens/);
    assert.equal(sent().length, 1);

    server.reset();
    server.script(ROUTE, { kind: 'chat', content: 'never shown', cutAfter: 0 });
    const { tokens, onToken } = streamed();
    const result = await make().chat(ask('again', { onToken }));
    assert.equal(result.content, 'echo: again');
    assert.equal(tokens.join(''), 'echo: again');
  });

  it('does not retry or fall back on a 400', async () => {
    server.script(ROUTE, { kind: 'error', status: 400, message: "Invalid value for 'messages'" });
    const trace = new Trace();
    const err = await failure(make(['primary', 'backup']).chat(ask(), { trace }));
    assert.equal(err.status, 400);
    assert.match(err.message, /^primary at http:\/\/127\.0\.0\.1:\d+\/v1: the request was refused \(400 Invalid value for 'messages'\)$/);
    assert.equal(sent().length, 1);
    assert.equal(trace.ofKind('llm.retry').length + trace.ofKind('llm.fallback').length, 0);
    assert.equal(trace.ofKind('llm.error')[0].data!.status, 400);
  });

  it('does not retry a 401, keeps the key out of errors and traces even when the server echoes it', async () => {
    const echoKey = { kind: 'custom' as const, handle: (req: { headers: Record<string, unknown> }, res: Parameters<typeof sendJson>[0]) =>
      sendJson(res, 401, { error: { message: `Incorrect API key provided: ${String(req.headers.authorization)}`, type: 'invalid_request_error' } }) };
    server.script(ROUTE, echoKey);
    const trace = new Trace();
    const err = await failure(make().chat(ask(), { trace }));
    assert.equal(err.status, 401);
    assert.match(err.message, /: the key in \$BATON_TEST_LLM_KEY was rejected \(401 Incorrect API key provided: Bearer \[redacted\]\)$/);
    assert.equal(sent().length, 1);
    assert.ok(!JSON.stringify(trace).includes(SECRET));

    // With another model configured, a 401 moves on (the next one may use another server or key).
    server.script(ROUTE, echoKey, { kind: 'error', status: 503 }, { kind: 'error', status: 503 }, { kind: 'error', status: 503 });
    const trace2 = new Trace();
    const err2 = await failure(make(['primary', 'backup']).chat(ask(), { trace: trace2 }));
    assert.match(err2.message, /^every chat model failed: primary: the key in \$BATON_TEST_LLM_KEY was rejected \(401 .*\); backup: server error \(503 injected 503, 3 attempts\)$/);
    assert.equal(trace2.ofKind('llm.fallback')[0].data!.status, 401);
    assert.ok(!JSON.stringify(trace2).includes(SECRET));
    assert.ok(!err2.message.includes(SECRET));
  });

  it('cancels a streaming request promptly through its AbortSignal', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'a b c d e f', stallAfter: 2 });
    const controller = new AbortController();
    const tokens: string[] = [];
    const trace = new Trace();
    const onReset: LlmChatOptions['onReset'] = () => assert.fail('no reset on cancel');
    const p = make().chat(ask('q', { signal: controller.signal, onToken: (t) => { tokens.push(t); if (tokens.length === 2) controller.abort(); } }), { trace, onReset });
    const err = await failure(p);
    assert.ok(err instanceof LlmCancelledError);
    assert.equal(err.name, 'AbortError');
    assert.match(err.message, /cancelled/);
    assert.deepEqual(tokens, ['a ', 'b ']);
    assert.equal(sent().length, 1);
    assert.equal(trace.ofKind('llm.error')[0].data!.reason, 'cancelled');
  });

  it('cancels during the wait before a retry, and before starting', async () => {
    server.script(ROUTE, { kind: 'error', status: 503, retryAfter: 30 });
    const controller = new AbortController();
    const trace = new Trace();
    const p = make().chat(ask('q', { signal: controller.signal }), { trace });
    while (!trace.ofKind('llm.retry').length) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    assert.ok((await failure(p)) instanceof LlmCancelledError);
    assert.equal(sent().length, 1);
    await assert.rejects(make().chat(ask('q', { signal: AbortSignal.abort() })), LlmCancelledError);
    assert.equal(sent().length, 1);
  });

  it('ends with one line naming every model when the whole chain fails', async () => {
    const fail = { kind: 'error' as const, status: 500, message: 'boom\nwith a second line' };
    server.script(ROUTE, fail, fail, fail, fail);
    const err = await failure(make(['primary', 'backup'], {}, { maxRetries: 1 }).chat(ask()));
    assert.equal(err.message, 'every chat model failed: primary: server error (500 boom, 2 attempts); backup: server error (500 boom, 2 attempts)');
  });

  it('passes errors thrown by onToken through without retrying', async () => {
    await assert.rejects(make().chat(ask('q', { onToken: () => { throw new Error('ui exploded'); } })), /ui exploded/);
    assert.equal(sent().length, 1);
  });
});
