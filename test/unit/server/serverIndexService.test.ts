// The language server's index service: how file changes queue index runs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IndexService } from '../../../src/server/indexService';
import { effectiveConfig } from '../../../src/server/settings';
import type { IndexStatus } from '../../../src/protocol';
import { makeWorkspace, type TempWorkspace } from '../../helpers/workspace';

describe('server index service', function () {
  this.timeout(60_000);
  let ws: TempWorkspace;
  let service: IndexService;
  const statuses: IndexStatus[] = [];

  beforeEach(() => {
    ws = makeWorkspace();
    statuses.length = 0;
    service = new IndexService({
      root: ws.root,
      effective: () => effectiveConfig(ws.root, { embedder: 'none' }, {}),
      onStatus: (s) => statuses.push(s),
      log: () => undefined,
      debounceMs: 1,
    });
  });
  afterEach(async () => {
    await service.dispose();
    ws.remove();
  });

  it('a change made while a run is going gets a run of its own, so the edit is indexed', async () => {
    const first = service.update();
    // The first run has left the queue (it reports "indexing"); its walk may already be past any file.
    await waitFor(() => statuses.some((s) => s.state === 'indexing'));
    writeFileSync(join(ws.root, 'src', 'lateEdit.ts'), 'export const writtenDuringTheRun = "zebra-quokka-marker";\n');
    const second = service.update();
    assert.notEqual(second, first, 'a started run is not joined');
    await Promise.all([first, second]);
    const found = await service.search({ query: 'zebra quokka marker', mode: 'lexical' });
    assert.ok(found.results.some((r) => r.path === 'src/lateEdit.ts'), JSON.stringify(found.results.map((r) => r.path)));
  });

  it('changes made while a run waits in the queue share that run', async () => {
    const running = service.update();
    await waitFor(() => statuses.some((s) => s.state === 'indexing'));
    const queued = service.update();
    assert.equal(service.update(), queued, 'a waiting run is joined');
    await Promise.all([running, queued]);
  });

  it('an aborted request stops waiting for the first index at once', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped by the user'));
    await assert.rejects(service.acquire(controller.signal), /stopped by the user/);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
