// Drives the real language server (dist/server.js, or `baton lsp`) over stdio with JSON-RPC, as an
// editor would: initialize, Baton requests, and answers to the server's `baton/host/*` requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type CancellationToken, type MessageConnection } from 'vscode-jsonrpc/node';
import type { DiagnosticDto, HostRequests, IndexStatus, Requests, RequestMethod, RunProgress, ServerNotifications, ServerSettings } from '../../src/protocol';
import { REPO_ROOT } from './workspace';
import { waitUntil } from './waitFor';

type ApprovalParams = HostRequests['baton/host/requestApproval'][0];

export interface LspClientOptions {
  /** Workspace folder; none when omitted. */
  root?: string;
  settings?: ServerSettings;
  env?: NodeJS.ProcessEnv;
  /** Arguments after `node`; default the bundled server with --stdio. */
  args?: string[];
  /** Advertise dynamic registration of file watching. Default true. */
  watchFiles?: boolean;
}

export class LspClient {
  readonly statuses: IndexStatus[] = [];
  readonly progress: RunProgress[] = [];
  readonly traces: ServerNotifications['baton/trace'][] = [];
  readonly hostCalls: Array<{ method: string; params: unknown }> = [];
  readonly registrations: Array<{ method: string; registerOptions?: unknown }> = [];
  /** What the client answers to approvals; default: approve. */
  approve: (params: ApprovalParams) => boolean = () => true;
  diagnostics: DiagnosticDto[] = [];
  stderr = '';
  private readonly listeners = new Set<() => void>();

  private constructor(readonly child: ChildProcess, readonly connection: MessageConnection) {}

  static async start(opts: LspClientOptions = {}): Promise<LspClient> {
    const env = { ...process.env, ...opts.env };
    for (const key of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'BATON_MODEL']) if (!opts.env || !(key in opts.env)) delete env[key];
    const child = spawn(process.execPath, opts.args ?? [join(REPO_ROOT, 'dist', 'server.js'), '--stdio'], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const client = new LspClient(child, connection);
    child.stderr.on('data', (d) => (client.stderr += d));
    client.listen();
    connection.listen();
    const rootUri = opts.root ? pathToFileURL(opts.root).href : null;
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: rootUri ? [{ uri: rootUri, name: 'workspace' }] : null,
      initializationOptions: opts.settings ?? {},
      capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: opts.watchFiles ?? true }, didChangeConfiguration: { dynamicRegistration: true } } },
    });
    await connection.sendNotification('initialized', {});
    return client;
  }

  request<M extends RequestMethod>(method: M, params: Requests[M][0], token?: CancellationToken): Promise<Requests[M][1]> {
    // An undefined token would be sent as a second positional parameter.
    return (token ? this.connection.sendRequest(method, params, token) : this.connection.sendRequest(method, params));
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.connection.sendNotification(method, params);
  }

  /** Resolves when `check` holds, re-checked on every notification from the server. */
  waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
    return waitUntil(this.listeners, check, what, timeoutMs, () => `stderr:\n${this.stderr.slice(-2000)}`);
  }

  /** The next status in `state` after `since` statuses were seen. */
  waitForState(state: IndexStatus['state'], since = 0, timeoutMs?: number): Promise<IndexStatus> {
    return this.waitFor(() => this.statuses.slice(since).find((s) => s.state === state), `index state ${state}`, timeoutMs);
  }

  tokensOf(runId: string): string {
    return this.progress.filter((p): p is Extract<RunProgress, { kind: 'token' }> => p.runId === runId && p.kind === 'token').map((p) => p.text).join('');
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 5000))]);
      await this.connection.sendNotification('exit');
    } catch {
      // already gone
    }
    const exited = new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.connection.dispose();
  }

  private listen(): void {
    const c = this.connection;
    const changed = () => { for (const l of [...this.listeners]) l(); };
    c.onNotification('baton/indexStatusChanged', (s: IndexStatus) => { this.statuses.push(s); changed(); });
    c.onNotification('baton/runProgress', (p: RunProgress) => { this.progress.push(p); changed(); });
    c.onNotification('baton/trace', (t: ServerNotifications['baton/trace']) => { this.traces.push(t); changed(); });
    c.onNotification('window/logMessage', () => undefined);
    c.onRequest('client/registerCapability', (params: { registrations: Array<{ method: string; registerOptions?: unknown }> }) => {
      this.registrations.push(...params.registrations);
      changed();
      return null;
    });
    const host = <M extends keyof HostRequests>(method: M, answer: (params: HostRequests[M][0]) => HostRequests[M][1] | Promise<HostRequests[M][1]>) =>
      c.onRequest(method, async (params: HostRequests[M][0]) => {
        this.hostCalls.push({ method, params });
        changed();
        return answer(params);
      });
    host('baton/host/requestApproval', (p) => ({ approved: this.approve(p) }));
    host('baton/host/getDiagnostics', () => this.diagnostics);
    host('baton/host/applyEdit', () => ({ applied: false, error: 'the test client applies no edits' }));
    host('baton/host/runCommand', () => ({ exitCode: 0, stdout: '', stderr: '' }));
  }
}
