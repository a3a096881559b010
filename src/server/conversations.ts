// `baton/conversations` and `baton/conversation`: the core's stored conversations, as the chat view
// shows them (user questions and assistant answers with their sources; tool turns stay internal).
import { ConversationNotFoundError, type ConversationStore } from '../core/memory/conversationStore';
import type { ConversationMessage, ConversationResponse, ConversationSummary } from '../protocol';
import { ClientError } from './rpc';
import { errorMessage } from '../base/common/errors';

export async function listConversations(store: ConversationStore, log: (m: string) => void): Promise<ConversationSummary[]> {
  const all = await store.list();
  for (const c of all) if (c.error) log(`conversation ${c.id} is not listed: ${c.error}`);
  return all.filter((c) => !c.error).map(({ id, title, updatedAt, turns }) => ({ id, title, updatedAt, turns }));
}

export async function openConversation(store: ConversationStore, id: string): Promise<ConversationResponse> {
  let conversation;
  try {
    conversation = await store.open(id);
  } catch (err) {
    if (err instanceof ConversationNotFoundError || /invalid conversation id/.test(errorMessage(err))) throw new ClientError(errorMessage(err));
    throw err;
  }
  const { data } = conversation;
  const messages: ConversationMessage[] = [];
  for (const turn of data.turns) {
    if (turn.role === 'user') messages.push({ role: 'user', text: turn.content });
    else if (turn.role === 'assistant' && (turn.content || !turn.toolCalls?.length)) {
      messages.push({ role: 'assistant', text: turn.content, ...(turn.sources?.length ? { sources: turn.sources } : {}) });
    }
  }
  return { id: data.id, title: data.title, messages };
}
