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
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(`${baseURL}/models`, {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: { accept: 'application/json' },
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    const body = (await res.json()) as { data?: unknown };
    if (!Array.isArray(body?.data)) return undefined;
    const models = body.data
      .map((m: { id?: unknown }) => m?.id)
      .filter((id): id is string => typeof id === 'string' && id.length > 0);
    return { name: candidate.name, baseURL, models };
  } catch {
    return undefined;
  }
}
