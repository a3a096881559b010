// A real HTTP server on 127.0.0.1 that speaks (a growing subset of) the OpenAI REST protocol, for
// tests. Each route has a default handler; tests push scripted steps (a canned reply or an injected
// fault) that are consumed one per request before the default takes over again. Every request is
// recorded so a test can assert what the client really sent.
//
// Routes today: POST /v1/embeddings. Add chat completions (JSON + SSE) by adding to `routes`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

/** One scripted answer for one request. */
export type Step =
  /** A JSON reply with this status and body. */
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  /** An error status with an OpenAI-shaped error body; `retryAfter` (seconds) sets Retry-After. */
  | { kind: 'error'; status: number; message?: string; retryAfter?: number }
  /** Headers sent, then a body that is not JSON although it claims to be. */
  | { kind: 'malformed'; text?: string }
  /** Accept the request and never answer (until the server stops). */
  | { kind: 'hang' }
  /** Close the TCP connection without any reply. */
  | { kind: 'drop' }
  /** Compute the reply from the request (still consumed once). */
  | { kind: 'custom'; handle: Handler };

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface EmbeddingModelBehaviour {
  /** Vector length when the request names no `dimensions`. Default 8. */
  dimensions: number;
  /** Reply with data items in reverse order (indices still correct): clients must sort by index. */
  reverseOrder: boolean;
}

/**
 * A deterministic, deliberately not normalised "embedding": character bigram counts hashed into
 * `dims` buckets, so similar texts get similar vectors and tests can compute the expected result.
 */
export function fakeEmbedding(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  const s = ` ${text} `;
  for (let i = 0; i + 1 < s.length; i++) {
    const h = (s.charCodeAt(i) * 31 + s.charCodeAt(i + 1)) % dims;
    v[h] += 1 + (i % 3);
  }
  v[0] += 0.5; // never the zero vector
  return v;
}

export class OpenAIProtocolServer {
  readonly requests: RecordedRequest[] = [];
  readonly embeddingModel: EmbeddingModelBehaviour = { dimensions: 8, reverseOrder: false };
  private readonly scripts = new Map<string, Step[]>();
  private readonly sockets = new Set<Socket>();
  private readonly routes = new Map<string, Handler>([
    ['POST /v1/embeddings', (req, res) => this.embeddings(req, res)],
  ]);
  private server: Server | undefined;
  private port = 0;

  /** Base URL to hand to an OpenAI client, e.g. http://127.0.0.1:43121/v1 */
  get baseURL(): string {
    if (!this.server) throw new Error('server not started');
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.baseURL;
  }

  /** Stops listening and cuts every open connection (hung requests included). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Queue steps for `route` ("POST /v1/embeddings"), one per upcoming request. */
  script(route: string, ...steps: Step[]): this {
    if (!this.routes.has(route)) throw new Error(`unknown route ${route}`);
    this.scripts.set(route, [...(this.scripts.get(route) ?? []), ...steps]);
    return this;
  }

  /** Replace or add a default handler. */
  route(route: string, handler: Handler): this {
    this.routes.set(route, handler);
    return this;
  }

  requestsTo(route: string): RecordedRequest[] {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route);
  }

  reset(): void {
    this.requests.length = 0;
    this.scripts.clear();
    this.embeddingModel.dimensions = 8;
    this.embeddingModel.reverseOrder = false;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try { body = text ? JSON.parse(text) : undefined; } catch { /* keep the raw text */ }
    const path = (req.url ?? '/').split('?')[0];
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body };
    this.requests.push(recorded);
    const route = `${recorded.method} ${path}`;
    const handler = this.routes.get(route);
    if (!handler) return sendJson(res, 404, { error: { message: `no route ${route}`, type: 'invalid_request_error' } });
    const step = this.scripts.get(route)?.shift();
    try {
      if (step) await this.play(step, recorded, res);
      else await handler(recorded, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `test server: ${(err as Error).message}`, type: 'server_error' } });
    }
  }

  private async play(step: Step, req: RecordedRequest, res: ServerResponse): Promise<void> {
    switch (step.kind) {
      case 'json':
        return sendJson(res, step.status ?? 200, step.body, step.headers);
      case 'error': {
        const headers: Record<string, string> = step.retryAfter !== undefined ? { 'retry-after': String(step.retryAfter) } : {};
        return sendJson(res, step.status, { error: { message: step.message ?? `injected ${step.status}`, type: 'server_error' } }, headers);
      }
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(step.text ?? '{"object": "list", "data": [');
        return;
      case 'hang':
        return; // the socket stays open until the client gives up or stop() destroys it
      case 'drop':
        res.socket?.destroy();
        return;
      case 'custom':
        return step.handle(req, res);
    }
  }

  private embeddings(req: RecordedRequest, res: ServerResponse): void {
    const body = req.body as { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown } | undefined;
    const inputs = typeof body?.input === 'string' ? [body.input] : body?.input;
    if (!Array.isArray(inputs) || inputs.some((t) => typeof t !== 'string' || t.length === 0)) {
      return sendJson(res, 400, { error: { message: "'input' must be a non-empty string or array of non-empty strings", type: 'invalid_request_error' } });
    }
    if (typeof body?.model !== 'string') return sendJson(res, 400, { error: { message: "'model' is required", type: 'invalid_request_error' } });
    const dims = typeof body.dimensions === 'number' ? body.dimensions : this.embeddingModel.dimensions;
    const base64 = body.encoding_format === 'base64';
    let data = (inputs as string[]).map((text, index) => {
      const v = fakeEmbedding(text, dims);
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
    });
    if (this.embeddingModel.reverseOrder) data = data.reverse();
    const tokens = (inputs as string[]).reduce((n, t) => n + t.split(/\s+/).length, 0);
    sendJson(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
