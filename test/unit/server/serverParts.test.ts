// The language server's pure parts: status throttling and ETA, settings over the workspace config,
// and code actions filtered by the kinds a client asks for.
import assert from 'node:assert/strict';
import { codeActionsFor } from '../../../src/server/codeActions';
import { IndexStatusReporter } from '../../../src/server/indexStatus';
import { forEditor } from '../../../src/server/wording';
import { LlmClient } from '../../../src/core/llm/client';
import { effectiveConfig, embedderFromSetting, parseSettings } from '../../../src/server/settings';
import type { IndexStatus } from '../../../src/protocol';
import { makeWorkspace } from '../../helpers/workspace';

describe('server parts', () => {
  it('sends index progress at most every interval, state changes at once, with an ETA from the measured rate', async () => {
    const sent: IndexStatus[] = [];
    let now = 1_000;
    const reporter = new IndexStatusReporter((s) => sent.push(s), 200, () => now);
    reporter.beginRun();
    assert.equal(sent.length, 1);
    for (let i = 1; i <= 10; i++) {
      now += 10;
      reporter.progress({ phase: 'scan', filesScanned: i * 50, filesChanged: i, chunksToEmbed: 0, chunksEmbedded: 0 });
    }
    assert.equal(sent.length, 1, 'progress within the interval waits');
    now += 200;
    reporter.progress({ phase: 'embed', filesScanned: 500, filesChanged: 0, chunksToEmbed: 100, chunksEmbedded: 0 });
    now += 1_000;
    reporter.progress({ phase: 'embed', filesScanned: 500, filesChanged: 0, chunksToEmbed: 100, chunksEmbedded: 20 });
    const last = sent.at(-1)!;
    assert.equal(last.phase, 'embed');
    assert.equal(last.chunksEmbedded, 20);
    assert.equal(last.etaSeconds, 4, '80 chunks left at 20 chunks/s');
    reporter.set({ state: 'indexed', files: 500, chunks: 100 });
    assert.deepEqual(sent.at(-1), { state: 'indexed', files: 500, chunks: 100, chunksEmbedded: 20, chunksToEmbed: 100, embedder: null });
    reporter.dispose();
  });

  it('puts the editor settings over baton.config.json and names a bad config instead of failing', () => {
    const ws = makeWorkspace();
    try {
      ws.write('baton.config.json', JSON.stringify({ ignore: ['*.log'], embedder: { kind: 'none' } }));
      const e = effectiveConfig(ws.root, parseSettings({ ignore: ['tmp/**', 3], model: 'm1', baseUrl: 'http://127.0.0.1:9/v1', approval: 'never', bogus: 1 }), {}, true);
      assert.deepEqual(e.config.ignore, ['*.log', 'tmp/**']);
      assert.deepEqual(e.config.embedder, { kind: 'none' });
      assert.equal(e.env.BATON_MODEL, 'm1');
      assert.equal(e.env.OPENAI_BASE_URL, 'http://127.0.0.1:9/v1');
      assert.equal(e.approval, 'never');
      assert.deepEqual(e.problems, []);
      ws.write('baton.config.json', '{ nope');
      const bad = effectiveConfig(ws.root, {}, {}, true);
      assert.match(bad.problems[0], /baton\.config\.json: not valid JSON .*using the defaults/);
      assert.deepEqual(bad.config.embedder, { kind: 'baton' });
    } finally {
      ws.remove();
    }
  });

  it('reads the embedder setting: packaged, none, a transformers model, openai on the configured server', () => {
    assert.deepEqual(embedderFromSetting('baton', undefined), { kind: 'baton' });
    assert.deepEqual(embedderFromSetting('none', undefined), { kind: 'none' });
    assert.deepEqual(embedderFromSetting('Xenova/all-MiniLM-L6-v2', undefined), { kind: 'transformers', model: 'Xenova/all-MiniLM-L6-v2' });
    assert.deepEqual(embedderFromSetting('openai:text-embedding-3-small', 'http://127.0.0.1:1/v1'), { kind: 'openai', model: 'text-embedding-3-small', baseURL: 'http://127.0.0.1:1/v1' });
  });

  it('offers only the code action kinds the client asks for', () => {
    const range = { start: { line: 1, character: 0 }, end: { line: 3, character: 0 } };
    const params = (only?: string[]) => ({
      textDocument: { uri: 'file:///w/a.ts' }, range,
      context: { diagnostics: [{ range, message: 'boom' }], ...(only ? { only } : {}) },
    });
    assert.equal(codeActionsFor(params()).length, 5);
    assert.deepEqual(codeActionsFor(params(['quickfix'])).map((a) => a.title), ['Fix with Baton', 'Explain problem']);
    assert.deepEqual(codeActionsFor(params(['refactor'])).map((a) => a.title), ['Explain', 'Generate tests', 'Document']);
  });

  it('rewords the CLI remedies in core messages as palette commands', () => {
    assert.equal(forEditor('the index has no vectors yet; run `baton index`'), 'the index has no vectors yet; run "Baton: Rebuild Index"');
    assert.equal(forEditor('corrupt; run `baton index --rebuild` to rebuild it'), 'corrupt; run "Baton: Rebuild Index" to rebuild it');
    assert.equal(forEditor('nothing to reword'), 'nothing to reword');
  });

  it('turns the core\'s "no model" advice into the editor\'s commands', async () => {
    // The real message: no model configured and no local server on the probed ports.
    const err = await LlmClient.fromConfig({}, {}).then(() => null, (e: Error) => e);
    assert.ok(err, 'no model can be configured from an empty environment');
    const worded = forEditor(err.message);
    assert.match(worded, /run "Baton: Configure Model" \(and "Baton: Set API Key" if the server needs a key\)/, worded);
    assert.doesNotMatch(worded, /set BATON_MODEL \(plus/);
  });
});
