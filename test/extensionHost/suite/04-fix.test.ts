// A real diagnostic (from VS Code's own JSON / TypeScript language features) gets a "Fix with
// Baton" code action; running it asks the model for a codeFix and shows the change as a diff for
// review. In an extension-test host VS Code cancels modal dialogs unseen, so the review is refused
// and the file must stay untouched; the e2e run clicks Apply for real and checks the edit.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { BROKEN_JSON, BROKEN_TS } from '../../helpers/scriptedModel';
import { batonApi, modelRequests, waitFor, within, workspaceFile } from './harness';

async function diagnosticsOf(uri: vscode.Uri): Promise<vscode.Diagnostic[]> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  return waitFor(`diagnostics for ${uri.path}`, () => {
    const d = vscode.languages.getDiagnostics(uri).filter((x) => x.severity === vscode.DiagnosticSeverity.Error);
    return d.length ? d : undefined;
  }, 90_000, 300);
}

/** The "Fix with Baton" action's command; code actions can come after the server has seen the document. */
async function batonFix(uri: vscode.Uri, diagnostic: vscode.Diagnostic): Promise<vscode.Command> {
  return waitFor('a "Fix with Baton" code action', async () => {
    const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
      'vscode.executeCodeActionProvider', uri, diagnostic.range);
    const action = (actions ?? []).find((a) => /fix with baton/i.test(a.title));
    if (!action) return undefined;
    return 'command' in action && typeof action.command === 'object' ? action.command : action as vscode.Command;
  }, 30_000, 500);
}

for (const broken of [BROKEN_JSON, BROKEN_TS]) {
  describe(`fix a real diagnostic (${broken.path})`, () => {
    it('offers "Fix with Baton" on the diagnostic, naming the baton command', async () => {
      await (await batonApi()).waitForIndexed(180_000);
      const uri = workspaceFile(broken.path);
      const [diagnostic] = await diagnosticsOf(uri);
      const command = await batonFix(uri, diagnostic);
      assert.ok(command.command.startsWith('baton.'), command.command);
    });

    it('asks the model for a codeFix and shows the proposal as a diff; refused, the file stays as it was', async () => {
      const uri = workspaceFile(broken.path);
      const [diagnostic] = await diagnosticsOf(uri);
      const command = await batonFix(uri, diagnostic);
      const before = (await vscode.workspace.openTextDocument(uri)).getText();
      const fixRequestsBefore = (await modelRequests()).filter((r) => r.codeFix).length;

      let proposed: string | undefined;
      const watch = vscode.window.tabGroups.onDidChangeTabs(async () => {
        for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
          if (tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.path.endsWith(broken.path) && proposed === undefined) {
            proposed = (await vscode.workspace.openTextDocument(tab.input.modified)).getText();
          }
        }
      });
      try {
        await within(command.command, vscode.commands.executeCommand(command.command, ...(command.arguments ?? [])), 120_000);
      } finally {
        watch.dispose();
      }
      assert.ok((await modelRequests()).filter((r) => r.codeFix).length > fixRequestsBefore, 'the model was not asked for a codeFix');
      assert.equal(proposed, broken.text.replace(broken.bad, broken.good), 'the diff did not show the proposed file');
      assert.equal((await vscode.workspace.openTextDocument(uri)).getText(), before, 'a refused change was applied');
    });
  });
}
