// Token counting for the context budget. OpenAI's model families get their real BPE (exact);
// every other model (Llama, Qwen, Mistral, ... behind Ollama / LM Studio / vLLM) gets o200k counts
// plus a safety margin, marked as an estimate, because their tokenizers are not available offline
// and usually split code into more tokens than o200k does.
import type { ChatMessage, TokenCounter } from './types';

type Encoding = { countTokens(text: string): number };

/** Tokens every chat message costs beyond its content (role and separators), per OpenAI's format. */
const PER_MESSAGE_OVERHEAD = 4;
/** Tokens that prime the assistant's reply. */
const REPLY_PRIMING = 3;
/** Margin applied to estimates for tokenizers we do not have. */
const ESTIMATE_MARGIN = 1.2;

const O200K_MODELS = /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|chatgpt-4o)/i;
const CL100K_MODELS = /^(gpt-4(?!o|\.)|gpt-3\.5|text-embedding-(3|ada))/i;

let o200k: Encoding | undefined;
let cl100k: Encoding | undefined;
// Loaded on first use: each encoding's tables take tens of milliseconds to build.
const loadO200k = (): Encoding => (o200k ??= require('gpt-tokenizer/encoding/o200k_base') as Encoding);
const loadCl100k = (): Encoding => (cl100k ??= require('gpt-tokenizer/encoding/cl100k_base') as Encoding);

export function createTokenCounter(model: string): TokenCounter {
  const name = model.replace(/^.*\//, ''); // "openai/gpt-4o" -> "gpt-4o"
  if (CL100K_MODELS.test(name)) return counter(loadCl100k, 1, true);
  if (O200K_MODELS.test(name)) return counter(loadO200k, 1, true);
  return counter(loadO200k, ESTIMATE_MARGIN, false);
}

function counter(load: () => Encoding, margin: number, exact: boolean): TokenCounter {
  const count = (text: string) => (text ? Math.ceil(load().countTokens(text) * margin) : 0);
  return {
    exact,
    count,
    countMessages(messages: ChatMessage[]): number {
      let total = REPLY_PRIMING;
      for (const m of messages) {
        total += PER_MESSAGE_OVERHEAD + count(m.content ?? '');
        for (const call of m.toolCalls ?? []) total += count(call.name) + count(call.arguments) + PER_MESSAGE_OVERHEAD;
      }
      return total;
    },
  };
}
