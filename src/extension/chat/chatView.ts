// The chat view's host side: serves the webview page, validates what it posts, and turns questions
// into backend asks whose progress streams back as messageStart/Delta/Reset/End.
// The host keeps a mirror of the webview's state (same reducer as the webview), so a view that is
// created late, hidden and re-shown, or reloaded always gets the whole conversation on `ready`.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { isValidCitation } from '../../base/common/citations';
import { initialState, reduce, type ChatState } from '../../webview/state';
import { parseFromWebview, type Citation, type ChatMessageDto, type ConversationResponse, type FromWebview, type RunProgress, type ToWebview } from '../../protocol';
import type { ChatBackend, EditorContext } from './chatBackend';
import { chatHtml, makeNonce } from './chatHtml';
import { checkCitations } from './citationCheck';
import { errorMessage } from '../../base/common/errors';

const CONVERSATION_KEY = 'baton.chat.conversationId';
const CONTEXT_DEBOUNCE_MS = 150;


function describe(raw: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(raw) ?? String(raw);
  } catch {
    text = String(raw);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function toMessages(conversation: ConversationResponse): ChatMessageDto[] {
  return conversation.messages.map((m, i) => ({
    id: `${conversation.id}-${i}`,
    role: m.role,
    text: m.text,
    ...(m.sources ? { sources: m.sources } : {}),
  }));
}

/** One chip per file and line range; the key the dropped chip is remembered by. */
function contextKey(c: EditorContext | undefined): string | undefined {
  return c && `${c.path}:${c.startLine ?? ''}-${c.endLine ?? ''}`;
}

function contextChip(c: EditorContext): { label: string; title: string } {
  const name = c.path.split('/').pop() ?? c.path;
  const lines = c.startLine === undefined ? '' : c.startLine === c.endLine ? `:${c.startLine}` : `:${c.startLine}-${c.endLine}`;
  const what = c.startLine === undefined ? 'the file' : 'the selected lines of';
  return { label: `${name}${lines}`, title: `Questions are sent with ${what} ${c.path}. × to leave it out.` };
}

function progressMessage(id: string, p: RunProgress): ToWebview {
  switch (p.kind) {
    case 'token': return { type: 'messageDelta', id, text: p.text };
    case 'reset': return { type: 'messageReset', id };
    case 'tool': return { type: 'status', text: `Tool ${p.name}: ${p.status}${p.detail ? ` (${p.detail})` : ''}` };
    case 'notice': return { type: 'status', text: p.message };
    case 'waiting': return { type: 'messageWaiting', id, text: p.done ? '' : p.message };
  }
}

export class ChatViewProvider implements vscode.WebviewViewProvider {
  static readonly viewType = 'baton.chat';

  private view: vscode.WebviewView | undefined;
  /** The webview has said `ready` and holds the current conversation. */
  private ready = false;
  private chat: ChatState = initialState();
  private loading: Promise<void> | undefined;
  private run: { runId: string } | undefined;
  /** Bumped when the conversation is switched, so a late answer cannot re-select the old one. */
  private generation = 0;
  /** The editor context the user removed from the chip; it comes back when the editor or selection changes. */
  private droppedContext: string | undefined;
  private contextTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly backend: ChatBackend,
    private readonly state: vscode.Memento,
    private readonly log: (line: string) => void = (line) => console.warn(`[baton.chat] ${line}`),
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const scripts = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const webview = view.webview;
    webview.options = { enableScripts: true, localResourceRoots: [scripts, media] };
    webview.html = chatHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(scripts, 'chat.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css')).toString(),
    });
    const subscription = webview.onDidReceiveMessage((raw: unknown) => this.receive(raw));
    // Selections change on every cursor move: the chip follows after a short pause.
    const contextChanges = this.backend.onEditorContextChanged(() => {
      clearTimeout(this.contextTimer);
      this.contextTimer = setTimeout(() => this.postContext(), CONTEXT_DEBOUNCE_MS);
    });
    view.onDidDispose(() => {
      subscription.dispose();
      contextChanges.dispose();
      clearTimeout(this.contextTimer);
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
      }
    });
  }

  /** Reveals the view and asks as if the user had typed the question; resolves when the answer ends. */
  async ask(question: string): Promise<void> {
    await this.reveal();
    await this.askNow(question);
  }

  /** Shows a workflow's result (explain, tests, generate) as an answer to a line naming the action. */
  async showResult(title: string, markdown: string, sources: Citation[]): Promise<void> {
    await this.reveal();
    await this.ensureLoaded();
    const answer = this.newId();
    this.post({ type: 'messageStart', id: this.newId(), role: 'user', text: title });
    this.post({ type: 'messageStart', id: answer, role: 'assistant', text: '' });
    this.post({ type: 'messageEnd', id: answer, text: markdown, ...(await this.checked(markdown, sources)) });
  }

  /** The sources and citations of an answer that point at real files and lines (see citationCheck.ts). */
  private checked(text: string, sources: readonly Citation[]): Promise<{ sources: Citation[]; citations: string[] }> {
    return checkCitations(text, sources.filter(isValidCitation), (path) => this.backend.lineCount(path));
  }

  /** A stored conversation's messages, their citations checked against the workspace as it is now. */
  private async messagesOf(conversation: ConversationResponse): Promise<ChatMessageDto[]> {
    return Promise.all(toMessages(conversation).map(async (m) => (m.role === 'assistant' ? { ...m, ...(await this.checked(m.text, m.sources ?? [])) } : m)));
  }

  private async reveal(): Promise<void> {
    if (this.view) {
      this.view.show(true);
      return;
    }
    for (const command of ['workbench.view.extension.baton', `${ChatViewProvider.viewType}.focus`]) {
      try {
        await vscode.commands.executeCommand(command);
      } catch (err) {
        this.log(`${command} failed: ${errorMessage(err)}`);
      }
    }
  }

  private post(message: ToWebview): void {
    this.chat = reduce(this.chat, message);
    if (this.view && this.ready) void this.view.webview.postMessage(message);
  }

  private newId(): string {
    return randomUUID();
  }

  private currentConversation(): string | undefined {
    return this.state.get<string>(CONVERSATION_KEY);
  }

  /** Loads the remembered conversation from the server's store once, so history survives reloads. */
  private ensureLoaded(): Promise<void> {
    this.loading ??= (async () => {
      const id = this.currentConversation();
      if (!id) return;
      try {
        const conversation = await this.backend.conversation(id);
        this.chat = reduce(this.chat, { type: 'conversation', id: conversation.id, messages: await this.messagesOf(conversation) });
      } catch (err) {
        this.log(`could not load conversation ${id}: ${errorMessage(err)}`);
        await this.state.update(CONVERSATION_KEY, undefined);
      }
    })();
    return this.loading;
  }

  private receive(raw: unknown): void {
    const message = parseFromWebview(raw);
    if (!message) {
      this.log(`ignored an invalid webview message: ${describe(raw)}`);
      return;
    }
    this.handle(message).catch((err: unknown) => {
      this.log(`${message.type} failed: ${errorMessage(err)}`);
      this.post({ type: 'status', text: `Baton: ${errorMessage(err)}` });
    });
  }

  private async handle(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready': return this.onReady();
      case 'ask': return this.askNow(message.question, message.model);
      case 'stop': return this.stop();
      case 'newConversation': return this.switchTo(null);
      case 'openConversation': return this.switchTo(message.id);
      case 'openCitation':
        if (isValidCitation(message.citation)) await this.backend.openCitation(message.citation);
        else this.log(`ignored an implausible citation: ${describe(message.citation)}`);
        return;
      case 'copy': return this.backend.copy(message.text);
      case 'insert': return this.backend.insertAtCursor(message.text);
      case 'apply': return this.backend.applyAsDiff(message.text, message.language);
      case 'pickModel':
        await this.backend.pickModel(message.model);
        return this.refreshModels();
      case 'dropContext':
        this.droppedContext = contextKey(this.backend.editorContext());
        return this.postContext();
    }
  }

  private async onReady(): Promise<void> {
    await this.ensureLoaded();
    this.ready = true;
    this.post({ type: 'conversation', id: this.chat.conversationId, messages: this.chat.messages });
    this.postContext();
    await Promise.all([this.refreshModels(), this.refreshHistory()]);
  }

  /** The editor context a question goes with now: none when the user dropped exactly this one. */
  private currentContext(): EditorContext | undefined {
    const context = this.backend.editorContext();
    const key = contextKey(context);
    if (key !== this.droppedContext) this.droppedContext = undefined;
    return key !== undefined && key === this.droppedContext ? undefined : context;
  }

  private postContext(): void {
    const context = this.currentContext();
    this.post({ type: 'context', context: context ? contextChip(context) : null });
  }

  /** The server restarted (new settings or key): the picker lists its models anew. */
  async modelsChanged(): Promise<void> {
    if (this.ready) await this.refreshModels();
  }

  private async refreshModels(): Promise<void> {
    try {
      const models = await this.backend.models();
      this.post({ type: 'models', current: models.current, available: models.available });
      // No model at all: the way out is Configure Model, not the environment variables the CLI reads.
      if (models.problem) this.post({ type: 'status', text: models.available.length ? models.problem : `${models.problem}. Or run "Baton: Configure Model".` });
    } catch (err) {
      this.post({ type: 'status', text: `Could not list models: ${errorMessage(err)}` });
    }
  }

  private async refreshHistory(): Promise<void> {
    try {
      const conversations = await this.backend.conversations();
      this.post({ type: 'history', conversations: conversations.map(({ id, title, updatedAt }) => ({ id, title, updatedAt })) });
    } catch (err) {
      this.log(`could not list conversations: ${errorMessage(err)}`);
    }
  }

  private async askNow(question: string, model?: string): Promise<void> {
    await this.ensureLoaded();
    if (this.run) {
      this.post({ type: 'status', text: 'Baton is still answering: press Stop first.' });
      return;
    }
    const generation = this.generation;
    let run: { runId: string } | undefined;
    const answer = this.newId();
    this.post({ type: 'messageStart', id: this.newId(), role: 'user', text: question });
    this.post({ type: 'messageStart', id: answer, role: 'assistant', text: '' });
    try {
      const conversationId = this.currentConversation();
      const withContext = this.currentContext() !== undefined;
      const handle = this.backend.ask(
        { question, withContext, ...(conversationId ? { conversationId } : {}), ...(model ? { model } : {}) },
        (p) => this.post(progressMessage(answer, p)),
      );
      run = { runId: handle.runId };
      this.run = run;
      const result = await handle.done;
      if (generation === this.generation) await this.state.update(CONVERSATION_KEY, result.conversationId);
      const note = [result.note, result.cancelled ? 'Stopped.' : undefined].filter(Boolean).join(' ');
      const excerpts = result.mode !== 'agent';
      this.post({
        type: 'messageEnd', id: answer, text: result.answer, ...(await this.checked(result.answer, result.sources)),
        ...(excerpts ? { excerpts } : {}), ...(note ? { note } : {}),
      });
    } catch (err) {
      // The question and whatever streamed stay; the error is shown on the answer.
      this.post({ type: 'messageEnd', id: answer, text: '', sources: [], error: errorMessage(err) });
    } finally {
      if (this.run === run) this.run = undefined;
    }
    await this.refreshHistory();
  }

  private async stop(): Promise<void> {
    if (!this.run) return;
    this.post({ type: 'status', text: 'Stopping…' });
    await this.backend.cancel(this.run.runId);
  }

  /** Switches to another conversation (null: a new one), stopping any answer in progress. */
  private async switchTo(id: string | null): Promise<void> {
    await this.ensureLoaded();
    await this.stop();
    this.run = undefined; // its late end is ignored: its message is not in the new conversation
    this.generation++;
    if (id === null) {
      await this.state.update(CONVERSATION_KEY, undefined);
      this.post({ type: 'conversation', id: null, messages: [] });
    } else {
      const conversation = await this.backend.conversation(id);
      await this.state.update(CONVERSATION_KEY, conversation.id);
      this.post({ type: 'conversation', id: conversation.id, messages: await this.messagesOf(conversation) });
    }
    await this.refreshHistory();
  }
}
