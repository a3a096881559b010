// The boundary between the chat view (chatView.ts, which owns the webview) and the rest of the
// extension (which owns the language client and the editor). extension.ts implements it.
import type { AskResponse, Citation, ConversationResponse, ConversationSummary, ModelsResponse, RunProgress } from '../../protocol';

export interface ChatAskRequest {
  question: string;
  conversationId?: string;
  model?: string;
  /** Send the editor's file and selection with the question (the context chip); default true. */
  withContext?: boolean;
}

/** The file (and lines, when something is selected) in the editor a question would be sent with. */
export interface EditorContext {
  path: string;
  startLine?: number;
  endLine?: number;
}

export interface ChatBackend {
  /** Runs `baton/ask`; progress notifications for this run are passed to onProgress. */
  ask(request: ChatAskRequest, onProgress: (p: RunProgress) => void): { runId: string; done: Promise<AskResponse> };
  /** The editor's file and selection now, if any. */
  editorContext(): EditorContext | undefined;
  /** Called when the active editor or its selection changes. */
  onEditorContextChanged(listener: () => void): { dispose(): void };
  /** Cancels a running ask (the Stop button). */
  cancel(runId: string): Promise<void>;
  models(): Promise<ModelsResponse>;
  /** Remembers the picked model (workspace state) for later asks. */
  pickModel(model: string): Promise<void>;
  conversations(): Promise<ConversationSummary[]>;
  conversation(id: string): Promise<ConversationResponse>;
  /** Lines in a workspace file (protocol path), or undefined when it does not exist. */
  lineCount(path: string): Promise<number | undefined>;
  /** Opens the file at the cited lines in an editor. */
  openCitation(citation: Citation): Promise<void>;
  /** Inserts text at the active editor's cursor (replacing its selection). */
  insertAtCursor(text: string): Promise<void>;
  /** Shows the code block applied to the active editor's selection (or whole file) as a diff to accept. */
  applyAsDiff(text: string, language?: string): Promise<void>;
  copy(text: string): Promise<void>;
}
