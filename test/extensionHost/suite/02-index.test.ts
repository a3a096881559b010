// The language server indexes the workspace and answers searches with fixture code; Rebuild Index
// runs the index again.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/protocol';
import { batonApi, waitFor, within } from './harness';

describe('index and search', () => {
  it('reaches "indexed" with the fixture files', async () => {
    const api = await batonApi();
    const status = await api.waitForIndexed(180_000);
    assert.equal(status.state, 'indexed');
    assert.ok(status.files >= 5, `files: ${status.files}`);
    assert.ok(status.chunks >= status.files, `chunks: ${status.chunks}`);
  });

  it('search returns fixture code with 1-based line ranges', async () => {
    const api = await batonApi();
    const res = await api.search('retry an operation with exponential backoff', 5);
    assert.ok(res.results.length > 0, 'no results');
    const top = res.results.find((r) => r.path === 'src/util/retry.ts');
    assert.ok(top, `retry.ts not in ${res.results.map((r) => r.path).join(', ')}`);
    assert.ok(top.startLine >= 1 && top.endLine >= top.startLine);
    assert.match(top.text, /retryWithBackoff/);
  });

  it('ignored and secret files are not searchable', async () => {
    const api = await batonApi();
    const res = await api.search('DATABASE_PASSWORD hunter2 vendoredHelper builtArtifact', 20);
    const paths = res.results.map((r) => r.path);
    for (const p of ['.env', 'vendor/thirdParty.js', 'build/output.js', 'app.log']) assert.ok(!paths.includes(p), `${p} was indexed`);
  });

  it('a file created on disk is found by search after the automatic re-index', async () => {
    const api = await batonApi();
    const { files } = await api.waitForIndexed(180_000);
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const file = vscode.Uri.joinPath(folder, 'src', 'freshlyAdded.ts');
    await vscode.workspace.fs.writeFile(file, Buffer.from('export function quokkaZebraLedger(): number {\n  return 7;\n}\n'));
    try {
      const hit = await waitFor('the new file in search results', async () => {
        const res = await api.search('quokkaZebraLedger', 5);
        return res.results.find((r) => r.path === 'src/freshlyAdded.ts');
      }, 60_000, 500);
      assert.match(hit.text, /quokkaZebraLedger/);
    } finally {
      await vscode.workspace.fs.delete(file);
    }
    // The deletion is picked up the same way: the index is back to the fixture's files.
    await waitFor('the deleted file to leave the index', async () => {
      const s = await api.indexStatus();
      return s.state === 'indexed' && s.files === files;
    }, 60_000, 500);
    const res = await api.search('quokkaZebraLedger', 5);
    assert.ok(!res.results.some((r) => r.path === 'src/freshlyAdded.ts'), 'the deleted file is still found');
  });

  it('the Rebuild Index command indexes again', async () => {
    const api = await batonApi();
    const before = await api.waitForIndexed(180_000);
    await within('baton.rebuildIndex', vscode.commands.executeCommand(COMMANDS.rebuildIndex), 60_000);
    const after = await waitFor('a new completed index run', async () => {
      const s = await api.indexStatus();
      if (s.state === 'error') throw new Error(`index error: ${s.message}`);
      return s.state === 'indexed' && s.updatedAt !== before.updatedAt ? s : undefined;
    }, 180_000, 500);
    assert.equal(after.files, before.files);
    const res = await api.search('retryWithBackoff', 3);
    assert.ok(res.results.some((r) => r.path === 'src/util/retry.ts'));
  });
});
