// Retry policy for model requests, as pure functions so the client stays testable without clocks:
// how long to wait before the next attempt (exponential backoff with jitter, or exactly what the
// server's Retry-After asks), and what a failure means: retry the same model, fall back to the
// next model in the chain, or give up.

export interface RetryPolicy {
  /** Retries of one model after the first attempt, before falling back to the next model. */
  maxRetries: number;
  /** Backoff before retry n (0-based) is about baseDelayMs * 2^n, jittered. */
  baseDelayMs: number;
  /** Cap of the computed backoff. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the chain moves on to the next model. */
  maxRetryAfterMs: number;
  /**
   * Total time one request may spend on attempts that received nothing at all (timed out before
   * the first byte). Once spent, a silent model is not asked again, and only a model on another
   * server is still tried: a server that hangs costs this much, not retries x timeout.
   */
  maxSilentMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
  maxSilentMs: 60_000,
};

/** What went wrong with one attempt, independent of the SDK's error classes. */
export type Failure =
  | { kind: 'http'; status: number; message: string; retryAfterMs?: number }
  /** `silentMs`: the attempt received nothing at all for that long (a first-byte timeout). */
  | { kind: 'timeout'; message: string; silentMs?: number }
  /** Connection refused, reset or dropped before any reply; `unreachable` when no server was
   * found there at all (refused, no such host, no route). */
  | { kind: 'connection'; message: string; unreachable?: boolean }
  /** The reply stream broke off after it had started. */
  | { kind: 'stream-cut'; message: string }
  /** A reply that is not valid JSON / not a chat completion. */
  | { kind: 'invalid-reply'; message: string }
  /** A reply that is not the OpenAI protocol at all (an HTML page, plain text, JSON of another
   * shape): the base URL points at something else, so asking again cannot help. */
  | { kind: 'not-openai'; message: string }
  | { kind: 'cancelled'; message: string };

/** retry: same model again; fallback: next model in the chain; fatal: stop, no other model can help. */
export type Verdict = 'retry' | 'fallback' | 'fatal';

/**
 * 429, 408, 409 and 5xx are transient; so are timeouts, dropped connections, cut streams and
 * garbled replies. 401/403/404 and replies in another protocol are about this model or server (key,
 * access, unknown model name, wrong base URL), so another configured model may still answer. Other 4xx (400, 413, 422...) say the request itself is
 * wrong: every model would reject it, so neither retry nor fallback.
 */
export function classify(failure: Failure): Verdict {
  switch (failure.kind) {
    case 'cancelled':
      return 'fatal';
    case 'timeout':
    case 'connection':
    case 'stream-cut':
    case 'invalid-reply':
      return 'retry';
    case 'not-openai':
      return 'fallback';
    case 'http': {
      const s = failure.status;
      if (s === 408 || s === 409 || s === 429 || s >= 500) return 'retry';
      if (s === 401 || s === 403 || s === 404) return 'fallback';
      return 'fatal';
    }
  }
}

/**
 * Milliseconds a Retry-After (or retry-after-ms) header asks for, or undefined when absent or
 * unparseable. Accepts delta-seconds ("2", "1.5") and an HTTP-date; a date in the past means 0.
 */
export function parseRetryAfter(headers: { retryAfter?: string | null; retryAfterMs?: string | null }, now = Date.now()): number | undefined {
  const ms = headers.retryAfterMs?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = headers.retryAfter?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  // An HTTP-date names a weekday and month; Date.parse alone would also take "-1" as a year.
  const at = /[a-z]{3}/i.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Backoff before retry `retry` (0-based): "equal jitter", half fixed and half random, so retries
 * from many clients spread out while each wait stays at least half the exponential step.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(step / 2 + (step / 2) * r);
}

export interface RetryDecision {
  verdict: Verdict;
  /** Wait before the next attempt (retry only). */
  delayMs: number;
  delaySource?: 'retry-after' | 'backoff';
  /** Why a retryable failure became a fallback. */
  note?: string;
}

/**
 * The whole decision after a failed attempt: `retry` is how many retries of this model already
 * happened. A retryable failure with retries left waits Retry-After when given (if not absurdly
 * long), else the jittered backoff; without retries left, or with too long a Retry-After, it falls
 * back to the next model.
 */
export function decide(failure: Failure, retry: number, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  const verdict = classify(failure);
  if (verdict !== 'retry') return { verdict, delayMs: 0 };
  if (retry >= policy.maxRetries) return { verdict: 'fallback', delayMs: 0, note: `gave up after ${retry + 1} attempts` };
  const retryAfterMs = failure.kind === 'http' ? failure.retryAfterMs : undefined;
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > policy.maxRetryAfterMs) {
      return { verdict: 'fallback', delayMs: 0, note: `Retry-After ${retryAfterMs} ms exceeds ${policy.maxRetryAfterMs} ms` };
    }
    return { verdict: 'retry', delayMs: retryAfterMs, delaySource: 'retry-after' };
  }
  return { verdict: 'retry', delayMs: backoffDelay(retry, policy, random), delaySource: 'backoff' };
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
