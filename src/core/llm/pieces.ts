// Splits text into pieces of bounded length for the BPE token counter.
//
// gpt-tokenizer's byte-pair merge is quadratic in the length of one pre-token, and its
// pre-tokenizer keeps a run of one letter, CJK text without spaces or a long whitespace run as a
// single pre-token: 40,000 'a's took 0.8 s, 100,000 several seconds. Counting piece by piece keeps
// every merge short. Pieces end where the o200k and cl100k pre-tokenizers start a new pre-token
// whatever follows, so the sum of the pieces' counts is the count of the whole:
//   - before a space that follows a non-space ("foo| bar": a space never ends a word's pre-token);
//   - before a non-space that follows a line break (no pre-token runs from one into text), unless
//     it is a slash (o200k lets punctuation take trailing line breaks and slashes: ".\n//");
//   - before ASCII punctuation, other than an apostrophe ('s, 't are suffixes), that follows an
//     ASCII letter or digit ("foo|(" , "1|,").
// A stretch with none of these for MAX_RUN bytes is cut anyway, never inside a surrogate
// pair: the count of such a run may be off by a token or so per cut, which a budget can absorb.
// Forced cuts depend only on the text before them, so a prefix is cut where the whole text is and
// counts the same up to its end; and where the text has exact cuts its pre-tokens are the whole
// text's, which gpt-tokenizer caches, so counting the same text again is cheap.

/** Longest stretch without an exact cut, in UTF-8 bytes or so, before it is cut regardless. */
export const MAX_RUN = 96;
/** Pieces are about this long where exact cuts allow: one tokenizer call each. */
export const MAX_PIECE = 2048;

const LF = 10;
const CR = 13;
const SPACE = 32;
const APOSTROPHE = 39;
const SLASH = 47;

function isSpace(c: number): boolean {
  // JavaScript's \s for the characters a pre-tokenizer treats as whitespace.
  return c === SPACE || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a)
    || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAsciiPunct(c: number): boolean {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

/** Whether a pre-token always starts at `i` (0 < i < text.length). */
function exactCutAt(prev: number, c: number): boolean {
  if (c === SPACE) return !isSpace(prev);
  if (prev === LF || prev === CR) return !isSpace(c) && c !== SLASH;
  return isAsciiAlnum(prev) && isAsciiPunct(c) && c !== APOSTROPHE;
}

/** `at`, or one less when it would split a surrogate pair. */
export function lastSafeCut(text: string, at: number): number {
  if (at <= 0 || at >= text.length) return Math.max(0, Math.min(at, text.length));
  const c = text.charCodeAt(at);
  return c >= 0xdc00 && c <= 0xdfff ? at - 1 : at;
}

/**
 * Calls `visit(start, end)` for consecutive pieces covering text[from, to), in order, until it
 * returns false. Pieces end at an exact cut once they reach MAX_PIECE characters, or where a
 * stretch without one reaches MAX_RUN.
 */
export function forEachPiece(text: string, from: number, to: number, visit: (start: number, end: number) => boolean): void {
  let start = from;
  /** The latest exact cut in the current piece, or -1. */
  let lastExact = -1;
  /** About the UTF-8 length of the stretch since the last cut (what a merge's cost grows with). */
  let stretch = 0;
  let prev = from < to ? text.charCodeAt(from) : 0;
  for (let i = from + 1; i < to; i++) {
    const c = text.charCodeAt(i);
    let cut = -1;
    if (exactCutAt(prev, c)) {
      stretch = 0;
      lastExact = i;
    } else if ((stretch += c < 0x80 ? 1 : 3) >= MAX_RUN && !(c >= 0xdc00 && c <= 0xdfff)) {
      stretch = 0;
      cut = i;
    }
    if (cut < 0 && i - start >= MAX_PIECE && lastExact > start) cut = lastExact;
    prev = c;
    if (cut < 0) continue;
    if (!visit(start, cut)) return;
    start = cut;
    lastExact = -1;
  }
  if (start < to) visit(start, to);
}
