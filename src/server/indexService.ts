// Keeps the workspace index current for the server: the first build after `initialized`, debounced
// incremental updates when files change, full rebuilds on request, one run at a time. Progress
// reaches the client as `baton/indexStatusChanged`; searches use the warm index meanwhile.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createEmbedder, describeEmbedder } from '../core/embed/createEmbedder';
import type { Embedder, EmbedderSpec } from '../core/embed/types';
import { batonDirOf, buildWorkspaceIndex } from '../core/indexing/workspaceIndex';
import type { IndexStatus, SearchParams, SearchResponse } from '../protocol';
import { IndexStatusReporter } from './indexStatus';
import type { Effective } from './settings';
import { WarmIndex, type IndexLease } from './warmIndex';
import { forEditor } from './wording';
import { errorMessage } from '../base/common/errors';

export interface IndexServiceOptions {
  root: string;
  /** The configuration as of now (re-read for every run: the user may have edited it). */
  effective: () => Effective;
  onStatus: (status: IndexStatus) => void;
  log: (message: string) => void;
  debounceMs?: number;
}

interface RunRequest {
  rebuild: boolean;
  signal?: AbortSignal;
  /** Called when the run leaves the queue and starts. */
  onStart?: () => void;
}

export class IndexService {
  readonly warm: WarmIndex;
  private readonly reporter: IndexStatusReporter;
  private readonly stopped = new AbortController();
  /** Runs are chained: one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  /** An incremental run waiting for its turn: later change notifications join it. */
  private queued: Promise<void> | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private indexEmbedder: { spec: string; embedder: Embedder | null } | undefined;
  /** True once the index has committed content (or failed trying): requests stop waiting for it. */
  private searchable: boolean;
  private waiters: Array<() => void> = [];

  constructor(private readonly opts: IndexServiceOptions) {
    this.warm = new WarmIndex(opts.root);
    this.reporter = new IndexStatusReporter(opts.onStatus);
    this.searchable = existsSync(join(batonDirOf(opts.root), 'manifest.json'));
  }

  get status(): IndexStatus {
    return this.reporter.current;
  }

  /** Debounced incremental update: a burst of saves or a branch switch makes one run. */
  scheduleUpdate(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.update(), this.opts.debounceMs ?? 500);
  }

  /** An incremental run (the first build when there is no index). */
  update(): Promise<void> {
    // Requests coalesce only while their run waits: once a run has started, its walk may already be
    // past a file changed now, so the next change queues a run of its own.
    this.queued ??= this.enqueue({ rebuild: false, onStart: () => { this.queued = undefined; } });
    return this.queued;
  }

  /** Runs now (after the current run), dropping the stored index first when `full`. */
  async rebuild(full: boolean, signal?: AbortSignal): Promise<IndexStatus> {
    clearTimeout(this.debounce);
    await this.enqueue({ rebuild: full, signal });
    return this.status;
  }

  /** Resolves once search has something to search (or indexing failed), or when `signal` aborts. */
  whenSearchable(signal?: AbortSignal): Promise<void> {
    if (this.searchable) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('cancelled'));
    return new Promise((resolve, reject) => {
      const waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal!.reason ?? new Error('cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** The warm index for a request; it waits for the first commit, and says why when there is none. */
  async acquire(signal?: AbortSignal): Promise<IndexLease> {
    await this.whenSearchable(signal);
    const lease = await this.warm.acquire();
    if (!lease) throw new Error(`the workspace has no index yet${this.status.message ? `: ${this.status.message}` : ''}`);
    return lease;
  }

  async search(params: SearchParams): Promise<SearchResponse> {
    // Validated params (protocol.ts): a string query, a positive integer k, a known mode.
    const { query } = params;
    const k = Math.min(params.k ?? 10, 100);
    const mode = params.mode ?? 'hybrid';
    for (let attempt = 0; ; attempt++) {
      const lease = await this.warm.acquire();
      if (!lease) return { results: [], mode, notices: [this.status.state === 'error' ? `no index: ${this.status.message}` : 'the workspace is being indexed; try again in a moment'] };
      try {
        const response = await lease.index.retriever.search(query, { k, mode });
        const notices = [...response.notices.map(forEditor), ...(this.status.state === 'indexing' ? ['indexing in progress: results may be incomplete'] : [])];
        return {
          mode: response.mode,
          notices,
          results: response.results.map((r) => ({ ...r, sources: [...r.sources] })),
        };
      } catch (err) {
        // A generation swept under an older open index: reopen once and ask again.
        if (attempt > 0 || mode === 'dense') throw err;
        this.opts.log(`search failed on the open index (${errorMessage(err)}); reopening it`);
        this.warm.retire();
      } finally {
        lease.release();
      }
    }
  }

  async dispose(): Promise<void> {
    clearTimeout(this.debounce);
    this.reporter.dispose();
    this.stopped.abort(new Error('the server is shutting down'));
    await this.chain.catch(() => undefined);
    await this.warm.dispose();
    await this.indexEmbedder?.embedder?.dispose().catch(() => undefined);
  }

  private enqueue(request: RunRequest): Promise<void> {
    const run = this.chain.then(() => this.run(request));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(request: RunRequest): Promise<void> {
    request.onStart?.();
    if (this.stopped.signal.aborted) return;
    const effective = this.opts.effective();
    const spec = effective.config.embedder;
    const signal = request.signal ? AbortSignal.any([request.signal, this.stopped.signal]) : this.stopped.signal;
    this.warm.useEmbedder(spec);
    this.reporter.beginRun();
    const started = Date.now();
    try {
      const summary = await buildWorkspaceIndex(this.opts.root, effective.config, {
        spec,
        embedder: await this.embedderFor(spec),
        rebuild: request.rebuild,
        signal,
        onProgress: (p) => {
          this.reporter.progress(p);
          if (p.phase === 'embed') this.markSearchable(); // phase 1 has committed
        },
      });
      const message = [...effective.problems, summary.notice].filter(Boolean).map((m) => forEditor(m!)).join('; ') || undefined;
      this.reporter.set({
        state: 'indexed', files: summary.files, chunks: summary.chunks,
        chunksEmbedded: summary.chunks - summary.withoutVectors, chunksToEmbed: summary.chunks,
        embedder: summary.embedderId, message, updatedAt: new Date().toISOString(),
      });
      this.opts.log(`indexed ${summary.files} files, ${summary.chunks} chunks in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(${summary.changedFiles} changed, ${summary.deletedFiles} removed, ${summary.embedded} embedded) with ${describeEmbedder(spec)}` +
        (message ? `; ${message}` : ''));
      await this.warm.acquire().then((lease) => lease?.release()).catch(() => undefined); // open it now, not on the next request
    } catch (err) {
      const cancelled = signal.aborted;
      const message = cancelled ? 'indexing was cancelled; the index may be incomplete until the next run' : `indexing failed: ${forEditor(errorMessage(err))}`;
      this.opts.log(message);
      const hasIndex = existsSync(join(batonDirOf(this.opts.root), 'manifest.json'));
      this.reporter.set({ state: cancelled && hasIndex ? 'indexed' : 'error', message });
    } finally {
      this.markSearchable();
    }
  }

  /** The indexing embedder runs in a worker, kept between runs so an update does not reload the model. */
  private async embedderFor(spec: EmbedderSpec): Promise<Embedder | null> {
    const key = JSON.stringify(spec);
    if (this.indexEmbedder?.spec !== key) {
      await this.indexEmbedder?.embedder?.dispose().catch(() => undefined);
      this.indexEmbedder = { spec: key, embedder: createEmbedder(spec, { inWorker: true }) };
    }
    return this.indexEmbedder.embedder;
  }

  private markSearchable(): void {
    this.searchable = true;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
