// Streams of `baton/runProgress` share one notification; each run's listeners are keyed by runId.
import type { RunProgress } from '../../protocol';

type Listener = (p: RunProgress) => void;

export class RunProgressRouter {
  private readonly listeners = new Map<string, Set<Listener>>();

  /** Returns the unsubscribe function; the run's entry goes when its last listener does. */
  listen(runId: string, listener: Listener): () => void {
    const set = this.listeners.get(runId) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(runId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId);
    };
  }

  /** False when no one listens (a run that already finished, or another window's). */
  dispatch(p: RunProgress): boolean {
    const set = this.listeners.get(p.runId);
    if (!set) return false;
    for (const listener of [...set]) listener(p);
    return true;
  }

  get activeRuns(): number {
    return this.listeners.size;
  }
}
