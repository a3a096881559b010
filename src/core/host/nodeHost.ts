// The EditorHost of the command line: files come from disk, there are no diagnostics, approval is
// a y/N question on the terminal, and commands run in a shell with a time limit.
//
// Paths from tools are workspace-relative ('/' separators) or absolute; both resolve against root.
// Without a terminal to ask on, every approval is refused unless the host was built with
// autoApprove (the CLI's --yes): a piped or scripted run never edits or executes by default.
// Everything an approval shows is untrusted (model-chosen commands, diffs of workspace files) and
// is rendered inert (src/base): a proposed command cannot move the cursor, rewrite the prompt or
// hide itself behind padding, and is shown whole.
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { approvalView } from '../../base/common/approval';
import type { ApprovalRequest, CommandResult, Diagnostic, EditorHost, FileEdit, RunCommandOptions } from './editorHost';
import { withoutVariables } from '../../base/common/envFilter';
import { askYesNo } from './askYesNo';
import { writeFileAtomic } from '../../base/node/atomicFile';
import { relativeInside } from '../../base/node/paths';

export interface NodeHostOptions {
  root: string;
  /** Approve everything without asking (the CLI's --yes). */
  autoApprove?: boolean;
  /** Where questions are read from; default process.stdin. Only a TTY is asked. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where questions and notices go; default process.stderr (stdout stays machine-readable). */
  output?: NodeJS.WritableStream;
  /** Bytes kept of each of stdout and stderr; default 1 MiB. */
  maxOutputBytes?: number;
  /** Time limit when runCommand is given none; default 10 minutes. */
  defaultTimeoutMs?: number;
}

/** After SIGTERM, how long a command gets before SIGKILL. */
const KILL_GRACE_MS = 2000;

export class NodeHost implements EditorHost {
  readonly root: string;
  private readonly opts: NodeHostOptions;
  /** Questions are asked one at a time so prompts never interleave. */
  private asking: Promise<unknown> = Promise.resolve();

  constructor(opts: NodeHostOptions) {
    this.root = path.resolve(opts.root);
    this.opts = opts;
  }

  async readFile(file: string): Promise<string> {
    return readFile(this.resolve(file), 'utf8');
  }

  async getDiagnostics(_path?: string): Promise<Diagnostic[]> {
    return []; // no language services outside an editor
  }

  requestApproval(request: ApprovalRequest): Promise<boolean> {
    const answer = this.asking.then(() => this.ask(request));
    this.asking = answer.catch(() => undefined);
    return answer;
  }

  private async ask(request: ApprovalRequest): Promise<boolean> {
    const out = this.opts.output ?? process.stderr;
    const input = this.opts.input ?? process.stdin;
    const view = approvalView(request, (out as { columns?: number }).columns || 80);
    if (this.opts.autoApprove) {
      out.write(`baton: approved by --yes: ${view.title}\n${request.kind === 'command' ? view.detail + '\n' : ''}`);
      return true;
    }
    if (!input.isTTY) {
      out.write(`baton: not approved (no terminal to ask; pass --yes to allow): ${view.title}\n`);
      return false;
    }
    out.write(`\n${view.title}\n${view.detail ? view.detail + '\n' : ''}`);
    // A long command's header may have scrolled away: the question repeats its size.
    const question = view.command && !view.command.compact ? `Approve this command (${view.command.summary})? [y/N] ` : 'Approve? [y/N] ';
    return askYesNo(question, { input, output: out });
  }

  async applyEdit(edit: FileEdit): Promise<void> {
    const file = this.resolve(edit.path);
    if (relativeInside(this.root, file) === null) throw new Error(`refusing to write outside the workspace: ${edit.path}`);
    await mkdir(path.dirname(file), { recursive: true });
    // The atomic write creates a new file: carry the old one's permissions (an executable script stays one).
    const mode = await stat(file).then((s) => s.mode & 0o7777, () => null);
    await writeFileAtomic(file, edit.newText);
    if (mode !== null) await chmod(file, mode);
  }

  runCommand(command: string, opts: RunCommandOptions = {}): Promise<CommandResult> {
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    const cap = this.opts.maxOutputBytes ?? 1024 * 1024;
    const timeoutMs = opts.timeoutMs ?? this.opts.defaultTimeoutMs ?? 10 * 60 * 1000;
    return new Promise((resolve, reject) => {
      // Own process group (POSIX), so a timeout stops the whole pipeline, not only the shell.
      const child = spawn(command, {
        shell: true,
        cwd: opts.cwd ? this.resolve(opts.cwd) : this.root,
        env: withoutVariables(process.env, opts.withholdEnv ?? ['OPENAI_API_KEY']),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
      const stdout = new Capped(cap);
      const stderr = new Capped(cap);
      child.stdout.on('data', (d: Buffer) => stdout.add(d));
      child.stderr.on('data', (d: Buffer) => stderr.add(d));
      let stopped: string | null = null;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (why: string) => {
        if (stopped || child.exitCode !== null) return;
        stopped = why;
        kill(child.pid, 'SIGTERM', child);
        killTimer = setTimeout(() => kill(child.pid, 'SIGKILL', child), KILL_GRACE_MS);
      };
      const limit = timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`;
      const timer = setTimeout(() => stop(`time limit of ${limit} reached`), timeoutMs);
      const onAbort = () => stop('cancelled');
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        signal?.removeEventListener('abort', onAbort);
      };
      child.on('error', (err) => {
        cleanup();
        reject(err);
      });
      child.on('close', (code) => {
        cleanup();
        const note = stopped ? `\n[baton: the command was stopped: ${stopped}]` : '';
        resolve({ exitCode: stopped ? null : code, stdout: stdout.text(), stderr: stderr.text() + note });
      });
    });
  }

  private resolve(file: string): string {
    return path.resolve(this.root, file);
  }
}

function kill(pid: number | undefined, sig: NodeJS.Signals, child: { kill(sig: NodeJS.Signals): boolean }): void {
  try {
    if (pid !== undefined && process.platform !== 'win32') process.kill(-pid, sig);
    else child.kill(sig);
  } catch {
    child.kill(sig); // the group is gone already, or was never made
  }
}

/** Keeps the first `cap` bytes of a stream and counts the rest. */
class Capped {
  private readonly parts: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly cap: number) {}

  add(chunk: Buffer): void {
    const room = this.cap - this.kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.parts.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(0, room));
  }

  text(): string {
    const body = Buffer.concat(this.parts).toString('utf8');
    return this.dropped ? `${body}\n[baton: output truncated, ${this.dropped} more bytes not kept]` : body;
  }
}
