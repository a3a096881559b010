// Untrusted text (commands, paths, diffs, model answers, file names and contents) rendered inert for
// a terminal or a plain-text dialog: every character a terminal would act on, or that hides,
// reorders or fakes text, is shown as a visible escape instead of being written raw.
//
// One notation, everywhere:
//   \xHH      a code point up to U+00FF: C0 controls (ESC \x1b, CR \x0d, backspace \x08, NUL \x00,
//             form feed \x0c, vertical tab \x0b), DEL \x7f, C1 controls (the 8-bit CSI \x9b);
//             newline \x0a and tab \x09 only in single-line mode (multi-line mode keeps them).
//   \u{HHHH}  any other hidden or reordering character: bidi controls (\u{202e}), zero-width
//             characters (\u{200b}), U+2028/U+2029, the BOM (\u{feff}), tag characters, lone
//             surrogates ... (see HIDDEN).
//   \\        a literal backslash, written doubled only where it would otherwise read as the start
//             of an escape: before another backslash, before an escaped character, or before "x"
//             or "u". Elsewhere it stays single, so code (/\d+/, "\n") reads as written.
// Hex digits are lowercase; \x takes exactly two. The rendering is reversible: revive() reads it
// back to the exact input. Pure TypeScript, no imports: every side (core, CLI, server, extension,
// webview) may use it.

export interface InertOptions {
  /** Keep newline and tab as they are (a diff, a file, an answer); default false: one line. */
  multiline?: boolean;
}

// Invisible or reordering characters a reader cannot see: soft hyphen, combining grapheme joiner,
// Arabic letter mark, Hangul and Khmer fillers, Mongolian selectors, zero-width space/joiners and
// LRM/RLM, line/paragraph separators and bidi embeddings/overrides, word joiner, invisible
// operators and isolates, variation selectors (except U+FE0E/U+FE0F, which only pick text or emoji
// presentation), BOM, interlinear annotations, noncharacters, lone surrogates, musical format
// characters, tags ("ASCII smuggling") and the variation selector supplement.
const HIDDEN =
  '\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f\\u200b-\\u200f\\u2028-\\u202e' +
  '\\u2060-\\u206f\\u3164\\ufe00-\\ufe0d\\ufeff\\uffa0\\ufff9-\\ufffb\\ufffe\\uffff\\ud800-\\udfff' +
  '\\u{1d173}-\\u{1d17a}\\u{e0000}-\\u{e007f}\\u{e0100}-\\u{e01ef}';
const CONTROLS_LINE = '\\x00-\\x1f\\x7f-\\x9f';
const CONTROLS_BLOCK = '\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f';

const UNSAFE_LINE = new RegExp(`[${CONTROLS_LINE}${HIDDEN}]`, 'u');
const UNSAFE_BLOCK = new RegExp(`[${CONTROLS_BLOCK}${HIDDEN}]`, 'u');
const REPLACE_LINE = new RegExp(`[${CONTROLS_LINE}${HIDDEN}]|\\\\`, 'gu');
const REPLACE_BLOCK = new RegExp(`[${CONTROLS_BLOCK}${HIDDEN}]|\\\\`, 'gu');
/** What inert() never lets through, whatever the mode: for tests and callers that check output. */
export const RAW_UNSAFE = new RegExp(`[${CONTROLS_BLOCK}${HIDDEN}]`, 'u');

/** True when `ch` (one code point) is shown escaped in this mode. */
export function isEscaped(ch: string, multiline = false): boolean {
  return (multiline ? UNSAFE_BLOCK : UNSAFE_LINE).test(ch);
}

/** The visible escape of one code point. */
export function escapeOf(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16).padStart(4, '0')}}`;
}

/** Whether a literal backslash followed by `next` (the rendered text after it) must be doubled. */
function backslashNeedsDoubling(nextRendered: string): boolean {
  return /^[\\xu]/.test(nextRendered);
}

/** The code point starting at `offset`, or '' at the end. */
function codePointAt(text: string, offset: number): string {
  const cp = text.codePointAt(offset);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

/**
 * `text` with every terminal control, hidden and reordering character shown as a visible escape
 * (see the notation above). Single-line mode (the default) escapes newline and tab too.
 */
export function inert(text: string, opts: InertOptions = {}): string {
  const multiline = opts.multiline ?? false;
  return text.replace(multiline ? REPLACE_BLOCK : REPLACE_LINE, (ch: string, offset: number) => {
    if (ch !== '\\') return escapeOf(ch);
    const next = codePointAt(text, offset + 1);
    return backslashNeedsDoubling(isEscaped(next, multiline) ? escapeOf(next) : next) ? '\\\\' : '\\';
  });
}

/** inert() in single-line mode: for a path, a title, a symbol, one line of a file. */
export function inertLine(text: string): string {
  return inert(text, { multiline: false });
}

/** inert() in multi-line mode: newlines and tabs kept (an answer, a diff, a message). */
export function inertBlock(text: string): string {
  return inert(text, { multiline: true });
}

/**
 * Reads inert() output back to the exact input (the notation is unambiguous). With `counts`, it
 * also reads wrapInert()'s squeezed runs (`\x20{5000}`) of one line's content.
 */
export function revive(shown: string, opts: { counts?: boolean } = {}): string {
  const pattern = opts.counts
    ? /\\(?:\\|(?:x([0-9a-f]{2})|u\{([0-9a-f]+)\})(?:\{(\d+)\})?)/g
    : /\\(?:\\|x([0-9a-f]{2})|u\{([0-9a-f]+)\})()/g; // the empty group keeps the arguments aligned
  return shown.replace(pattern, (all: string, x?: string, u?: string, count?: string) =>
    all === '\\\\' ? '\\' : String.fromCodePoint(parseInt(x ?? u ?? '0', 16)).repeat(count ? Number(count) : 1));
}

/**
 * inert() for text that arrives in pieces (a streamed answer): each piece is rendered as it comes,
 * so an escape sequence split across pieces is still inert. Only a trailing backslash run (whose
 * doubling depends on what follows) and a trailing high surrogate wait for the next piece; the
 * concatenated output equals inert() of the whole text.
 */
export class InertStream {
  private held = '';

  constructor(private readonly opts: InertOptions = { multiline: true }) {}

  push(delta: string): string {
    const text = this.held + delta;
    let cut = text.length;
    const last = text.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut--;
    while (cut > 0 && text[cut - 1] === '\\') cut--;
    this.held = text.slice(cut);
    return inert(text.slice(0, cut), this.opts);
  }

  /** What was held back, rendered; the stream can be reused afterwards. */
  end(): string {
    const rest = inert(this.held, this.opts);
    this.held = '';
    return rest;
  }
}

/** 5031 -> "5,031", without Intl (the same in every runtime). */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export interface WrapOptions {
  /** Columns per row, gutter included; default 80, never below 24. */
  width?: number;
  /**
   * A run of at least this many identical spaces or escaped characters is shown once with its
   * count, `\x20{5000}`, so padding cannot push the rest out of view; default 8, 0 turns it off.
   * When on, a literal "{" right after an escape is escaped too (\x7b), so the count is unambiguous.
   */
  squeeze?: number;
}

export interface WrappedText {
  /** Gutter-prefixed rows: `  2 │ text` starts a line (numbered when there are several), `    ┆ text` continues one. */
  rows: string[];
  /** Lines of the input (split at "\n"; a trailing newline makes an empty last line). */
  lines: number;
  /** Code points of the input. */
  characters: number;
  /** "3 lines, 5,031 characters". */
  summary: string;
}

interface Token { text: string; backslash?: true; escaped?: true }

/** One line's rendering as tokens that wrapping never splits. */
function tokens(line: string, squeeze: number): Token[] {
  const points = Array.from(line);
  const out: Token[] = [];
  for (let i = 0; i < points.length; ) {
    const ch = points[i];
    let run = 1;
    while (points[i + run] === ch) run++;
    if (squeeze > 0 && run >= squeeze && (ch === ' ' || isEscaped(ch))) {
      out.push({ text: `${escapeOf(ch)}{${run}}`, escaped: true });
      i += run;
      continue;
    }
    if (ch === '\\') out.push({ text: '\\', backslash: true });
    else if (isEscaped(ch)) out.push({ text: escapeOf(ch), escaped: true });
    else if (ch === '{' && squeeze > 0 && out.at(-1)?.escaped) out.push({ text: escapeOf(ch), escaped: true });
    else out.push({ text: ch });
    i++;
  }
  for (let i = 0; i < out.length; i++) {
    if (out[i].backslash && i + 1 < out.length && backslashNeedsDoubling(out[i + 1].text)) out[i] = { text: '\\\\' };
  }
  return out;
}

/**
 * Untrusted text laid out whole for a reader: each line rendered inert (single-line mode: a tab
 * shows as \x09), wrapped at `width` without splitting an escape, behind a gutter that no content
 * can fake (every row starts with it). Widths count code points, so a row of wide (CJK) characters
 * may run longer on screen; it still shows whole.
 */
export function wrapInert(text: string, opts: WrapOptions = {}): WrappedText {
  const width = Math.max(24, opts.width ?? 80);
  const squeeze = opts.squeeze ?? 8;
  const lines = text.split('\n');
  const numbered = lines.length > 1;
  const digits = numbered ? String(lines.length).length : 0;
  const room = width - digits - 5;
  const rows: string[] = [];
  lines.forEach((line, n) => {
    const start = `  ${numbered ? String(n + 1).padStart(digits) : ''} │ `;
    const more = `  ${' '.repeat(digits)} ┆ `;
    let row = '';
    let used = 0;
    let first = true;
    for (const token of tokens(line, squeeze)) {
      const size = Array.from(token.text).length;
      if (used > 0 && used + size > room) {
        rows.push((first ? start : more) + row);
        first = false;
        row = '';
        used = 0;
      }
      row += token.text;
      used += size;
    }
    rows.push((first ? start : more) + row);
  });
  const characters = Array.from(text).length;
  return { rows, lines: lines.length, characters, summary: `${plural(lines.length, 'line', 'lines')}, ${plural(characters, 'character', 'characters')}` };
}

export interface CommandView {
  /** What to show, in order: `$ command` alone, or a header with the summary and the wrapped rows. */
  rows: string[];
  lines: number;
  characters: number;
  summary: string;
  /** True when the command fits on one row as `$ command` (one line, short, shown as inertLine()). */
  compact: boolean;
}

/**
 * A command line for approval: the whole command, inert, on one `$ …` row when it is one short
 * line; otherwise a header saying "N lines, M characters" and every line wrapped to `width`.
 */
export function formatCommand(command: string, opts: WrapOptions = {}): CommandView {
  const width = Math.max(24, opts.width ?? 80);
  const wrapped = wrapInert(command, { ...opts, width });
  const oneRow = `$ ${inertLine(command)}`;
  if (wrapped.lines === 1 && Array.from(oneRow).length <= width) {
    return { rows: [oneRow], lines: 1, characters: wrapped.characters, summary: wrapped.summary, compact: true };
  }
  return {
    rows: [`$ command of ${wrapped.summary}:`, ...wrapped.rows],
    lines: wrapped.lines,
    characters: wrapped.characters,
    summary: wrapped.summary,
    compact: false,
  };
}

// JSON.stringify escapes U+0000–U+001F and lone surrogates but writes DEL, the C1 controls (8-bit
// CSI included), bidi and other hidden characters raw: escape those as \uXXXX too. JSON's own
// structure is ASCII, so every such character is inside a string and the value parses back exact.
const JSON_UNSAFE = new RegExp(`[\\x7f-\\x9f${HIDDEN}]`, 'gu');

/** JSON.stringify whose text is safe to print on a terminal and parses back to the same value. */
export function terminalJson(value: unknown, indent?: number): string {
  const json = JSON.stringify(value, null, indent);
  if (json === undefined) return 'null';
  return json.replace(JSON_UNSAFE, (ch: string) => {
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}
