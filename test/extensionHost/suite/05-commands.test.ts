// Commands that need no model run without errors in the real workbench.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/protocol';
import { batonApi, within } from './harness';

/** Commands may show a notification they do not wait on; one that throws fails the test. */
async function runs(command: string, ...args: unknown[]): Promise<void> {
  await within(command, vscode.commands.executeCommand(command, ...args), 30_000);
}

describe('commands', () => {
  before(async () => { await (await batonApi()).waitForIndexed(180_000); });

  it('Show Index Status runs (its modal dialog is cancelled by the test host)', async () => {
    await runs(COMMANDS.showIndexStatus);
  });

  it('Show Trace runs', async () => {
    await runs(COMMANDS.showTrace);
  });

  it('indexes with the packaged embedding model: search is hybrid (dense + lexical)', async () => {
    const api = await batonApi();
    const status = await api.indexStatus();
    assert.equal(status.state, 'indexed');
    assert.equal(typeof status.embedder, 'string', `no embedder: ${status.message ?? ''}`);
    assert.equal(status.chunksEmbedded, status.chunks, JSON.stringify(status));
    const res = await api.search('verify a signed session token', 5);
    assert.equal(res.mode, 'hybrid', res.notices.join(' '));
    assert.deepEqual(res.notices, []);
  });
});
