// What went wrong with a model call, as a Failure (what the retry policy decides on) and as the one
// line a user reads: what happened, in terms they can act on (the key variable, the model name and
// base URL, the host and port, how long the server asks to wait). Nothing here ever holds a key:
// callers redact server text before it is shown.
import type { OpenAIClass } from './openaiSdk';
import { parseRetryAfter, type Failure } from './retry';
import type { ModelConfig } from './types';
import { formatDuration } from './waiting';
import { firstLine as firstLineOf } from '../../base/common/errors';

export interface FailureContext {
  /** Attempts this model got for this request. */
  attempts: number;
  /** Whether the model's key variable is set. */
  keySet: boolean;
  /** The server's Retry-After was longer than the policy waits. */
  waitTooLong?: boolean;
}

/** The one-line description of a model's failure (put after "<model> at <baseURL>: "). */
export function describeFailure(f: Failure, model: ModelConfig, ctx: FailureContext): string {
  const times = ctx.attempts > 1 ? ` (${ctx.attempts} attempts)` : '';
  switch (f.kind) {
    case 'http':
      return httpSummary(f, model, ctx);
    case 'timeout':
    case 'connection':
      return `${firstLine(f.message)}${times}`;
    case 'not-openai':
      return `${firstLine(f.message)}: check the base URL`;
    default:
      return firstLine(f.message);
  }
}

function httpSummary(f: Extract<Failure, { kind: 'http' }>, model: ModelConfig, ctx: FailureContext): string {
  const keyVar = `$${model.apiKeyEnv ?? 'OPENAI_API_KEY'}`;
  // "502, an HTML page titled ..." reads better than "502 an HTML page ...".
  const said = `${f.status}${f.message ? `${f.message.startsWith('an HTML page') ? ',' : ''} ${firstLine(f.message)}` : ''}`;
  const times = ctx.attempts > 1 ? `, ${ctx.attempts} attempts` : '';
  const s = f.status;
  if (s === 401) return ctx.keySet ? `the key in ${keyVar} was rejected (${said})` : `the server wants a key and ${keyVar} is not set (${said})`;
  if (s === 403) return `the key in ${keyVar} may not use model "${model.model}" (${said})`;
  if (s === 404) return `not found (${said}): check the model name "${model.model}" and the base URL`;
  if (s === 429) {
    if (ctx.waitTooLong && f.retryAfterMs !== undefined) return `rate-limited: the server asks to wait ${formatDuration(f.retryAfterMs)}`;
    return `rate-limited (${said}${times})`;
  }
  if (s >= 500) return `server error (${said}${times})`;
  if (s >= 400 && s !== 408 && s !== 409) return `the request was refused (${said})`;
  return `${said}${ctx.attempts > 1 ? ` (${ctx.attempts} attempts)` : ''}`;
}

/** An SDK error (or one of our own Failures) as a Failure. */
export function toFailure(err: unknown, O: OpenAIClass, where: { baseURL: string; streaming: boolean }): Failure {
  if (isFailure(err)) return err;
  if (err instanceof O.APIUserAbortError) return { kind: 'cancelled', message: 'cancelled' };
  if (err instanceof O.APIConnectionTimeoutError) return { kind: 'timeout', message: 'no reply in time' };
  if (err instanceof O.APIConnectionError) return connectionFailure(err, where.baseURL);
  if (err instanceof O.APIError && typeof err.status === 'number') {
    const headers = err.headers as Headers | undefined;
    const retryAfterMs = parseRetryAfterHeaders(headers);
    return { kind: 'http', status: err.status, message: errorText(err, headers), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (err instanceof O.APIError) return { kind: 'stream-cut', message: `the server sent an error mid-stream: ${firstLine(err.message)}` };
  // The SDK's SSE decoder throws this for an event whose data is not JSON.
  if (err instanceof SyntaxError) {
    const what = where.streaming ? 'an event is not JSON' : `invalid JSON: ${firstLine(err.message)}`;
    return { kind: 'invalid-reply', message: `the server did not answer in the OpenAI format (${what})` };
  }
  if (where.streaming) return { kind: 'stream-cut', message: `the stream broke off (${rootCause(err)})` };
  return connectionFailure(err, where.baseURL);
}

/** The server's own message for an error status: the OpenAI error body's message, else what the body is. */
function errorText(err: { error?: unknown; message: string }, headers: Headers | undefined): string {
  const body = err.error as { message?: unknown } | undefined;
  if (typeof body?.message === 'string') return body.message;
  const text = err.message.replace(/^\d{3}\s*/, '');
  if (/^status code \(no body\)$/.test(text)) return '';
  const type = mediaType(headers?.get?.('content-type') ?? null);
  return type === 'text/html' || looksLikeHtml(text) ? describeBody(type, text) : text;
}

/** Refused, unknown host, no route: no server there at all; anything else broke an existing connection. */
function connectionFailure(err: unknown, baseURL: string): Failure {
  const code = errorCode(err);
  const { host, hostPort } = hostOf(baseURL);
  switch (code) {
    case 'ECONNREFUSED':
      return { kind: 'connection', unreachable: true, message: `cannot connect to ${hostPort}: connection refused (is the server running?)` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return { kind: 'connection', unreachable: true, message: `cannot resolve the host name ${host} (${code})` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { kind: 'connection', unreachable: true, message: `cannot reach ${hostPort} (${code})` };
    default:
      return { kind: 'connection', message: `the connection to ${hostPort} failed before a reply (${code ?? rootCause(err)})` };
  }
}

/** "an HTML page titled "Welcome"", "text/plain: "Not an API"", "JSON that is not a chat completion". */
export function describeBody(type: string | undefined, text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return `an empty ${type ?? 'body'}`;
  if (type === 'text/html' || looksLikeHtml(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.replace(/\s+/g, ' ').trim();
    return `an HTML page${title ? ` titled "${clip(title, 60)}"` : ''}`;
  }
  if (type === 'application/json' || type?.endsWith('+json')) return 'JSON that is not a chat completion';
  return `${type ?? 'a reply with no content type'}: "${clip(trimmed.replace(/\s+/g, ' '), 60)}"`;
}

function looksLikeHtml(text: string): boolean {
  return /^\s*<(!doctype html|html|head|body)\b/i.test(text);
}

/** "text/html" from "text/html; charset=utf-8"; undefined when absent. */
export function mediaType(header: string | null): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase() || undefined;
}

export function isFailure(x: unknown): x is Failure {
  return !!x && typeof x === 'object' && !(x instanceof Error) && typeof (x as Failure).kind === 'string' && typeof (x as Failure).message === 'string';
}

function parseRetryAfterHeaders(headers: Headers | undefined): number | undefined {
  if (!headers || typeof headers.get !== 'function') return undefined;
  return parseRetryAfter({ retryAfter: headers.get('retry-after'), retryAfterMs: headers.get('retry-after-ms') });
}

/** The system error code under fetch's "fetch failed" (ECONNREFUSED, UND_ERR_SOCKET...). */
function errorCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 6; depth++, e = e.cause as typeof e) {
    if (typeof e.code === 'string' && e.code) return e.code;
  }
  return undefined;
}

/** The system error code under fetch's "fetch failed", else the deepest message. */
export function rootCause(err: unknown): string {
  let e = err as { code?: unknown; message?: string; cause?: unknown } | undefined;
  let message = String(e?.message ?? err);
  for (let depth = 0; e && depth < 6; depth++, e = e.cause as typeof e) {
    if (typeof e.code === 'string') return `${e.code}${e.message ? `: ${firstLine(e.message)}` : ''}`;
    if (e.message) message = e.message;
  }
  return firstLine(message);
}

function hostOf(baseURL: string): { host: string; hostPort: string } {
  try {
    const u = new URL(baseURL);
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return { host: u.hostname, hostPort: `${u.hostname}:${port}` };
  } catch {
    return { host: baseURL, hostPort: baseURL };
  }
}

/** A base URL fit for messages and traces: no user:password part. */
export function safeURL(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/** Failure messages are quoted in one-line reports: the first line, at most 300 characters. */
function firstLine(s: string): string {
  return firstLineOf(s, 300);
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
