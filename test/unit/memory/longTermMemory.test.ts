import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createEmbedder } from '../../../src/core/embed/createEmbedder';
import type { Embedder } from '../../../src/core/embed/types';
import { detectSecret, LongTermMemory, SecretRejectedError } from '../../../src/core/memory/longTerm';
import { Trace } from '../../../src/core/trace/trace';
import { writeTinyModel } from '../../helpers/tinyModel';

const FACTS = [
  'Database migrations live in db/migrations and run with npm run migrate before the server starts.',
  'The team formats TypeScript with two-space indentation and single quotes.',
  'Release builds are produced by esbuild into the dist folder.',
  'The payment service retries failed webhooks three times with exponential backoff.',
  'User sessions expire after thirty minutes of inactivity.',
];

describe('LongTermMemory', function () {
  this.timeout(60_000);
  let ws: string;
  let clock: number;
  const now = () => new Date(Date.UTC(2025, 0, 1) + (clock += 1000));
  beforeEach(() => { ws = mkdtempSync(join(tmpdir(), 'baton-mem-')); clock = 0; });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));
  const memoryFile = () => join(ws, '.baton', 'memory', 'memory.json');

  describe('without an embedder (lexical)', () => {
    it('recalls from a workspace with no memory yet without loading vectra', () => {
    // A child process: mocha's own has vectra loaded by other suites. Every `baton ask` starts so.
    const dir = mkdtempSync(join(tmpdir(), 'baton-mem-empty-'));
    try {
      const script = `const { LongTermMemory } = require(${JSON.stringify(join(__dirname, '..', '..', '..', 'src', 'core', 'memory', 'longTerm.js'))});
        new LongTermMemory(${JSON.stringify(dir)}, { embedder: null }).recall('invoice total', 3).then((hits) =>
          console.log(JSON.stringify({ hits: hits.length, vectra: Object.keys(require.cache).some((k) => k.includes('/node_modules/vectra/')) })));`;
      const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
      assert.deepEqual(out, { hits: 0, vectra: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('remembers, lists, recalls by relevance, forgets, and persists across instances', async () => {
      const mem = new LongTermMemory(ws, { now });
      const items = await mem.rememberAll(FACTS.map((text, i) => ({ text, source: `conv-${i}` })));
      const answer = await mem.remember('Use `npm run migrate -- --dry-run` to preview migrations.', { kind: 'answer', source: 'conv-9' });
      assert.ok(existsSync(memoryFile()));

      const fresh = new LongTermMemory(ws);
      const list = await fresh.list();
      assert.equal(list.length, 6);
      assert.deepEqual(list[0], answer);
      assert.equal(list[0].kind, 'answer');

      const hits = await fresh.recall('how do I run the database migrations?', 3);
      assert.equal(hits[0].via, 'lexical');
      assert.ok([items[0].id, answer.id].includes(hits[0].id), hits[0].text);
      assert.ok(hits.slice(0, 2).some((h) => h.id === items[0].id));
      assert.ok(!hits.some((h) => h.id === items[1].id), 'formatting fact has nothing in common with the query');
      assert.equal((await fresh.recall('webhook retries', 1))[0].id, items[3].id);
      assert.deepEqual(await fresh.recall('zebra giraffe', 3), []);

      assert.equal(await fresh.forget(items[3].id), true);
      assert.equal(await fresh.forget(items[3].id), false);
      assert.equal((await new LongTermMemory(ws).list()).length, 5);
      assert.ok(!(await new LongTermMemory(ws).recall('webhook retries', 5)).some((h) => h.id === items[3].id));
    });

    it('does not duplicate the same fact and prunes the oldest beyond the cap', async () => {
      const mem = new LongTermMemory(ws, { now, maxItems: 3 });
      const a = await mem.remember('Alpha uses port 8080.');
      const again = await mem.remember('  alpha uses   port 8080. ');
      assert.equal(again.id, a.id);
      assert.equal((await mem.list()).length, 1);
      await mem.remember('Beta uses port 9090.');
      await mem.remember('Gamma uses port 7070.');
      await mem.remember('Delta uses port 6060.');
      assert.deepEqual((await mem.list()).map((i) => i.text.split(' ')[0]), ['Delta', 'Gamma', 'Beta']);
    });

    it('refuses text that looks like a credential, writing nothing', async () => {
      const mem = new LongTermMemory(ws, { now });
      const secrets = [
        'my key is sk-proj-abcdefghijklmnopqrstuvwxyz012345',
        'aws AKIAIOSFODNN7EXAMPLE works',
        '-----BEGIN RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----',
        'db password=hunter22',
        'config: api_key: "abcd1234efgh"',
        'token ghp_0123456789abcdefghijklmnopqrstuvwxyz',
      ];
      for (const text of secrets) {
        const err = await mem.remember(text).then(() => assert.fail(`accepted ${text}`), (e: unknown) => e);
        assert.ok(err instanceof SecretRejectedError, String(err));
        assert.match(err.message, /looks like a credential/);
        assert.ok(!err.message.includes('hunter22') && !err.message.includes('AKIAIOSFODNN7EXAMPLE'));
      }
      await assert.rejects(mem.rememberAll([{ text: 'fine fact' }, { text: 'password: s3cretvalue' }]), SecretRejectedError);
      await assert.rejects(mem.remember('fine fact', { source: 'sk-abcdefghijklmnopqrstuvwx' }), SecretRejectedError);
      assert.ok(!existsSync(memoryFile()), 'nothing written');
      for (const ok of ['The password field is required on the login form.', 'api_key = process.env.OPENAI_API_KEY', 'Ask the user for their password.', 'Use the sk- prefix check in validateKey().']) {
        assert.equal(detectSecret(ok), null, ok);
      }
      await mem.remember('The password field is required on the login form.');
    });

    it('reports a damaged memory file clearly', async () => {
      const mem = new LongTermMemory(ws, { now });
      await mem.remember('A fact.');
      writeFileSync(memoryFile(), '{"version":1,"items":[{');
      await assert.rejects(new LongTermMemory(ws).list(), new RegExp(`long-term memory .*memory\\.json cannot be read.*delete it`));
      await assert.rejects(new LongTermMemory(ws).remember('Another.'), /cannot be read/);
    });

    it('serialises concurrent writers so no fact is lost', async () => {
      const a = new LongTermMemory(ws, { now });
      const b = new LongTermMemory(ws, { now });
      await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).remember(`Fact number ${i} about module ${i}.`)));
      assert.equal((await new LongTermMemory(ws).list()).length, 12);
      assert.ok(!existsSync(join(ws, '.baton', 'memory', 'index.lock')));
    });
  });

  describe('with a transformers embedder', () => {
    let modelDir: string;
    let embedder: Embedder;
    before(async () => {
      modelDir = mkdtempSync(join(tmpdir(), 'baton-mem-model-'));
      const corpus = mkdtempSync(join(tmpdir(), 'baton-mem-corpus-'));
      writeFileSync(join(corpus, 'facts.txt'), FACTS.join('\n'));
      await writeTinyModel(modelDir, [corpus]);
      rmSync(corpus, { recursive: true, force: true });
      embedder = createEmbedder({ kind: 'transformers', model: modelDir, quantized: false })!;
      await embedder.init();
    });
    after(async () => {
      await embedder.dispose();
      rmSync(modelDir, { recursive: true, force: true });
    });

    // A random model has no semantics: what can be asserted is nearest-vector behaviour.
    it('stores vectors of the workspace embedder and recalls the identical text first', async () => {
      const mem = new LongTermMemory(ws, { now, embedder });
      const items = await mem.rememberAll(FACTS.map((text) => ({ text })));
      const stored = JSON.parse(readFileSync(memoryFile(), 'utf8')) as { items: Array<{ vector: number[]; metadata: { embedder: string } }> };
      assert.equal(stored.items.length, FACTS.length);
      assert.ok(stored.items.every((i) => i.vector.length === embedder.dimensions && i.metadata.embedder === embedder.id));
      for (const [i, fact] of FACTS.entries()) {
        const hits = await new LongTermMemory(ws, { embedder }).recall(fact, 3);
        assert.equal(hits[0].id, items[i].id);
        assert.equal(hits[0].via, 'dense');
        assert.ok(hits[0].score > 0.999, String(hits[0].score));
        assert.ok(hits[1].score < hits[0].score);
      }
    });

    it('re-embeds items stored without (or with another) embedder before dense recall', async () => {
      const items = await new LongTermMemory(ws, { now }).rememberAll(FACTS.map((text) => ({ text })));
      const trace = new Trace();
      const mem = new LongTermMemory(ws, { now, embedder, trace });
      const hits = await mem.recall(FACTS[2], 1);
      assert.equal(hits[0].id, items[2].id);
      assert.equal(hits[0].via, 'dense');
      assert.deepEqual(trace.ofKind('note').map((e) => e.name), ['memory.reembedded']);
      await mem.recall(FACTS[1], 1);
      assert.equal(trace.ofKind('note').length, 1, 're-embedded once');
    });

    it('falls back to lexical recall with a notice when the embedder fails', async () => {
      const broken: Embedder = {
        get id(): string { throw new Error('model folder is missing'); },
        dimensions: 0,
        init: () => Promise.reject(new Error('model folder is missing')),
        embed: () => Promise.reject(new Error('model folder is missing')),
        dispose: async () => {},
      };
      const mem = new LongTermMemory(ws, { now, embedder: broken });
      const items = await mem.rememberAll(FACTS.map((text) => ({ text })));
      assert.match(mem.notice!, /dense recall unavailable \(model folder is missing\)/);
      const hits = await mem.recall('payment webhooks retry', 2);
      assert.equal(hits[0].id, items[3].id);
      assert.equal(hits[0].via, 'lexical');
    });
  });
});
