// Embedder over transformers.js (ONNX Runtime on CPU): a Hugging Face model id downloaded into a
// cache folder, or a local model folder (offline). Mean pooling over the attention mask, then L2
// normalisation: what the feature-extraction pipeline does with {pooling: 'mean', normalize: true},
// done here on the pipeline's own tokenizer and model so that maxLength and batching are ours.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { EmbedInputKind, Embedder, EmbedderSpec } from './types';
import { DOCUMENT_TEXT_FORMAT } from './documentText';
import { quietNativeRuntime } from './nativeRuntimeEnv';

export type TransformersSpec = Extract<EmbedderSpec, { kind: 'transformers' }>;
type TransformersModule = typeof import('@huggingface/transformers');

export interface TransformersEmbedderOptions {
  /** Replaces 'transformers' at the head of the id (the packaged model uses 'baton'). */
  idPrefix?: string;
  /** How long a hub request may wait for response headers before it is abandoned. Default 15 s. */
  hubTimeoutMs?: number;
  /** Where notes go (e.g. "no quantised graph, using model.onnx"). Default: console.warn. */
  log?: (message: string) => void;
}

export const DEFAULT_BATCH_SIZE = 8;

export function defaultModelCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'baton', 'models');
}

/** A folder when it looks like a path; otherwise a hub id ("owner/name"). */
export function isModelFolder(model: string): boolean {
  return isAbsolute(model) || model.startsWith('./') || model.startsWith('../') || model === '.';
}

let transformers: Promise<TransformersModule> | undefined;
let hubTimeoutMs = 15_000;

/**
 * Loads transformers.js once. A dynamic import: esbuild leaves `import()` alone in CommonJS output,
 * so Node loads the package's ESM build lazily (0.3-0.5 s) only when an embedder starts.
 */
export function loadTransformers(): Promise<TransformersModule> {
  if (!transformers) quietNativeRuntime(); // ONNX Runtime reads it when it loads
  transformers ??= import('@huggingface/transformers').then((tf) => {
    const plainFetch = tf.env.fetch;
    // Bound the wait for response headers only: a download that has started may take as long as it needs.
    tf.env.fetch = async (input: string | URL, init?: RequestInit) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error(`no response within ${hubTimeoutMs} ms`)), hubTimeoutMs);
      try {
        return (await plainFetch(input, { ...init, signal: controller.signal })) as Response;
      } finally {
        clearTimeout(timer);
      }
    };
    return tf;
  });
  return transformers;
}

type FeatureExtraction = Awaited<ReturnType<typeof import('@huggingface/transformers').pipeline<'feature-extraction'>>>;
/** A model's output tensors by name (transformers.js types the call's result as `any`). */
type ModelOutputs = Partial<Record<'last_hidden_state' | 'token_embeddings' | 'logits', { data: unknown; dims: unknown; dispose?: () => void }>>;

interface Loaded {
  pipe: FeatureExtraction;
  quantized: boolean;
  dimensions: number;
  idModel: string;
  /** Document preprocessing the model folder declares (see documentText.ts); 0 = none. */
  headRepeat: number;
}

export class TransformersEmbedder implements Embedder {
  private loaded: Loaded | undefined;
  private initializing: Promise<void> | undefined;
  /** Inference calls run one after another: one ONNX session, no interleaved batches. */
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly batchSize: number;
  private readonly log: (message: string) => void;

  constructor(readonly spec: TransformersSpec, private readonly options: TransformersEmbedderOptions = {}) {
    if (!spec.model) throw new Error('transformers embedder: no model given (a Hugging Face id or a model folder path)');
    this.batchSize = Math.max(1, Math.floor(spec.batchSize ?? DEFAULT_BATCH_SIZE));
    if (spec.maxLength !== undefined && (!Number.isInteger(spec.maxLength) || spec.maxLength < 1)) {
      throw new Error(`transformers embedder: maxLength must be a positive integer, got ${spec.maxLength}`);
    }
    this.log = options.log ?? ((m) => console.warn(m));
  }

  get id(): string {
    if (!this.loaded) throw new Error('embedder id is known only after init() resolved');
    const { idModel, dimensions, quantized } = this.loaded;
    const parts = [this.options.idPrefix ?? 'transformers', idModel, String(dimensions)];
    if (quantized) parts.push('q');
    if (this.spec.maxLength !== undefined) parts.push(`len=${this.spec.maxLength}`);
    if (this.spec.queryPrefix) parts.push(`qp=${encodeURIComponent(this.spec.queryPrefix)}`);
    if (this.spec.documentPrefix) parts.push(`dp=${encodeURIComponent(this.spec.documentPrefix)}`);
    if (this.loaded.headRepeat) parts.push(`head=${this.loaded.headRepeat}`, `doc=${DOCUMENT_TEXT_FORMAT}`);
    return parts.join(':');
  }

  get dimensions(): number {
    return this.loaded?.dimensions ?? 0;
  }

  init(signal?: AbortSignal): Promise<void> {
    if (this.disposed) return Promise.reject(new Error('embedder was disposed'));
    this.initializing ??= this.load().catch((err) => {
      this.initializing = undefined; // a later init() may retry (e.g. after the user fixed the path)
      throw err;
    });
    return signal ? raceAbort(this.initializing, signal) : this.initializing;
  }

  get documentHeadRepeat(): number {
    return this.loaded?.headRepeat ?? 0;
  }

  async embed(texts: string[], kind: EmbedInputKind, signal?: AbortSignal): Promise<Float32Array[]> {
    await this.init(signal);
    const prefix = (kind === 'query' ? this.spec.queryPrefix : this.spec.documentPrefix) ?? '';
    const inputs = prefix ? texts.map((t) => prefix + t) : texts;
    // Batch texts of similar length together: a batch is padded to its longest text, and padding
    // is pure waste (a 40-line chunk next to a 3-line one triples the work). Results go back in order.
    const order = inputs.map((_, i) => i).sort((a, b) => inputs[a].length - inputs[b].length);
    const run = this.queue.then(async () => {
      const out = new Array<Float32Array>(inputs.length);
      for (let i = 0; i < order.length; i += this.batchSize) {
        signal?.throwIfAborted();
        const ids = order.slice(i, i + this.batchSize);
        const vectors = await this.embedBatch(ids.map((k) => inputs[k]));
        ids.forEach((k, j) => { out[k] = vectors[j]; });
      }
      return out;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.initializing?.catch(() => undefined); // a load in flight finishes before we release it
    const loaded = this.loaded;
    this.loaded = undefined;
    this.initializing = undefined;
    await this.queue;
    if (loaded) await loaded.pipe.dispose();
  }

  private async embedBatch(texts: string[]): Promise<Float32Array[]> {
    const { pipe, dimensions } = this.loaded ?? (() => { throw new Error('embedder was disposed'); })();
    const model_inputs = pipe.tokenizer(texts, {
      padding: true,
      truncation: true,
      ...(this.spec.maxLength !== undefined ? { max_length: this.spec.maxLength } : {}),
    });
    const outputs = (await pipe.model(model_inputs)) as ModelOutputs;
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? outputs.logits;
    if (!hidden) throw new Error('the model returned no last_hidden_state');
    try {
      return meanPoolNormalize(hidden.data as Float32Array, hidden.dims as number[], model_inputs.attention_mask.data as ArrayLike<number | bigint>, dimensions || undefined);
    } finally {
      hidden.dispose?.();
    }
  }

  private async load(): Promise<void> {
    const started = Date.now();
    const tf = await loadTransformers();
    hubTimeoutMs = this.options.hubTimeoutMs ?? hubTimeoutMs;
    const folder = isModelFolder(this.spec.model) ? resolve(this.spec.model) : undefined;
    let quantized = this.spec.quantized ?? true;
    let idModel: string;
    let pipe: FeatureExtraction;
    if (folder) {
      quantized = checkFolder(folder, quantized, this.log);
      idModel = `${basename(folder)}@${await folderFingerprint(folder, quantized)}`;
      pipe = await this.openPipeline(tf, folder, quantized, { local_files_only: true });
    } else {
      idModel = this.spec.model;
      const cache_dir = this.spec.cacheDir ?? defaultModelCacheDir();
      const local_files_only = this.spec.allowRemote === false || !tf.env.allowRemoteModels;
      try {
        pipe = await this.openPipeline(tf, this.spec.model, quantized, { cache_dir, local_files_only });
      } catch (err) {
        // Some hub models publish only the fp32 graph.
        if (!quantized || !/model_quantized\.onnx/.test(String(err))) throw hubError(this.spec.model, cache_dir, local_files_only, err);
        this.log(`transformers embedder: ${this.spec.model} has no onnx/model_quantized.onnx; using onnx/model.onnx (fp32)`);
        quantized = false;
        try {
          pipe = await this.openPipeline(tf, this.spec.model, false, { cache_dir, local_files_only });
        } catch (err2) {
          throw hubError(this.spec.model, cache_dir, local_files_only, err2);
        }
      }
    }
    // The vector length is whatever the model produces: probe it rather than trust config.json.
    this.loaded = { pipe, quantized, dimensions: 0, idModel, headRepeat: folder ? declaredHeadRepeat(folder) : 0 };
    const [probe] = await this.embedBatch(['dimension probe']);
    this.loaded.dimensions = probe.length;
    if (Date.now() - started > 5000) this.log(`transformers embedder: loaded ${idModel} in ${Date.now() - started} ms`);
  }

  private async openPipeline(
    tf: TransformersModule,
    model: string,
    quantized: boolean,
    opts: { cache_dir?: string; local_files_only: boolean },
  ): Promise<FeatureExtraction> {
    return tf.pipeline('feature-extraction', model, { dtype: quantized ? 'q8' : 'fp32', ...opts });
  }
}

/** Fails fast, in one line, on a folder that cannot be a model. Returns whether the quantised graph is used. */
function checkFolder(folder: string, quantized: boolean, log: (m: string) => void): boolean {
  const fix = 'point the embedder at a folder holding config.json, tokenizer.json, tokenizer_config.json and onnx/model_quantized.onnx or onnx/model.onnx';
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`embedding model folder not found: ${folder} (${fix})`);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    if (!existsSync(join(folder, f))) throw new Error(`embedding model folder ${folder} lacks ${f} (${fix})`);
  }
  const hasQ = existsSync(join(folder, 'onnx', 'model_quantized.onnx'));
  const hasF = existsSync(join(folder, 'onnx', 'model.onnx'));
  if (!hasQ && !hasF) throw new Error(`embedding model folder ${folder} has no onnx/model_quantized.onnx or onnx/model.onnx (${fix})`);
  if (quantized && !hasQ) {
    log(`transformers embedder: ${folder} has no onnx/model_quantized.onnx; using onnx/model.onnx (fp32)`);
    return false;
  }
  if (!quantized && !hasF) throw new Error(`embedding model folder ${folder} has no onnx/model.onnx; set quantized: true to use onnx/model_quantized.onnx`);
  return quantized;
}

/** Short content hash of the files that define the vectors: retraining into the same folder changes the id. */
async function folderFingerprint(folder: string, quantized: boolean): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['tokenizer.json', join('onnx', quantized ? 'model_quantized.onnx' : 'model.onnx')]) {
    for await (const chunk of createReadStream(join(folder, f))) hash.update(chunk as Buffer);
  }
  return hash.digest('hex').slice(0, 12);
}

function hubError(model: string, cacheDir: string, localOnly: boolean, err: unknown): Error {
  const reason = errorText(err);
  if (localOnly) {
    return new Error(`embedding model ${model} is not in the cache ${cacheDir} and downloads are off (allowRemote: false, or transformers.js env.allowRemoteModels = false in this process); allow downloads once or set the model to a local folder (${reason})`);
  }
  return new Error(`could not load embedding model ${model} from huggingface.co into ${cacheDir}: ${reason}; check the network or set the model to a local folder`);
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const first = err.message.split('\n')[0];
  return cause instanceof Error ? `${first}: ${cause.message}` : first;
}

/**
 * Mean over positions where attention_mask is 1, then L2 normalisation. A text with no content
 * tokens (all rows zero) yields the zero vector: no direction, cosine 0 with everything.
 */
export function meanPoolNormalize(
  hidden: Float32Array,
  dims: number[],
  mask: ArrayLike<number | bigint>,
  expectDims?: number,
): Float32Array[] {
  if (dims.length !== 3) throw new Error(`expected last_hidden_state [batch, seq, dims], got [${dims.join(', ')}]`);
  const [batch, seq, d] = dims;
  if (expectDims !== undefined && d !== expectDims) throw new Error(`model produced ${d}-d vectors, expected ${expectDims}`);
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float64Array(d);
    let count = 0;
    for (let s = 0; s < seq; s++) {
      if (Number(mask[b * seq + s]) === 0) continue;
      count++;
      const row = (b * seq + s) * d;
      for (let k = 0; k < d; k++) v[k] += hidden[row + k];
    }
    let norm = 0;
    for (let k = 0; k < d; k++) norm += v[k] * v[k];
    norm = Math.sqrt(norm);
    const vec = new Float32Array(d);
    if (count > 0 && norm > 0 && Number.isFinite(norm)) for (let k = 0; k < d; k++) vec[k] = v[k] / norm;
    out.push(vec);
  }
  return out;
}

/** Rejects as soon as `signal` aborts; the underlying work carries on and its result is dropped. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolvePromise(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('embedding aborted');
}

/** `baton.documentHeadRepeat` from a model folder's config.json; 0 when absent or unreadable. */
function declaredHeadRepeat(folder: string): number {
  try {
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { baton?: { documentHeadRepeat?: unknown } };
    const n = config.baton?.documentHeadRepeat;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 20 ? n : 0;
  } catch {
    return 0;
  }
}
