// Document preprocessing is a property of the model: applied (by the indexer) only when its
// config.json declares it, and then the chunk's declaration line goes in front of it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { declarationLine, DOCUMENT_TEXT_FORMAT, documentText } from '../../../src/core/embed/documentText';
import { TransformersEmbedder } from '../../../src/core/embed/transformersEmbedder';
import { WorkerEmbedder } from '../../../src/core/embed/workerEmbedder';
import { indexWorkspace } from '../../../src/core/indexing/indexer';
import { IndexStore } from '../../../src/core/store/store';
import { batonDirOf } from '../../../src/core/indexing/workspaceIndex';
import { writeTinyModel } from '../../helpers/tinyModel';
import { FIXTURE_WORKSPACE, makeWorkspace } from '../../helpers/workspace';

const CHUNK = '\n  export function signSessionToken(session, secret) {\n  return hmac(secret, session);\n}';

describe('documentText', () => {
  it('puts the declaration line N times in front of the chunk', () => {
    const head = 'export function signSessionToken(session, secret) {';
    assert.equal(documentText({ text: CHUNK, symbol: 'signSessionToken' }, 2), `${head}\n${head}\n${CHUNK}`);
    assert.equal(documentText({ text: CHUNK, symbol: 'signSessionToken' }, 0), CHUNK);
  });

  it('without a symbol, the head is the first non-blank line; a blank chunk stays as it is', () => {
    const head = 'export function signSessionToken(session, secret) {';
    assert.equal(documentText({ text: CHUNK }, 1), `${head}\n${CHUNK}`);
    assert.equal(documentText({ text: '   \n' }, 4), '   \n');
  });

  it('finds the line that declares the symbol, not just the first line', () => {
    const text = "import { hmac } from './crypto';\n\nexport function sign(token) {\n  return hmac(token);\n}";
    assert.equal(declarationLine(text, 'sign'), 'export function sign(token) {');
    // a name inside a longer identifier is not its declaration
    assert.equal(declarationLine('const signer = 1;\nfunction sign() {}', 'sign'), 'function sign() {}');
  });

  it('qualifies a method with its class, and names the function a continuation chunk belongs to', () => {
    assert.equal(declarationLine('  handle(req, res) {\n    route(req);\n  }', 'Router.handle'), 'Router.handle handle(req, res) {');
    assert.equal(declarationLine('    retries++;\n    wait(delay);', 'fetchWithRetry'), 'fetchWithRetry retries++;');
    // symbols with regex characters are matched literally
    assert.equal(declarationLine('## Usage (v2)\ntext', 'Usage (v2)'), '## Usage (v2)');
  });

  it('caps the head at 200 characters', () => {
    const long = `function f(${'a, '.repeat(200)}z) {}`;
    assert.equal(declarationLine(long, 'f')!.length, 200);
  });
});

describe('document preprocessing declared by a model', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-doctext-'));
    await writeTinyModel(join(dir, 'plain'), [FIXTURE_WORKSPACE]);
    await writeTinyModel(join(dir, 'head'), [FIXTURE_WORKSPACE]);
    const configFile = join(dir, 'head', 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    writeFileSync(configFile, JSON.stringify({ ...config, baton: { ...config.baton, documentHeadRepeat: 3 } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is declared in the id and documentHeadRepeat, in the thread and through the worker; embed() itself never rewrites texts', async () => {
    const plain = new TransformersEmbedder({ kind: 'transformers', model: join(dir, 'plain'), quantized: false });
    const head = new TransformersEmbedder({ kind: 'transformers', model: join(dir, 'head'), quantized: false });
    const worker = new WorkerEmbedder({ kind: 'transformers', model: join(dir, 'head'), quantized: false });
    try {
      await Promise.all([plain.init(), head.init(), worker.init()]);
      assert.match(head.id, new RegExp(`:head=3:doc=${DOCUMENT_TEXT_FORMAT}$`));
      assert.doesNotMatch(plain.id, /head=/);
      assert.equal(head.documentHeadRepeat, 3);
      assert.equal(worker.documentHeadRepeat, 3);
      assert.equal(plain.documentHeadRepeat, 0);
      const [a] = await head.embed([CHUNK], 'document');
      const [b] = await plain.embed([CHUNK], 'document');
      assert.deepEqual([...a], [...b]);
    } finally {
      await Promise.all([plain.dispose(), head.dispose(), worker.dispose()]);
    }
  });

  it('the indexer embeds documentText(chunk) for such a model, and reuses the vector after a rename', async () => {
    const ws = makeWorkspace();
    const spec = { kind: 'transformers' as const, model: join(dir, 'head'), quantized: false };
    const embedder = new TransformersEmbedder(spec);
    try {
      const batonDir = batonDirOf(ws.root);
      ws.write('src/session.js', `${CHUNK.trim()}\n`);
      const first = await indexWorkspace({ root: ws.root, batonDir, embedder });
      assert.equal(first.embedded + first.fromCache, first.chunks);
      let store = await IndexStore.open(batonDir, { create: false });
      const chunk = [...store.chunks()].find((c) => c.path === 'src/session.js')!;
      assert.equal(chunk.symbol, 'signSessionToken');
      const stored = (await store.vectorsOf([chunk.id])).get(chunk.id)!;
      await store.close();
      const [expected] = await embedder.embed([documentText(chunk, 3)], 'document');
      const [bare] = await embedder.embed([chunk.text], 'document');
      assert.deepEqual([...stored], [...expected]);
      assert.notDeepEqual([...stored], [...bare]);

      // Same text and symbol under another path: the same embedded text, so a cache hit.
      renameSync(join(ws.root, 'src/session.js'), join(ws.root, 'src/sessionToken.js'));
      const second = await indexWorkspace({ root: ws.root, batonDir, embedder });
      assert.equal(second.embedded, 0);
      assert.ok(second.fromCache >= 1);
      store = await IndexStore.open(batonDir, { create: false });
      const moved = [...store.chunks()].find((c) => c.path === 'src/sessionToken.js')!;
      const [expectedMoved] = await embedder.embed([documentText(moved, 3)], 'document');
      assert.deepEqual([...(await store.vectorsOf([moved.id])).get(moved.id)!], [...expectedMoved]);
      await store.close();
    } finally {
      await embedder.dispose();
      ws.remove();
    }
  });
});
