import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './workspace';

export interface CliResult { code: number | null; stdout: string; stderr: string }

export interface CliProcess {
  child: ChildProcess;
  /** What it has written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when it has exited. */
  done: Promise<CliResult>;
}

/** Starts the built CLI (bin/baton.js -> dist/cli.js) exactly as a user's shell would, and lets the
 * test watch its output and signal it while it runs. */
export function startCli(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): CliProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'baton.js'), ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: out.stdout, stderr: out.stderr }));
  });
  child.stdin!.end(opts.input ?? '');
  return { child, get stdout() { return out.stdout; }, get stderr() { return out.stderr; }, done };
}

/** Runs the built CLI to completion. */
export function runCli(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}
