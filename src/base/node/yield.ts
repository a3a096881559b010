// Lets the event loop run between slices of long synchronous work, so a language server hosting
// the core keeps answering (status, cancellation) while one request counts a lot of text.

/** Resolves on the next turn of the event loop, after pending I/O. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Slices of work of at most about `sliceMs`: `await pacer.tick()` between steps of a loop. */
export class Pacer {
  private last = performance.now();

  constructor(private readonly sliceMs = 20, private readonly signal?: AbortSignal) {}

  /** Yields when the current slice is used up; throws the signal's reason once it is aborted. */
  async tick(): Promise<void> {
    if (performance.now() - this.last < this.sliceMs) return;
    await yieldToEventLoop();
    this.signal?.throwIfAborted();
    this.last = performance.now();
  }
}
