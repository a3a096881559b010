// Owns the language client: starts the server (dist/server.js over IPC) with the settings as
// initializationOptions and the API key in its environment only, restarts it when either changes,
// and exposes the protocol as typed requests and events. Handlers are registered on every new
// client, so a restart is invisible to the rest of the extension.
import * as vscode from 'vscode';
import {
  LanguageClient, RevealOutputChannelOn, State, TransportKind, type LanguageClientOptions, type ServerOptions, type StateChangeEvent,
} from 'vscode-languageclient/node';
import type {
  HostRequestMethod, HostRequests, IndexStatus, RequestMethod, Requests, RunProgress, ServerNotifications,
} from '../../protocol';
import { readServerSettings } from '../settings';
import { configuredInspectPort, serverExecArgv } from './inspect';
import { workspaceRoot } from './workspaceFiles';

export type HostHandlers = {
  [M in HostRequestMethod]: (params: HostRequests[M][0], token: vscode.CancellationToken) => Promise<HostRequests[M][1]>;
};

export type TraceNotification = ServerNotifications['baton/trace'];

export interface BatonClientOptions {
  serverModule: string;
  output: vscode.LogOutputChannel;
  apiKey: () => Promise<string | undefined>;
  host: HostHandlers;
}

export class BatonClient implements vscode.Disposable {
  private readonly runProgress = new vscode.EventEmitter<RunProgress>();
  private readonly indexStatus = new vscode.EventEmitter<IndexStatus>();
  private readonly trace = new vscode.EventEmitter<TraceNotification>();
  private readonly stopped = new vscode.EventEmitter<void>();
  private readonly started = new vscode.EventEmitter<{ launchedAt: number }>();
  readonly onRunProgress = this.runProgress.event;
  readonly onIndexStatus = this.indexStatus.event;
  readonly onTrace = this.trace.event;
  /** The server stopped unexpectedly (crashed and gave up restarting, or failed to start). */
  readonly onDidStop = this.stopped.event;
  /** A server (the first, or one after a restart) is up; launchedAt (Date.now()) is when its start
   * began, i.e. when it read the settings and the key. */
  readonly onDidStart = this.started.event;

  private client: LanguageClient | undefined;
  private clientDisposables: vscode.Disposable[] = [];
  private running: Promise<LanguageClient> | undefined;
  private startFailed = false;
  private disposed = false;

  constructor(private readonly opts: BatonClientOptions) {}

  /** Starts the server once; later calls return the same start. */
  start(): Promise<void> {
    this.running ??= this.launch();
    return this.running.then(() => undefined);
  }

  /** Resolves when the current (or next) server is up; rejects if it failed to start. */
  ready(): Promise<void> {
    return this.start();
  }

  /** Stops the current server and starts a new one with the current settings and key. */
  restart(): Promise<void> {
    const previous = this.running;
    this.running = (async () => {
      await previous?.catch(() => undefined);
      await this.shutdown();
      return this.launch();
    })();
    return this.running.then(() => undefined);
  }

  async request<M extends RequestMethod>(method: M, params: Requests[M][0], token?: vscode.CancellationToken): Promise<Requests[M][1]> {
    // A server that failed to start (not built yet, bad settings fixed since) gets one more try per request.
    if (this.startFailed) {
      this.startFailed = false;
      void this.restart().catch(() => undefined);
    }
    this.running ??= this.launch();
    const client = await this.running;
    // An undefined token would go out as a second positional parameter, which the server refuses.
    return token ? client.sendRequest<Requests[M][1]>(method, params, token) : client.sendRequest<Requests[M][1]>(method, params);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.shutdown();
    for (const emitter of [this.runProgress, this.indexStatus, this.trace, this.stopped, this.started]) emitter.dispose();
  }

  private async launch(): Promise<LanguageClient> {
    if (this.disposed) throw new Error('Baton is shutting down');
    const launchedAt = Date.now();
    // Every start goes through here (activation, restarts, a request's retry): an untrusted folder's
    // settings and baton.config.json could send the key and the code to any server.
    if (!vscode.workspace.isTrusted) throw new Error('Baton starts once you trust this workspace ("Workspaces: Manage Workspace Trust").');
    const apiKey = await this.opts.apiKey();
    // The key travels only in the server's environment; an unset key keeps an inherited OPENAI_API_KEY.
    const env: NodeJS.ProcessEnv = { ...process.env, ...(apiKey ? { OPENAI_API_KEY: apiKey } : {}) };
    const execArgv = serverExecArgv(configuredInspectPort(vscode.workspace.getConfiguration('baton').get<number>('server.debugPort')));
    const module = (argv: string[]) => ({ module: this.opts.serverModule, transport: TransportKind.ipc, options: { env, execArgv: argv } });
    const serverOptions: ServerOptions = { run: module(execArgv.run), debug: module(execArgv.debug) };
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(),
      // No client-side file watcher: the server registers its own `**/*` watch (dynamic
      // registration), so every change arrives once.
      initializationOptions: readServerSettings(),
      outputChannel: this.opts.output,
      traceOutputChannel: this.opts.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
    };
    const client = new LanguageClient('baton', 'Baton', serverOptions, clientOptions);
    this.client = client;
    this.clientDisposables = [...this.wire(client)];
    try {
      await client.start();
    } catch (err) {
      this.startFailed = true;
      this.stopped.fire();
      throw err;
    }
    this.opts.output.info('Baton server started');
    this.started.fire({ launchedAt });
    return client;
  }

  private wire(client: LanguageClient): vscode.Disposable[] {
    const host = this.opts.host;
    const onHost = <M extends HostRequestMethod>(method: M) =>
      client.onRequest(method, (params: HostRequests[M][0], token: vscode.CancellationToken) => host[method](params, token));
    return [
      client.onNotification('baton/runProgress', (p: RunProgress) => this.runProgress.fire(p)),
      client.onNotification('baton/indexStatusChanged', (s: IndexStatus) => this.indexStatus.fire(s)),
      client.onNotification('baton/trace', (t: TraceNotification) => this.trace.fire(t)),
      onHost('baton/host/getDiagnostics'),
      onHost('baton/host/requestApproval'),
      onHost('baton/host/applyEdit'),
      onHost('baton/host/runCommand'),
      client.onDidChangeState((e: StateChangeEvent) => {
        if (e.newState === State.Stopped && this.client === client && !this.disposed) this.stopped.fire();
      }),
    ];
  }

  private async shutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    for (const d of this.clientDisposables) d.dispose();
    this.clientDisposables = [];
    if (!client) return;
    try {
      await client.dispose(2000);
    } catch (err) {
      this.opts.output.warn(`Stopping the Baton server: ${(err as Error).message}`);
    }
  }
}

/** Only the workspace's own files are synchronised to the server (and shown in its trace): a file
 * opened from elsewhere, a key in ~/.ssh say, never reaches it. */
function documentSelector(): LanguageClientOptions['documentSelector'] {
  const root = workspaceRoot();
  return root ? [{ scheme: 'file', pattern: { baseUri: root.toString(), pattern: '**/*' } }] : [{ scheme: 'file' }];
}
