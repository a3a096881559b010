// Model setup: which local servers are running, what a server offers (OpenAI's GET /models, else
// Ollama's /api/tags), and whether one model on it really answers (one tiny chat or embeddings
// request). What Configure Model shows the user; every failure is one line that never holds the key.
import { LlmClient } from './client';
import { LOCAL_SERVERS, listServerModels, ModelListError, probe, type DetectedServer } from './detect';
import { resolveModels } from './models';

export interface ServerModels {
  /** The base URL to configure: the one given, or where the OpenAI-style API was found (…/v1). */
  baseURL: string;
  ok: boolean;
  models: string[];
  /** The server refused without a (valid) key: 401 or 403. */
  needsKey: boolean;
  problem?: string;
  /** Which listing answered. */
  via?: 'openai' | 'ollama';
}

export interface ModelCheck {
  ok: boolean;
  /** How long the request took. */
  ms: number;
  problem?: string;
  /** The start of the chat reply, or the embedding's length. */
  reply?: string;
}

export interface SetupOptions {
  apiKey?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const LIST_TIMEOUT_MS = 5_000;
/** A local model may first have to load into memory: the test waits that long for its first byte. */
const TEST_TIMEOUT_MS = 90_000;
/** Enough for "OK" from any model, small enough to be quick on a slow one. */
const TEST_MAX_TOKENS = 16;
/** The key travels to the test client through this variable of a private environment object only. */
const SETUP_KEY_ENV = 'BATON_SETUP_API_KEY';

/** Every known local server that answers now (Ollama, LM Studio), in that order. */
export async function detectModelServers(timeoutMs = 800): Promise<DetectedServer[]> {
  const found = await Promise.all(LOCAL_SERVERS.map((c) => probe(c, timeoutMs)));
  return found.filter((s): s is DetectedServer => s !== undefined);
}

/**
 * The models `baseURL` lists. Tries {baseURL}/models, then {baseURL}/v1/models when the URL has no
 * /v1 (a bare host:port was typed), then Ollama's {root}/api/tags; stops at once when the server is
 * unreachable or asks for a key.
 */
export async function listModelsOf(baseURL: string, opts: SetupOptions = {}): Promise<ServerModels> {
  const base = baseURL.trim().replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? LIST_TIMEOUT_MS;
  const bases = /\/v1$/.test(base) ? [base] : [base, `${base}/v1`];
  let firstProblem: string | undefined;
  for (const candidate of bases) {
    try {
      const models = await listServerModels(candidate, { apiKey: opts.apiKey, timeoutMs, signal: opts.signal });
      return { baseURL: candidate, ok: true, models, needsKey: false, via: 'openai' };
    } catch (err) {
      opts.signal?.throwIfAborted();
      const e = err as ModelListError;
      if (e.status === 401 || e.status === 403) {
        return { baseURL: candidate, ok: false, models: [], needsKey: true, problem: `${candidate} asks for an API key (HTTP ${e.status})` };
      }
      if (e.unreachable) return { baseURL: base, ok: false, models: [], needsKey: false, problem: `${e.message}; is the server running?` };
      firstProblem ??= e.message;
    }
  }
  const root = base.replace(/\/v1$/, '');
  const tags = await ollamaTags(root, timeoutMs, opts.signal);
  if (tags) return { baseURL: `${root}/v1`, ok: true, models: tags, needsKey: false, via: 'ollama' };
  return { baseURL: base, ok: false, models: [], needsKey: false, problem: firstProblem ?? `${base} lists no models` };
}

/** Ollama's own list (older Ollama has no /v1/models): model names, or undefined when it is not Ollama. */
async function ollamaTags(root: string, timeoutMs: number, signal?: AbortSignal): Promise<string[] | undefined> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(`${root}/api/tags`, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, headers: { accept: 'application/json' } });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    const body = (await res.json()) as { models?: unknown };
    if (!Array.isArray(body?.models)) return undefined;
    return body.models
      .map((m: { name?: unknown; model?: unknown }) => (typeof m?.name === 'string' ? m.name : m?.model))
      .filter((n): n is string => typeof n === 'string' && n.length > 0);
  } catch {
    signal?.throwIfAborted();
    return undefined;
  }
}

/** One short chat request ("Reply with OK"), not retried: does `model` at `baseURL` answer? */
export async function testChatModel(baseURL: string, model: string, opts: SetupOptions = {}): Promise<ModelCheck> {
  const timeoutMs = opts.timeoutMs ?? TEST_TIMEOUT_MS;
  const env = opts.apiKey ? { [SETUP_KEY_ENV]: opts.apiKey } : {};
  const started = performance.now();
  try {
    const models = resolveModels({ baseURL, apiKeyEnv: SETUP_KEY_ENV, timeoutMs, firstByteTimeoutMs: timeoutMs, models: { chat: model } }, env);
    const client = new LlmClient({ models, env, retry: { maxRetries: 0, maxSilentMs: timeoutMs } });
    const result = await client.chat({
      messages: [{ role: 'user', content: 'Reply with OK.' }], maxTokens: TEST_MAX_TOKENS, temperature: 0, signal: opts.signal,
    });
    return { ok: true, ms: Math.round(performance.now() - started), reply: result.content.trim().slice(0, 80) };
  } catch (err) {
    opts.signal?.throwIfAborted();
    return { ok: false, ms: Math.round(performance.now() - started), problem: oneLine(err) };
  }
}

/** One embeddings request for one short text: does `model` at `baseURL` return a vector? */
export async function testEmbeddingModel(baseURL: string, model: string, opts: SetupOptions = {}): Promise<ModelCheck> {
  const base = baseURL.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? TEST_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  const started = performance.now();
  const done = (check: Omit<ModelCheck, 'ms'>): ModelCheck => ({ ...check, ms: Math.round(performance.now() - started) });
  let res: Response;
  try {
    res = await fetch(`${base}/embeddings`, {
      method: 'POST', headers, body: JSON.stringify({ model, input: ['hello'], encoding_format: 'float' }),
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    });
  } catch (err) {
    opts.signal?.throwIfAborted();
    if (timeout.aborted) return done({ ok: false, problem: `${base}/embeddings did not answer within ${timeoutMs} ms` });
    return done({ ok: false, problem: `cannot reach ${base}/embeddings (${oneLine((err as { cause?: unknown }).cause ?? err)})` });
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) return done({ ok: false, problem: `${base}/embeddings answered HTTP ${res.status}${errorMessage(text)}` });
  let vector: unknown;
  try {
    vector = (JSON.parse(text) as { data?: Array<{ embedding?: unknown }> }).data?.[0]?.embedding;
  } catch {
    return done({ ok: false, problem: `${base}/embeddings did not answer JSON` });
  }
  const length = Array.isArray(vector) && vector.every((x) => typeof x === 'number') ? vector.length : 0;
  if (!length) return done({ ok: false, problem: `${base}/embeddings sent no vector for "${model}": is it an embedding model?` });
  return done({ ok: true, reply: `${length} dimensions` });
}

/** The server's own error message from an OpenAI-shaped error body, if any. */
function errorMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } | string }).error;
    const line = typeof message === 'string' ? message : message?.message;
    return typeof line === 'string' && line ? `: ${line.split('\n')[0].slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

function oneLine(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const text = typeof e?.message === 'string' && e.message ? e.message : typeof e?.code === 'string' ? e.code : String(err);
  return text.split('\n')[0];
}
