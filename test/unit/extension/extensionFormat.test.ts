import assert from 'node:assert/strict';
import type { IndexStatus, SearchHit } from '../../../src/protocol';
import { describeRunProgress, formatEta, indexStatusDetails, presentIndexStatus, presentSearchHit, previewLine } from '../../../src/extension/format';

const base: IndexStatus = { state: 'indexed', files: 12, chunks: 1234, chunksEmbedded: 0, chunksToEmbed: 0, embedder: 'baton' };

describe('extension: status and item formatting', () => {
  it('shows embedding progress with counts and an ETA while indexing', () => {
    const view = presentIndexStatus({ ...base, state: 'indexing', phase: 'embed', chunksEmbedded: 120, chunksToEmbed: 900, etaSeconds: 12.4 });
    assert.equal(view.text, '$(sync~spin) Baton: indexing 120/900 chunks, ~12 s');
    assert.equal(view.error, false);
    assert.match(view.tooltip, /Embedded: 120\/900/);
  });

  it('counts files while scanning, before anything is to embed', () => {
    assert.equal(presentIndexStatus({ ...base, state: 'indexing', phase: 'scan', files: 42 }).text, '$(sync~spin) Baton: indexing 42 files');
  });

  it('shows the chunk count with thousands separators once indexed', () => {
    assert.equal(presentIndexStatus(base).text, '$(database) Baton: 1,234 chunks');
  });

  it('flags errors and puts the message in the tooltip', () => {
    const view = presentIndexStatus({ ...base, state: 'error', message: 'disk full' });
    assert.equal(view.text, '$(warning) Baton: index error');
    assert.equal(view.error, true);
    assert.match(view.tooltip, /disk full/);
  });

  it('says when search is lexical-only', () => {
    assert.ok(indexStatusDetails({ ...base, embedder: null }).includes('Embedder: none (lexical search only)'));
  });

  it('rounds ETAs to a readable unit', () => {
    assert.equal(formatEta(0.2), '~1 s');
    assert.equal(formatEta(89), '~89 s');
    assert.equal(formatEta(150), '~3 min');
    assert.equal(formatEta(3 * 3600), '~3.0 h');
  });

  it('describes run progress events for a progress notification', () => {
    assert.equal(describeRunProgress({ runId: 'r', kind: 'tool', name: 'readFile', status: 'call', detail: 'src/a.ts' }), 'readFile: call (src/a.ts)');
    assert.equal(describeRunProgress({ runId: 'r', kind: 'reset', reason: 'HTTP 429' }), 'retrying: HTTP 429');
    assert.equal(describeRunProgress({ runId: 'r', kind: 'notice', message: 'lexical only' }), 'lexical only');
    const waiting = { runId: 'r', kind: 'waiting', model: 'm', baseURL: 'http://h/v1', seconds: 10, message: 'waiting for m at http://h/v1… 10 s' } as const;
    assert.equal(describeRunProgress(waiting), 'waiting for m at http://h/v1… 10 s');
    assert.equal(describeRunProgress({ ...waiting, done: true }), undefined);
  });

  it('presents a search hit as path:line, symbol and a preview line', () => {
    const hit: SearchHit = { path: 'src/a.ts', startLine: 10, endLine: 20, score: 1, symbol: 'parse', language: 'typescript', text: '\n\n  export function parse() {\n}', sources: ['lexical', 'dense'] };
    assert.deepEqual(presentSearchHit(hit), { label: 'src/a.ts:10', description: 'parse · lexical+dense', detail: 'export function parse() {' });
    assert.equal(previewLine('x'.repeat(200), 10), `${'x'.repeat(9)}…`);
  });
});
