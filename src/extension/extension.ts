// Entry point. Activation only wires things up: the language server starts in the background and
// every feature goes through it (the extension never loads the core). Returns the BatonApi.
import * as vscode from 'vscode';
import type { BatonApi } from './api';
import { ExtensionChatBackend } from './chat/lspChatBackend';
import { createBatonApi } from './batonApi';
import { ChatViewProvider } from './chat/chatView';
import { BatonClient } from './lsp/client';
import { registerCommands } from './commands/commands';
import { PROPOSED_SCHEME, ProposedContent } from './edits/diffReview';
import { createHostHandlers } from './lsp/editorHost';
import { EditorTracker } from './editorTracker';
import { RunProgressRouter } from './commands/runProgressRouter';
import { ApiKeyStore } from './secrets';
import { affectsServer, affectsTraceMaxRuns, traceMaxRuns } from './settings';
import { IndexStatusBar } from './statusBar';
import { traceLines, TraceStore } from './trace/traceModel';
import { TraceTreeProvider } from './trace/traceView';

/** workspaceState key of the Trace view's finished runs. */
const TRACE_RUNS_KEY = 'baton.trace.runs';

/** Settings edits come in bursts (a settings.json save, Configure Model); one restart covers them. */
const RESTART_DEBOUNCE_MS = 300;

let client: BatonClient | undefined;

export function activate(context: vscode.ExtensionContext): BatonApi {
  const output = vscode.window.createOutputChannel('Baton', { log: true });
  const apiKeys = new ApiKeyStore(context.secrets);
  const proposed = new ProposedContent();
  client = new BatonClient({
    serverModule: context.asAbsolutePath('dist/server.js'),
    output,
    apiKey: () => apiKeys.get(),
    host: createHostHandlers(proposed),
  });
  const runs = new RunProgressRouter();
  // Finished runs survive a reload of the window (workspace state, capped by baton.trace.maxRuns).
  const traces = new TraceStore(traceMaxRuns(), {
    load: () => context.workspaceState.get(TRACE_RUNS_KEY),
    save: (saved) => void context.workspaceState.update(TRACE_RUNS_KEY, saved),
  });
  const editors = new EditorTracker();
  const base = { client, runs, output, proposed, editors, apiKeys, traces };
  const backend = new ExtensionChatBackend(base, context.workspaceState);
  const chat = new ChatViewProvider(context.extensionUri, backend, context.workspaceState);
  const svc = { ...base, chat };
  const statusBar = new IndexStatusBar();
  const traceTree = new TraceTreeProvider(traces);
  const c = client;

  let restartTimer: NodeJS.Timeout | undefined;
  const scheduleRestart = (why: string) => {
    clearTimeout(restartTimer);
    if (!vscode.workspace.isTrusted) return; // nothing runs yet; trusting the folder starts it
    restartTimer = setTimeout(() => {
      // A restart would drop the answers still streaming: it waits for them to finish.
      if (runs.activeRuns > 0) return scheduleRestart(why);
      output.info(`Restarting the Baton server: ${why}`);
      statusBar.starting();
      c.restart().then(() => { refreshStatus(); void chat.modelsChanged(); }, (err: Error) => failed(err));
    }, RESTART_DEBOUNCE_MS);
  };
  const failed = (err: Error) => {
    output.error(`The Baton server did not start: ${err.message}`);
    statusBar.showProblem(err.message);
  };
  const refreshStatus = () => {
    c.request('baton/indexStatus', {}).then((s) => statusBar.update(s), (err: Error) => output.warn(`Index status: ${err.message}`));
  };

  context.subscriptions.push(
    output, editors, statusBar, traceTree,
    { dispose: () => clearTimeout(restartTimer) },
    vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, proposed),
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewType, chat, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.window.createTreeView('baton.trace', { treeDataProvider: traceTree }),
    c.onRunProgress((p) => runs.dispatch(p)),
    c.onIndexStatus((s) => statusBar.update(s)),
    c.onTrace((run) => {
      traces.add(run);
      for (const line of traceLines(run)) output.info(line);
    }),
    c.onDidStop(() => statusBar.showProblem('The Baton server stopped.')),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsServer(e)) scheduleRestart('settings changed');
      // A model chosen in the settings (or with Configure Model) replaces the chat picker's choice.
      if (e.affectsConfiguration('baton.model')) void backend.pickModel('');
      if (affectsTraceMaxRuns(e)) traces.setMax(traceMaxRuns());
    }),
    apiKeys.onDidChange(() => scheduleRestart('API key changed')),
    ...registerCommands(svc),
  );

  // Not awaited: activation returns at once; the server reads the key and starts in the background.
  // An untrusted folder could point the model settings or its baton.config.json at any server (and
  // name any environment variable as the key): nothing starts until the user trusts it.
  if (vscode.workspace.isTrusted) c.start().then(() => refreshStatus(), failed);
  else {
    statusBar.untrusted();
    context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => c.restart().then(() => refreshStatus(), failed)));
  }
  return createBatonApi(svc, backend);
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}
