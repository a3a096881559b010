import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './workspace';

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface CliOptions { cwd?: string; input?: string; env?: NodeJS.ProcessEnv }

export interface CliProcess {
  child: ChildProcess;
  /** What it has written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when it has exited. */
  done: Promise<CliResult>;
}

/** Runs the built CLI (bin/baton.js -> dist/cli.js) exactly as a user's shell would. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** Starts the CLI and lets the test watch its output and signal it while it runs. */
export function startCli(args: string[], opts: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'baton.js'), ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out.stdout, stderr: out.stderr }));
  });
  child.stdin.end(opts.input ?? '');
  return { child, get stdout() { return out.stdout; }, get stderr() { return out.stderr; }, done };
}
