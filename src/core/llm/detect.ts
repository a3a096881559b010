import { errorMessage } from '../../base/common/errors';
// Finds a local OpenAI-compatible model server when nothing is configured, so Baton works out of the
// box next to a running Ollama or LM Studio. Plain fetch (no openai SDK): a probe must be cheap.

export interface LocalServerCandidate {
  name: string;
  /** Base URL ending in /v1; the probe is GET {baseURL}/models. */
  baseURL: string;
}

export interface DetectedServer {
  name: string;
  baseURL: string;
  /** Model ids the server lists, in its order (may be empty: nothing pulled yet). */
  models: string[];
}

export const LOCAL_SERVERS: readonly LocalServerCandidate[] = [
  { name: 'Ollama', baseURL: 'http://127.0.0.1:11434/v1' },
  { name: 'LM Studio', baseURL: 'http://127.0.0.1:1234/v1' },
];

export const DEFAULT_PROBE_TIMEOUT_MS = 800;

export interface DetectOptions {
  /** Where to look, in order of preference. Default: Ollama, then LM Studio. */
  candidates?: readonly LocalServerCandidate[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Probes every candidate at once and returns the first (in candidate order) that answers GET /models
 * with an OpenAI-shaped list, or undefined when none does. Never throws for an unreachable server.
 */
export async function detectLocalServer(options: DetectOptions = {}): Promise<DetectedServer | undefined> {
  const candidates = options.candidates ?? LOCAL_SERVERS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const found = await Promise.all(candidates.map((c) => probe(c, timeoutMs, options.signal)));
  options.signal?.throwIfAborted();
  return found.find((s): s is DetectedServer => s !== undefined);
}

/** One candidate: its model list, or undefined when it is down, slow, or not an OpenAI-style server. */
export async function probe(candidate: LocalServerCandidate, timeoutMs: number, signal?: AbortSignal): Promise<DetectedServer | undefined> {
  const baseURL = candidate.baseURL.replace(/\/+$/, '');
  try {
    return { name: candidate.name, baseURL, models: await listServerModels(baseURL, { timeoutMs, signal }) };
  } catch {
    return undefined;
  }
}

/** Why a model list could not be read; `status` is the HTTP status when the server answered one,
 * `unreachable` is set when nothing answered at all (refused, unknown host, timeout). */
export class ModelListError extends Error {
  override name = 'ModelListError';
  constructor(message: string, readonly status?: number, readonly unreachable = false) {
    super(message);
  }
}

/** GET {baseURL}/models: the model ids the server lists, in its order. Throws a one-line reason
 * (never holding the key) when the server is down, slow, refuses, or is not OpenAI-style. */
export async function listServerModels(baseURL: string, opts: { apiKey?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const base = baseURL.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  let res: Response;
  try {
    res = await fetch(`${base}/models`, { signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout, headers });
  } catch (err) {
    opts.signal?.throwIfAborted();
    if (timeout.aborted) throw new ModelListError(`${base} did not answer within ${timeoutMs} ms`, undefined, true);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ModelListError(`cannot reach ${base} (${cause?.code ?? cause?.message ?? errorMessage(err)})`, undefined, true);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new ModelListError(`${base}/models answered HTTP ${res.status}`, res.status);
  }
  let body: { data?: unknown };
  try {
    body = (await res.json()) as { data?: unknown };
  } catch {
    throw new ModelListError(`${base}/models did not answer JSON`, res.status);
  }
  if (!Array.isArray(body?.data)) throw new ModelListError(`${base}/models is not an OpenAI-style model list`, res.status);
  return body.data
    .map((m: { id?: unknown }) => m?.id)
    .filter((id): id is string => typeof id === 'string' && id.length > 0);
}
