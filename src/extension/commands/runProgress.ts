// Long runs show a cancellable progress notification fed by the run's `baton/runProgress` stream;
// Cancel maps to `baton/cancel {runId}`, so the server stops the run and returns what it has.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { describeRunProgress } from '../format';
import type { Services } from '../services';

export function withRunProgress<T>(svc: Pick<Services, 'client' | 'runs' | 'output'>, title: string, work: (runId: string) => Promise<T>): Promise<T> {
  return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const runId = randomUUID();
    let shown: string | undefined;
    const unlisten = svc.runs.listen(runId, (p) => {
      const message = describeRunProgress(p);
      if (message !== undefined && message !== shown) progress.report({ message: (shown = message) });
    });
    const onCancel = token.onCancellationRequested(() => {
      svc.client.request('baton/cancel', { runId }).catch((err: Error) => svc.output.warn(`Cancelling ${runId}: ${err.message}`));
    });
    try {
      return await work(runId);
    } finally {
      unlisten();
      onCancel.dispose();
    }
  }));
}
