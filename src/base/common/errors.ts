// How a caught value becomes text: one wording for every place that reports a failure, whatever
// was thrown (an Error, an SDK's error-like object, a string).

/** The message of whatever was thrown: an Error's or error-like object's message, else its text. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(err);
}

/** The first line of a text, for a multi-line message (a stack, an HTML page) in a one-line
 * report; at most `maxChars` of it when given. */
export function firstLine(text: string, maxChars = Infinity): string {
  return text.split('\n')[0].slice(0, maxChars);
}

/** The first line of a thrown value's message. */
export function errorLine(err: unknown): string {
  return firstLine(errorMessage(err));
}

/** A thrown value's string `code` (Node's ENOENT, EACCES...), else undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
