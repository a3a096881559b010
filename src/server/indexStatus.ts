// The index status the client sees: built from the indexer's progress, with an ETA from the measured
// embedding rate, and sent at most every `minIntervalMs` (progress fires per batch; the client
// repaints a status bar, it does not need every step). State changes go out at once.
import type { IndexProgress } from '../core/indexing/indexer';
import type { IndexStatus } from '../protocol';

export class IndexStatusReporter {
  private status: IndexStatus = { state: 'starting', files: 0, chunks: 0, chunksEmbedded: 0, chunksToEmbed: 0, embedder: null };
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Where the embedding phase of this run started: the rate covers this run's embedding only. */
  private embedStart: { at: number; embedded: number } | undefined;

  constructor(private readonly send: (status: IndexStatus) => void, private readonly minIntervalMs = 200, private readonly now = Date.now) {}

  get current(): IndexStatus {
    return { ...this.status };
  }

  /** A new run starts (its ETA is measured afresh). */
  beginRun(): void {
    this.embedStart = undefined;
    this.set({ state: 'indexing', phase: 'scan', etaSeconds: undefined, message: undefined });
  }

  /** A state change or final figures: sent now, replacing any progress still waiting. */
  set(patch: Partial<IndexStatus>): void {
    this.status = clean({ ...this.status, ...patch });
    if (this.status.state !== 'indexing') this.status = clean({ ...this.status, phase: undefined, etaSeconds: undefined });
    this.flush();
  }

  progress(p: IndexProgress): void {
    if (p.phase === 'scan') {
      this.status = clean({ ...this.status, state: 'indexing', phase: 'scan', files: p.filesScanned, etaSeconds: undefined });
    } else {
      const now = this.now();
      this.embedStart ??= { at: now, embedded: p.chunksEmbedded };
      const seconds = (now - this.embedStart.at) / 1000;
      const rate = seconds > 0 ? (p.chunksEmbedded - this.embedStart.embedded) / seconds : 0;
      const left = p.chunksToEmbed - p.chunksEmbedded;
      this.status = clean({
        ...this.status, state: 'indexing', phase: 'embed', files: p.filesScanned,
        chunksEmbedded: p.chunksEmbedded, chunksToEmbed: p.chunksToEmbed,
        etaSeconds: rate > 0 && left > 0 ? Math.ceil(left / rate) : undefined,
      });
    }
    const wait = this.lastSent + this.minIntervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.dispose();
    this.lastSent = this.now();
    this.send(this.current);
  }
}

/** Drops undefined fields so the JSON on the wire has only what is known. */
function clean(status: IndexStatus): IndexStatus {
  return Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined)) as unknown as IndexStatus;
}
