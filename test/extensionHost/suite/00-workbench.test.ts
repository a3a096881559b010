// The harness itself: a real workbench with the fixture workspace open, and this extension loaded.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

describe('workbench', () => {
  it('opens the test workspace', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    assert.ok(folders[0].uri.fsPath.endsWith('workspace'), folders[0].uri.fsPath);
  });

  it('loads Baton from the repository (extensionDevelopmentPath)', () => {
    const ext = vscode.extensions.getExtension('baton-dev.baton');
    assert.ok(ext, 'baton-dev.baton is not loaded');
  });
});
