// A real HTTP server on 127.0.0.1 that speaks (a growing subset of) the OpenAI REST protocol, for
// tests. Each route has a default handler; tests push scripted steps (a canned reply or an injected
// fault) that are consumed one per request before the default takes over again. Every request is
// recorded so a test can assert what the client really sent.
//
// Routes: POST /v1/embeddings, POST /v1/chat/completions (JSON, or SSE in OpenAI's chunk format
// when the request says `stream: true`), GET /v1/models.
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
  /** An error status with an OpenAI-shaped error body; `retryAfter` sets Retry-After (seconds, or an HTTP-date string). */
  | { kind: 'error'; status: number; message?: string; retryAfter?: number | string }
  /** Headers sent, then a body that is not JSON although it claims to be. */
  | { kind: 'malformed'; text?: string }
  /** Any status, content type and body: an HTML page, text/plain, invalid JSON, an HTML error page. */
  | { kind: 'raw'; status?: number; contentType?: string; body: string; headers?: Record<string, string> }
  /** Accept the request and never answer (until the server stops). */
  | { kind: 'hang' }
  /** Send the status line and headers, then nothing (until the client gives up or the server stops). */
  | { kind: 'headers'; status?: number; contentType?: string }
  /** An SSE response whose events carry these data lines verbatim (garbage, or JSON of another
   * shape), then `data: [DONE]` unless `done` is false. */
  | { kind: 'sse'; events: string[]; done?: boolean }
  /** Close the TCP connection without any reply. */
  | { kind: 'drop' }
  /** Compute the reply from the request (still consumed once). */
  | { kind: 'custom'; handle: Handler }
  /** A chat completion, as JSON or as an SSE stream, whichever the request asked for. */
  | ({ kind: 'chat' } & ChatReply);

/** One scripted chat completion. Everything is optional: the default echoes the last user message. */
export interface ChatReply {
  content?: string;
  toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
  finishReason?: string;
  /** Usage to report (default: word counts); false reports none, even when the stream asks for it. */
  usage?: { prompt_tokens: number; completion_tokens: number } | false;
  /** Streaming: the content deltas, one per chunk (default: `content` split after each space). */
  chunks?: string[];
  /** Streaming: destroy the socket after this many content chunks (a connection cut mid-answer). */
  cutAfter?: number;
  /** Streaming: after this many content chunks send nothing more, keeping the connection open. */
  stallAfter?: number;
  /** Streaming: pause between chunks. */
  chunkDelayMs?: number;
}

export interface ChatModelBehaviour {
  /** Honour `stream_options.include_usage` (some servers ignore it). Default true. */
  streamUsage: boolean;
  /** What GET /v1/models lists. */
  models: string[];
}

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
  readonly chatModel: ChatModelBehaviour = { streamUsage: true, models: ['test-chat'] };
  /** When set, every /v1 request without `Authorization: Bearer <requireKey>` gets a 401. */
  requireKey: string | undefined;
  private readonly scripts = new Map<string, Step[]>();
  private readonly sockets = new Set<Socket>();
  private readonly routes = new Map<string, Handler>([
    ['POST /v1/embeddings', (req, res) => this.embeddings(req, res)],
    ['POST /v1/chat/completions', (req, res) => this.chat(req, res, {})],
    ['GET /v1/models', (_req, res) => sendJson(res, 200, {
      object: 'list',
      data: this.chatModel.models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'test' })),
    })],
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

  /** Remove a route for good (reset() keeps it removed): its requests get a 404, as from a server without it. */
  unroute(route: string): this {
    this.routes.delete(route);
    this.scripts.delete(route);
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
    this.chatModel.streamUsage = true;
    this.chatModel.models = ['test-chat'];
    this.requireKey = undefined;
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
    if (this.requireKey !== undefined && path.startsWith('/v1/') && req.headers.authorization !== `Bearer ${this.requireKey}`) {
      return sendJson(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
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
      case 'raw':
        res.writeHead(step.status ?? 200, { 'content-type': step.contentType ?? 'text/html; charset=utf-8', ...step.headers });
        res.end(step.body);
        return;
      case 'hang':
        return; // the socket stays open until the client gives up or stop() destroys it
      case 'headers':
        res.writeHead(step.status ?? 200, { 'content-type': step.contentType ?? 'text/event-stream' });
        res.flushHeaders();
        return; // as for 'hang', with the headers already out
      case 'sse':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const data of step.events) res.write(`data: ${data}\n\n`);
        res.end(step.done === false ? undefined : 'data: [DONE]\n\n');
        return;
      case 'drop':
        res.socket?.destroy();
        return;
      case 'custom':
        return step.handle(req, res);
      case 'chat':
        return this.chat(req, res, step);
    }
  }

  private async chat(req: RecordedRequest, res: ServerResponse, reply: ChatReply): Promise<void> {
    const body = req.body as {
      model?: unknown; messages?: Array<{ role: string; content?: string | null }>; stream?: boolean;
      stream_options?: { include_usage?: boolean };
    } | undefined;
    if (typeof body?.model !== 'string') return sendJson(res, 400, { error: { message: "'model' is required", type: 'invalid_request_error' } });
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return sendJson(res, 400, { error: { message: "'messages' must be a non-empty array", type: 'invalid_request_error' } });
    }
    const lastUser = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const content = reply.content ?? (reply.toolCalls ? '' : `echo: ${lastUser}`);
    const toolCalls = (reply.toolCalls ?? []).map((c, i) => ({ id: c.id ?? `call_${i}`, name: c.name, arguments: c.arguments }));
    const finishReason = reply.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop');
    const chunks = reply.chunks ?? (content.match(/[^ ]+ ?| +/g) ?? []);
    const words = (t: string | null | undefined) => (t ?? '').split(/\s+/).filter(Boolean).length;
    const usage = reply.usage === false ? undefined : reply.usage ?? {
      prompt_tokens: body.messages.reduce((n, m) => n + words(m.content), 0),
      completion_tokens: chunks.length + toolCalls.length,
    };
    const base = { id: 'chatcmpl-test', created: 1700000000, model: body.model };
    if (!body.stream) {
      const message: Record<string, unknown> = { role: 'assistant', content: toolCalls.length && !content ? null : content };
      if (toolCalls.length) message.tool_calls = toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
      const out: Record<string, unknown> = { ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finishReason }] };
      if (usage) out.usage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
      return sendJson(res, 200, out);
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const event = (delta: Record<string, unknown>, finish: string | null = null) =>
      send(res, { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });
    const pause = () => new Promise((r) => setTimeout(r, reply.chunkDelayMs ?? 0));
    await event({ role: 'assistant', content: '' });
    for (let i = 0; i < chunks.length; i++) {
      if (reply.cutAfter === i) return cut(res);
      if (reply.stallAfter === i) return; // the connection stays open until the client gives up
      await pause();
      await event({ content: chunks[i] });
    }
    if (reply.cutAfter !== undefined && reply.cutAfter >= chunks.length) return cut(res);
    if (reply.stallAfter !== undefined && reply.stallAfter >= chunks.length) return;
    for (const [index, call] of toolCalls.entries()) {
      // As OpenAI streams them: id and name first, then the arguments in pieces.
      await event({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] });
      for (const piece of call.arguments.match(/[\s\S]{1,7}/g) ?? []) {
        await pause();
        await event({ tool_calls: [{ index, function: { arguments: piece } }] });
      }
    }
    await event({}, finishReason);
    if (usage && body.stream_options?.include_usage && this.chatModel.streamUsage) {
      await send(res, { ...base, object: 'chat.completion.chunk', choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
    }
    res.write('data: [DONE]\n\n');
    res.end();
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

/** One SSE event, resolved once handed to the socket so a later cut cannot swallow it. */
function send(res: ServerResponse, data: unknown): Promise<void> {
  return new Promise((resolve) => res.write(`data: ${JSON.stringify(data)}\n\n`, () => resolve()));
}

/** Cut the connection mid-stream, after what was written so far had a moment to reach the client. */
async function cut(res: ServerResponse): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  res.socket?.destroy();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Mocha hooks for a suite that talks to `server`: started before the suite (its base URL handed
 * to `started`), reset before each test, stopped after the suite. */
export function serveDuringSuite(server: OpenAIProtocolServer, started: (baseURL: string) => void = () => undefined): void {
  before(async () => started(await server.start()));
  after(() => server.stop());
  beforeEach(() => server.reset());
}
