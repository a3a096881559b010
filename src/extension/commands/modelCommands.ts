// Configure Model (pick one of the server's models, or point Baton at another server) and Set API
// Key. Both only write settings / SecretStorage; the restart that applies them is extension.ts's.
import * as vscode from 'vscode';
import type { Services } from '../services';
import { updateSetting } from '../settings';
import { errorMessage } from '../../base/common/errors';

interface ModelItem extends vscode.QuickPickItem {
  model?: string;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

async function enterBaseUrl(): Promise<void> {
  const current = vscode.workspace.getConfiguration('baton').get<string>('model.baseUrl') ?? '';
  const value = await vscode.window.showInputBox({
    title: 'Baton: model server base URL',
    prompt: 'An OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 (Ollama). Empty: detect a local server.',
    value: current,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() === '' || isHttpUrl(v.trim()) ? undefined : 'Enter an http:// or https:// URL'),
  });
  if (value === undefined) return;
  await updateSetting('model.baseUrl', value.trim());
}

export async function configureModel(svc: Pick<Services, 'client'>): Promise<void> {
  const pick = vscode.window.createQuickPick<ModelItem>();
  pick.title = 'Baton: Configure Model';
  pick.placeholder = 'Loading the server\'s models…';
  pick.busy = true;
  // Listening before the models load: the user may close the picker while it is still busy.
  const chosen = new Promise<ModelItem | undefined>((resolve) => {
    pick.onDidAccept(() => resolve(pick.selectedItems[0]));
    pick.onDidHide(() => resolve(undefined));
  });
  pick.show();
  const enterUrl: ModelItem = { label: '$(link) Enter base URL…', detail: 'Use another OpenAI-compatible server' };
  try {
    const models = await svc.client.request('baton/models', {});
    pick.items = [
      ...models.available.map((model) => ({ label: model, model, description: model === models.current ? 'current' : undefined })),
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      enterUrl,
    ];
    pick.placeholder = models.problem ?? 'Pick the chat model';
  } catch (err) {
    pick.items = [enterUrl];
    pick.placeholder = `The server did not list models: ${errorMessage(err)}`;
  } finally {
    pick.busy = false;
  }
  const item = await chosen;
  pick.dispose();
  if (item === enterUrl) await enterBaseUrl();
  else if (item?.model) await updateSetting('model.chat', item.model);
}

export async function setApiKey(svc: Pick<Services, 'apiKeys'>): Promise<void> {
  const value = await vscode.window.showInputBox({
    title: 'Baton: Set API Key',
    prompt: 'The model server\'s API key, kept in VS Code\'s secret storage. Leave empty to remove it.',
    password: true,
    ignoreFocusOut: true,
  });
  if (value === undefined) return;
  await svc.apiKeys.set(value);
  void vscode.window.showInformationMessage(value.trim() ? 'Baton: API key saved.' : 'Baton: API key removed.');
}
