// Document-side preprocessing that a model can ask for in its config.json
// (`"baton": {"documentHeadRepeat": N}`): N extra copies of the chunk's first non-blank line
// (usually the declaration: name and parameters). For a bag-of-words encoder, which cannot see
// word order, this is the dense counterpart of BM25F's symbol field. Other models see chunks
// unchanged. It depends on the text only, because vectors are cached by content hash.

/** The repeat Baton's own model is trained with (train/prepare.ts) and declares (train/export.ts). */
export const DOCUMENT_HEAD_REPEAT = 5;

export function documentText(chunk: { text: string }, headRepeat = DOCUMENT_HEAD_REPEAT): string {
  const text = chunk.text;
  const head = /^[ \t]*(\S[^\n]*)/m.exec(text)?.[1];
  if (!head || headRepeat <= 0) return text;
  return `${`${head.slice(0, 200)}\n`.repeat(headRepeat)}${text}`;
}
