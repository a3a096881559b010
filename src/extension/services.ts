// What the command, chat and API modules share; built once in extension.ts.
import type * as vscode from 'vscode';
import type { ChatViewProvider } from './chatView';
import type { BatonClient } from './client';
import type { ProposedContent } from './diffReview';
import type { EditorTracker } from './editorTracker';
import type { RunProgressRouter } from './runProgressRouter';
import type { ApiKeyStore } from './secrets';
import type { TraceStore } from './traceModel';

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
