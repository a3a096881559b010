// What the CLI prints for people, in one place: every untrusted string (file names and contents,
// symbols, model answers, tool arguments, messages that quote input) is rendered inert (src/base) so
// it cannot drive the terminal; JSON for scripts stays exact (terminalJson escapes, never alters).
import { InertStream, inertBlock, inertLine, terminalJson, wrapInert } from '../base/common/inert';

export { inertBlock, inertLine, terminalJson };

/** Columns of the terminal behind `stream`, or 80 when it is not one. */
export function columns(stream: NodeJS.WriteStream = process.stderr): number {
  return stream.columns || 80;
}

/**
 * A message on stderr as "baton: …", inert. Lines after the first are indented, so a newline in a
 * quoted file name cannot start a line that passes for one of Baton's own.
 */
export function notice(message: string): void {
  console.error(`baton: ${inertBlock(message).replace(/\n/g, '\n  ')}`);
}

/** Streamed text (an answer's tokens) written inert piece by piece; `end()` writes what was held back. */
export function inertWriter(stream: NodeJS.WritableStream = process.stdout): { write(delta: string): void; end(): void } {
  const inert = new InertStream({ multiline: true });
  return {
    write: (delta) => {
      const shown = inert.push(delta);
      if (shown) stream.write(shown);
    },
    end: () => {
      const rest = inert.end();
      if (rest) stream.write(rest);
    },
  };
}

/** The echo of a tool call: the whole arguments, inert, on one line when they fit, else wrapped under a header. */
export function toolCallLines(name: string, args: string, width = columns()): string[] {
  const head = `baton: ${inertLine(name)}`;
  const oneLine = `${head} ${inertLine(args)}`;
  if (!args.includes('\n') && Array.from(oneLine).length <= width) return [oneLine];
  const wrapped = wrapInert(args, { width });
  return [`${head} (arguments: ${wrapped.summary}):`, ...wrapped.rows];
}
