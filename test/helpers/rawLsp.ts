// A bare JSON-RPC-over-stdio client for the language server: it writes exactly the bytes a test
// gives it (params no typed client would send, broken framing) and reads the server's framed
// replies itself. Use LspClient (lspClient.ts) for everything an editor would do.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServerSettings } from '../../src/protocol';
import { REPO_ROOT } from './workspace';
import { waitUntil } from './waitFor';

export interface RpcReply {
  id: number;
  result?: unknown;
  error?: { code: number; message: string };
}

export class RawLspProcess {
  readonly logs: Array<{ type: number; message: string }> = [];
  stderr = '';
  private readonly replies = new Map<number, RpcReply>();
  private readonly listeners = new Set<() => void>();
  private pending = Buffer.alloc(0);
  private nextId = 1;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => this.read(d));
    child.stderr!.on('data', (d) => (this.stderr += d));
  }

  /** Starts the server (default dist/server.js --stdio) and initializes it on `root`. */
  static async start(opts: { root?: string; settings?: ServerSettings; args?: string[] } = {}): Promise<RawLspProcess> {
    const env = { ...process.env };
    for (const key of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'BATON_MODEL']) delete env[key];
    const child = spawn(process.execPath, opts.args ?? [join(REPO_ROOT, 'dist', 'server.js'), '--stdio'], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const lsp = new RawLspProcess(child);
    const rootUri = opts.root ? pathToFileURL(opts.root).href : null;
    const init = await lsp.request('initialize', { processId: process.pid, rootUri, capabilities: {}, initializationOptions: opts.settings ?? {} });
    if (init.error) throw new Error(`initialize failed: ${init.error.message}`);
    lsp.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
    return lsp;
  }

  /** A request with exactly these params; `NO_PARAMS` leaves the field out. */
  request(method: string, params: unknown = NO_PARAMS, timeoutMs = 30_000): Promise<RpcReply> {
    const id = this.nextId++;
    this.send({ jsonrpc: '2.0', id, method, ...(params === NO_PARAMS ? {} : { params }) });
    return this.reply(id, timeoutMs);
  }

  /** The reply to request `id` (sent by `frame`/`write`, say). */
  reply(id: number, timeoutMs = 30_000): Promise<RpcReply> {
    return this.waitFor(() => this.replies.get(id), `the reply to request ${id}`, timeoutMs);
  }

  /** An id no request has used yet, for requests a test frames itself. */
  takeId(): number {
    return this.nextId++;
  }

  send(message: object): void {
    this.write(frame(message));
  }

  write(bytes: string | Buffer): void {
    this.child.stdin!.write(bytes);
  }

  waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
    return waitUntil(this.listeners, check, what, timeoutMs, () => `stderr:\n${this.stderr.slice(-2000)}`);
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    if (this.child.exitCode === null) {
      await this.request('shutdown', NO_PARAMS, 5000).catch(() => undefined);
      this.send({ jsonrpc: '2.0', method: 'exit' });
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private read(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    for (;;) {
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.pending.toString('latin1', 0, end))?.[1]);
      if (this.pending.length < end + 4 + length) return;
      const message = JSON.parse(this.pending.toString('utf8', end + 4, end + 4 + length)) as Record<string, unknown>;
      this.pending = this.pending.subarray(end + 4 + length);
      this.dispatch(message);
    }
  }

  private dispatch(message: Record<string, unknown>): void {
    if (message.method === 'window/logMessage') this.logs.push(message.params as { type: number; message: string });
    else if (typeof message.method === 'string' && message.id !== undefined) {
      this.send({ jsonrpc: '2.0', id: message.id, result: null }); // the server asking the client: nothing to say
    } else if (typeof message.id === 'number') this.replies.set(message.id, message as unknown as RpcReply);
    for (const l of [...this.listeners]) l();
  }
}

export const NO_PARAMS = Symbol('no params');

/** One message with its Content-Length header, as the protocol frames it. */
export function frame(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}
