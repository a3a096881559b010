// One y/N question on a terminal. Anything but "y"/"yes" is no, and so is the end of input, so a
// closed or scripted stdin never says yes by accident.
import { createInterface } from 'node:readline';

export interface TerminalIO {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
}

export async function askYesNo(prompt: string, io: TerminalIO): Promise<boolean> {
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  try {
    const reply = await new Promise<string | null>((resolve) => {
      rl.once('close', () => resolve(null));
      rl.question(prompt, resolve);
    });
    return reply !== null && /^\s*y(es)?\s*$/i.test(reply);
  } finally {
    rl.close();
  }
}
