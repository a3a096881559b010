// ChatBackend over the language client: what the chat view (chatView.ts) calls.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { MAX_SELECTION_CHARS, type AskParams, type AskResponse, type Citation, type ConversationResponse, type ConversationSummary, type ModelsResponse, type RunProgress } from '../../protocol';
import type { ChatAskRequest, ChatBackend, EditorContext } from './chatBackend';
import { reviewAndApply } from '../edits/diffReview';
import { placeBlock } from '../edits/placeBlock';
import type { Services } from '../services';
import { openAt, protocolPath, selectionDto, workspaceUri } from '../lsp/workspaceFiles';
import { countLines } from './citationCheck';

/** Files larger than this are taken to hold any cited line (not read to count). */
const MAX_COUNTED_BYTES = 20 * 1024 * 1024;

/** workspaceState key of the model picked in the chat. */
const PICKED_MODEL = 'baton.chat.model';

export class ExtensionChatBackend implements ChatBackend {
  constructor(
    private readonly svc: Omit<Services, 'chat'>,
    private readonly state: vscode.Memento,
  ) {}

  ask(request: ChatAskRequest, onProgress: (p: RunProgress) => void): { runId: string; done: Promise<AskResponse> } {
    const runId = randomUUID();
    const unlisten = this.svc.runs.listen(runId, onProgress);
    const params: AskParams = { runId, question: request.question };
    if (request.conversationId) params.conversationId = request.conversationId;
    // The chat's picker stores its choice through pickModel; a model the view merely displays (the
    // server's default at the time) must not pin later asks after the settings change.
    const model = this.state.get<string>(PICKED_MODEL);
    if (model) params.model = model;
    // What the user is looking at steers routing and retrieval, unless they removed the chip.
    const editor = request.withContext === false ? undefined : this.svc.editors.current();
    if (editor) {
      params.activeFile = protocolPath(editor.document.uri);
      const selection = editor.selection.isEmpty ? undefined : selectionDto(editor.document, editor.selection);
      // Only steering context: one past the server's cap is left out rather than the question refused.
      if (selection && selection.text.length <= MAX_SELECTION_CHARS) params.selection = selection;
    }
    const done = this.svc.client.request('baton/ask', params).finally(unlisten);
    return { runId, done };
  }

  editorContext(): EditorContext | undefined {
    const editor = this.svc.editors.current();
    if (!editor) return undefined;
    const path = protocolPath(editor.document.uri);
    if (editor.selection.isEmpty) return { path };
    const { startLine, endLine } = selectionDto(editor.document, editor.selection);
    return { path, startLine, endLine };
  }

  onEditorContextChanged(listener: () => void): { dispose(): void } {
    const subscriptions = [
      vscode.window.onDidChangeActiveTextEditor(listener),
      vscode.window.onDidChangeTextEditorSelection(listener),
    ];
    return { dispose: () => { for (const s of subscriptions) s.dispose(); } };
  }

  async cancel(runId: string): Promise<void> {
    await this.svc.client.request('baton/cancel', { runId });
  }

  /** The picked model is the chat's current one; the server's default otherwise. */
  async models(): Promise<ModelsResponse> {
    const models = await this.svc.client.request('baton/models', {});
    const picked = this.state.get<string>(PICKED_MODEL);
    return picked ? { ...models, current: picked, available: models.available.includes(picked) ? models.available : [picked, ...models.available] } : models;
  }

  async pickModel(model: string): Promise<void> {
    await this.state.update(PICKED_MODEL, model || undefined);
  }

  conversations(): Promise<ConversationSummary[]> {
    return this.svc.client.request('baton/conversations', {});
  }

  conversation(id: string): Promise<ConversationResponse> {
    return this.svc.client.request('baton/conversation', { id });
  }

  async lineCount(path: string): Promise<number | undefined> {
    let uri: vscode.Uri;
    try {
      uri = workspaceUri(path);
    } catch {
      return undefined; // outside the workspace, or no folder open
    }
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return open.lineCount;
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.type & vscode.FileType.Directory) return undefined;
      if (stat.size > MAX_COUNTED_BYTES) return Number.MAX_SAFE_INTEGER;
      return countLines(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
    } catch {
      return undefined;
    }
  }

  async openCitation(citation: Citation): Promise<void> {
    await openAt(citation.path, citation.startLine, citation.endLine, { preview: true });
  }

  async insertAtCursor(text: string): Promise<void> {
    const editor = this.requireEditor();
    if (!editor) return;
    const shown = await vscode.window.showTextDocument(editor.document, editor.viewColumn);
    await shown.edit((edit) => edit.replace(shown.selection, text));
  }

  async applyAsDiff(text: string): Promise<void> {
    const editor = this.requireEditor();
    if (!editor) return;
    const { document, selection } = editor;
    const whole = document.getText();
    const selected = selection.isEmpty ? undefined : { start: document.offsetAt(selection.start), end: document.offsetAt(selection.end) };
    const place = placeBlock(whole, text, selected);
    if (place.kind === 'refuse') {
      void vscode.window.showInformationMessage(`Baton: ${place.reason}`);
      return;
    }
    // A matched region keeps the block's own trailing newline out: the region ends before the line break.
    const inserted = place.why === 'matched lines' ? text.replace(/\n$/, '') : text;
    const newText = whole.slice(0, place.start) + inserted + whole.slice(place.end);
    await reviewAndApply(this.svc.proposed, {
      target: document.uri,
      newText,
      title: `Baton: apply to ${protocolPath(document.uri)} (${place.why})`,
    });
  }

  async copy(text: string): Promise<void> {
    await vscode.env.clipboard.writeText(text);
  }

  private requireEditor(): vscode.TextEditor | undefined {
    const editor = this.svc.editors.current();
    if (!editor) void vscode.window.showInformationMessage('Baton: open a file in an editor first.');
    return editor;
  }
}
