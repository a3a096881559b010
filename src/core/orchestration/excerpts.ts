// How answers made without a model (retrieval-only, lookups) quote the index: each hit under its
// `path:start-end` heading, the whole chunk (a function, a class, a section) when it is short, else
// the window of it that holds most of the question's words, so the quote is not cut off before the
// part that was asked about.
import { longestBacktickRun } from '../prompt/fence';

/** Chunks up to this many lines are quoted whole; longer ones as a window of this size. */
export const MAX_EXCERPT_LINES = 40;
const MAX_LINE_CHARS = 160;

export interface Excerptable {
  path: string;
  startLine: number;
  endLine: number;
  symbol: string | null;
  language: string;
  text: string;
}

export type ExcerptFormat = 'markdown' | 'text' | undefined;

/** Lower-cased words of 3+ letters, the question's terms a window is scored by. */
function words(text: string): Set<string> {
  return new Set((text.toLowerCase().match(/[a-z_$][\w$]{2,}/g) ?? []));
}

/** The first line of the `size`-line window holding the most lines that mention a question word. */
function bestWindow(lines: readonly string[], size: number, question: string): number {
  const terms = words(question);
  if (terms.size === 0 || lines.length <= size) return 0;
  const hits = lines.map((l) => ([...words(l)].some((w) => terms.has(w)) ? 1 : 0));
  let inWindow = hits.slice(0, size).reduce<number>((a, b) => a + b, 0);
  let best = 0;
  let bestHits = inWindow;
  for (let start = 1; start + size <= lines.length; start++) {
    inWindow += hits[start + size - 1] - hits[start - 1];
    if (inWindow > bestHits) [best, bestHits] = [start, inWindow];
  }
  return best;
}

/** The quoted lines of a hit: a heading with its exact range, then the code, fenced in Markdown. */
export function excerpt(hit: Excerptable, question: string, format: ExcerptFormat, maxLines = MAX_EXCERPT_LINES): string[] {
  const all = hit.text.replace(/\n+$/, '').split('\n');
  const from = bestWindow(all, maxLines, question);
  const shown = all.slice(from, from + maxLines).map((l) => (l.length > MAX_LINE_CHARS ? `${l.slice(0, MAX_LINE_CHARS - 1)}…` : l));
  const startLine = hit.startLine + from;
  const endLine = Math.min(hit.endLine, startLine + shown.length - 1);
  const range = `${hit.path}:${startLine}-${endLine}`;
  const more = all.length > shown.length ? ` (lines ${startLine}-${endLine} of ${hit.startLine}-${hit.endLine})` : '';
  if (format === 'markdown') {
    // A fence longer than any backtick run inside, so a Markdown chunk cannot close it early.
    const fence = '`'.repeat(Math.max(3, longestBacktickRun(shown.join('\n')) + 1));
    return ['', `${range}${hit.symbol ? ` \`${hit.symbol}\`` : ''}${more}`, '', `${fence}${hit.language}`, ...shown, fence];
  }
  return ['', `${range}${hit.symbol ? `  ${hit.symbol}` : ''}${more}`, ...shown.map((l) => `    ${l}`)];
}
