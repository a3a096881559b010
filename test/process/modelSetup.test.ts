// The built language server's model-setup requests over its real stdio, against real HTTP servers on
// 127.0.0.1: a server that wants a key (401 until the key comes), Ollama's /api/tags, one that is
// down; a chat test and an embeddings test. The key typed during setup is in no log line.
import assert from 'node:assert/strict';
import { freePort } from '../helpers/ports';
import { OpenAIProtocolServer, sendJson } from '../helpers/openaiProtocolServer';
import { RawLspProcess } from '../helpers/rawLsp';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import type { DetectModelServersResponse, ModelServerProbe, TestModelResponse } from '../../src/protocol';

const KEY = 'sk-setup-process-test-key';

describe('language server: model setup requests', function () {
  this.timeout(60_000);
  const keyed = new OpenAIProtocolServer();
  const ollama = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let lsp: RawLspProcess;

  before(async () => {
    await keyed.start();
    keyed.requireKey = KEY;
    keyed.chatModel.models = ['setup-chat', 'setup-embed'];
    await ollama.start();
    ollama.unroute('GET /v1/models');
    ollama.route('GET /api/tags', (_req, res) => sendJson(res, 200, { models: [{ name: 'llama3.2:3b' }] }));
    ws = makeWorkspace();
    lsp = await RawLspProcess.start({ root: ws.root, settings: { embedder: 'none' } });
  });
  after(async () => {
    await lsp?.stop();
    await keyed.stop();
    await ollama.stop();
    ws?.remove();
  });

  async function call<T>(method: string, params: unknown): Promise<T> {
    const reply = await lsp.request(method, params);
    assert.equal(reply.error, undefined, `${method}: ${reply.error?.message}`);
    return reply.result as T;
  }

  it('detects local servers without failing when none runs', async () => {
    const res = await call<DetectModelServersResponse>('baton/detectModelServers', {});
    assert.ok(Array.isArray(res.servers));
  });

  it('lists a keyed server\'s models only with its key, then tests its chat and embedding models', async () => {
    const without = await call<ModelServerProbe>('baton/probeModelServer', { baseURL: keyed.baseURL });
    assert.equal(without.needsKey, true);
    assert.equal(without.ok, false);
    const withKey = await call<ModelServerProbe>('baton/probeModelServer', { baseURL: keyed.baseURL, apiKey: KEY });
    assert.deepEqual(withKey, { baseURL: keyed.baseURL, ok: true, models: ['setup-chat', 'setup-embed'], needsKey: false, via: 'openai' });
    const chat = await call<TestModelResponse>('baton/testModel', { baseURL: keyed.baseURL, model: 'setup-chat', kind: 'chat', apiKey: KEY });
    assert.equal(chat.ok, true, chat.problem);
    const embed = await call<TestModelResponse>('baton/testModel', { baseURL: keyed.baseURL, model: 'setup-embed', kind: 'embed', apiKey: KEY });
    assert.equal(embed.ok, true, embed.problem);
    const refused = await call<TestModelResponse>('baton/testModel', { baseURL: keyed.baseURL, model: 'setup-chat', kind: 'chat', apiKey: 'sk-wrong-key-1234' });
    assert.equal(refused.ok, false);
    assert.match(refused.problem ?? '', /401/);
    assert.deepEqual(keyed.requestsTo('POST /v1/chat/completions').map((r) => r.headers.authorization), [`Bearer ${KEY}`, 'Bearer sk-wrong-key-1234']);
    const logged = `${lsp.stderr}\n${lsp.logs.map((l) => l.message).join('\n')}`;
    assert.ok(!logged.includes(KEY) && !logged.includes('sk-wrong-key-1234'), 'no key in the server\'s output');
  });

  it('lists an Ollama without /v1/models from /api/tags', async () => {
    const res = await call<ModelServerProbe>('baton/probeModelServer', { baseURL: ollama.baseURL.replace(/\/v1$/, '') });
    assert.deepEqual(res, { baseURL: ollama.baseURL, ok: true, models: ['llama3.2:3b'], needsKey: false, via: 'ollama' });
  });

  it('says a server is down', async () => {
    const res = await call<ModelServerProbe>('baton/probeModelServer', { baseURL: `http://127.0.0.1:${await freePort()}/v1` });
    assert.equal(res.ok, false);
    assert.match(res.problem ?? '', /cannot reach .*ECONNREFUSED/);
  });
});
