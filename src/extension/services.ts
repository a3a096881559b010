// What the command, chat and API modules share; built once in extension.ts.
import type * as vscode from 'vscode';
import type { ChatViewProvider } from './chat/chatView';
import type { BatonClient } from './lsp/client';
import type { ProposedContent } from './edits/diffReview';
import type { EditorTracker } from './editorTracker';
import type { RunProgressRouter } from './commands/runProgressRouter';
import type { ApiKeyStore } from './secrets';
import type { TraceStore } from './trace/traceModel';

export interface Services {
  client: BatonClient;
  runs: RunProgressRouter;
  output: vscode.LogOutputChannel;
  proposed: ProposedContent;
  editors: EditorTracker;
  apiKeys: ApiKeyStore;
  traces: TraceStore;
  chat: ChatViewProvider;
}
