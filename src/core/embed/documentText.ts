// Document-side preprocessing that a model can ask for in its config.json
// (`"baton": {"documentHeadRepeat": N}`). A bag-of-words encoder cannot see word order, so the
// text it embeds carries the dense counterpart of BM25F's symbol field in front of the chunk: N
// copies of its declaration line, i.e. the first line that names the chunk's symbol (its name and
// parameters), prefixed with the qualified symbol when the line lacks it (a method's class, or the
// function a continuation chunk belongs to); without a symbol, the first non-blank line.
// Measured on train/ (README there): the symbol-aware line beat the plain first line (dev MRR@10
// 0.575 vs 0.554); putting the path in front as well did not help (0.574 with one copy, 0.570 with
// two), so the vectors stay independent of where a file lives and survive renames.
// Other models see chunks unchanged. The indexer keys cached vectors by a hash of exactly this text.

/** The repeat Baton's own model is trained with (train/prepare.ts) and declares (train/export.ts). */
export const DOCUMENT_HEAD_REPEAT = 5;
/** Bumped whenever the text below changes, so no cached vector of an older format is reused
 * (it is part of the embedder id). 2: the declaration line is found by the chunk's symbol. */
export const DOCUMENT_TEXT_FORMAT = 2;

/** What a chunk contributes to the embedded text. */
export interface DocumentParts {
  text: string;
  /** The chunker's symbol, e.g. `parse` or `Router.handle`. */
  symbol?: string | null;
}

const MAX_HEAD_CHARS = 200;

export function documentText(chunk: DocumentParts, headRepeat = DOCUMENT_HEAD_REPEAT): string {
  if (headRepeat <= 0) return chunk.text;
  const head = declarationLine(chunk.text, chunk.symbol ?? null);
  return head ? `${`${head}\n`.repeat(headRepeat)}${chunk.text}` : chunk.text;
}

/** The line that declares `symbol` (trimmed, at most 200 characters), or the first non-blank one. */
export function declarationLine(text: string, symbol: string | null): string | undefined {
  const lines = text.split('\n');
  const firstLine = lines.find((l) => /\S/.test(l))?.trim();
  const name = symbol?.split(/[.#:]/).filter(Boolean).pop();
  if (!symbol || !name) return firstLine?.slice(0, MAX_HEAD_CHARS);
  const namePattern = new RegExp(`(^|[^\\w$])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w$])`);
  const declared = lines.find((l) => namePattern.test(l))?.trim();
  const line = declared ?? firstLine ?? '';
  const head = line.includes(symbol) ? line : `${symbol} ${line}`.trim();
  return head.slice(0, MAX_HEAD_CHARS);
}
