// Configure Model and Configure Embeddings (modelSetupFlow.ts over the language server and the
// settings), and Set API Key. The restart that applies new settings is extension.ts's; the flow
// waits for it, so the chat's model picker already lists the new model when it ends.
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { ModelServerProbe, TestModelResponse } from '../../protocol';
import { updateSetting, type SetupSettingKey } from '../settings';
import { runModelSetup, type SetupKind, type SetupResult, type SetupServer, type SetupSettings, type SetupUi, type SetupValues } from './modelSetupFlow';
import { vscodeSetupUi } from './setupUi';

type SetupServices = Pick<Services, 'client' | 'apiKeys'>;
/** How long to wait for the server to come back with the new settings before saying so anyway. */
const RESTART_WAIT_MS = 60_000;

/** An AbortSignal as the cancellation token a request takes. */
async function withToken<T>(signal: AbortSignal, run: (token: vscode.CancellationToken) => Promise<T>): Promise<T> {
  const source = new vscode.CancellationTokenSource();
  const onAbort = () => source.cancel();
  signal.addEventListener('abort', onAbort);
  try {
    return await run(source.token);
  } finally {
    signal.removeEventListener('abort', onAbort);
    source.dispose();
  }
}

function setupServer(svc: SetupServices): SetupServer {
  return {
    detect: async () => (await svc.client.request('baton/detectModelServers', {})).servers,
    probe: (params, signal): Promise<ModelServerProbe> => withToken(signal, (token) => svc.client.request('baton/probeModelServer', params, token)),
    test: (params, signal): Promise<TestModelResponse> => withToken(signal, (token) => svc.client.request('baton/testModel', params, token)),
  };
}

function setupSettings(svc: SetupServices): SetupSettings {
  const read = (): SetupValues => {
    const c = vscode.workspace.getConfiguration('baton');
    const value = (key: string) => c.get<string>(key)?.trim() || undefined;
    const values: SetupValues = {};
    const baseUrl = value('model.baseUrl');
    const chat = value('model.chat');
    const embedder = value('embedder');
    if (baseUrl) values.baseUrl = baseUrl;
    if (chat) values.chat = chat;
    if (embedder) values.embedder = embedder;
    return values;
  };
  return {
    current: read,
    apply: async (values, apiKey) => {
      const before = read();
      const keys: Array<[SetupSettingKey, string | undefined]> = [['model.baseUrl', values.baseUrl], ['model.chat', values.chat], ['embedder', values.embedder]];
      const changes = keys.filter(([key, value]) => value !== undefined && value !== before[settingField(key)]);
      const storedKey = apiKey && apiKey !== (await svc.apiKeys.get()) ? apiKey : undefined;
      if (!changes.length && !storedKey) return;
      // Subscribed before writing: the restart these writes cause must not be missed.
      const started = startsAfter(svc);
      if (storedKey) await svc.apiKeys.set(storedKey);
      for (const [key, value] of changes) await updateSetting(key, value!);
      await started(Date.now());
    },
  };
}

function settingField(key: SetupSettingKey): keyof SetupValues {
  return key === 'model.baseUrl' ? 'baseUrl' : key === 'model.chat' ? 'chat' : 'embedder';
}

/** Listens from now; the function it returns resolves at the first server start that began at or
 * after `t` (a start already under way read the settings before the last write). */
function startsAfter(svc: SetupServices): (t: number) => Promise<void> {
  const starts: number[] = [];
  let waiting: { t: number; resolve: () => void } | undefined;
  const subscription = svc.client.onDidStart(({ launchedAt }) => {
    starts.push(launchedAt);
    if (waiting && launchedAt >= waiting.t) waiting.resolve();
  });
  return (t) => new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      subscription.dispose();
      resolve();
    };
    const timer = setTimeout(done, RESTART_WAIT_MS);
    if (starts.some((s) => s >= t)) return done();
    waiting = { t, resolve: done };
  });
}

/** Configure Model ('chat') or Configure Embeddings ('embed'); `ui` is VS Code's unless a test scripts it. */
export function configureModel(svc: SetupServices, kind: SetupKind = 'chat', ui: SetupUi = vscodeSetupUi): Promise<SetupResult | undefined> {
  return runModelSetup(kind, { ui, server: setupServer(svc), settings: setupSettings(svc) });
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
