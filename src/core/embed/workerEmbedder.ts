// Embedding off the main thread: ONNX inference and tokenising would otherwise stall the extension
// host / CLI event loop for tens of milliseconds per batch. The worker builds the real embedder from
// the same EmbedderSpec; this side only routes requests by id.
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { EmbedInputKind, Embedder, EmbedderSpec } from './types';
import { quietNativeRuntime } from './nativeRuntimeEnv';

export type ToWorker =
  | { type: 'init'; id: number }
  | { type: 'embed'; id: number; texts: string[]; kind: EmbedInputKind }
  | { type: 'cancel'; id: number }
  | { type: 'dispose'; id: number }
  | { type: 'debug-exit'; code: number }
  | { type: 'debug-throw'; message: string };

export type FromWorker =
  | { type: 'ready'; id: number; embedderId: string; dimensions: number; headRepeat: number }
  | { type: 'result'; id: number; vectors: Float32Array[] }
  | { type: 'error'; id: number; message: string }
  | { type: 'disposed'; id: number };

export interface WorkerEmbedderOptions {
  /** The worker script; default embedWorker.js next to this module (true in out/ and in dist/). */
  workerPath?: string;
  resourceLimits?: ResourceLimits;
}

interface Pending {
  resolve: (msg: FromWorker) => void;
  reject: (err: Error) => void;
}

export class WorkerEmbedder implements Embedder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private info: { embedderId: string; dimensions: number; headRepeat: number } | undefined;
  private ready: Promise<void> | undefined;
  private disposed = false;

  constructor(readonly spec: EmbedderSpec, private readonly options: WorkerEmbedderOptions = {}) {}

  get id(): string {
    if (!this.info) throw new Error('embedder id is known only after init() resolved');
    return this.info.embedderId;
  }

  get dimensions(): number {
    return this.info?.dimensions ?? 0;
  }

  init(signal?: AbortSignal): Promise<void> {
    if (this.disposed) return Promise.reject(new Error('embedder was disposed'));
    this.ready ??= this.request({ type: 'init', id: 0 }, signal).then(
      (msg) => {
        if (msg.type !== 'ready') throw new Error(`embedding worker: unexpected reply ${msg.type}`);
        this.info = { embedderId: msg.embedderId, dimensions: msg.dimensions, headRepeat: msg.headRepeat };
      },
      (err) => { this.ready = undefined; throw err; },
    );
    return this.ready;
  }

  get documentHeadRepeat(): number {
    return this.info?.headRepeat ?? 0;
  }

  async embed(texts: string[], kind: EmbedInputKind, signal?: AbortSignal): Promise<Float32Array[]> {
    await this.init(signal);
    if (texts.length === 0) return [];
    const msg = await this.request({ type: 'embed', id: 0, texts, kind }, signal);
    if (msg.type !== 'result') throw new Error(`embedding worker: unexpected reply ${msg.type}`);
    if (msg.vectors.length !== texts.length) throw new Error(`embedding worker returned ${msg.vectors.length} vectors for ${texts.length} texts`);
    return msg.vectors;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const worker = this.worker;
    if (!worker) return;
    // Let the embedder release its session, but never wait long on a wedged worker.
    await Promise.race([
      this.request({ type: 'dispose', id: 0 }).catch(() => undefined),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    this.failAll(new Error('embedder was disposed'));
    this.worker = undefined;
    await worker.terminate();
  }

  /** Test hook: makes the worker thread exit (as a native crash would) or throw an uncaught error. */
  debugCrash(how: { exitCode: number } | { throwMessage: string }): void {
    this.worker?.postMessage('exitCode' in how ? { type: 'debug-exit', code: how.exitCode } : { type: 'debug-throw', message: how.throwMessage });
  }

  private request(message: ToWorker & { id: number }, signal?: AbortSignal): Promise<FromWorker> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.disposed && message.type !== 'dispose') return Promise.reject(new Error('embedder was disposed'));
    const worker = this.spawn();
    const id = this.nextId++;
    return new Promise<FromWorker>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
        this.updateRef();
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (m) => { done(); resolve(m); },
        reject: (e) => { done(); reject(e); },
      });
      this.updateRef();
      worker.postMessage({ ...message, id });
    });
  }

  private spawn(): Worker {
    if (this.worker) return this.worker;
    quietNativeRuntime(); // before the worker loads ONNX Runtime: native code reads our environment
    const worker = new Worker(this.options.workerPath ?? join(__dirname, 'embedWorker.js'), {
      workerData: { spec: this.spec },
      resourceLimits: this.options.resourceLimits,
    });
    this.worker = worker;
    worker.on('message', (msg: FromWorker) => {
      const p = this.pending.get(msg.id);
      if (!p) return; // answered after a cancel: drop it
      this.pending.delete(msg.id);
      this.updateRef();
      if (msg.type === 'error') p.reject(new Error(msg.message));
      else p.resolve(msg);
    });
    const crashed = (why: string) => {
      if (this.worker !== worker) return;
      // The next call spawns a fresh worker, which must be initialised again.
      this.worker = undefined;
      this.ready = undefined;
      this.failAll(new Error(`embedding worker crashed (${why}); the next request starts a new one`));
    };
    worker.on('error', (err) => crashed(err.message));
    worker.on('exit', (code) => crashed(`exit code ${code}`));
    return worker;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  /** An idle worker must not keep the process alive (a CLI that forgets dispose() still exits). */
  private updateRef(): void {
    if (!this.worker) return;
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('embedding aborted');
}
