// The model client: one chat request, answered by the first model of the role's chain that can.
// Each model gets retries with backoff on transient failures (429, 5xx, timeouts, dropped or cut
// connections), then the chain falls back to the next model; requests that no model can answer
// (400 and friends) and cancellation stop at once. The SDK's own retries are off so every attempt
// is ours, and visible in the trace; the SDK's own log lines go to the trace too, never to stderr.
//
// Silence: a streamed reply that sends nothing within the first-byte timeout fails the attempt
// (a non-streamed reply arrives whole, so it gets the inactivity timeout), and the total silent
// wait of one request is bounded by the policy's maxSilentMs. While a call waits, `onWait` hears
// about it every few seconds (waiting.ts).
//
// Streaming and retries: tokens reach `onToken` as they arrive. A failure before the first token
// is retried invisibly. After tokens were shown, a retry or fallback happens only when the caller
// passed `onReset`: it is called before the next attempt, the UI discards the partial answer, and
// the result holds only the answer that completed. Without `onReset` a broken stream is an error
// (the partial text is never silently followed by a second, different answer).
import type OpenAI from 'openai';
import { createTokenCounter } from './tokens';
import {
  DEFAULT_FIRST_BYTE_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, ModelConfigError, OPENAI_BASE_URL, resolveModelsAuto, temperatureFor,
  type LlmConfig, type ModelChains, type TaskKind,
} from './models';
import type { DetectOptions } from './detect';
import { DEFAULT_RETRY_POLICY, decide, sleep, type Failure, type RetryDecision, type RetryPolicy } from './retry';
import { describeBody, describeFailure, isFailure, mediaType, safeURL, toFailure } from './failures';
import { formatDuration, startTicker, tickInterval, type WaitListener } from './waiting';
import type { ChatMessage, ChatRequest, ChatResult, ModelConfig, ModelRole, ToolCall, Usage } from './types';
import type { Trace } from '../trace/trace';
import { loadOpenAI, PLACEHOLDER_KEY, type OpenAIClass } from './openaiSdk';
import { redactMessages } from '../security/outbound';
import { errorLine } from '../../base/common/errors';

export interface LlmClientOptions {
  models: Partial<ModelChains>;
  retry?: Partial<RetryPolicy>;
  /** Jitter source, injectable for reproducible tests. */
  random?: () => number;
  /** Where keys are read from (apiKeyEnv names a variable here). Default process.env. */
  env?: Record<string, string | undefined>;
  /** Progress while a call waits for a silent model or before a retry, every few seconds. */
  onWait?: WaitListener;
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
  constructor(
    message: string, readonly kind: Failure['kind'], readonly status?: number, readonly model?: string,
    /** No model's server could be reached at all (refused, unknown host): no model is really connected. */
    readonly unreachable = false,
  ) {
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

/** Retry waits shorter than this pass without progress reports. */
const QUIET_RETRY_MS = 2_000;
/** The most of a reply that is not an event stream that is read to say what it is. */
const SNIFF_BYTES = 256 * 1024;

export class LlmClient {
  private readonly policy: RetryPolicy;
  private readonly random: () => number;
  private readonly env: Record<string, string | undefined>;
  private readonly clients = new Map<string, Promise<OpenAI>>();
  private OpenAI: OpenAIClass | undefined;
  /** What the SDK logged since the last attempt ended (moved into that attempt's trace). */
  private sdkLog: string[] = [];

  constructor(private readonly options: LlmClientOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.random = options.random ?? Math.random;
    this.env = options.env ?? process.env;
  }

  /** A client for the configured models, detecting a local server when nothing is configured. */
  static async fromConfig(
    config: LlmConfig = {}, env: Record<string, string | undefined> = process.env,
    extra: { detect?: DetectOptions; onWait?: WaitListener } = {},
  ): Promise<LlmClient> {
    return new LlmClient({ models: await resolveModelsAuto(config, env, extra.detect), env, onWait: extra.onWait });
  }

  /** The role's chain, first choice first. */
  chain(role: ModelRole = 'chat'): ModelConfig[] {
    const chain = this.options.models[role] ?? [];
    if (!chain.length) throw new ModelConfigError(`no ${role} model configured`);
    return chain;
  }

  async chat(request: ChatRequest, opts: LlmChatOptions = {}): Promise<LlmChatResult> {
    const chain = this.chain(opts.role ?? 'chat');
    const trace = opts.trace;
    // Everything a model receives goes through here: secrets in it never leave the machine.
    const req: ChatRequest = { ...request, messages: await redactMessages(request.messages, trace) };
    const secrets = this.secrets(chain);
    let attempts = 0;
    const failures: string[] = [];
    // Silence across the whole request: time spent on attempts that received nothing, and where.
    let silentMs = 0;
    const silentServers = new Set<string>();
    // Whether any server was there at all (answered, or at least accepted the connection).
    let reachedAny = false;
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
          const result = await this.once(model, req, opts, progress, attempts);
          trace?.add('llm.done', model.model, {
            attempts, finishReason: result.finishReason, latencyMs: Math.round(performance.now() - started),
            promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens, usageEstimated: result.usage.estimated,
          });
          return { ...result, attempts };
        } catch (err) {
          if (err instanceof CallerError) throw err.error;
          failure = redactFailure(err as Failure, secrets);
        } finally {
          this.flushSdkLog(trace, model, secrets);
        }
        if (failure.kind === 'cancelled') throw this.cancelled(model, trace);
        if (!(failure.kind === 'connection' && failure.unreachable)) reachedAny = true;
        const status = failure.kind === 'http' ? failure.status : undefined;
        let decision: RetryDecision = decide(failure, retry, this.policy, this.random);
        let next: number | undefined = m + 1 < chain.length ? m + 1 : undefined;
        if (failure.kind === 'timeout' && failure.silentMs !== undefined) {
          silentMs += failure.silentMs;
          silentServers.add(model.baseURL);
          if (silentMs >= this.policy.maxSilentMs && decision.verdict !== 'fatal') {
            // A server that said nothing is not asked again; a model on another server still may be.
            const elsewhere = chain.findIndex((c, i) => i > m && !silentServers.has(c.baseURL));
            next = elsewhere >= 0 ? elsewhere : undefined;
            decision = { verdict: 'fallback', delayMs: 0, note: `no reply for ${formatDuration(silentMs)} in all` };
          }
        }
        const waitTooLong = failure.kind === 'http' && failure.retryAfterMs !== undefined && failure.retryAfterMs > this.policy.maxRetryAfterMs;
        const summary = describeFailure(failure, model, { attempts: retry + 1, keySet: this.keySet(model), waitTooLong });
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
          await this.pause(model, attempts + 1, summary, decision.delayMs, req.signal, trace);
          continue;
        }
        failures.push(`${model.model}: ${summary}`);
        if (decision.verdict === 'fallback' && next !== undefined) {
          trace?.add('llm.fallback', model.model, { to: chain[next].model, status, reason: failure.kind, message: summary, note: decision.note });
          if (progress.tokens > 0) this.reset(opts, model, failure.kind);
          m = next - 1;
          break;
        }
        trace?.add('llm.error', model.model, { status, reason: failure.kind, message: summary, ...(decision.note ? { note: decision.note } : {}) });
        const message = decision.verdict === 'fatal' || failures.length === 1
          ? `${model.model} at ${safeURL(model.baseURL)}: ${summary}`
          : `every ${opts.role ?? 'chat'} model failed: ${failures.join('; ')}`;
        throw new LlmError(message, failure.kind, status, model.model, !reachedAny);
      }
    }
    throw new ModelConfigError(`no ${opts.role ?? 'chat'} model configured`);
  }

  /** The wait before a retry; a long one (a Retry-After, a late backoff step) is reported as it goes. */
  private async pause(model: ModelConfig, attempt: number, reason: string, delayMs: number, signal: AbortSignal | undefined, trace?: Trace): Promise<void> {
    const stop = delayMs >= QUIET_RETRY_MS
      ? startTicker(this.options.onWait, { model: model.model, baseURL: safeURL(model.baseURL), attempt, phase: 'retry', reason },
        { intervalMs: tickInterval(delayMs), immediate: true, totalMs: delayMs })
      : () => {};
    try {
      await sleep(delayMs, signal);
    } catch {
      throw this.cancelled(model, trace);
    } finally {
      stop();
    }
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

  private keySet(model: ModelConfig): boolean {
    return !!this.env[model.apiKeyEnv ?? 'OPENAI_API_KEY'];
  }

  /** The SDK's log lines of the attempt that just ended, as one trace note (redacted), never on stderr. */
  private flushSdkLog(trace: Trace | undefined, model: ModelConfig, secrets: string[]): void {
    if (!this.sdkLog.length) return;
    const lines = this.sdkLog.map((line) => secrets.reduce((text, s) => text.split(s).join('[redacted]'), line));
    this.sdkLog = [];
    trace?.add('note', 'openai-sdk', { model: model.model, log: lines });
  }

  private client(model: ModelConfig): Promise<OpenAI> {
    const envName = model.apiKeyEnv ?? 'OPENAI_API_KEY';
    const key = `${model.baseURL}\n${envName}`;
    let client = this.clients.get(key);
    if (!client) {
      const log = (level: string) => (message: string, ...rest: unknown[]) => {
        if (this.sdkLog.length >= 20) return;
        const extra = rest.map((r) => (typeof r === 'string' ? r : safeJson(r))).join(' ');
        this.sdkLog.push(`${level}: ${message}${extra ? ` ${extra}` : ''}`.slice(0, 500));
      };
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
          // The SDK logs to the console by default ("Could not parse message into JSON"): into the
          // trace instead, at a fixed level so OPENAI_LOG=debug cannot dump requests on stderr.
          logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') },
          logLevel: 'warn',
        });
      });
      client.catch(() => this.clients.delete(key));
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * One attempt against one model. Throws a Failure (or a CallerError). Three limits, by phase:
   * until the first byte of a streamed reply, firstByteTimeoutMs; a non-streamed reply (sent whole
   * once written) gets timeoutMs, and its body firstByteTimeoutMs once the headers came; between
   * streamed chunks, timeoutMs, so a long answer that keeps streaming is never cut, but a server
   * that stalls is.
   */
  private async once(model: ModelConfig, req: ChatRequest, opts: LlmChatOptions, progress: { tokens: number }, attempt: number): Promise<ChatResult & { usage: LlmUsage }> {
    let client: OpenAI;
    try {
      client = await this.client(model);
    } catch (err) {
      throw new CallerError(new LlmError(`cannot load the openai client: ${errorLine(err)}`, 'connection'));
    }
    const O = this.OpenAI!;
    const timeoutMs = model.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const firstByteMs = Math.min(model.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS, timeoutMs);
    const streamed = !!req.onToken;
    const replyLimitMs = streamed ? firstByteMs : timeoutMs;
    const started = performance.now();
    const controller = new AbortController();
    let phase: 'waiting' | 'headers' | 'streaming' = 'waiting';
    let timedOut: Failure | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = this.timeoutFailure(phase, ms, started, progress.tokens);
        controller.abort();
      }, ms);
    };
    const onAbort = () => controller.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const stopWaiting = startTicker(this.options.onWait, { model: model.model, baseURL: safeURL(model.baseURL), attempt, phase: 'reply' }, { intervalMs: tickInterval(replyLimitMs) });
    arm(replyLimitMs);
    const params = buildParams(model, req, opts.task);
    // The SDK's own timer only covers the wait for headers; ours fires first and covers the body too.
    const requestOptions = { signal: controller.signal, maxRetries: 0, timeout: timeoutMs + 1000 };
    try {
      if (!req.onToken) {
        const call = client.chat.completions.create(params as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, requestOptions);
        const response = await call.asResponse();
        // A finished reply's body follows its headers at once: a server that stops here is stuck.
        phase = 'headers';
        arm(firstByteMs);
        const reply = await call;
        if (controller.signal.aborted) throw controller.signal.reason;
        return completionResult(reply, model, req, mediaType(response.headers.get('content-type')));
      }
      const call = client.chat.completions.create(
        { ...params, stream: true, stream_options: { include_usage: true } } as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
        requestOptions,
      );
      const response = await call.asResponse();
      phase = 'headers'; // the first-byte limit still runs: headers alone are not an answer
      const type = mediaType(response.headers.get('content-type'));
      if (type && type !== 'text/event-stream') {
        const result = await notAStream(type, response, model, req);
        stopWaiting();
        if (result.content) {
          progress.tokens++;
          emit(req, result.content);
        }
        return result;
      }
      const stream = await call;
      const acc = new StreamAssembler();
      for await (const chunk of stream) {
        if (phase !== 'streaming') {
          phase = 'streaming';
          stopWaiting();
        }
        arm(timeoutMs);
        const delta = acc.add(chunk);
        if (delta) {
          progress.tokens++;
          emit(req, delta);
        }
      }
      // The SDK ends the iteration quietly when its signal aborts: find out why it ended.
      if (controller.signal.aborted) throw controller.signal.reason;
      if (!acc.finishReason) throw acc.unfinished();
      return acc.result(model, req);
    } catch (err) {
      if (err instanceof CallerError) throw err;
      if (req.signal?.aborted) throw { kind: 'cancelled', message: 'cancelled' } satisfies Failure;
      if (timedOut) throw timedOut;
      // Once a stream's headers are in, what breaks is the stream (its events, its connection).
      const failure = toFailure(err, O, { baseURL: model.baseURL, streaming: streamed && phase !== 'waiting' });
      // The SDK's own (later) timer: still no reply at all.
      if (failure.kind === 'timeout') throw this.timeoutFailure(phase, replyLimitMs, started, progress.tokens);
      throw failure;
    } finally {
      clearTimeout(timer);
      stopWaiting();
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  private timeoutFailure(phase: 'waiting' | 'headers' | 'streaming', limitMs: number, started: number, tokens: number): Failure {
    const silentMs = Math.round(performance.now() - started);
    if (phase === 'streaming') return { kind: 'timeout', message: `the stream stalled: nothing for ${formatDuration(limitMs)} after ${tokens} tokens` };
    if (phase === 'headers') return { kind: 'timeout', message: `the server sent headers but no reply within ${formatDuration(limitMs)}`, silentMs };
    return { kind: 'timeout', message: `no reply within ${formatDuration(limitMs)}`, silentMs };
  }
}

/** Hands a delta to the caller; what the caller throws is its own error, not the model's. */
function emit(req: ChatRequest, delta: string): void {
  try {
    req.onToken!(delta);
  } catch (err) {
    throw new CallerError(err);
  }
}

/**
 * A streamed request answered with something other than an event stream. A whole chat completion
 * (a server that ignores `stream: true`) is accepted; anything else says what it was.
 */
async function notAStream(type: string, response: Response, model: ModelConfig, req: ChatRequest): Promise<ChatResult & { usage: LlmUsage }> {
  const text = await readText(response, SNIFF_BYTES);
  if (type === 'application/json' || type.endsWith('+json')) {
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      throw { kind: 'invalid-reply', message: 'the server did not answer in the OpenAI format (invalid JSON)' } satisfies Failure;
    }
    return completionResult(reply, model, req, type);
  }
  throw { kind: 'not-openai', message: `the server did not answer in the OpenAI format (got ${describeBody(type, text)})` } satisfies Failure;
}

/** Up to `max` bytes of a body, as text; the rest is not read. */
async function readText(response: Response, max: number): Promise<string> {
  const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

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

/** A non-streamed reply. Text or JSON of another shape is not the OpenAI protocol (the base URL
 * points elsewhere); a completion with pieces missing is a garbled reply (retried). */
function completionResult(reply: unknown, model: ModelConfig, req: ChatRequest, type: string | undefined): ChatResult & { usage: LlmUsage } {
  const bad = (why: string): Failure => ({ kind: 'invalid-reply', message: `the server did not answer in the OpenAI format (${why})` });
  if (typeof reply === 'string') throw { kind: 'not-openai', message: `the server did not answer in the OpenAI format (got ${describeBody(type, reply)})` } satisfies Failure;
  if (!reply || typeof reply !== 'object') throw bad('an empty reply');
  const r = reply as { choices?: Array<{ message?: { content?: unknown; tool_calls?: unknown }; finish_reason?: unknown }>; usage?: WireUsage; error?: { message?: unknown } };
  if (!Array.isArray(r.choices)) {
    if (typeof r.error?.message === 'string') throw { kind: 'invalid-reply', message: `the server answered with an error: ${r.error.message.split('\n')[0]}` } satisfies Failure;
    throw { kind: 'not-openai', message: 'the server did not answer in the OpenAI format (got JSON that is not a chat completion)' } satisfies Failure;
  }
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
  /** Events seen, and how many of them were chat completion chunks. */
  private events = 0;
  private chunks = 0;

  /** Takes one chunk; returns its text delta, if any. */
  add(chunk: unknown): string {
    this.events++;
    const c = chunk as {
      choices?: Array<{ delta?: { content?: unknown; tool_calls?: Array<{ index?: number; id?: unknown; function?: { name?: unknown; arguments?: unknown } }> }; finish_reason?: unknown }>;
      usage?: WireUsage | null;
    };
    if (c?.usage) this.usage = c.usage;
    if (c?.usage || Array.isArray(c?.choices)) this.chunks++;
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

  /** Why a stream that ended without a finish reason is not an answer. */
  unfinished(): Failure {
    if (this.events > 0 && this.chunks === 0) {
      return { kind: 'not-openai', message: 'the server did not answer in the OpenAI format (its events are not chat completion chunks)' };
    }
    if (this.events === 0) return { kind: 'stream-cut', message: 'the stream ended before the model sent anything' };
    return { kind: 'stream-cut', message: 'the stream ended before the model finished' };
  }

  result(model: ModelConfig, req: ChatRequest): ChatResult & { usage: LlmUsage } {
    const calls = this.calls.filter(Boolean).map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments }));
    return {
      content: this.content, toolCalls: calls, model: model.model, finishReason: this.finishReason ?? 'stop',
      usage: usageOf(this.usage, model, req, this.content, calls),
    };
  }
}

function redactFailure(f: Failure, secrets: string[]): Failure {
  if (!isFailure(f)) return f;
  let message = f.message;
  for (const s of secrets) message = message.split(s).join('[redacted]');
  return { ...f, message };
}

