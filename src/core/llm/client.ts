// The model client: one chat request, answered by the first model of the role's chain that can.
// Each model gets retries with backoff on transient failures (429, 5xx, timeouts, dropped or cut
// connections), then the chain falls back to the next model; requests that no model can answer
// (400 and friends) and cancellation stop at once. The SDK's own retries are off so every attempt
// is ours, and visible in the trace.
//
// Streaming and retries: tokens reach `onToken` as they arrive. A failure before the first token
// is retried invisibly. After tokens were shown, a retry or fallback happens only when the caller
// passed `onReset`: it is called before the next attempt, the UI discards the partial answer, and
// the result holds only the answer that completed. Without `onReset` a broken stream is an error
// (the partial text is never silently followed by a second, different answer).
import type OpenAI from 'openai';
import { createTokenCounter } from './tokens';
import { DEFAULT_TIMEOUT_MS, ModelConfigError, OPENAI_BASE_URL, resolveModelsAuto, temperatureFor, type LlmConfig, type ModelChains, type TaskKind } from './models';
import type { DetectOptions } from './detect';
import { DEFAULT_RETRY_POLICY, decide, parseRetryAfter, sleep, type Failure, type RetryPolicy } from './retry';
import type { ChatMessage, ChatRequest, ChatResult, ModelConfig, ModelRole, ToolCall, Usage } from './types';
import type { Trace } from '../trace';
import { loadOpenAI, PLACEHOLDER_KEY, type OpenAIClass } from './openaiSdk';

export interface LlmClientOptions {
  models: Partial<ModelChains>;
  retry?: Partial<RetryPolicy>;
  /** Jitter source, injectable for reproducible tests. */
  random?: () => number;
  /** Where keys are read from (apiKeyEnv names a variable here). Default process.env. */
  env?: Record<string, string | undefined>;
}

export interface LlmChatOptions {
  role?: ModelRole;
  trace?: Trace;
  /** Picks the default temperature when the request sets none. Default 'chat'. */
  task?: TaskKind;
  /** Streaming: the tokens shown so far are void, a new answer follows (see the header comment). */
  onReset?: (info: { model: string; reason: string }) => void;
}

export interface LlmUsage extends Usage {
  /** true when the server reported no usage and the counts are TokenCounter estimates. */
  estimated: boolean;
}

export type LlmChatResult = ChatResult & { usage: LlmUsage; attempts: number };

/** A request that failed for good; the message is one line and never holds a key. */
export class LlmError extends Error {
  override name = 'LlmError';
  constructor(message: string, readonly kind: Failure['kind'], readonly status?: number, readonly model?: string) {
    super(message);
  }
}

export class LlmCancelledError extends LlmError {
  // 'AbortError' so generic cancellation checks (err.name === 'AbortError') recognise it.
  override name = 'AbortError';
  constructor(model?: string) {
    super(`LLM request${model ? ` to ${model}` : ''} cancelled`, 'cancelled', undefined, model);
  }
}


/** Errors thrown by the caller's onToken/onReset: passed through, never retried. */
class CallerError {
  constructor(readonly error: unknown) {}
}

export class LlmClient {
  private readonly policy: RetryPolicy;
  private readonly random: () => number;
  private readonly env: Record<string, string | undefined>;
  private readonly clients = new Map<string, Promise<OpenAI>>();
  private OpenAI: OpenAIClass | undefined;

  constructor(private readonly options: LlmClientOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.random = options.random ?? Math.random;
    this.env = options.env ?? process.env;
  }

  /** A client for the configured models, detecting a local server when nothing is configured. */
  static async fromConfig(config: LlmConfig = {}, env: Record<string, string | undefined> = process.env, detect?: DetectOptions): Promise<LlmClient> {
    return new LlmClient({ models: await resolveModelsAuto(config, env, detect), env });
  }

  /** The role's chain, first choice first. */
  chain(role: ModelRole = 'chat'): ModelConfig[] {
    const chain = this.options.models[role] ?? [];
    if (!chain.length) throw new ModelConfigError(`no ${role} model configured`);
    return chain;
  }

  async chat(req: ChatRequest, opts: LlmChatOptions = {}): Promise<LlmChatResult> {
    const chain = this.chain(opts.role ?? 'chat');
    const trace = opts.trace;
    const secrets = this.secrets(chain);
    let attempts = 0;
    const failures: string[] = [];
    for (let m = 0; m < chain.length; m++) {
      const model = chain[m];
      for (let retry = 0; ; retry++) {
        if (req.signal?.aborted) throw this.cancelled(model, trace);
        attempts++;
        trace?.add('llm.attempt', model.model, { baseURL: safeURL(model.baseURL), attempt: attempts, retry, stream: !!req.onToken });
        const started = performance.now();
        const progress = { tokens: 0 };
        let failure: Failure;
        try {
          const result = await this.once(model, req, opts, progress);
          trace?.add('llm.done', model.model, {
            attempts, finishReason: result.finishReason, latencyMs: Math.round(performance.now() - started),
            promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens, usageEstimated: result.usage.estimated,
          });
          return { ...result, attempts };
        } catch (err) {
          if (err instanceof CallerError) throw err.error;
          failure = redactFailure(err as Failure, secrets);
        }
        if (failure.kind === 'cancelled') throw this.cancelled(model, trace);
        const status = failure.kind === 'http' ? failure.status : undefined;
        const summary = describe(failure, model);
        const decision = decide(failure, retry, this.policy, this.random);
        const next = chain[m + 1];
        // Shown tokens can be taken back only by a caller that can reset its display.
        if (progress.tokens > 0 && !opts.onReset && decision.verdict !== 'fatal') {
          trace?.add('llm.error', model.model, { status, reason: failure.kind, message: summary, tokensShown: progress.tokens });
          throw new LlmError(
            `${model.model}: the stream broke off after ${progress.tokens} tokens and was not retried (no onReset to clear the partial answer): ${summary}`,
            failure.kind, status, model.model,
          );
        }
        if (decision.verdict === 'retry') {
          trace?.add('llm.retry', model.model, {
            attempt: attempts, status, reason: failure.kind, message: summary, delayMs: decision.delayMs, delaySource: decision.delaySource,
          });
          if (progress.tokens > 0) this.reset(opts, model, failure.kind);
          try {
            await sleep(decision.delayMs, req.signal);
          } catch {
            throw this.cancelled(model, trace);
          }
          continue;
        }
        failures.push(`${model.model}: ${summary}`);
        if (decision.verdict === 'fallback' && next) {
          trace?.add('llm.fallback', model.model, { to: next.model, status, reason: failure.kind, message: summary, note: decision.note });
          if (progress.tokens > 0) this.reset(opts, model, failure.kind);
          break;
        }
        trace?.add('llm.error', model.model, { status, reason: failure.kind, message: summary });
        const message = decision.verdict === 'fatal' || chain.length === 1
          ? `${model.model} at ${safeURL(model.baseURL)}: ${summary}`
          : `every ${opts.role ?? 'chat'} model failed: ${failures.join('; ')}`;
        throw new LlmError(message, failure.kind, status, model.model);
      }
    }
    throw new ModelConfigError(`no ${opts.role ?? 'chat'} model configured`);
  }

  private reset(opts: LlmChatOptions, model: ModelConfig, reason: string): void {
    try {
      opts.onReset!({ model: model.model, reason });
    } catch (err) {
      throw new CallerError(err);
    }
  }

  private cancelled(model: ModelConfig, trace?: Trace): LlmCancelledError {
    trace?.add('llm.error', model.model, { reason: 'cancelled', message: 'cancelled' });
    return new LlmCancelledError(model.model);
  }

  /** Every key this chain may send, so no message that reaches a trace or an error can carry one. */
  private secrets(chain: ModelConfig[]): string[] {
    return chain.map((m) => this.env[m.apiKeyEnv ?? 'OPENAI_API_KEY'] ?? '').filter((k) => k.length >= 4);
  }

  private client(model: ModelConfig): Promise<OpenAI> {
    const envName = model.apiKeyEnv ?? 'OPENAI_API_KEY';
    const key = `${model.baseURL}\n${envName}`;
    let client = this.clients.get(key);
    if (!client) {
      client = loadOpenAI().then((OpenAIClient) => {
        this.OpenAI = OpenAIClient;
        return new OpenAIClient({
          baseURL: model.baseURL,
          // Read when the client is made and kept only inside it; never logged or traced.
          apiKey: this.env[envName] || PLACEHOLDER_KEY,
          maxRetries: 0, // retries are ours, so each one is traced and can fall back
          // Never the environment's OPENAI_ORG_ID / OPENAI_PROJECT_ID: this may be a local server.
          organization: null,
          project: null,
        });
      });
      client.catch(() => this.clients.delete(key));
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * One attempt against one model. Throws a Failure (or a CallerError). The timeout is an
   * inactivity limit: it bounds the wait for the reply and every gap between streamed chunks, so a
   * long answer that keeps streaming is never cut, but a server that stalls is.
   */
  private async once(model: ModelConfig, req: ChatRequest, opts: LlmChatOptions, progress: { tokens: number }): Promise<ChatResult & { usage: LlmUsage }> {
    let client: OpenAI;
    try {
      client = await this.client(model);
    } catch (err) {
      throw new CallerError(new LlmError(`cannot load the openai client: ${firstLine(String((err as Error)?.message ?? err))}`, 'connection'));
    }
    const timeoutMs = model.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const controller = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
    };
    const onAbort = () => controller.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    arm();
    let streaming = false;
    const params = buildParams(model, req, opts.task);
    // The SDK's own timer only covers the wait for headers; ours fires first and covers the body too.
    const requestOptions = { signal: controller.signal, maxRetries: 0, timeout: timeoutMs + 1000 };
    try {
      if (!req.onToken) {
        const reply = await client.chat.completions.create(params as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, requestOptions);
        if (controller.signal.aborted) throw controller.signal.reason;
        return completionResult(reply, model, req);
      }
      const stream = await client.chat.completions.create(
        { ...params, stream: true, stream_options: { include_usage: true } } as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
        requestOptions,
      );
      streaming = true;
      const acc = new StreamAssembler();
      for await (const chunk of stream) {
        arm();
        const delta = acc.add(chunk);
        if (delta) {
          progress.tokens++;
          try {
            req.onToken(delta);
          } catch (err) {
            throw new CallerError(err);
          }
        }
      }
      // The SDK ends the iteration quietly when its signal aborts: find out why it ended.
      if (controller.signal.aborted) throw controller.signal.reason;
      if (!acc.finishReason) throw { kind: 'stream-cut', message: 'the stream ended before the model finished' } satisfies Failure;
      return acc.result(model, req);
    } catch (err) {
      if (err instanceof CallerError) throw err;
      if (req.signal?.aborted) throw { kind: 'cancelled', message: 'cancelled' } satisfies Failure;
      if (timedOut) throw { kind: 'timeout', message: `no reply within ${timeoutMs} ms` } satisfies Failure;
      throw this.toFailure(err, streaming, timeoutMs);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  private toFailure(err: unknown, streaming: boolean, timeoutMs: number): Failure {
    if (isFailure(err)) return err;
    const O = this.OpenAI!;
    if (err instanceof O.APIConnectionTimeoutError) return { kind: 'timeout', message: `no reply within ${timeoutMs} ms` };
    if (err instanceof O.APIUserAbortError) return { kind: 'cancelled', message: 'cancelled' };
    if (err instanceof O.APIConnectionError) return { kind: 'connection', message: rootCause(err) };
    if (err instanceof O.APIError && typeof err.status === 'number') {
      const headers = err.headers as Headers | undefined;
      const retryAfterMs = parseRetryAfterHeaders(headers);
      const body = err.error as { message?: unknown } | undefined;
      const message = typeof body?.message === 'string' ? body.message : err.message.replace(/^\d{3}\s*/, '');
      return { kind: 'http', status: err.status, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    if (err instanceof O.APIError) return { kind: 'stream-cut', message: `the server sent an error mid-stream: ${err.message}` };
    if (err instanceof SyntaxError) return { kind: 'invalid-reply', message: `not valid JSON (${err.message})` };
    const message = rootCause(err);
    return streaming ? { kind: 'stream-cut', message: `the stream broke off (${message})` } : { kind: 'connection', message };
  }
}

function isFailure(x: unknown): x is Failure {
  return !!x && typeof x === 'object' && !(x instanceof Error) && typeof (x as Failure).kind === 'string' && typeof (x as Failure).message === 'string';
}

function parseRetryAfterHeaders(headers: Headers | undefined): number | undefined {
  if (!headers || typeof headers.get !== 'function') return undefined;
  return parseRetryAfter({ retryAfter: headers.get('retry-after'), retryAfterMs: headers.get('retry-after-ms') });
}

/** The wire request for one model, from the SDK-free ChatRequest. */
function buildParams(model: ModelConfig, req: ChatRequest, task: TaskKind | undefined): Record<string, unknown> {
  const onOpenAI = model.baseURL.startsWith(OPENAI_BASE_URL);
  const reasoning = onOpenAI && /^(o\d|gpt-5)/.test(model.model);
  const maxTokens = req.maxTokens ?? model.maxOutputTokens;
  const params: Record<string, unknown> = {
    model: model.model,
    messages: req.messages.map(toWire),
    // OpenAI deprecated max_tokens (reasoning models refuse it); compatible servers know only max_tokens.
    [onOpenAI ? 'max_completion_tokens' : 'max_tokens']: maxTokens,
  };
  // Reasoning models accept only their default temperature.
  if (!reasoning) params.temperature = req.temperature ?? temperatureFor(task);
  if (req.tools?.length) {
    params.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  }
  const format = req.responseFormat;
  if (format?.type === 'json_schema' && model.supportsJsonSchema !== false) {
    params.response_format = { type: 'json_schema', json_schema: { name: format.name, schema: format.schema } };
  } else if (format && format.type !== 'text') {
    params.response_format = { type: 'json_object' };
  }
  return params;
}

function toWire(m: ChatMessage): Record<string, unknown> {
  const wire: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.toolCalls?.length) {
    wire.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  }
  if (m.role === 'tool') wire.tool_call_id = m.toolCallId;
  if (m.name && m.role !== 'tool') wire.name = m.name;
  return wire;
}

interface WireUsage { prompt_tokens?: unknown; completion_tokens?: unknown }

function usageOf(wire: WireUsage | null | undefined, model: ModelConfig, req: ChatRequest, content: string, calls: ToolCall[]): LlmUsage {
  if (wire && typeof wire.prompt_tokens === 'number' && typeof wire.completion_tokens === 'number') {
    return { promptTokens: wire.prompt_tokens, completionTokens: wire.completion_tokens, estimated: false };
  }
  const counter = createTokenCounter(model.model);
  const completion = counter.count(content) + calls.reduce((n, c) => n + counter.count(c.name) + counter.count(c.arguments), 0);
  return { promptTokens: counter.countMessages(req.messages), completionTokens: completion, estimated: true };
}

/** A non-streamed reply; anything that is not a chat completion is an invalid reply (retried). */
function completionResult(reply: unknown, model: ModelConfig, req: ChatRequest): ChatResult & { usage: LlmUsage } {
  const bad = (why: string): Failure => ({ kind: 'invalid-reply', message: why });
  if (!reply || typeof reply !== 'object') throw bad(`not a chat completion (${JSON.stringify(String(reply).slice(0, 60))})`);
  const r = reply as { choices?: Array<{ message?: { content?: unknown; tool_calls?: unknown }; finish_reason?: unknown }>; usage?: WireUsage; model?: unknown };
  const choice = r.choices?.[0];
  if (!choice?.message) throw bad('no choices[0].message');
  const content = typeof choice.message.content === 'string' ? choice.message.content : '';
  const calls: ToolCall[] = Array.isArray(choice.message.tool_calls)
    ? choice.message.tool_calls.map((c: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }, i: number) => ({
      id: typeof c.id === 'string' && c.id ? c.id : `call_${i}`,
      name: String(c.function?.name ?? ''),
      arguments: typeof c.function?.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function?.arguments ?? {}),
    }))
    : [];
  return {
    content, toolCalls: calls, model: model.model,
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : 'stop',
    usage: usageOf(r.usage, model, req, content, calls),
  };
}

/** Builds the answer from streamed chunks: text deltas, tool calls in pieces by index, usage last. */
class StreamAssembler {
  private content = '';
  private readonly calls: Array<{ id: string; name: string; arguments: string }> = [];
  finishReason: string | undefined;
  private usage: WireUsage | undefined;

  /** Takes one chunk; returns its text delta, if any. */
  add(chunk: unknown): string {
    const c = chunk as {
      choices?: Array<{ delta?: { content?: unknown; tool_calls?: Array<{ index?: number; id?: unknown; function?: { name?: unknown; arguments?: unknown } }> }; finish_reason?: unknown }>;
      usage?: WireUsage | null;
    };
    if (c?.usage) this.usage = c.usage;
    const choice = c?.choices?.[0];
    if (!choice) return '';
    if (typeof choice.finish_reason === 'string' && choice.finish_reason) this.finishReason = choice.finish_reason;
    for (const [pos, d] of (choice.delta?.tool_calls ?? []).entries()) {
      const index = typeof d.index === 'number' ? d.index : pos;
      const call = (this.calls[index] ??= { id: '', name: '', arguments: '' });
      if (typeof d.id === 'string' && d.id && !call.id) call.id = d.id;
      // Names arrive whole (some servers repeat them on every delta); arguments arrive in pieces.
      if (typeof d.function?.name === 'string' && d.function.name && !call.name) call.name = d.function.name;
      if (typeof d.function?.arguments === 'string') call.arguments += d.function.arguments;
    }
    const text = typeof choice.delta?.content === 'string' ? choice.delta.content : '';
    this.content += text;
    return text;
  }

  result(model: ModelConfig, req: ChatRequest): ChatResult & { usage: LlmUsage } {
    const calls = this.calls.filter(Boolean).map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments }));
    return {
      content: this.content, toolCalls: calls, model: model.model, finishReason: this.finishReason ?? 'stop',
      usage: usageOf(this.usage, model, req, this.content, calls),
    };
  }
}

/** One line for a trace or an error, with a hint where the fix is known. */
function describe(f: Failure, model: ModelConfig): string {
  if (f.kind !== 'http') return firstLine(f.message);
  const hint = f.status === 401 || f.status === 403
    ? `; check the key in $${model.apiKeyEnv ?? 'OPENAI_API_KEY'}`
    : f.status === 404 ? `; check the model name "${model.model}" and the base URL` : '';
  return `${f.status} ${firstLine(f.message)}${hint}`;
}

function redactFailure(f: Failure, secrets: string[]): Failure {
  if (!isFailure(f)) return f;
  let message = f.message;
  for (const s of secrets) message = message.split(s).join('[redacted]');
  return { ...f, message };
}

/** A base URL fit for traces: no user:password part. */
function safeURL(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/** The system error code under fetch's "fetch failed" (ECONNREFUSED, UND_ERR_SOCKET...), else the deepest message. */
function rootCause(err: unknown): string {
  let e = err as { code?: unknown; message?: string; cause?: unknown } | undefined;
  let message = String(e?.message ?? err);
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (typeof e.code === 'string') return `${e.code}${e.message ? `: ${firstLine(e.message)}` : ''}`;
    if (e.message) message = e.message;
  }
  return firstLine(message);
}

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 300);
}
