import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { createEmbedder, describeEmbedder, findPackageRoot } from '../../src/core/embed/createEmbedder';
import { TransformersEmbedder } from '../../src/core/embed/transformersEmbedder';
import type { Embedder } from '../../src/core/embed/types';
import { WorkerEmbedder } from '../../src/core/embed/workerEmbedder';
import { writeBagOfEmbeddingsModel } from '../../train/onnxExport';
import { OpenAIProtocolServer } from '../helpers/openaiProtocolServer';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'parse', 'http', 'request', 'server', 'get', 'user', 'name', '##s', 'read', 'file', 'sync'];
const DIMS = 12;

describe('WorkerEmbedder', function () {
  this.timeout(60_000);
  let root: string;
  let modelDir: string;
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  const owned: Embedder[] = [];
  const own = <T extends Embedder>(e: T): T => { owned.push(e); return e; };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'baton-worker-'));
    modelDir = join(root, 'model');
    let s = 11;
    const next = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    writeBagOfEmbeddingsModel(modelDir, { vocab: VOCAB, maxLength: 64 }, {
      dimensions: DIMS,
      embeddings: new Float32Array(VOCAB.length * DIMS).map(next),
    }, { quantize: true });
    baseURL = await server.start();
  });
  afterEach(async () => {
    await Promise.all(owned.splice(0).map((e) => e.dispose()));
    server.reset();
  });
  after(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('embeds off the main thread exactly as in-thread', async () => {
    const spec = { kind: 'transformers' as const, model: modelDir, batchSize: 2 };
    const inThread = own(new TransformersEmbedder(spec));
    const offThread = own(createEmbedder(spec, { inWorker: true })!);
    assert.ok(offThread instanceof WorkerEmbedder);
    assert.ok(isMainThread);
    const texts = ['parseHttpRequest', 'getUserNames', 'read_file_sync()', 'HTTPServer', 'nothing known'];
    const [a, b] = [await inThread.embed(texts, 'document'), await offThread.embed(texts, 'document')];
    assert.equal(offThread.id, inThread.id);
    assert.equal(offThread.dimensions, DIMS);
    assert.equal(b.length, texts.length);
    for (let i = 0; i < texts.length; i++) {
      assert.ok(b[i] instanceof Float32Array, 'vectors arrive as Float32Array');
      assert.deepEqual(Array.from(b[i]), Array.from(a[i]));
    }
    assert.deepEqual(await offThread.embed([], 'query'), []);
  });

  it('init failures travel back with their message', async () => {
    const e = own(new WorkerEmbedder({ kind: 'transformers', model: join(root, 'absent') }));
    await assert.rejects(e.init(), /embedding model folder not found: .*absent/);
  });

  it('abort cancels a pending request and the worker keeps serving', async () => {
    const e = own(new WorkerEmbedder({ kind: 'openai', baseURL, model: 'm', timeoutMs: 10_000 }));
    await e.init();
    server.script('POST /v1/embeddings', { kind: 'hang' });
    const controller = new AbortController();
    const pending = e.embed(['slow one'], 'document', controller.signal);
    setTimeout(() => controller.abort(new Error('user cancelled')), 150);
    const t0 = Date.now();
    await assert.rejects(pending, /user cancelled/);
    assert.ok(Date.now() - t0 < 2000);
    const [v] = await e.embed(['fast one'], 'document');
    assert.equal(v.length, 8);
    // Already-aborted signals never reach the worker.
    const before = server.requests.length;
    await assert.rejects(e.embed(['x'], 'document', AbortSignal.abort(new Error('too late'))), /too late/);
    assert.equal(server.requests.length, before);
  });

  for (const how of [{ exitCode: 3 }, { throwMessage: 'native boom' }]) {
    it(`a worker crash (${JSON.stringify(how)}) rejects pending requests and the next call respawns`, async () => {
      const e = own(new WorkerEmbedder({ kind: 'openai', baseURL, model: 'm', timeoutMs: 10_000 }));
      await e.init();
      server.script('POST /v1/embeddings', { kind: 'hang' });
      const pending = e.embed(['stuck'], 'document');
      await new Promise((r) => setTimeout(r, 100));
      e.debugCrash(how);
      await assert.rejects(pending, 'exitCode' in how ? /embedding worker crashed \(exit code 3\)/ : /embedding worker crashed \(native boom\)/);
      const [v] = await e.embed(['after the crash'], 'document');
      assert.equal(v.length, 8);
      assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
    });
  }

  it('dispose terminates the worker; later calls fail clearly', async () => {
    const e = own(new WorkerEmbedder({ kind: 'transformers', model: modelDir }));
    await e.embed(['parse'], 'query');
    await e.dispose();
    await assert.rejects(e.embed(['parse'], 'query'), /disposed/);
  });

  describe('createEmbedder', () => {
    it("returns null for 'none' and the right backend otherwise", () => {
      assert.equal(createEmbedder({ kind: 'none' }), null);
      assert.ok(createEmbedder({ kind: 'transformers', model: modelDir }) instanceof TransformersEmbedder);
      assert.equal(createEmbedder({ kind: 'openai', baseURL, model: 'm' })!.constructor.name, 'OpenAIEmbedder');
    });

    it("'baton' loads the packaged model from models/baton-code-search under the package root", async () => {
      const rootDir = findPackageRoot();
      assert.ok(rootDir, 'package root found by walking up');
      assert.ok(existsSync(join(rootDir, 'models', 'baton-code-search', 'onnx', 'model_quantized.onnx')));
      const e = own(createEmbedder({ kind: 'baton' })!);
      await e.init();
      // The model declares its document preprocessing (config.json baton.documentHeadRepeat).
      assert.match(e.id, /^baton:baton-code-search@[0-9a-f]{12}:384:q:head=5:doc=2$/);
      const [v] = await e.embed(['parse an http request'], 'query');
      assert.equal(v.length, 384);
      assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4);
    });

    it('describeEmbedder names the backend and never a key', () => {
      process.env.BATON_DESCRIBE_KEY = 'sk-secret-describe';
      try {
        const d = describeEmbedder({ kind: 'openai', baseURL: 'http://127.0.0.1:8080/v1', model: 'nomic', apiKeyEnv: 'BATON_DESCRIBE_KEY' });
        assert.match(d, /nomic at http:\/\/127\.0\.0\.1:8080\/v1/);
        assert.ok(!d.includes('sk-secret-describe'));
      } finally {
        delete process.env.BATON_DESCRIBE_KEY;
      }
      assert.match(describeEmbedder({ kind: 'none' }), /lexical/);
      assert.match(describeEmbedder({ kind: 'transformers', model: 'Xenova/all-MiniLM-L6-v2' }), /Xenova\/all-MiniLM-L6-v2 \(int8, cache .*baton\/models\)/);
      assert.match(describeEmbedder({ kind: 'baton' }), /models\/baton-code-search/);
    });
  });
});
