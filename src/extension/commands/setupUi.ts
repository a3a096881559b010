// The model-setup steps (modelSetupFlow.ts) on VS Code's UI: a QuickPick that stays busy while its
// items load, an input box, and a cancellable progress notification.
import * as vscode from 'vscode';
import type { SetupChoice, SetupUi } from './modelSetupFlow';

interface Item<T> extends vscode.QuickPickItem {
  value: T;
}

async function pick<T>(_step: string, title: string, placeholder: string, items: SetupChoice<T>[] | Promise<SetupChoice<T>[]>): Promise<T | undefined> {
  const qp = vscode.window.createQuickPick<Item<T>>();
  qp.title = title;
  qp.placeholder = placeholder;
  qp.ignoreFocusOut = true;
  qp.matchOnDescription = true;
  // Listening before the items load: the user may close the picker while it is still busy.
  const chosen = new Promise<T | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]?.value));
    qp.onDidHide(() => resolve(undefined));
  });
  qp.busy = true;
  qp.show();
  try {
    qp.items = (await items).map((c) => ({ label: c.label, description: c.description, detail: c.detail, value: c.value }));
  } finally {
    qp.busy = false;
  }
  const value = await chosen;
  qp.dispose();
  return value;
}

export const vscodeSetupUi: SetupUi = {
  pick,
  input: (_step, opts) => Promise.resolve(vscode.window.showInputBox({
    title: opts.title, prompt: opts.prompt, value: opts.value, password: opts.password, ignoreFocusOut: true, validateInput: opts.validate,
  })),
  progress: <T>(title: string, task: (signal: AbortSignal) => Promise<T>) => Promise.resolve(vscode.window.withProgress<T>(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (_progress, token) => {
      const abort = new AbortController();
      const subscription = token.onCancellationRequested(() => abort.abort(new Error('cancelled')));
      return task(abort.signal).finally(() => { subscription.dispose(); });
    },
  )),
  info: (message) => void vscode.window.showInformationMessage(message),
};
