// The one interface every embedding backend implements (transformers.js, an OpenAI-compatible
// /embeddings endpoint, Baton's own packaged model), so the indexer never knows which it has.

export type EmbedInputKind = 'query' | 'document';

export interface Embedder {
  /** Stable identity of the vector space (backend + model + dimensions + prefixes). Vectors from
   * different ids are never mixed: it keys the embedding cache and the store's manifest. */
  readonly id: string;
  /** Vector length; valid after `init()` resolved. */
  readonly dimensions: number;
  /** Loads the model / checks the endpoint. Rejects with a clear message when unavailable. */
  init(signal?: AbortSignal): Promise<void>;
  /** Document preprocessing the model declares (config.json `baton.documentHeadRepeat`): when
   * above 0, what is embedded for a code chunk is `documentText(chunk, n)` (its declaration line
   * in front, see documentText.ts), not its bare text. Valid after `init()` resolved. */
  readonly documentHeadRepeat?: number;
  /** Unit-length vectors, one per text, in order. Texts are embedded as given: callers apply
   * `documentText` to code chunks themselves (the indexer does). */
  embed(texts: string[], kind: EmbedInputKind, signal?: AbortSignal): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** How an embedder is configured (CLI flags, baton.config.json, VS Code settings). */
export type EmbedderSpec =
  | {
      kind: 'transformers';
      /** A Hugging Face model id (downloaded into `cacheDir`) or an absolute path to a local model folder. */
      model: string;
      cacheDir?: string;
      /** Use `onnx/model_quantized.onnx` instead of `onnx/model.onnx`. Default true. */
      quantized?: boolean;
      /** Allow downloads from the hub. Default true for ids, irrelevant for folders. */
      allowRemote?: boolean;
      queryPrefix?: string;
      documentPrefix?: string;
      /** Texts per inference call; default chosen by `bench/embedder`. */
      batchSize?: number;
      /** Tokens kept per text. */
      maxLength?: number;
    }
  | {
      kind: 'openai';
      baseURL: string;
      model: string;
      /** Name of the environment variable holding the key (never the key itself). */
      apiKeyEnv?: string;
      dimensions?: number;
      batchSize?: number;
      timeoutMs?: number;
    }
  /** Baton's own code-search model shipped in the package (the offline default). */
  | { kind: 'baton'; batchSize?: number }
  /** Lexical retrieval only. */
  | { kind: 'none' };
