// Which citations in an answer point at something real: the file exists in the workspace and the
// cited lines are in it. Only those render as chips, so a model's invented `src/nowhere.ts:12` is
// plain text instead of a chip whose click fails.
import type { Citation } from '../../protocol';
import { citationLabel, findCitations, isValidCitation } from '../../base/common/citations';

/** More citations than this in one answer are not checked (and so not chips). */
const MAX_CHECKED = 200;

/** The number of lines of a workspace file, or undefined when there is no such file. */
export type LineCounter = (path: string) => Promise<number | undefined>;

export interface CheckedCitations {
  /** The sources that passed. */
  sources: Citation[];
  /** Labels (`path:start-end`) of every citation in the text or sources that passed. */
  citations: string[];
}

export async function checkCitations(text: string, sources: readonly Citation[], lineCount: LineCounter): Promise<CheckedCitations> {
  const byLabel = new Map<string, Citation>();
  for (const c of [...sources, ...findCitations(text).map((m) => m.citation)]) {
    if (isValidCitation(c) && byLabel.size < MAX_CHECKED) byLabel.set(citationLabel(c), c);
  }
  const counts = new Map<string, Promise<number | undefined>>();
  const countOf = (path: string) => {
    let pending = counts.get(path);
    if (!pending) counts.set(path, (pending = lineCount(path).catch(() => undefined)));
    return pending;
  };
  const passed = new Set<string>();
  await Promise.all([...byLabel].map(async ([label, c]) => {
    const lines = await countOf(c.path);
    if (lines !== undefined && c.startLine <= lines) passed.add(label);
  }));
  return { sources: sources.filter((c) => passed.has(citationLabel(c))), citations: [...passed] };
}

/** Lines in a file's text, as an editor counts them (a final newline does not start a line). */
export function countLines(text: string): number {
  if (text.length === 0) return 1;
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return text.endsWith('\n') ? lines - 1 : lines;
}
