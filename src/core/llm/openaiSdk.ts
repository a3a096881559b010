// The `openai` SDK, shared by the chat client and the embeddings client.
import type OpenAI from 'openai';

/** Local servers (llama.cpp, Ollama, LM Studio) ignore the key, but the SDK refuses to start without one. */
export const PLACEHOLDER_KEY = 'sk-no-key-required';

export type OpenAIClass = typeof OpenAI;
let openaiModule: Promise<OpenAIClass> | undefined;

/** `require('openai')` costs about a second: load it on first use only. */
export function loadOpenAI(): Promise<OpenAIClass> {
  openaiModule ??= import('openai').then((m) => m.default);
  return openaiModule;
}
