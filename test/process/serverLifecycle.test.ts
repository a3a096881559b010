// The language server started as `baton lsp --stdio` with the packaged embedder, and the ways a
// start can go wrong (no folder, a bad config file) without the server going down.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LspClient } from '../helpers/lspClient';
import { makeWorkspace, REPO_ROOT, type TempWorkspace } from '../helpers/workspace';

describe('language server lifecycle', function () {
  this.timeout(120_000);
  let ws: TempWorkspace;
  let client: LspClient | undefined;
  beforeEach(() => { ws = makeWorkspace(); });
  afterEach(async () => {
    await client?.stop();
    client = undefined;
    ws.remove();
  });

  it('`baton lsp --stdio` indexes with the packaged embedder, reporting embedding progress, and searches hybrid', async () => {
    client = await LspClient.start({ root: ws.root, args: [join(REPO_ROOT, 'bin', 'baton.js'), 'lsp', '--stdio'] });
    const indexed = await client.waitForState('indexed', 0, 100_000);
    assert.ok(indexed.chunks > 0 && indexed.chunksEmbedded === indexed.chunks, JSON.stringify(indexed));
    assert.match(indexed.embedder ?? '', /baton/);
    assert.equal(indexed.message, undefined);
    const embedding = client.statuses.filter((s) => s.phase === 'embed');
    assert.ok(embedding.length > 0, 'embedding progress was reported');
    assert.ok(embedding.every((s) => s.state === 'indexing' && s.chunksToEmbed > 0));
    const response = await client.request('baton/search', { query: 'how does the retry helper wait between attempts', k: 5 });
    assert.equal(response.mode, 'hybrid');
    assert.ok(response.results.some((r) => r.sources.includes('dense')), JSON.stringify(response.results));
  });

  it('without a workspace folder it answers requests with a readable error', async () => {
    client = await LspClient.start({ settings: { embedder: 'none' } });
    await assert.rejects(client.request('baton/search', { query: 'x' }), /needs a workspace folder/);
    assert.deepEqual(await client.request('baton/cancel', { runId: 'none' }), { cancelled: false });
  });

  it('a damaged manifest is rebuilt from the shard files on start, and the status says so', async () => {
    const first = await LspClient.start({ root: ws.root, settings: { embedder: 'none' } });
    await first.waitForState('indexed');
    await first.stop();
    writeFileSync(join(ws.root, '.baton', 'manifest.json'), '{ "format": 2, "shards": "garbage" ');
    client = await LspClient.start({ root: ws.root, settings: { embedder: 'none' } });
    const indexed = await client.waitForState('indexed');
    assert.match(indexed.message ?? '', /manifest\.json was damaged \(not valid JSON\): rebuilt it from the shard files/);
    assert.ok((await client.request('baton/search', { query: 'verify session token' })).results.length > 0);
  });

  it('a bad baton.config.json becomes a status message; indexing goes on with the defaults', async () => {
    ws.write('baton.config.json', '{ "embedder": { "kind": "none" }, "typo": 1 }');
    client = await LspClient.start({ root: ws.root, settings: { embedder: 'none', workspaceTrusted: true } });
    const indexed = await client.waitForState('indexed');
    assert.match(indexed.message ?? '', /baton\.config\.json: unknown setting "typo" \(using the defaults until it is fixed\)/);
    assert.ok(indexed.chunks > 0);
    const response = await client.request('baton/search', { query: 'parse invoice', k: 3 });
    assert.ok(response.results.length > 0);
  });
});
