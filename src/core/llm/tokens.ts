// Token counting for the context budget. OpenAI's model families get their real BPE (exact);
// every other model (Llama, Qwen, Mistral, ... behind Ollama / LM Studio / vLLM) gets o200k counts
// plus a safety margin, marked as an estimate, because their tokenizers are not available offline
// and usually split code into more tokens than o200k does.
//
// Counting costs time linear in the text, whatever the text (see pieces.ts), and texts longer than
// EXACT_CHARS are estimated from samples (`measure` says so), so no input can stall a caller.
// Text is counted literally: "<|endoftext|>" in a question is text, not a special token.
import { forEachPiece, lastSafeCut } from './pieces';
import type { ChatMessage, TokenCount, TokenCounter } from './types';

type Encoding = { countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number };

/** Tokens every chat message costs beyond its content (role and separators), per OpenAI's format. */
const PER_MESSAGE_OVERHEAD = 4;
/** Tokens that prime the assistant's reply. */
const REPLY_PRIMING = 3;
/** Margin applied to estimates for tokenizers we do not have. */
const ESTIMATE_MARGIN = 1.2;
/** Longer texts are estimated. Ordinary text counts at ~0.1 µs a character, but text the
 * vocabulary barely covers (random letters, CJK without spaces) at up to ~5 µs: this bounds one
 * count to well under a second whatever the text, and still counts a question at its cap exactly. */
export const EXACT_CHARS = 128 * 1024;
/** An estimate counts this many evenly spaced windows of the text, EXACT_CHARS in all. */
const SAMPLE_WINDOWS = 16;
/** Sampling can miss a denser stretch: estimates are rounded up by this much. */
const SAMPLE_MARGIN = 1.1;
/** Special-token names are ordinary text here, as the model servers treat user content. */
const LITERAL = { disallowedSpecial: new Set<string>() };

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
  /** BPE tokens of text[from, to), piece by piece. */
  const raw = (text: string, from = 0, to = text.length): number => {
    const encoding = load();
    let total = 0;
    forEachPiece(text, from, to, (start, end) => {
      total += encoding.countTokens(text.slice(start, end), LITERAL);
      return true;
    });
    return total;
  };

  const measure = (text: string): TokenCount => {
    if (!text) return { tokens: 0, exact };
    if (text.length <= EXACT_CHARS) return { tokens: Math.ceil(raw(text) * margin), exact };
    const window = Math.floor(EXACT_CHARS / SAMPLE_WINDOWS);
    const stride = Math.floor(text.length / SAMPLE_WINDOWS);
    let sampled = 0;
    for (let w = 0; w < SAMPLE_WINDOWS; w++) sampled += raw(text, w * stride, w * stride + window);
    const perChar = sampled / (window * SAMPLE_WINDOWS);
    return { tokens: Math.ceil(perChar * text.length * SAMPLE_MARGIN * margin), exact: false };
  };
  const count = (text: string): number => measure(text).tokens;

  const fit = (text: string, maxTokens: number): number => {
    const encoding = load();
    // ceil(raw * margin) <= maxTokens exactly when raw <= maxTokens / margin.
    let budget = Math.floor(maxTokens / margin + 1e-9);
    let cut = 0;
    forEachPiece(text, 0, text.length, (start, end) => {
      const tokens = encoding.countTokens(text.slice(start, end), LITERAL);
      if (tokens <= budget) {
        budget -= tokens;
        cut = end;
        return true;
      }
      // The piece that crosses the budget (a bounded length): the longest prefix of it that fits.
      let lo = start;
      let hi = end - 1;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (encoding.countTokens(text.slice(start, mid), LITERAL) <= budget) lo = mid;
        else hi = mid - 1;
      }
      cut = lastSafeCut(text, lo);
      return false;
    });
    return cut;
  };

  return {
    exact,
    count,
    measure,
    fit,
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
