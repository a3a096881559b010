// Cuts a text to a token budget with a visible marker: the one truncation the prompt builder and
// conversation history share. The work is bounded by the budget, not the text: TokenCounter.fit
// reads only as far as the budget reaches, so cutting a 100,000-character question to 200 tokens
// costs about as much as cutting a 1,000-character one.
import type { TokenCounter } from '../llm/types';

export interface Truncation {
  /** The kept prefix plus the marker, or the text itself when it fits. */
  text: string;
  /** Characters of the original kept. */
  kept: number;
}

/** Says how much was cut; the short form is for budgets too small for the long one. */
const marker = (cut: number, total: number) => `\n[... truncated: ${total - cut} of ${total} characters not shown ...]`;
const SHORT_MARKER = ' [... truncated ...]';
/** A line break this close to the cut (as a share of the kept text) ends the kept text instead. */
const LINE_BREAK_SHARE = 0.8;
/** Rounds of shaving when joining the kept text and the marker costs more than their parts. */
const MAX_SHAVES = 8;

/** The longest prefix of `text` that, with a marker, counts at most `maxTokens`, preferring to end
 * at a line break; '' when not even a marker fits. */
export function truncate(text: string, maxTokens: number, counter: TokenCounter): Truncation {
  if (counter.fit(text, maxTokens) === text.length) return { text, kept: text.length };
  const total = text.length;
  // The longest marker (nothing kept) bounds every other one's cost.
  const long = counter.count(marker(0, total));
  const mark = long <= maxTokens ? (cut: number) => marker(cut, total) : counter.count(SHORT_MARKER) <= maxTokens ? () => SHORT_MARKER : null;
  if (!mark) return { text: '', kept: 0 };
  let cut = counter.fit(text, maxTokens - counter.count(mark(0)));
  const lineBreak = text.lastIndexOf('\n', cut);
  if (lineBreak > 0 && lineBreak >= cut * LINE_BREAK_SHARE) cut = lineBreak;
  // Tokens can merge across the seam: shave a little until the joined text fits (it nearly always
  // does at once); nothing but the marker (which fits) as the last resort.
  const fits = (at: number) => counter.count(text.slice(0, at) + mark(at)) <= maxTokens;
  for (let round = 0; cut > 0 && !fits(cut); round++) {
    cut = round < MAX_SHAVES ? safeCut(text, cut - Math.max(1, Math.ceil(cut * 0.02))) : 0;
  }
  return { text: text.slice(0, cut) + mark(cut), kept: cut };
}

/** `at`, moved back off the second half of a surrogate pair. */
function safeCut(text: string, at: number): number {
  if (at <= 0) return 0;
  const c = text.charCodeAt(at);
  return c >= 0xdc00 && c <= 0xdfff ? at - 1 : at;
}

export function truncateToTokens(text: string, maxTokens: number, counter: TokenCounter): string {
  return truncate(text, maxTokens, counter).text;
}
