// The one place that turns an EmbedderSpec (CLI flags, baton.config.json, VS Code settings) into an
// Embedder, optionally running off the main thread.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OpenAIEmbedder } from './openaiEmbedder';
import { TransformersEmbedder, defaultModelCacheDir, isModelFolder } from './transformersEmbedder';
import type { EmbedInputKind, Embedder, EmbedderSpec } from './types';
import { WorkerEmbedder } from './workerEmbedder';

export const PACKAGED_MODEL_DIR = join('models', 'baton-code-search');

/** The installed package's root: the nearest folder above `from` whose package.json is named "baton". */
export function findPackageRoot(from: string = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'baton') return dir;
      } catch { /* unreadable manifest: keep walking */ }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Where Baton's own model should be; the folder may be absent (e.g. a source checkout without it). */
export function packagedModelFolder(): string {
  const root = findPackageRoot();
  return root ? join(root, PACKAGED_MODEL_DIR) : join('<baton package root>', PACKAGED_MODEL_DIR);
}

export function createEmbedder(spec: EmbedderSpec, opts: { inWorker?: boolean } = {}): Embedder | null {
  if (spec.kind === 'none') return null;
  if (opts.inWorker) return new WorkerEmbedder(spec);
  switch (spec.kind) {
    case 'transformers':
      return new TransformersEmbedder(spec);
    case 'openai':
      return new OpenAIEmbedder(spec);
    case 'baton': {
      const folder = packagedModelFolder();
      if (!existsSync(join(folder, 'config.json'))) {
        return new UnavailableEmbedder(
          `Baton's packaged embedding model is missing (expected ${folder}); reinstall Baton, ` +
          'or configure another embedder (a transformers.js model, an OpenAI-compatible endpoint) or none for lexical search',
        );
      }
      return new TransformersEmbedder(
        { kind: 'transformers', model: folder, quantized: true, ...(spec.batchSize ? { batchSize: spec.batchSize } : {}) },
        { idPrefix: 'baton' },
      );
    }
  }
}

/** One line for UI and CLI messages; never contains a key. */
export function describeEmbedder(spec: EmbedderSpec): string {
  switch (spec.kind) {
    case 'none':
      return 'no embedder (lexical search only)';
    case 'baton':
      return `Baton's packaged code-search model (${packagedModelFolder()})`;
    case 'transformers': {
      const q = spec.quantized ?? true ? 'int8' : 'fp32';
      if (isModelFolder(spec.model)) return `transformers.js model folder ${spec.model} (${q})`;
      const cache = spec.cacheDir ?? defaultModelCacheDir();
      const remote = spec.allowRemote === false ? ', offline' : '';
      return `transformers.js model ${spec.model} (${q}, cache ${cache}${remote})`;
    }
    case 'openai':
      return `OpenAI-compatible embeddings ${spec.model} at ${spec.baseURL}` +
        `${spec.dimensions ? `, ${spec.dimensions} dims` : ''} (key from $${spec.apiKeyEnv ?? 'OPENAI_API_KEY'} if set)`;
  }
}

/** Stands in for an embedder that cannot exist here, so the failure surfaces at init() with its reason. */
class UnavailableEmbedder implements Embedder {
  readonly dimensions = 0;
  constructor(private readonly reason: string) {}
  get id(): string {
    throw new Error(this.reason);
  }
  init(): Promise<void> {
    return Promise.reject(new Error(this.reason));
  }
  embed(_texts: string[], _kind: EmbedInputKind): Promise<Float32Array[]> {
    return Promise.reject(new Error(this.reason));
  }
  async dispose(): Promise<void> {}
}
