// Lets chatView.ts run in plain Node: a minimal stand-in for the `vscode` module (only what the chat
// view touches), a fake WebviewView that records what is posted to it, a Memento, and a scripted
// ChatBackend. Install the stand-in before requiring chatView (see webviewHost.test.ts).
import Module from 'node:module';
import type { AskResponse, Citation, ConversationResponse, ModelsResponse, RunProgress, ToWebview } from '../../src/protocol';
import type { ChatAskRequest, ChatBackend, EditorContext } from '../../src/extension/chat/chatBackend';

class FakeUri {
  constructor(readonly path: string) {}
  static joinPath(base: FakeUri, ...parts: string[]): FakeUri {
    return new FakeUri([base.path, ...parts].join('/'));
  }
  toString(): string {
    return `file://${this.path}`;
  }
}

export const executedCommands: string[] = [];

const fakeVscode = {
  Uri: FakeUri,
  commands: {
    executeCommand: async (command: string): Promise<void> => {
      executedCommands.push(command);
    },
  },
};

let installed = false;
/** Makes `require('vscode')` return the stand-in (idempotent). */
export function installFakeVscode(): void {
  if (installed) return;
  installed = true;
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fakeVscode : original.call(this, request, ...rest);
  };
}

export const extensionUri = new FakeUri('/ext');

export class FakeWebviewView {
  readonly posted: ToWebview[] = [];
  private listener: ((raw: unknown) => void) | undefined;
  private disposeListener: (() => void) | undefined;
  shown = 0;
  readonly webview = {
    options: {} as { enableScripts?: boolean; localResourceRoots?: FakeUri[] },
    html: '',
    cspSource: 'https://cdn.test',
    asWebviewUri: (uri: FakeUri) => new FakeUri(`/webview${uri.path}`),
    postMessage: async (message: ToWebview): Promise<boolean> => {
      this.posted.push(message);
      return true;
    },
    onDidReceiveMessage: (listener: (raw: unknown) => void) => {
      this.listener = listener;
      return { dispose: () => { this.listener = undefined; } };
    },
  };
  onDidDispose(listener: () => void): { dispose(): void } {
    this.disposeListener = listener;
    return { dispose: () => undefined };
  }
  show(): void {
    this.shown++;
  }
  /** Delivers a message as the webview would post it. */
  receive(raw: unknown): void {
    this.listener?.(raw);
  }
  dispose(): void {
    this.disposeListener?.();
  }
  ofType<T extends ToWebview['type']>(type: T): Extract<ToWebview, { type: T }>[] {
    return this.posted.filter((m): m is Extract<ToWebview, { type: T }> => m.type === type);
  }
}

export class FakeMemento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return (this.values.has(key) ? this.values.get(key) : fallback) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
  }
}

interface PendingAsk {
  request: ChatAskRequest;
  runId: string;
  progress: (p: RunProgress) => void;
  resolve: (r: AskResponse) => void;
  reject: (err: Error) => void;
}

/** A ChatBackend whose asks are finished by the test; every other call is recorded. */
export class ScriptedBackend implements ChatBackend {
  readonly calls: string[] = [];
  readonly asks: PendingAsk[] = [];
  conversationsStore = new Map<string, ConversationResponse>();
  modelList: ModelsResponse = { current: 'm1', available: ['m1', 'm2'] };
  /** The workspace's files by path, with their line counts: only citations into these are chips. */
  files = new Map<string, number>();
  /** The editor's file and selection; set it and call editorChanged() as an editor would. */
  editor: EditorContext | undefined;
  private readonly editorListeners = new Set<() => void>();
  editorChanged(): void {
    for (const listener of this.editorListeners) listener();
  }
  editorContext(): EditorContext | undefined {
    return this.editor;
  }
  onEditorContextChanged(listener: () => void): { dispose(): void } {
    this.editorListeners.add(listener);
    return { dispose: () => this.editorListeners.delete(listener) };
  }

  ask(request: ChatAskRequest, onProgress: (p: RunProgress) => void): { runId: string; done: Promise<AskResponse> } {
    const runId = `run${this.asks.length + 1}`;
    const done = new Promise<AskResponse>((resolve, reject) => this.asks.push({ request, runId, progress: onProgress, resolve, reject }));
    return { runId, done };
  }
  async cancel(runId: string): Promise<void> {
    this.calls.push(`cancel ${runId}`);
  }
  async models(): Promise<ModelsResponse> {
    return this.modelList;
  }
  async pickModel(model: string): Promise<void> {
    this.calls.push(`pickModel ${model}`);
  }
  async conversations() {
    return [...this.conversationsStore.values()].map((c) => ({ id: c.id, title: c.title, updatedAt: '2024-01-01T00:00:00Z', turns: c.messages.length }));
  }
  async conversation(id: string): Promise<ConversationResponse> {
    const found = this.conversationsStore.get(id);
    if (!found) throw new Error(`no conversation ${id}`);
    return found;
  }
  async lineCount(path: string): Promise<number | undefined> {
    return this.files.get(path);
  }
  async openCitation(c: Citation): Promise<void> {
    this.calls.push(`openCitation ${c.path}:${c.startLine}-${c.endLine}`);
  }
  async insertAtCursor(text: string): Promise<void> {
    this.calls.push(`insert ${text}`);
  }
  async applyAsDiff(text: string, language?: string): Promise<void> {
    this.calls.push(`apply ${language} ${text}`);
  }
  async copy(text: string): Promise<void> {
    this.calls.push(`copy ${text}`);
  }
}

/** Lets pending promise callbacks (backend calls, memento updates) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}
