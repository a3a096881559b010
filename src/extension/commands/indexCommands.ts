// Rebuild Index (a cancellable progress notification fed by index status changes) and Show Index Status.
import * as vscode from 'vscode';
import { COMMANDS } from '../../protocol';
import { indexStatusDetails, presentIndexStatus } from '../format';
import type { Services } from '../services';

/** The status bar text without its codicon, as a progress message. */
const plain = (text: string) => text.replace(/^\$\([^)]*\)\s*/, '');

export async function rebuildIndex(svc: Pick<Services, 'client'>): Promise<void> {
  const status = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Baton: rebuilding the index', cancellable: true },
    async (progress, token) => {
      const listening = svc.client.onIndexStatus((s) => progress.report({ message: plain(presentIndexStatus(s).text) }));
      try {
        // The request's own cancellation ($/cancelRequest) stops the rebuild on the server.
        return await svc.client.request('baton/rebuildIndex', { full: true }, token);
      } catch (err) {
        if (token.isCancellationRequested) return undefined;
        throw err;
      } finally {
        listening.dispose();
      }
    },
  );
  if (!status) void vscode.window.showInformationMessage('Baton: index rebuild cancelled.');
  else if (status.state === 'error') void vscode.window.showErrorMessage(`Baton: index rebuild failed: ${status.message ?? 'unknown error'}`);
  else void vscode.window.showInformationMessage(`${plain(presentIndexStatus(status).text)}.`);
}

export async function showIndexStatus(svc: Pick<Services, 'client'>): Promise<void> {
  const status = await svc.client.request('baton/indexStatus', {});
  const rebuild = 'Rebuild Index';
  const choice = await vscode.window.showInformationMessage(
    plain(presentIndexStatus(status).text),
    { modal: true, detail: indexStatusDetails(status).join('\n') },
    rebuild,
  );
  if (choice === rebuild) await vscode.commands.executeCommand(COMMANDS.rebuildIndex);
}
