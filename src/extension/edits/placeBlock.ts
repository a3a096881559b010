// Where a chat code block goes when the user clicks Apply. A block is often a fragment (a changed
// function, a usage example), so it must never stand in for the whole file unless it plainly is
// the whole file. Pure (no vscode): offsets into the document text.

export type Placement =
  | { kind: 'replace'; start: number; end: number; why: 'selection' | 'whole file' | 'matched lines' }
  | { kind: 'refuse'; reason: string };

/** A block is the whole file when it keeps most of the file's lines and is about as long. */
const WHOLE_FILE_SHARED_LINES = 0.5;
const WHOLE_FILE_MIN_LENGTH = 0.6;

const meaningful = (lines: readonly string[]) => lines.map((l) => l.trim()).filter((l) => l.length > 0);

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function looksLikeWholeFile(doc: string, block: string): boolean {
  const docLines = meaningful(doc.split('\n'));
  if (docLines.length === 0) return true;
  const blockSet = new Set(meaningful(block.split('\n')));
  const shared = docLines.filter((l) => blockSet.has(l)).length;
  return shared / docLines.length >= WHOLE_FILE_SHARED_LINES && block.trim().length >= doc.trim().length * WHOLE_FILE_MIN_LENGTH;
}

type Normalize = (line: string) => string;
const trimEndOnly: Normalize = (l) => l.trimEnd();
const trimBoth: Normalize = (l) => l.trim();

/** The only line index (0-based) at or after `from` equal to `wanted` once normalised, or undefined. */
function uniqueLine(lines: readonly string[], wanted: string, normalize: Normalize, from = 0): number | undefined {
  let found: number | undefined;
  for (let i = from; i < lines.length; i++) {
    if (normalize(lines[i]) !== normalize(wanted)) continue;
    if (found !== undefined) return undefined;
    found = i;
  }
  return found;
}

/** The block's first and last lines found once each, in order: as written first, then ignoring indentation. */
function anchors(docLines: readonly string[], first: string, last: string): [number, number] | undefined {
  for (const normalize of [trimEndOnly, trimBoth]) {
    const from = uniqueLine(docLines, first, normalize);
    const to = from === undefined ? undefined : uniqueLine(docLines, last, normalize, from + 1);
    if (from !== undefined && to !== undefined) return [from, to];
  }
  return undefined;
}

/**
 * Decides what `block` replaces in `doc`: the selection when there is one; else the lines between
 * a unique match of the block's first line and a unique match of its last line (an edited
 * function); else the whole file when the block is plainly a new version of it. Anything else is
 * refused.
 */
export function placeBlock(doc: string, block: string, selection?: { start: number; end: number }): Placement {
  if (selection && selection.end > selection.start) return { kind: 'replace', ...selection, why: 'selection' };
  const blockLines = block.split('\n').filter((l) => l.trim().length > 0);
  const docLines = doc.split('\n');
  const found = blockLines.length >= 2 ? anchors(docLines, blockLines[0], blockLines[blockLines.length - 1]) : undefined;
  if (found) {
    const [from, to] = found;
    const starts = lineStarts(doc);
    let end = to + 1 < starts.length ? starts[to + 1] - 1 : doc.length; // the matched last line's end, before its newline
    if (doc[end - 1] === '\r') end--; // and before a CRLF's CR
    return { kind: 'replace', start: starts[from], end, why: 'matched lines' };
  }
  if (looksLikeWholeFile(doc, block)) return { kind: 'replace', start: 0, end: doc.length, why: 'whole file' };
  return {
    kind: 'refuse',
    reason: 'This code block does not match a place in the file (it is not the whole file, and its first and last lines are not found once each). Select the lines it should replace, then Apply again.',
  };
}
