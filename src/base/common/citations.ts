// The one citation grammar: finds `path:line` / `path:start-end` citations in answer text (the
// core, to report an answer's sources; the webview, to offer them as chips) and judges whether a
// path is plausible. Pure TypeScript: imported by the webview, the extension and the core.

/** A location in the workspace, 1-based inclusive lines, path relative to the workspace root. */
export interface Citation {
  path: string;
  startLine: number;
  endLine: number;
}

const MAX_LINE = 10_000_000;

// A relative path whose file name has an extension starting with a letter (so `1.2:3`, `node:20` and
// `localhost:8080` are not citations), then `:line` or `:start-end`. The lookbehind keeps URLs
// (`http://host.com:80`) and e-mail-like text out: a citation must not continue a word or a path.
// A leading `./` is allowed and left out of the path; a file name may be a dotfile (`.eslintrc.json`).
const CITATION = /(?<![\w/.:@\\-])(?:\.\/)?((?:[\w.@+-]+\/)*\.?[\w+-][\w.+-]*\.[A-Za-z][A-Za-z0-9]{0,9}):(\d{1,8})(?:-(\d{1,8}))?(?![\w])/g;

export interface CitationMatch {
  /** Offsets of the whole `path:lines` text. */
  start: number;
  end: number;
  citation: Citation;
}

/** A workspace-relative path: no root, drive, scheme, backslash, `.`/`..` segment or control character. */
export function isPlausiblePath(path: string): boolean {
  if (path.length === 0 || path.length > 4096) return false;
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\\:\u0000-\u001f\u007f]/.test(path) || path.startsWith('/')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

export function isValidCitation(c: Citation): boolean {
  return isPlausiblePath(c.path)
    && Number.isInteger(c.startLine) && Number.isInteger(c.endLine)
    && c.startLine >= 1 && c.endLine >= c.startLine && c.endLine <= MAX_LINE;
}

export function findCitations(text: string): CitationMatch[] {
  const found: CitationMatch[] = [];
  for (const m of text.matchAll(CITATION)) {
    const startLine = Number(m[2]);
    const citation = { path: m[1], startLine, endLine: m[3] === undefined ? startLine : Number(m[3]) };
    if (isValidCitation(citation)) found.push({ start: m.index, end: m.index + m[0].length, citation });
  }
  return found;
}

/** The whole text is exactly one citation (e.g. an inline code span holding `src/a.ts:3`). */
export function parseCitation(text: string): Citation | null {
  const [only] = findCitations(text);
  return only && only.start === 0 && only.end === text.length ? only.citation : null;
}

export function citationLabel(c: Citation): string {
  return c.endLine === c.startLine ? `${c.path}:${c.startLine}` : `${c.path}:${c.startLine}-${c.endLine}`;
}
