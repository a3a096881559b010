import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, unlinkSync, cpSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransformersEmbedder, loadTransformers, meanPoolNormalize } from '../../../src/core/embed/transformersEmbedder';
import { tokenizeForTraining, writeBagOfEmbeddingsModel } from '../../../train/onnxExport';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'parse', 'http', 'request', 'server', 'get', 'user', 'name', '##s', 'read', 'file', 'sync', 'query', 'doc'];
const DIMS = 16;

function seededWeights(seed: number) {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return {
    dimensions: DIMS,
    embeddings: new Float32Array(VOCAB.length * DIMS).map(next),
    tokenWeights: new Float32Array(VOCAB.length).map(() => 0.5 + Math.abs(next())),
  };
}

function rowOf(w: ReturnType<typeof seededWeights>, token: string): number[] {
  const id = VOCAB.indexOf(token);
  return Array.from(w.embeddings.subarray(id * DIMS, (id + 1) * DIMS), (x) => x * w.tokenWeights[id]);
}

function normalize(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

/** Serves a model folder the way huggingface.co does: GET /<owner>/<name>/resolve/main/<file>. */
function hubServer(folder: string, mode: 'serve' | 'hang'): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (mode === 'hang') return; // never answers
    const m = /^\/[^/]+\/[^/]+\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const file = m ? join(folder, decodeURIComponent(m[1])) : '';
    if (!file || !existsSync(file)) { res.writeHead(404).end('Entry not found'); return; }
    res.writeHead(200, { 'content-length': statSync(file).size, 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests });
  }));
}

describe('TransformersEmbedder', function () {
  this.timeout(60_000);
  let root: string;
  let both: string;
  const w = seededWeights(7);
  const embedders: TransformersEmbedder[] = [];
  const make = (...args: ConstructorParameters<typeof TransformersEmbedder>) => {
    const e = new TransformersEmbedder(...args);
    embedders.push(e);
    return e;
  };

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'baton-tfe-'));
    both = join(root, 'both');
    writeBagOfEmbeddingsModel(both, { vocab: VOCAB, maxLength: 64 }, w, { quantize: true, fp32: true });
  });
  afterEach(async () => { await Promise.all(embedders.splice(0).map((e) => e.dispose())); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('loads a model folder offline and embeds camelCase code as the weighted mean of its word pieces', async () => {
    const e = make({ kind: 'transformers', model: both, quantized: false });
    await e.init();
    assert.equal(e.dimensions, DIMS);
    assert.match(e.id, /^transformers:both@[0-9a-f]{12}:16$/);
    const [v] = await e.embed(['parseHttpRequest()'], 'document');
    const expected = normalize(rowOf(w, 'parse').map((x, i) => x + rowOf(w, 'http')[i] + rowOf(w, 'request')[i]));
    assertClose(v, expected, 1e-5);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, 'unit length');
    // The camelCase split really happened: the pieces are the same vector as the spaced words.
    const [spaced] = await e.embed(['parse http request'], 'document');
    assertClose(v, spaced, 1e-6);
    assert.deepEqual(await tokenizeForTraining(both, ['getUserNames']), [[2, 8, 9, 10, 11, 3]]);
  });

  it('matches the feature-extraction pipeline (mean pooling, normalize)', async () => {
    const e = make({ kind: 'transformers', model: both });
    const texts = ['readFileSync', 'get_user_names', 'HTTPServer parse'];
    const mine = await e.embed(texts, 'document');
    const tf = await loadTransformers();
    const pipe = await tf.pipeline('feature-extraction', both, { dtype: 'q8', local_files_only: true });
    try {
      const ref = await pipe(texts, { pooling: 'mean', normalize: true });
      texts.forEach((_, i) => assertClose(mine[i], (ref.data as Float32Array).subarray(i * DIMS, (i + 1) * DIMS), 1e-5));
    } finally {
      await pipe.dispose();
    }
  });

  it('batching gives the same vectors as one-by-one, in order', async () => {
    const texts = ['parse', 'getUserName', 'readFile sync sync sync sync', 'HTTP', 'server request', '(); {}', 'names', 'query doc'];
    const batched = await make({ kind: 'transformers', model: both, batchSize: 3 }).embed(texts, 'document');
    const single = make({ kind: 'transformers', model: both, batchSize: 1 });
    assert.equal(batched.length, texts.length);
    for (let i = 0; i < texts.length; i++) {
      const [one] = await single.embed([texts[i]], 'document');
      assertClose(batched[i], one, 1e-6);
    }
    // A text with no word at all (only [CLS] [SEP]) has no direction: the zero vector, not NaN.
    assert.ok(batched[5].every((x) => x === 0), 'punctuation-only text yields zeros');
  });

  it('quantised vectors are close to fp32 ones', async () => {
    const q = make({ kind: 'transformers', model: both, quantized: true });
    const f = make({ kind: 'transformers', model: both, quantized: false });
    const texts = ['parseHttpRequest', 'readFileSync', 'getUserNames server'];
    const [vq, vf] = [await q.embed(texts, 'document'), await f.embed(texts, 'document')];
    assert.match(q.id, /:16:q$/);
    assert.notEqual(q.id, f.id);
    for (let i = 0; i < texts.length; i++) assert.ok(cosine(vq[i], vf[i]) > 0.999, `cosine ${cosine(vq[i], vf[i])}`);
  });

  it('applies query/document prefixes, puts them in the id, and truncates to maxLength', async () => {
    const e = make({ kind: 'transformers', model: both, quantized: false, queryPrefix: 'query ', documentPrefix: 'doc ', maxLength: 3 });
    await e.init();
    assert.match(e.id, /:len=3:qp=query%20:dp=doc%20$/);
    // maxLength 3 keeps [CLS] + prefix word + one more token.
    const [q] = await e.embed(['parse http'], 'query');
    assertClose(q, normalize(rowOf(w, 'query').map((x, i) => x + rowOf(w, 'parse')[i])), 1e-5);
    const [d] = await e.embed(['parse http'], 'document');
    assertClose(d, normalize(rowOf(w, 'doc').map((x, i) => x + rowOf(w, 'parse')[i])), 1e-5);
  });

  it('falls back to model.onnx when no quantised graph exists, and says so', async () => {
    const dir = join(root, 'fp32only');
    writeBagOfEmbeddingsModel(dir, { vocab: VOCAB, maxLength: 64 }, w, { quantize: false });
    const notes: string[] = [];
    const e = make({ kind: 'transformers', model: dir }, { log: (m) => notes.push(m) });
    await e.init();
    assert.doesNotMatch(e.id, /:q$/);
    assert.equal(notes.length, 1);
    assert.match(notes[0], /no onnx\/model_quantized\.onnx; using onnx\/model\.onnx/);
  });

  it('a missing or incomplete folder fails fast with a one-line message naming it', async () => {
    const missing = join(root, 'nope');
    const t0 = Date.now();
    await assert.rejects(make({ kind: 'transformers', model: missing }).init(), (err: Error) => {
      assert.match(err.message, new RegExp(`embedding model folder not found: ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.ok(!err.message.includes('\n'));
      return true;
    });
    assert.ok(Date.now() - t0 < 2000);
    const partial = join(root, 'partial');
    cpSync(both, partial, { recursive: true });
    unlinkSync(join(partial, 'onnx', 'model.onnx'));
    unlinkSync(join(partial, 'onnx', 'model_quantized.onnx'));
    await assert.rejects(make({ kind: 'transformers', model: partial }).init(), /has no onnx\/model_quantized\.onnx or onnx\/model\.onnx/);
    assert.throws(() => new TransformersEmbedder({ kind: 'transformers', model: '' }), /no model given/);
  });

  describe('hub ids', () => {
    let tf: Awaited<ReturnType<typeof loadTransformers>>;
    let saved: { host: string; remote: boolean };
    before(async () => {
      tf = await loadTransformers();
      saved = { host: tf.env.remoteHost, remote: tf.env.allowRemoteModels };
      tf.env.allowRemoteModels = true; // other suites in this process may have turned downloads off
    });
    after(() => { tf.env.remoteHost = saved.host; tf.env.allowRemoteModels = saved.remote; });

    it('downloads into cacheDir, then loads from the cache with downloads off', async () => {
      const hub = await hubServer(both, 'serve');
      try {
        tf.env.remoteHost = hub.url;
        const cacheDir = join(root, 'cache');
        const online = make({ kind: 'transformers', model: 'baton-test/tiny-bag', cacheDir });
        const [v] = await online.embed(['parseHttpRequest'], 'document');
        assert.equal(online.id, 'transformers:baton-test/tiny-bag:16:q');
        assert.ok(existsSync(join(cacheDir, 'baton-test/tiny-bag/onnx/model_quantized.onnx')), 'cached graph');
        assert.ok(hub.requests.some((u) => u.endsWith('/onnx/model_quantized.onnx')));
        const before = hub.requests.length;
        const offline = make({ kind: 'transformers', model: 'baton-test/tiny-bag', cacheDir, allowRemote: false });
        const [v2] = await offline.embed(['parseHttpRequest'], 'document');
        assertClose(v2, v, 0);
        assert.equal(hub.requests.length, before, 'no request with downloads off');
      } finally {
        hub.server.close();
      }
    });

    it('a hub model without a quantised graph falls back to model.onnx, and says so', async () => {
      const dir = join(root, 'hub-fp32');
      writeBagOfEmbeddingsModel(dir, { vocab: VOCAB, maxLength: 64 }, w, { quantize: false });
      const hub = await hubServer(dir, 'serve');
      try {
        tf.env.remoteHost = hub.url;
        const notes: string[] = [];
        const e = make({ kind: 'transformers', model: 'baton-test/fp32-only', cacheDir: join(root, 'cache3') }, { log: (m) => notes.push(m) });
        await e.init();
        assert.equal(e.id, 'transformers:baton-test/fp32-only:16');
        assert.deepEqual(notes, ['transformers embedder: baton-test/fp32-only has no onnx/model_quantized.onnx; using onnx/model.onnx (fp32)']);
      } finally {
        hub.server.close();
      }
    });

    it('a model that is not cached, with downloads off, fails with a clear message', async () => {
      const e = make({ kind: 'transformers', model: 'baton-test/absent', cacheDir: join(root, 'empty-cache'), allowRemote: false });
      await assert.rejects(e.init(), /embedding model baton-test\/absent is not in the cache .*empty-cache and downloads are off/);
    });

    it('a hub that never answers is abandoned after the timeout, with a message naming the model', async () => {
      const hub = await hubServer(both, 'hang');
      try {
        tf.env.remoteHost = hub.url;
        const t0 = Date.now();
        const e = make({ kind: 'transformers', model: 'baton-test/slow', cacheDir: join(root, 'cache2') }, { hubTimeoutMs: 500 });
        await assert.rejects(e.init(), /could not load embedding model baton-test\/slow from huggingface\.co .*no response within 500 ms.*check the network/);
        assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      } finally {
        hub.server.closeAllConnections();
        hub.server.close();
      }
    });
  });

  it('dispose releases the session; later calls fail clearly', async () => {
    const e = make({ kind: 'transformers', model: both });
    await e.embed(['parse'], 'query');
    await e.dispose();
    await assert.rejects(e.embed(['parse'], 'query'), /embedder was disposed/);
  });

  it('meanPoolNormalize ignores masked positions', () => {
    const hidden = new Float32Array([1, 0, 0, 1, 5, 5, /* b1 */ 3, 4, 0, 0, 0, 0]);
    const [a, b] = meanPoolNormalize(hidden, [2, 3, 2], [1, 1, 0, 1, 0, 0]);
    assertClose(a, [Math.SQRT1_2, Math.SQRT1_2], 1e-7);
    assertClose(b, [0.6, 0.8], 1e-7);
  });
});
