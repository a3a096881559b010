// Splits a file into retrieval chunks that follow its syntax: declarations (functions, classes,
// methods, ...) become chunks of their own, the code between them is grouped into blocks, and
// anything we cannot parse falls back to overlapping line windows.
//
// Everything is decided in whole lines (0-based rows internally, 1-based in the output), so the
// guarantee "every non-blank line is in some chunk" follows from filling the gaps between
// declarations, whatever the syntax tree looks like.
import { contentHash } from '../../base/node/hash';
import { languageForPath, syntaxRules, type Declaration, type SyntaxRules } from './languages';
import { parse, type Node } from './treeSitter';
import type { Chunk } from './types';

export interface ChunkerOptions {
  /** A declaration up to this many lines (and maxChars) is one chunk; larger ones are split. */
  maxLines?: number;
  maxChars?: number;
  /** Size of the line windows used for oversized code and unparsed files. */
  windowLines?: number;
  windowOverlap?: number;
}

type Options = Required<ChunkerOptions>;

const DEFAULTS: Options = { maxLines: 80, maxChars: 4000, windowLines: 60, windowOverlap: 10 };

/** Bigger files are windowed unparsed: bundles and generated code gain little from syntax, and
 * their trees cost hundreds of MB of wasm memory. */
const MAX_PARSE_CHARS = 4_000_000;
/** How deep we follow transparent nodes (nested #ifdefs): bounded against pathological input. */
const MAX_DEPTH = 64;

/** A closing line that is not worth a chunk of its own: it joins the chunk above it. */
const TRIVIAL_LINE = /^\s*(?:(?:[)\]};,]+|end\b[\s;)]*)\s*(?:\/\/.*|\/\*.*\*\/|#.*)?|#\s*endif\b.*|\?>)?\s*$/;

/** 0-based inclusive row range plus its label, before it becomes a Chunk. */
interface Piece {
  start: number;
  end: number;
  symbol: string | null;
  kind: string;
}

/** A declaration found among siblings; start includes its attached comments. */
interface Found {
  start: number;
  end: number;
  decl: Declaration;
}

/** Splits a file into chunks. Never throws for a file's content; whitespace-only text gives []. */
export async function chunkFile(relPath: string, text: string, opts: ChunkerOptions = {}): Promise<Chunk[]> {
  const options = resolveOptions(opts);
  const language = languageForPath(relPath);
  if (!/\S/.test(text)) return [];
  // Chunk texts are cut from the '\n'-joined lines, so CRLF files give LF chunk texts.
  const layout = new Layout(text.includes('\r\n') ? text.replace(/\r\n/g, '\n') : text, options);
  const rules = syntaxRules(language);
  if (language === 'markdown') chunkMarkdown(layout);
  else if (!rules || text.length > MAX_PARSE_CHARS || !(await chunkSyntax(layout, language, rules))) {
    layout.windows(0, layout.lines.length - 1, null, 'window');
  }
  return layout.pieces.map((p) => {
    const body = layout.text(p.start, p.end);
    return {
      path: relPath,
      startLine: p.start + 1,
      endLine: p.end + 1,
      symbol: p.symbol,
      kind: p.kind,
      language,
      text: body,
      hash: contentHash(body),
    };
  });
}

function resolveOptions(opts: ChunkerOptions): Options {
  const positive = (v: number | undefined, d: number) => (v !== undefined && v >= 1 ? Math.floor(v) : d);
  const windowLines = positive(opts.windowLines, DEFAULTS.windowLines);
  return {
    maxLines: positive(opts.maxLines, DEFAULTS.maxLines),
    maxChars: positive(opts.maxChars, DEFAULTS.maxChars),
    windowLines,
    windowOverlap: Math.min(Math.max(0, Math.floor(opts.windowOverlap ?? DEFAULTS.windowOverlap)), windowLines - 1),
  };
}

function isBlank(line: string): boolean {
  return line.trim() === '';
}

/** The lines of a file and the pieces laid over them, in line order. */
class Layout {
  readonly pieces: Piece[] = [];
  readonly lines: string[];
  /** offsets[i] = index of line i in `source`. */
  private readonly offsets: Uint32Array;

  /** `source` uses '\n' line ends only: it is what is parsed and what chunk texts are cut from. */
  constructor(readonly source: string, readonly options: Options) {
    const lines = (this.lines = source.split('\n'));
    this.offsets = new Uint32Array(lines.length + 1); // V8 strings stay far below 2^32
    for (let i = 0; i < lines.length; i++) this.offsets[i + 1] = this.offsets[i] + lines[i].length + 1;
  }

  chars(start: number, end: number): number {
    return this.offsets[end + 1] - this.offsets[start] - 1;
  }

  /** Rows [start, end] joined by '\n'. */
  text(start: number, end: number): string {
    return this.source.slice(this.offsets[start], this.offsets[end + 1] - 1);
  }

  fits(start: number, end: number): boolean {
    return end - start + 1 <= this.options.maxLines && this.chars(start, end) <= this.options.maxChars;
  }

  push(start: number, end: number, symbol: string | null, kind: string): void {
    this.pieces.push({ start, end, symbol, kind });
  }

  /** Overlapping windows over [start, end], bounded by windowLines and maxChars, blank edges trimmed. */
  windows(start: number, end: number, symbol: string | null, kind: string): void {
    const { windowLines, windowOverlap, maxChars } = this.options;
    while (end >= start && isBlank(this.lines[end])) end--;
    let from = start;
    for (;;) {
      while (from <= end && isBlank(this.lines[from])) from++;
      if (from > end) return;
      let to = from;
      while (to < end && to - from + 1 < windowLines && this.chars(from, to + 1) <= maxChars) to++;
      while (to > from && isBlank(this.lines[to])) to--;
      this.push(from, to, symbol, kind);
      if (to >= end) return;
      // Overlap at most half a window so that char-limited (short) windows still advance.
      const overlap = Math.min(windowOverlap, Math.floor((to - from + 1) / 2));
      from = Math.max(to + 1 - overlap, from + 1);
    }
  }

  /** Lines between declarations: one piece if small, windows if not; a lone `}` joins the piece above. */
  gap(start: number, end: number, symbol: string | null, kind: string): void {
    while (start <= end && isBlank(this.lines[start])) start++;
    while (end >= start && isBlank(this.lines[end])) end--;
    if (start > end) return;
    const last = this.pieces.at(-1);
    if (last && last.end < start && this.isTrivial(start, end)) {
      last.end = end;
      return;
    }
    if (this.fits(start, end)) this.push(start, end, symbol, kind);
    else this.windows(start, end, symbol, kind);
  }

  private isTrivial(start: number, end: number): boolean {
    if (end - start >= 4) return false;
    for (let i = start; i <= end; i++) if (!TRIVIAL_LINE.test(this.lines[i])) return false;
    return true;
  }
}

// --- Syntax-aware chunking ---------------------------------------------------------------------

/** Lays declaration-based pieces over the file; false when the file could not be parsed. */
async function chunkSyntax(layout: Layout, language: string, rules: SyntaxRules): Promise<boolean> {
  // Rows must match `layout.lines`: parse the '\n'-joined lines (CRLF gone), BOM blanked.
  const source = layout.source.charCodeAt(0) === 0xfeff ? ' ' + layout.source.slice(1) : layout.source;
  const tree = await parse(language, source);
  if (!tree) return false;
  try {
    const found = collect(children(tree.rootNode), rules);
    new SyntaxChunker(layout, rules).range(0, layout.lines.length - 1, found, null, 'block', null);
    return true;
  } catch {
    // A grammar quirk we did not foresee must not cost the file its chunks.
    layout.pieces.length = 0;
    return false;
  } finally {
    tree.delete();
  }
}

function children(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

/** Last row that holds text of the node (a node ending in '\n' ends at column 0 of the next row). */
function lastRow(node: Node): number {
  const { startPosition: s, endPosition: e } = node;
  return e.column === 0 && e.row > s.row ? e.row - 1 : e.row;
}

/** Siblings in order, with transparent wrappers (#ifdef, extern "C") replaced by their children. */
function flatten(nodes: Node[], rules: SyntaxRules, depth = 0): Node[] {
  const out: Node[] = [];
  for (const node of nodes) {
    if (depth < MAX_DEPTH && rules.transparent.has(node.type)) out.push(...flatten(children(node), rules, depth + 1));
    else out.push(node);
  }
  return out;
}

/** Declarations among sibling nodes, each extended upwards over comments/attributes directly above it. */
function collect(nodes: Node[], rules: SyntaxRules): Found[] {
  const found: Found[] = [];
  let previousEnd = -1; // last row of the previous sibling
  let attachedStart = -1; // first row of the comment run directly above, -1 if none
  let attachedEnd = -1;
  for (const node of flatten(nodes, rules)) {
    const start = node.startPosition.row;
    const end = lastRow(node);
    if (rules.attached.has(node.type)) {
      const ownLine = start > previousEnd; // not a trailing comment of the previous statement
      if (ownLine && attachedStart >= 0 && start <= attachedEnd + 1) attachedEnd = end;
      else if (ownLine) [attachedStart, attachedEnd] = [start, end];
      else attachedStart = -1;
      previousEnd = end;
      continue;
    }
    const decl = rules.declaration(node);
    if (decl) {
      const directlyAbove = attachedStart >= 0 && attachedEnd >= start - 1;
      found.push({ start: directlyAbove ? attachedStart : start, end, decl });
    }
    attachedStart = -1;
    previousEnd = end;
  }
  return found;
}

class SyntaxChunker {
  constructor(private readonly layout: Layout, private readonly rules: SyntaxRules) {}

  /**
   * Covers rows [start, end]: declarations become pieces, the rows between them gap pieces
   * labelled gapSymbol/gapKind (a split class's header and fields carry the class's name).
   */
  range(start: number, end: number, found: Found[], gapSymbol: string | null, gapKind: string, scope: string | null): void {
    let cursor = start;
    for (const f of found) {
      // Declarations sharing a row with the previous one (minified code) start where it ended.
      const from = Math.max(f.start, cursor);
      if (f.end < from || from > end) continue;
      if (from > cursor) this.layout.gap(cursor, from - 1, gapSymbol, gapKind);
      const to = Math.min(f.end, end);
      this.declaration(f.decl, from, to, scope);
      cursor = to + 1;
    }
    if (cursor <= end) this.layout.gap(cursor, end, gapSymbol, gapKind);
  }

  private declaration(decl: Declaration, start: number, end: number, scope: string | null): void {
    const symbol = scope ? `${scope}.${decl.name}` : decl.name;
    const kind = scope && decl.kind === 'function' ? 'method' : decl.kind;
    if (start === end || this.layout.fits(start, end)) {
      this.layout.push(start, end, symbol, kind);
      return;
    }
    const members = decl.body ? collect(children(decl.body), this.rules) : [];
    if (members.length > 0) this.range(start, end, members, symbol, kind, decl.scoped ? symbol : scope);
    else this.layout.windows(start, end, symbol, kind); // one long function: windows keep its name
  }
}

// --- Markdown ----------------------------------------------------------------------------------

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ATX_HEADING = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(?:=+|-+)[ \t]*$/;

interface Heading {
  row: number;
  title: string;
}

/** ATX and single-line setext headings outside fenced code and front matter. */
function markdownHeadings(lines: string[]): Heading[] {
  const headings: Heading[] = [];
  let row = 0;
  if (lines[0]?.trim() === '---') {
    const close = lines.findIndex((l, i) => i > 0 && (l.trim() === '---' || l.trim() === '...'));
    if (close > 0) row = close + 1;
  }
  let fence: string | null = null;
  for (; row < lines.length; row++) {
    const line = lines[row];
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      if (fenceMatch && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length) fence = null;
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      continue;
    }
    const atx = ATX_HEADING.exec(line);
    if (atx) {
      headings.push({ row, title: (atx[1] ?? '').trim() });
      continue;
    }
    const next = lines[row + 1];
    const startsParagraph = row === 0 || isBlank(lines[row - 1]) || headings.at(-1)?.row === row - 1;
    if (next !== undefined && !isBlank(line) && startsParagraph && SETEXT_UNDERLINE.test(next) && !/^\s{0,3}[-*+>|]/.test(line)) {
      headings.push({ row, title: line.trim() });
      row++; // the underline belongs to the heading
    }
  }
  return headings;
}

/** One section per heading (symbol = heading text); text before the first heading is a block. */
function chunkMarkdown(layout: Layout): void {
  const { lines } = layout;
  const headings = markdownHeadings(lines);
  layout.gap(0, (headings[0]?.row ?? lines.length) - 1, null, 'block');
  let sectionStart = -1;
  for (let i = 0; i < headings.length; i++) {
    const start = sectionStart >= 0 ? sectionStart : headings[i].row;
    const end = (headings[i + 1]?.row ?? lines.length) - 1;
    let last = end;
    while (last > headings[i].row && isBlank(lines[last])) last--;
    // A heading directly followed by a subheading opens the subheading's chunk instead of its own.
    if (last === headings[i].row && i + 1 < headings.length && last - start < layout.options.maxLines / 2) {
      sectionStart = start;
      continue;
    }
    sectionStart = -1;
    const title = headings[i].title || null;
    if (layout.fits(start, last)) layout.push(start, last, title, 'section');
    else layout.windows(start, last, title, 'section');
  }
}
