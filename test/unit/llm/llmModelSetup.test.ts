// Model setup against real HTTP servers on 127.0.0.1: an OpenAI-style /v1/models, one that wants a
// key (401), Ollama's /api/tags without /v1/models, a bare host:port, one that is down; and the one
// test request per model (chat: "Reply with OK", embeddings: one vector), passing and failing.
import assert from 'node:assert/strict';
import { freePort } from '../../helpers/ports';
import { listModelsOf, testChatModel, testEmbeddingModel } from '../../../src/core/llm/modelSetup';
import { OpenAIProtocolServer, sendJson, serveDuringSuite } from '../../helpers/openaiProtocolServer';

describe('model setup: listing and testing a server\'s models', function () {
  this.timeout(20_000);
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  serveDuringSuite(server, (url) => { baseURL = url; });

  it('lists an OpenAI-style server\'s models with GET /models', async () => {
    server.chatModel.models = ['qwen2.5-coder:7b', 'nomic-embed-text'];
    const listed = await listModelsOf(`${baseURL}/`);
    assert.deepEqual(listed, { baseURL, ok: true, models: ['qwen2.5-coder:7b', 'nomic-embed-text'], needsKey: false, via: 'openai' });
    assert.equal(server.requestsTo('GET /v1/models').length, 1);
  });

  it('finds /v1 under a bare host:port', async () => {
    const listed = await listModelsOf(baseURL.replace(/\/v1$/, ''));
    assert.equal(listed.ok, true, listed.problem);
    assert.equal(listed.baseURL, baseURL);
    assert.deepEqual(listed.models, ['test-chat']);
  });

  it('says a key is needed on 401, and lists with the right key', async () => {
    server.requireKey = 'sk-right';
    const without = await listModelsOf(baseURL);
    assert.equal(without.ok, false);
    assert.equal(without.needsKey, true);
    assert.match(without.problem ?? '', /asks for an API key \(HTTP 401\)/);
    const wrong = await listModelsOf(baseURL, { apiKey: 'sk-wrong' });
    assert.equal(wrong.needsKey, true);
    const right = await listModelsOf(baseURL, { apiKey: 'sk-right' });
    assert.equal(right.ok, true, right.problem);
    assert.deepEqual(right.models, ['test-chat']);
    const sent = server.requestsTo('GET /v1/models').map((r) => r.headers.authorization);
    assert.deepEqual(sent, [undefined, 'Bearer sk-wrong', 'Bearer sk-right']);
    assert.ok(!JSON.stringify(wrong).includes('sk-wrong'), 'the key is in no reply');
  });

  it('says why when the server is down, without trying anything else', async () => {
    const down = `http://127.0.0.1:${await freePort()}/v1`;
    const listed = await listModelsOf(down, { timeoutMs: 2000 });
    assert.equal(listed.ok, false);
    assert.equal(listed.needsKey, false);
    assert.match(listed.problem ?? '', /cannot reach http:\/\/127\.0\.0\.1:\d+\/v1 \(ECONNREFUSED\); is the server running\?/);
  });

  it('tests a chat model with one short request and times it', async () => {
    const check = await testChatModel(baseURL, 'qwen2.5-coder:7b', { apiKey: 'sk-any' });
    assert.equal(check.ok, true, check.problem);
    assert.ok(check.ms >= 0);
    const [req] = server.requestsTo('POST /v1/chat/completions');
    const body = req.body as { model: string; messages: Array<{ content: string }>; max_tokens?: number; max_completion_tokens?: number };
    assert.equal(body.model, 'qwen2.5-coder:7b');
    assert.match(body.messages.at(-1)!.content, /Reply with OK/);
    assert.equal(req.headers.authorization, 'Bearer sk-any');
    assert.equal(check.reply, 'echo: Reply with OK.');
  });

  it('says in one line what failed when the chat model does not answer, without retrying', async () => {
    server.script('POST /v1/chat/completions', { kind: 'error', status: 404, message: 'model "nope" not found, try pulling it first' });
    const check = await testChatModel(baseURL, 'nope');
    assert.equal(check.ok, false);
    assert.match(check.problem ?? '', /not found/);
    assert.ok(!(check.problem ?? '').includes('\n'));
    assert.equal(server.requestsTo('POST /v1/chat/completions').length, 1);
  });

  it('tests an embedding model with one vector, and refuses a reply without one', async () => {
    const ok = await testEmbeddingModel(baseURL, 'nomic-embed-text');
    assert.equal(ok.ok, true, ok.problem);
    assert.equal(ok.reply, '8 dimensions');
    assert.equal((server.requestsTo('POST /v1/embeddings')[0].body as { model: string }).model, 'nomic-embed-text');
    server.script('POST /v1/embeddings', { kind: 'json', body: { object: 'list', data: [] } });
    const empty = await testEmbeddingModel(baseURL, 'qwen2.5-coder:7b');
    assert.equal(empty.ok, false);
    assert.match(empty.problem ?? '', /sent no vector for "qwen2.5-coder:7b"/);
    server.script('POST /v1/embeddings', { kind: 'error', status: 400, message: 'this model does not support embeddings' });
    const refused = await testEmbeddingModel(baseURL, 'qwen2.5-coder:7b');
    assert.match(refused.problem ?? '', /answered HTTP 400: this model does not support embeddings/);
  });
});

describe('model setup: an Ollama without /v1/models', function () {
  this.timeout(20_000);
  const ollama = new OpenAIProtocolServer();
  let baseURL: string;
  serveDuringSuite(ollama, (url) => { baseURL = url; });
  before(() => {
    ollama.unroute('GET /v1/models');
    ollama.route('GET /api/tags', (_req, res) => sendJson(res, 200, { models: [{ name: 'qwen2.5-coder:7b', model: 'qwen2.5-coder:7b' }, { name: 'nomic-embed-text:latest' }] }));
  });

  it('lists the models from /api/tags and configures its /v1', async () => {
    for (const typed of [baseURL, baseURL.replace(/\/v1$/, '')]) {
      const listed = await listModelsOf(typed);
      assert.deepEqual(listed, { baseURL, ok: true, models: ['qwen2.5-coder:7b', 'nomic-embed-text:latest'], needsKey: false, via: 'ollama' }, typed);
    }
    assert.ok(ollama.requestsTo('GET /api/tags').length >= 2);
  });

  it('says what /models answered when /api/tags is missing too', async () => {
    ollama.unroute('GET /api/tags');
    const listed = await listModelsOf(baseURL);
    assert.equal(listed.ok, false);
    assert.match(listed.problem ?? '', /\/v1\/models answered HTTP 404/);
  });
});
