// Runs an approved shell command for the agent (`baton/host/runCommand`): output captured and
// capped, a timeout, and cancellation. Pure Node, so it is unit-tested without VS Code.
import { spawn } from 'node:child_process';

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  timeoutMs: number;
  /** Per stream; the rest is dropped with a marker, so a chatty build cannot flood the model. */
  maxChars: number;
  signal?: AbortSignal;
  /** The command's environment; default this process's. */
  env?: NodeJS.ProcessEnv;
}

class CappedText {
  private text = '';
  private dropped = 0;

  constructor(private readonly max: number) {}

  add(chunk: string): void {
    const room = this.max - this.text.length;
    if (room > 0) this.text += chunk.slice(0, room);
    this.dropped += Math.max(0, chunk.length - Math.max(0, room));
  }

  toString(): string {
    return this.dropped ? `${this.text}\n[… ${this.dropped} more characters dropped]` : this.text;
  }
}

export function runShellCommand(command: string, opts: RunOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const stdout = new CappedText(opts.maxChars);
    const stderr = new CappedText(opts.maxChars);
    // Its own process group (POSIX), so a timeout kills what the shell started, not just the shell.
    const groupKill = process.platform !== 'win32';
    const child = spawn(command, { cwd: opts.cwd, env: opts.env ?? process.env, shell: true, detached: groupKill, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stopReason: string | undefined;
    const stop = (reason: string) => {
      if (stopReason || child.exitCode !== null) return;
      stopReason = reason;
      try {
        if (groupKill && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => stop(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs);
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    child.stdout.setEncoding('utf8').on('data', (s: string) => stdout.add(s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => stderr.add(s));
    const finish = (exitCode: number | null, problem?: string) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const note = problem ?? (stopReason ? `[${stopReason}]` : undefined);
      const err = stderr.toString();
      resolve({ exitCode, stdout: stdout.toString(), stderr: note ? (err ? `${err}\n${note}` : note) : err });
    };
    child.on('error', (err) => finish(null, `[could not run the command: ${err.message}]`));
    child.on('close', (code) => finish(stopReason ? null : code));
  });
}
