import assert from 'node:assert/strict';
import { freePort } from '../../helpers/ports';
import { OpenAIEmbedder } from '../../../src/core/embed/openaiEmbedder';
import { OpenAIProtocolServer, serveDuringSuite, fakeEmbedding, sendJson } from '../../helpers/openaiProtocolServer';

const ROUTE = 'POST /v1/embeddings';

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

describe('OpenAIEmbedder', function () {
  this.timeout(20_000);
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  serveDuringSuite(server, (url) => { baseURL = url; });

  const make = (extra: Partial<{ dimensions: number; batchSize: number; timeoutMs: number; apiKeyEnv: string }> = {}, maxRetries = 0) =>
    new OpenAIEmbedder({ kind: 'openai', baseURL, model: 'test-embed', ...extra }, { maxRetries });

  it('probes the dimensions, embeds in order and L2-normalises', async () => {
    const e = make();
    await e.init();
    assert.equal(e.dimensions, 8);
    assert.equal(e.id, `openai:${baseURL}:test-embed:8`);
    server.embeddingModel.reverseOrder = true; // items arrive out of order: the index decides
    const texts = ['function parseRequest() {}', 'class HttpServer', 'readFileSync'];
    const vectors = await e.embed(texts, 'document');
    assert.equal(vectors.length, 3);
    texts.forEach((t, i) => assertClose(vectors[i], unit(fakeEmbedding(t, 8))));
    const sent = server.requestsTo(ROUTE).at(-1)!.body as { model: string; input: string[]; encoding_format: string };
    assert.equal(sent.model, 'test-embed');
    assert.deepEqual(sent.input, texts);
    assert.equal(sent.encoding_format, 'float');
  });

  it('splits into batches of batchSize and passes dimensions through', async () => {
    const e = make({ batchSize: 4, dimensions: 5 });
    const texts = Array.from({ length: 10 }, (_, i) => `text number ${i}`);
    const vectors = await e.embed(texts, 'query');
    assert.equal(e.dimensions, 5);
    const sizes = server.requestsTo(ROUTE).slice(1).map((r) => (r.body as { input: string[] }).input.length);
    assert.deepEqual(sizes, [4, 4, 2]);
    assert.ok(server.requestsTo(ROUTE).every((r) => (r.body as { dimensions: number }).dimensions === 5));
    texts.forEach((t, i) => assertClose(vectors[i], unit(fakeEmbedding(t, 5))));
  });

  it('sends the key from the named env var, a placeholder otherwise, and never puts it in errors', async () => {
    process.env.BATON_TEST_EMBED_KEY = 'sk-test-secret-123';
    try {
      await make({ apiKeyEnv: 'BATON_TEST_EMBED_KEY' }).init();
      assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer sk-test-secret-123');
      server.script(ROUTE, { kind: 'error', status: 401, message: 'Incorrect API key provided' });
      await assert.rejects(make({ apiKeyEnv: 'BATON_TEST_EMBED_KEY' }).init(), (err: Error) => {
        assert.match(err.message, /401 Incorrect API key provided; check the key in \$BATON_TEST_EMBED_KEY/);
        assert.ok(!err.message.includes('sk-test-secret-123'));
        return true;
      });
    } finally {
      delete process.env.BATON_TEST_EMBED_KEY;
    }
    await make({ apiKeyEnv: 'BATON_TEST_UNSET_KEY' }).init();
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer sk-no-key-required');
  });

  it('retries 429 (with and without Retry-After) and 500, then succeeds', async () => {
    server.script(ROUTE,
      { kind: 'error', status: 429 }, // the client's own backoff: 0.5 s minus up to 25 % jitter
      { kind: 'error', status: 429, retryAfter: 0 },
      { kind: 'error', status: 500, retryAfter: 0 });
    const e = make({}, 3);
    const t0 = Date.now();
    const [v] = await e.embed(['retry me'], 'document');
    assertClose(v, unit(fakeEmbedding('retry me', 8)));
    // probe: 429, 429, 500, ok; then the embed call
    assert.equal(server.requestsTo(ROUTE).length, 5);
    assert.ok(Date.now() - t0 >= 350, 'the client backed off after the 429 without Retry-After');
  });

  it('gives up after the retries with a message naming the status and the URL', async () => {
    server.script(ROUTE, { kind: 'error', status: 500, message: 'model crashed' }, { kind: 'error', status: 503, message: 'still down' });
    await assert.rejects(make({}, 1).init(), new RegExp(`embeddings endpoint ${baseURL}/embeddings failed: 503 still down`));
    assert.equal(server.requests.length, 2);
  });

  it('rejects garbage replies with a clear error', async () => {
    const e = make();
    await e.init();
    const cases: [Parameters<OpenAIProtocolServer['script']>[1], RegExp][] = [
      [{ kind: 'malformed' }, /unusable reply: not JSON/],
      [{ kind: 'json', body: { object: 'list', data: [{ index: 0, embedding: [1, 2, 3, 4, 5, 6, 7, 8] }] } }, /unusable reply: 1 vectors for 2 inputs/],
      [{ kind: 'json', body: { data: [{ index: 0, embedding: [1, 2, 3, 4, 5, 6, 7, 8] }, { index: 1, embedding: [1, 2, 3] }] } }, /vector 1 has 3 dimensions, expected 8/],
      [{ kind: 'json', body: { data: [{ index: 0, embedding: [1, 2, 3, 4] }, { index: 1, embedding: [1, 2, 3, 4] }] } }, /vector 0 has 4 dimensions, expected 8/],
      [{ kind: 'json', body: { data: [{ index: 0, embedding: [1, 'x', 3, 4, 5, 6, 7, 8] }, { index: 1, embedding: [1, 2, 3, 4, 5, 6, 7, 8] }] } }, /vector 0 holds "x" at 1/],
      [{ kind: 'json', body: { data: [{ index: 0, embedding: [1, 2, 3, 4, 5, 6, 7, 8] }, { index: 0, embedding: [1, 2, 3, 4, 5, 6, 7, 8] }] } }, /bad or repeated index 0/],
      [{ kind: 'json', body: { error: 'nope' } }, /no "data" array/],
      [{ kind: 'custom', handle: (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>proxy login</html>'); } }, /unusable reply: not JSON \("<html>proxy login/],
    ];
    for (const [step, expected] of cases) {
      server.script(ROUTE, step);
      await assert.rejects(e.embed(['a', 'b'], 'document'), expected);
    }
  });

  it('accepts base64 float32 vectors from servers that send them anyway', async () => {
    const e = make();
    await e.init();
    server.script(ROUTE, {
      kind: 'custom',
      handle: (_req, res) => sendJson(res, 200, {
        data: [{ index: 0, embedding: Buffer.from(new Float32Array([3, 4, 0, 0, 0, 0, 0, 0]).buffer).toString('base64') }],
      }),
    });
    const [v] = await e.embed(['x'], 'document');
    assertClose(v, [0.6, 0.8, 0, 0, 0, 0, 0, 0]);
  });

  it('a hung server times out, a dropped connection is retried, and both name the URL', async () => {
    server.script(ROUTE, { kind: 'hang' });
    const t0 = Date.now();
    await assert.rejects(make({ timeoutMs: 300 }).init(), new RegExp(`${baseURL}/embeddings did not answer within 300 ms`));
    assert.ok(Date.now() - t0 < 3000);
    server.script(ROUTE, { kind: 'drop' });
    await make({}, 1).init(); // the client retries a connection error
    server.script(ROUTE, { kind: 'drop' });
    await assert.rejects(make().init(), new RegExp(`cannot reach embeddings endpoint ${baseURL}/embeddings`));
  });

  it('a server that is down fails fast with a message naming the URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}/v1`;
    const t0 = Date.now();
    const e = new OpenAIEmbedder({ kind: 'openai', baseURL: url, model: 'm' }, { maxRetries: 0 });
    await assert.rejects(e.init(), (err: Error) => {
      assert.equal(err.message, `cannot reach embeddings endpoint ${url}/embeddings (ECONNREFUSED); is the server running?`);
      return true;
    });
    assert.ok(Date.now() - t0 < 2000);
  });

  it('an AbortSignal cancels a pending request', async () => {
    const e = make();
    await e.init();
    server.script(ROUTE, { kind: 'hang' });
    const controller = new AbortController();
    const pending = e.embed(['slow'], 'document', controller.signal);
    setTimeout(() => controller.abort(new Error('user cancelled')), 100);
    const t0 = Date.now();
    await assert.rejects(pending, /user cancelled/);
    assert.ok(Date.now() - t0 < 2000);
  });
});
