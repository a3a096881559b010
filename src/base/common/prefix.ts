// A bounded prefix of a long text, for work whose cost grows with the text but whose result needs
// only its start: routing a request, tokenising and embedding a search query, recalling memory. A
// 100,000-character question is answered in full; it is not searched for in full.

/** About 500 tokens: as much as an embedding model reads of a query, and plenty for BM25. */
export const QUERY_PREFIX_CHARS = 2000;

/** `text` when it is at most `max` characters, else its first `max` or so, ending at a space when
 * one is near the end and never inside a surrogate pair. */
export function boundedPrefix(text: string, max = QUERY_PREFIX_CHARS): string {
  if (text.length <= max) return text;
  let cut = max;
  for (let i = max; i >= max * 0.8; i--) {
    if (/\s/.test(text[i])) {
      cut = i;
      break;
    }
  }
  const c = text.charCodeAt(cut);
  if (c >= 0xdc00 && c <= 0xdfff) cut--;
  return text.slice(0, cut);
}
