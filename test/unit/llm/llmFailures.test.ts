// How the model client fails: against the real OpenAI-protocol server with injected faults, every
// failure ends in one accurate line (never the SDK's console noise, never the key), a silent server
// is given up on after the first-byte timeout and a bounded total wait, and the wait is reported
// while it lasts.
import assert from 'node:assert/strict';
import { LlmCancelledError, LlmClient, LlmError } from '../../../src/core/llm/client';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../../src/core/llm/retry';
import { describeWait, type LlmWait } from '../../../src/core/llm/waiting';
import type { ChatRequest, ModelConfig } from '../../../src/core/llm/types';
import { Trace } from '../../../src/core/trace/trace';
import { freePort } from '../../helpers/ports';
import { OpenAIProtocolServer, serveDuringSuite, type Step } from '../../helpers/openaiProtocolServer';
import { seededRandom } from '../../helpers/seededRandom';

const ROUTE = 'POST /v1/chat/completions';
const SECRET = 'sk-live-failure-secret-0123456789';
const KEY_ENV = 'BATON_TEST_FAILURE_KEY';
const POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxRetries: 2, baseDelayMs: 5, maxDelayMs: 20 };
const HTML = '<!DOCTYPE html><html><head><title>Open WebUI</title></head><body><h1>Sign in</h1></body></html>';

describe('LlmClient failures', function () {
  this.timeout(30_000);
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  serveDuringSuite(server, (url) => { baseURL = url; });

  const model = (name: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
    model: name, baseURL, apiKeyEnv: KEY_ENV, contextWindow: 8192, maxOutputTokens: 256, timeoutMs: 5_000, firstByteTimeoutMs: 5_000, ...extra,
  });
  const make = (models: ModelConfig[] = [model('primary')], opts: { retry?: Partial<RetryPolicy>; env?: Record<string, string>; onWait?: (w: LlmWait) => void } = {}) =>
    new LlmClient({
      models: { chat: models },
      retry: { ...POLICY, ...opts.retry },
      random: seededRandom(3),
      env: opts.env ?? { [KEY_ENV]: SECRET },
      onWait: opts.onWait,
    });
  const streamed = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ messages: [{ role: 'user', content: 'hi' }], onToken: () => {}, ...extra });
  const plain = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });
  const times = (n: number, step: Step): Step[] => Array.from({ length: n }, () => step);

  async function failure(p: Promise<unknown>): Promise<LlmError> {
    const err = await p.then(() => assert.fail('expected a failure'), (e: unknown) => e);
    assert.ok(err instanceof LlmError, `not an LlmError: ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `multi-line: ${err.message}`);
    assert.ok(!err.message.includes(SECRET), 'the key is never in a message');
    return err;
  }

  /** Everything written to stderr or the console while `work` runs. */
  async function quietly<T>(work: () => Promise<T>): Promise<{ value: T; noise: string }> {
    let noise = '';
    const write = process.stderr.write.bind(process.stderr);
    const saved = { error: console.error, warn: console.warn, log: console.log, info: console.info };
    const capture = (...args: unknown[]) => { noise += `${args.map(String).join(' ')}\n`; };
    process.stderr.write = ((chunk: string | Uint8Array) => { noise += String(chunk); return true; });
    Object.assign(console, { error: capture, warn: capture, log: capture, info: capture });
    try {
      return { value: await work(), noise };
    } finally {
      process.stderr.write = write;
      Object.assign(console, saved);
    }
  }

  it('gives each failure one accurate line, with no SDK noise on the console and no key', async () => {
    const refusedURL = `http://127.0.0.1:${await freePort()}/v1`;
    const cases: Array<{ what: string; steps: Step[]; expect: RegExp; kind: string; requests: number; nonStreamed?: boolean; unkeyed?: boolean; url?: string }> = [
      { what: '401', steps: [{ kind: 'error', status: 401, message: `Incorrect API key provided: ${SECRET}` }], kind: 'http', requests: 1,
        expect: /^the key in \$BATON_TEST_FAILURE_KEY was rejected \(401 Incorrect API key provided: \[redacted\]\)$/ },
      { what: '401 without a key', unkeyed: true, steps: [{ kind: 'error', status: 401, message: 'You must provide an API key' }], kind: 'http', requests: 1,
        expect: /^the server wants a key and \$BATON_TEST_FAILURE_KEY is not set \(401 You must provide an API key\)$/ },
      { what: '403', steps: [{ kind: 'error', status: 403, message: 'no access' }], kind: 'http', requests: 1,
        expect: /^the key in \$BATON_TEST_FAILURE_KEY may not use model "primary" \(403 no access\)$/ },
      { what: '404', steps: [{ kind: 'error', status: 404, message: "model 'primary' not found" }], kind: 'http', requests: 1,
        expect: /^not found \(404 model 'primary' not found\): check the model name "primary" and the base URL$/ },
      { what: '400', steps: [{ kind: 'error', status: 400, message: "'max_tokens' is too large" }], kind: 'http', requests: 1,
        expect: /^the request was refused \(400 'max_tokens' is too large\)$/ },
      { what: '500 after retries', steps: times(3, { kind: 'error', status: 500, message: 'CUDA out of memory' }), kind: 'http', requests: 3,
        expect: /^server error \(500 CUDA out of memory, 3 attempts\)$/ },
      { what: '502 HTML page after retries', kind: 'http', requests: 3,
        steps: times(3, { kind: 'raw', status: 502, body: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>' }),
        expect: /^server error \(502, an HTML page titled "502 Bad Gateway", 3 attempts\)$/ },
      { what: '429 with a long Retry-After', steps: [{ kind: 'error', status: 429, retryAfter: 120 }], kind: 'http', requests: 1,
        expect: /^rate-limited: the server asks to wait 120 s$/ },
      { what: 'an HTML page with 200', steps: [{ kind: 'raw', body: HTML }], kind: 'not-openai', requests: 1,
        expect: /^the server did not answer in the OpenAI format \(got an HTML page titled "Open WebUI"\): check the base URL$/ },
      { what: 'an HTML page with 200, not streamed', nonStreamed: true, steps: [{ kind: 'raw', body: HTML }], kind: 'not-openai', requests: 1,
        expect: /^the server did not answer in the OpenAI format \(got an HTML page titled "Open WebUI"\): check the base URL$/ },
      { what: 'text/plain', steps: [{ kind: 'raw', contentType: 'text/plain', body: 'Hello from a web server\n' }], kind: 'not-openai', requests: 1,
        expect: /^the server did not answer in the OpenAI format \(got text\/plain: "Hello from a web server"\): check the base URL$/ },
      { what: 'invalid JSON', steps: times(3, { kind: 'raw', contentType: 'application/json', body: '{"id": "chatcmpl-1", "choices": [' }), kind: 'invalid-reply', requests: 3,
        expect: /^the server did not answer in the OpenAI format \(invalid JSON\)$/ },
      { what: 'invalid JSON, not streamed', nonStreamed: true, steps: times(3, { kind: 'malformed' }), kind: 'invalid-reply', requests: 3,
        expect: /^the server did not answer in the OpenAI format \(invalid JSON: .+\)$/ },
      { what: 'SSE with garbage events', steps: times(3, { kind: 'sse', events: ['{"choices": [{"delta"', 'not json at all'] }), kind: 'invalid-reply', requests: 3,
        expect: /^the server did not answer in the OpenAI format \(an event is not JSON\)$/ },
      { what: 'SSE of another protocol', steps: [{ kind: 'sse', events: ['{"type": "message_start", "message": {}}'] }], kind: 'not-openai', requests: 1,
        expect: /^the server did not answer in the OpenAI format \(its events are not chat completion chunks\): check the base URL$/ },
      { what: 'an empty event stream', steps: times(3, { kind: 'sse', events: [] }), kind: 'stream-cut', requests: 3,
        expect: /^the stream ended before the model sent anything$/ },
      { what: 'connection refused', url: refusedURL, steps: [], kind: 'connection', requests: 0,
        expect: /^cannot connect to 127\.0\.0\.1:\d+: connection refused \(is the server running\?\) \(3 attempts\)$/ },
    ];
    for (const c of cases) {
      server.reset();
      server.script(ROUTE, ...c.steps);
      const trace = new Trace();
      const client = make([model('primary', c.url ? { baseURL: c.url } : {})], c.unkeyed ? { env: {} } : {});
      const { value: err, noise } = await quietly(() => failure(client.chat(c.nonStreamed ? plain() : streamed(), { trace })));
      const url = c.url ?? baseURL;
      assert.ok(err.message.startsWith(`primary at ${url}: `), `${c.what}: ${err.message}`);
      assert.match(err.message.slice(`primary at ${url}: `.length), c.expect, c.what);
      assert.equal(err.kind, c.kind, c.what);
      assert.equal(err.unreachable, c.what === 'connection refused', `${c.what}: unreachable`);
      assert.equal(server.requestsTo(ROUTE).length, c.requests, `${c.what}: requests`);
      assert.equal(noise, '', `${c.what}: nothing on the console`);
      assert.ok(!JSON.stringify(trace).includes(SECRET), `${c.what}: no key in the trace`);
    }
  });

  it('keeps what the SDK logs in the trace instead of on the console', async () => {
    server.script(ROUTE, { kind: 'sse', events: ['garbage'] });
    const trace = new Trace();
    const { noise } = await quietly(() => failure(make(undefined, { retry: { maxRetries: 0 } }).chat(streamed(), { trace })));
    assert.equal(noise, '');
    const logged = trace.ofKind('note').filter((e) => e.name === 'openai-sdk');
    assert.match(JSON.stringify(logged), /Could not parse message into JSON/);
  });

  it('accepts a whole chat completion sent in answer to a streamed request', async () => {
    const completion = { id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'whole answer' }, finish_reason: 'stop' }] };
    server.script(ROUTE, { kind: 'json', body: completion });
    const tokens: string[] = [];
    const result = await make().chat(streamed({ onToken: (t) => tokens.push(t) }));
    assert.equal(result.content, 'whole answer');
    assert.deepEqual(tokens, ['whole answer']);
  });

  it('times out the first byte of a streamed reply: before headers, and after headers with no body', async () => {
    const fast = model('primary', { firstByteTimeoutMs: 200, timeoutMs: 20_000 });
    server.script(ROUTE, ...times(3, { kind: 'hang' }));
    const hung = await failure(make([fast]).chat(streamed()));
    assert.equal(hung.kind, 'timeout');
    assert.equal(hung.message, `primary at ${baseURL}: no reply within 200 ms (3 attempts)`);

    server.reset();
    server.script(ROUTE, ...times(3, { kind: 'headers' }));
    const headersOnly = await failure(make([fast]).chat(streamed()));
    assert.equal(headersOnly.message, `primary at ${baseURL}: the server sent headers but no reply within 200 ms (3 attempts)`);
  });

  it('gives a non-streamed reply the inactivity timeout, and its body the first-byte timeout once headers came', async () => {
    // A non-streamed reply is sent once it is complete: waiting longer than the first-byte limit is normal.
    server.script(ROUTE, { kind: 'custom', handle: async (req, res) => {
      await new Promise((r) => setTimeout(r, 400));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'slow but fine' }, finish_reason: 'stop' }] }));
    } });
    const m = model('primary', { firstByteTimeoutMs: 200, timeoutMs: 3_000 });
    assert.equal((await make([m]).chat(plain())).content, 'slow but fine');

    server.script(ROUTE, { kind: 'headers', contentType: 'application/json' });
    const err = await failure(make([m], { retry: { maxRetries: 0 } }).chat(plain()));
    assert.equal(err.message, `primary at ${baseURL}: the server sent headers but no reply within 200 ms`);
  });

  it('bounds the total silent wait: a hung server is not retried past maxSilentMs, and only a model elsewhere is tried', async () => {
    const other = new OpenAIProtocolServer();
    const otherURL = await other.start();
    try {
      const retry = { maxRetries: 5, maxSilentMs: 300 };
      server.script(ROUTE, ...times(6, { kind: 'hang' }));
      const trace = new Trace();
      const err = await failure(make([model('primary', { firstByteTimeoutMs: 200 })], { retry }).chat(streamed(), { trace }));
      assert.equal(err.message, `primary at ${baseURL}: no reply within 200 ms (2 attempts)`);
      assert.equal(server.requestsTo(ROUTE).length, 2, 'not the five retries the policy would allow');
      assert.match(String(trace.ofKind('llm.error')[0].data!.note), /^no reply for \d+ ms in all$/);

      server.reset();
      server.script(ROUTE, ...times(6, { kind: 'hang' }));
      const chain = [model('a', { firstByteTimeoutMs: 200 }), model('b', { firstByteTimeoutMs: 200 }), model('c', { baseURL: otherURL })];
      const trace2 = new Trace();
      const result = await make(chain, { retry }).chat(streamed(), { trace: trace2 });
      assert.equal(result.model, 'c');
      assert.deepEqual(server.requestsTo(ROUTE).map((r) => (r.body as { model: string }).model), ['a', 'a'], 'b is on the same silent server');
      assert.deepEqual(trace2.ofKind('llm.fallback').map((e) => [e.name, e.data!.to]), [['a', 'c']]);
    } finally {
      await other.stop();
    }
  });

  it('reports the silent wait every few seconds (here, every 200 ms of a 2 s limit) and says when it is over', async () => {
    server.script(ROUTE, { kind: 'custom', handle: async (req, res) => {
      await new Promise((r) => setTimeout(r, 900));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'late answer' }, finish_reason: 'stop' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    } });
    const waits: LlmWait[] = [];
    const result = await make([model('primary', { firstByteTimeoutMs: 2_000 })], { onWait: (w) => waits.push(w) }).chat(streamed());
    assert.equal(result.content, 'late answer');
    const ticks = waits.filter((w) => !w.done);
    assert.ok(ticks.length >= 2, `ticks: ${JSON.stringify(waits)}`);
    assert.ok(ticks.every((w, i) => w.phase === 'reply' && w.model === 'primary' && w.baseURL === baseURL && w.attempt === 1 && (i === 0 || w.waitedMs > ticks[i - 1].waitedMs)));
    assert.match(describeWait(ticks[0]), new RegExp(`^waiting for primary at ${baseURL.replace(/[./]/g, '\\$&')}… \\d+ ms$`));
    assert.equal(waits.at(-1)!.done, true, 'the last report ends the wait');

    // A prompt answer reports nothing at all.
    waits.length = 0;
    await make([model('primary')], { onWait: (w) => waits.push(w) }).chat(streamed());
    assert.deepEqual(waits, []);
  });

  it('reports a long pause before a retry (a Retry-After) as it counts down', async () => {
    server.script(ROUTE, { kind: 'error', status: 429, message: 'slow down', retryAfter: 2 });
    const waits: LlmWait[] = [];
    const result = await make(undefined, { onWait: (w) => waits.push(w) }).chat(streamed());
    assert.equal(result.content, 'echo: hi');
    const first = waits[0];
    assert.equal(first.phase, 'retry');
    assert.equal(first.attempt, 2);
    assert.ok(first.remainingMs! <= 2_000 && first.remainingMs! > 1_000, JSON.stringify(first));
    assert.match(describeWait(first), /^primary at http:\/\/127\.0\.0\.1:\d+\/v1: rate-limited \(429 slow down\); next attempt in \d(\.\d)? s$/);
    assert.equal(waits.filter((w) => w.phase === 'retry').at(-1)!.done, true);
  });

  it('ends a silent wait at once when the request is cancelled', async () => {
    server.script(ROUTE, { kind: 'hang' });
    const controller = new AbortController();
    const client = make([model('primary', { firstByteTimeoutMs: 20_000, timeoutMs: 20_000 })], { onWait: () => controller.abort() });
    const started = performance.now();
    const err = await failure(client.chat(streamed({ signal: controller.signal })));
    assert.ok(err instanceof LlmCancelledError);
    assert.ok(performance.now() - started < 10_000, 'long before the 20 s timeout');
    assert.equal(server.requestsTo(ROUTE).length, 1);
  });
});
