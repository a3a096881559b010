// The chat's state and how each extension -> webview message changes it. Pure and shared: the webview
// renders from it and persists it (vscode.setState), and the host keeps a mirror with the same reducer
// so it can replay the whole conversation whenever the view is (re)created.
import { parseToWebview, type ChatMessageDto, type ToWebview } from '../protocol';

export interface HistoryEntry {
  id: string;
  title: string;
  updatedAt: string;
}

export interface ChatState {
  conversationId: string | null;
  messages: ChatMessageDto[];
  status: string;
  models: { current: string | null; available: string[] };
  history: HistoryEntry[];
  /** The chip above the input: the file and selection a question is sent with. */
  context: { label: string; title: string } | null;
}

export function initialState(): ChatState {
  return { conversationId: null, messages: [], status: '', models: { current: null, available: [] }, history: [], context: null };
}

function updateMessage(state: ChatState, id: string, change: (m: ChatMessageDto) => ChatMessageDto): ChatState {
  const index = state.messages.findIndex((m) => m.id === id);
  if (index < 0) return state; // a late event for a conversation that was replaced: nothing to do
  const messages = state.messages.slice();
  messages[index] = change(messages[index]);
  return { ...state, messages };
}

export function reduce(state: ChatState, msg: ToWebview): ChatState {
  switch (msg.type) {
    case 'conversation':
      return { ...state, conversationId: msg.id, messages: msg.messages, status: '' };
    case 'messageStart':
      if (state.messages.some((m) => m.id === msg.id)) return state;
      return {
        ...state,
        messages: [...state.messages, { id: msg.id, role: msg.role, text: msg.text, pending: msg.role === 'assistant' || undefined }],
      };
    case 'messageDelta':
      return updateMessage(state, msg.id, (m) => (m.pending ? withoutWaiting({ ...m, text: m.text + msg.text }) : m));
    case 'messageWaiting':
      return updateMessage(state, msg.id, (m) => (!m.pending ? m : msg.text ? { ...m, waiting: msg.text } : withoutWaiting(m)));
    case 'messageReset':
      return updateMessage(state, msg.id, (m) => (m.pending ? { ...m, text: '' } : m));
    case 'messageEnd':
      return {
        ...updateMessage(state, msg.id, (m) => ({
          id: m.id,
          role: m.role,
          // An error may come with no final text: what was streamed stays visible.
          text: msg.text || m.text,
          sources: msg.sources,
          ...(msg.citations ? { citations: msg.citations } : {}),
          ...(msg.excerpts ? { excerpts: true } : {}),
          ...(msg.note ? { note: msg.note } : {}),
          ...(msg.error ? { error: msg.error } : {}),
        })),
        status: '',
      };
    case 'status':
      return { ...state, status: msg.text };
    case 'models':
      return { ...state, models: { current: msg.current, available: msg.available } };
    case 'history':
      return { ...state, history: msg.conversations };
    case 'context':
      return { ...state, context: msg.context };
  }
}

/** The text has begun, or the wait ended: the transient waiting status goes. */
function withoutWaiting(m: ChatMessageDto): ChatMessageDto {
  if (m.waiting === undefined) return m;
  const { waiting: _gone, ...rest } = m;
  return rest;
}

/** The message still streaming, if any (the Stop button shows while there is one). */
export function streamingId(state: ChatState): string | null {
  for (let i = state.messages.length - 1; i >= 0; i--) if (state.messages[i].pending) return state.messages[i].id;
  return null;
}

/**
 * Reads back what vscode.getState() returned. It was written by this code, but possibly by an older
 * version, so it goes through the same validation as a `conversation` message; null when unusable.
 */
export function restoreState(raw: unknown): ChatState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const saved = raw as Partial<Record<keyof ChatState, unknown>>;
  const conversation = parseToWebview({ type: 'conversation', id: saved.conversationId ?? null, messages: saved.messages });
  if (!conversation) return null;
  let state = reduce(initialState(), conversation);
  const models = parseToWebview({ type: 'models', ...(saved.models as object | undefined) });
  if (models) state = reduce(state, models);
  const history = parseToWebview({ type: 'history', conversations: saved.history });
  if (history) state = reduce(state, history);
  return state;
}
