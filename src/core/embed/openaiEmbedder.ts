// Embedder over an OpenAI-compatible POST /embeddings endpoint (OpenAI, llama.cpp server, Ollama,
// vLLM, LM Studio...). Retries with backoff on 429/5xx/connection errors are the openai client's.
// Replies are validated: a server that answers with the wrong count, ragged or non-numeric vectors
// fails loudly instead of poisoning the index.
import type OpenAI from 'openai';
import type { EmbedInputKind, Embedder, EmbedderSpec } from './types';
import { loadOpenAI, PLACEHOLDER_KEY, type OpenAIClass } from '../llm/openaiSdk';
import { redactTexts } from '../security/outbound';
import { errorMessage, firstLine } from '../../base/common/errors';

export type OpenAISpec = Extract<EmbedderSpec, { kind: 'openai' }>;

export interface OpenAIEmbedderOptions {
  /** Retries of one request after 429/408/409/5xx/connection errors (the client's backoff). Default 2. */
  maxRetries?: number;
}

export const DEFAULT_OPENAI_BATCH_SIZE = 64;
export const DEFAULT_OPENAI_TIMEOUT_MS = 60_000;

export class OpenAIEmbedder implements Embedder {
  private client: Promise<OpenAI> | undefined;
  private OpenAI: OpenAIClass | undefined;
  private readonly batchSize: number;
  private readonly maxRetries: number;
  private readonly url: string;
  private dims = 0;
  private initializing: Promise<void> | undefined;

  constructor(readonly spec: OpenAISpec, options: OpenAIEmbedderOptions = {}) {
    if (!spec.baseURL) throw new Error('openai embedder: no baseURL given (e.g. http://127.0.0.1:8080/v1)');
    if (!spec.model) throw new Error('openai embedder: no model given');
    if (spec.dimensions !== undefined && (!Number.isInteger(spec.dimensions) || spec.dimensions < 1)) {
      throw new Error(`openai embedder: dimensions must be a positive integer, got ${spec.dimensions}`);
    }
    this.batchSize = Math.max(1, Math.floor(spec.batchSize ?? DEFAULT_OPENAI_BATCH_SIZE));
    this.url = `${spec.baseURL.replace(/\/+$/, '')}/embeddings`;
    this.maxRetries = options.maxRetries ?? 2;
  }

  private getClient(): Promise<OpenAI> {
    this.client ??= loadOpenAI().then((OpenAIClient) => {
      this.OpenAI = OpenAIClient;
      return new OpenAIClient({
        baseURL: this.spec.baseURL,
        // Read at first use, not kept anywhere else; never logged.
        apiKey: process.env[this.spec.apiKeyEnv ?? 'OPENAI_API_KEY'] || PLACEHOLDER_KEY,
        timeout: this.spec.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS,
        maxRetries: this.maxRetries,
        // Never the OPENAI_ORG_ID / OPENAI_PROJECT_ID of the environment: this may be a local server.
        organization: null,
        project: null,
      });
    });
    return this.client;
  }

  get id(): string {
    if (!this.dims) throw new Error('embedder id is known only after init() resolved');
    return `openai:${this.spec.baseURL.replace(/\/+$/, '')}:${this.spec.model}:${this.dims}`;
  }

  get dimensions(): number {
    return this.dims;
  }

  /** Checks the endpoint with one tiny request, which also tells the vector length. */
  init(signal?: AbortSignal): Promise<void> {
    if (this.dims) return Promise.resolve();
    this.initializing ??= this.request(['dimension probe'], signal).then(
      ([v]) => { this.dims = v.length; },
      (err) => { this.initializing = undefined; throw err; },
    );
    return this.initializing;
  }

  async embed(raw: string[], _kind: EmbedInputKind, signal?: AbortSignal): Promise<Float32Array[]> {
    await this.init(signal);
    // A remote endpoint: what it receives is redacted (queries are the user's own text).
    const texts = await redactTexts(raw);
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      signal?.throwIfAborted();
      out.push(...(await this.request(texts.slice(i, i + this.batchSize), signal)));
    }
    return out;
  }

  async dispose(): Promise<void> {
    // Nothing held open: the client's fetch keeps no session beyond pooled sockets.
  }

  private async request(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    let reply: unknown;
    try {
      const client = await this.getClient();
      reply = await client.embeddings.create(
        {
          model: this.spec.model,
          // OpenAI rejects empty strings; a space embeds as "no content".
          input: texts.map((t) => (t.length === 0 ? ' ' : t)),
          encoding_format: 'float', // base64 is not implemented by every compatible server
          ...(this.spec.dimensions !== undefined ? { dimensions: this.spec.dimensions } : {}),
        },
        { signal },
      );
    } catch (err) {
      throw this.describeFailure(err, signal);
    }
    return this.parseReply(reply, texts.length);
  }

  private parseReply(reply: unknown, count: number): Float32Array[] {
    const bad = (why: string) => new Error(`embeddings endpoint ${this.url} sent an unusable reply: ${why}`);
    if (typeof reply === 'string') throw bad(`not JSON (${JSON.stringify(reply.slice(0, 80))})`);
    const data = (reply as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw bad('no "data" array');
    if (data.length !== count) throw bad(`${data.length} vectors for ${count} inputs`);
    const vectors = new Array<Float32Array | undefined>(count);
    data.forEach((item: { index?: unknown; embedding?: unknown }, pos) => {
      const index = item?.index === undefined ? pos : item.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || vectors[index]) {
        throw bad(`bad or repeated index ${JSON.stringify(index)}`);
      }
      vectors[index] = toVector(item?.embedding, index, bad);
    });
    const expected = this.dims || this.spec.dimensions || vectors[0]!.length;
    for (const [i, v] of (vectors as Float32Array[]).entries()) {
      if (v.length !== expected) throw bad(`vector ${i} has ${v.length} dimensions, expected ${expected}`);
    }
    return (vectors as Float32Array[]).map(normalizeInPlace);
  }

  /** One line that names the endpoint and says what to do; never the key. */
  private describeFailure(err: unknown, signal?: AbortSignal): Error {
    const OpenAI = this.OpenAI;
    if (!OpenAI) return new Error(`cannot load the openai client: ${errorMessage(err)}`);
    if (signal?.aborted || err instanceof OpenAI.APIUserAbortError) {
      return signal?.reason instanceof Error ? signal.reason : new Error('embedding aborted');
    }
    if (err instanceof OpenAI.APIConnectionTimeoutError) {
      return new Error(`embeddings endpoint ${this.url} did not answer within ${this.spec.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS} ms`);
    }
    if (err instanceof OpenAI.APIConnectionError) {
      return new Error(`cannot reach embeddings endpoint ${this.url} (${rootCause(err)}); is the server running?`);
    }
    if (err instanceof OpenAI.APIError) {
      const hint = err.status === 401 || err.status === 403
        ? `; check the key in $${this.spec.apiKeyEnv ?? 'OPENAI_API_KEY'}`
        : err.status === 404 ? `; check baseURL and model "${this.spec.model}"` : '';
      return new Error(`embeddings endpoint ${this.url} failed: ${firstLine(err.message, 300)}${hint}`);
    }
    if (err instanceof SyntaxError) return new Error(`embeddings endpoint ${this.url} sent an unusable reply: not JSON (${err.message})`);
    return new Error(`embeddings endpoint ${this.url} failed: ${firstLine(errorMessage(err), 300)}`);
  }
}

function toVector(raw: unknown, index: number, bad: (why: string) => Error): Float32Array {
  if (typeof raw === 'string') return base64Floats(raw, index, bad);
  if (!Array.isArray(raw) || raw.length === 0) throw bad(`vector ${index} is not a non-empty array`);
  const v = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const x: unknown = raw[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(`vector ${index} holds ${JSON.stringify(x)} at ${i}`);
    v[i] = x;
  }
  return v;
}

/** Some servers send base64 little-endian float32 whatever was asked. */
function base64Floats(raw: string, index: number, bad: (why: string) => Error): Float32Array {
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length === 0 || bytes.length % 4 !== 0) throw bad(`vector ${index} is a string that is not base64 float32`);
  const v = new Float32Array(bytes.length / 4);
  for (let i = 0; i < v.length; i++) {
    v[i] = bytes.readFloatLE(i * 4);
    if (!Number.isFinite(v[i])) throw bad(`vector ${index} holds a non-finite value at ${i}`);
  }
  return v;
}

/** Unit length; the zero vector stays zero (no direction to keep). */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/** The system error code under fetch's "fetch failed" (ECONNREFUSED, ENOTFOUND...), else the deepest message. */
function rootCause(err: unknown): string {
  let e = err as { code?: unknown; message?: string; cause?: unknown } | undefined;
  let message = String(e?.message ?? err);
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (typeof e.code === 'string') return e.code;
    if (e.message) message = e.message;
  }
  return firstLine(message, 300);
}
