// Progress while a model call is silent: the wait for a reply that has not begun, and the pause
// before a retry. The client reports it every few seconds so no surface (CLI, language server)
// ever sits without saying what it is waiting for; the text is built here so every surface says
// the same thing.

export interface LlmWait {
  model: string;
  /** The model's base URL, without credentials. */
  baseURL: string;
  /** 1 for the first attempt of this request; retries and fallbacks count on. */
  attempt: number;
  /** reply: nothing received yet; retry: pausing before the next attempt. */
  phase: 'reply' | 'retry';
  /** How long this phase has lasted so far. */
  waitedMs: number;
  /** retry: what the pause is for ("rate-limited", "server error 503", ...). */
  reason?: string;
  /** retry: time left before the next attempt. */
  remainingMs?: number;
  /** The wait is over (a reply began, the attempt failed or was cancelled, the pause ended). */
  done: boolean;
}

export type WaitListener = (wait: LlmWait) => void;

/** "waiting for qwen2.5-coder at http://127.0.0.1:11434/v1… 10 s" */
export function describeWait(w: LlmWait): string {
  if (w.phase === 'retry') {
    return `${w.model} at ${w.baseURL}: ${w.reason ?? 'retrying'}; next attempt in ${formatDuration(w.remainingMs ?? 0)}`;
  }
  return `waiting for ${w.model} at ${w.baseURL}… ${formatDuration(w.waitedMs)}${w.attempt > 1 ? ` (attempt ${w.attempt})` : ''}`;
}

/** About ten updates over a limit, never more often than 5 per second nor less than every 5 s:
 * the default 30 s first-byte limit updates every 3 s. */
export function tickInterval(limitMs: number): number {
  return Math.min(5_000, Math.max(200, Math.round(limitMs / 10)));
}

/** "30 s", "1.5 s", "2 min 5 s": whole seconds once they are what matters. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 10 && !Number.isInteger(s)) return `${Math.max(0, s).toFixed(1).replace(/\.0$/, '')} s`;
  if (s < 600) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/**
 * Reports `wait` every `intervalMs` (first after one interval, or at once with `immediate`) until
 * the returned stop(); stop() reports `done` only when something was reported, so a prompt reply
 * produces no progress at all. A throwing listener is ignored: progress must never break a call.
 */
export function startTicker(
  listener: WaitListener | undefined,
  base: Omit<LlmWait, 'waitedMs' | 'done' | 'remainingMs'>,
  opts: { intervalMs: number; immediate?: boolean; totalMs?: number },
): () => void {
  if (!listener) return () => {};
  const started = performance.now();
  let reported = false;
  let ticks = opts.immediate ? -1 : 0;
  const emit = (done: boolean) => {
    // Ticks report the nominal time ("3 s, 6 s, 9 s", not "3.004 s"); the end reports the real one.
    const waitedMs = done ? Math.round(performance.now() - started) : ++ticks * opts.intervalMs;
    const wait: LlmWait = { ...base, waitedMs, done };
    if (opts.totalMs !== undefined) wait.remainingMs = Math.max(0, opts.totalMs - waitedMs);
    try {
      listener(wait);
    } catch { /* a display problem is not the model call's problem */ }
    reported = true;
  };
  if (opts.immediate) emit(false);
  const timer = setInterval(() => emit(false), opts.intervalMs);
  timer.unref?.();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    if (reported) emit(true);
  };
}
