// Activation: the extension activates in a real extension host, hands back its API, starts the
// language server, and registers every command it contributes.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/protocol';
import { EXTENSION_ID, batonApi, within } from './harness';

describe('activation', () => {
  it('activates and returns the BatonApi', async () => {
    const api = await batonApi();
    for (const fn of ['ready', 'indexStatus', 'waitForIndexed', 'search', 'ask', 'runWorkflow', 'traces'] as const) {
      assert.equal(typeof api[fn], 'function', `BatonApi.${fn}`);
    }
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
  });

  it('starts the language server (ready resolves)', async () => {
    const api = await batonApi();
    await within('api.ready()', api.ready(), 60_000);
    const status = await api.indexStatus();
    assert.ok(['starting', 'indexing', 'indexed'].includes(status.state), `state ${status.state}: ${status.message ?? ''}`);
  });

  it('registers every command in COMMANDS', async () => {
    await batonApi();
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = Object.values(COMMANDS).filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `not registered: ${missing.join(', ')}`);
  });

  it('contributes exactly the commands in COMMANDS', () => {
    const root = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
    assert.deepEqual(pkg.contributes.commands.map((c) => c.command).sort(), Object.values(COMMANDS).sort());
  });
});
