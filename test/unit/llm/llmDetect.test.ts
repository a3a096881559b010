import assert from 'node:assert/strict';
import { freePort } from '../../helpers/ports';
import { detectLocalServer, LOCAL_SERVERS } from '../../../src/core/llm/detect';
import { resolveModelsAuto } from '../../../src/core/llm/models';
import { OpenAIProtocolServer, serveDuringSuite } from '../../helpers/openaiProtocolServer';


/** A base URL on 127.0.0.1 where nothing listens. */
const closedBaseURL = async (): Promise<string> => `http://127.0.0.1:${await freePort()}/v1`;

describe('local model server detection', function () {
  this.timeout(20_000);
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  serveDuringSuite(server, (url) => { baseURL = url; });

  it('probes Ollama then LM Studio by default', () => {
    assert.deepEqual(LOCAL_SERVERS.map((c) => c.baseURL), ['http://127.0.0.1:11434/v1', 'http://127.0.0.1:1234/v1']);
  });

  it('finds a server that answers GET /models and lists its models', async () => {
    server.chatModel.models = ['qwen2.5-coder:7b', 'llama3.2:3b'];
    const down = await closedBaseURL();
    const found = await detectLocalServer({ candidates: [{ name: 'Ollama', baseURL: down }, { name: 'LM Studio', baseURL }] });
    assert.deepEqual(found, { name: 'LM Studio', baseURL, models: ['qwen2.5-coder:7b', 'llama3.2:3b'] });
    assert.equal(server.requestsTo('GET /v1/models').length, 1);
  });

  it('prefers the earlier candidate when several answer', async () => {
    const found = await detectLocalServer({ candidates: [{ name: 'first', baseURL: `${baseURL}/` }, { name: 'second', baseURL }] });
    assert.equal(found?.name, 'first');
    assert.equal(found?.baseURL, baseURL);
  });

  it('reports none when nothing answers, a server hangs, errs or is not OpenAI-shaped', async () => {
    const down = await closedBaseURL();
    assert.equal(await detectLocalServer({ candidates: [{ name: 'down', baseURL: down }] }), undefined);
    server.script('GET /v1/models', { kind: 'hang' });
    assert.equal(await detectLocalServer({ candidates: [{ name: 'slow', baseURL }], timeoutMs: 200 }), undefined);
    server.script('GET /v1/models', { kind: 'error', status: 500 });
    assert.equal(await detectLocalServer({ candidates: [{ name: 'broken', baseURL }] }), undefined);
    server.script('GET /v1/models', { kind: 'json', body: { hello: 'world' } });
    assert.equal(await detectLocalServer({ candidates: [{ name: 'other', baseURL }] }), undefined);
    assert.equal(await detectLocalServer({ candidates: [] }), undefined);
  });

  it('configures the chat model from a detected server only when nothing else is configured', async () => {
    server.chatModel.models = ['qwen2.5-coder:7b'];
    const candidates = [{ name: 'Ollama', baseURL }];
    const chains = await resolveModelsAuto({}, {}, { candidates });
    assert.equal(chains.chat[0].model, 'qwen2.5-coder:7b');
    assert.equal(chains.chat[0].baseURL, baseURL);
    assert.equal(server.requestsTo('GET /v1/models').length, 1);

    const configured = await resolveModelsAuto({}, { BATON_MODEL: 'm', OPENAI_BASE_URL: 'http://10.0.0.5:8000/v1' }, { candidates });
    assert.equal(configured.chat[0].baseURL, 'http://10.0.0.5:8000/v1');
    assert.equal(server.requestsTo('GET /v1/models').length, 1, 'no probe when configured');

    server.chatModel.models = [];
    await assert.rejects(resolveModelsAuto({}, {}, { candidates }), /Ollama at .* lists no models; pull or load one/);
    await assert.rejects(resolveModelsAuto({}, {}, { candidates: [{ name: 'Ollama', baseURL: await closedBaseURL() }] }), /no chat model configured: set BATON_MODEL/);
  });
});
