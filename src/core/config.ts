// Workspace configuration: `baton.config.json` at the workspace root or `.baton/config.json`.
// Secrets never live here: an endpoint names the environment variable that holds its key.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbedderSpec } from './embed/types';
import { validateLlmConfig, type LlmConfig } from './llm/models';

export interface BatonConfig {
  embedder: EmbedderSpec;
  /** Extra ignore globs (gitignore syntax) on top of .gitignore and .batonignore. */
  ignore: string[];
  /** Files larger than this are skipped. */
  maxFileBytes: number;
  /** Chat models by role; OPENAI_BASE_URL / BATON_MODEL fill what this leaves out. */
  llm: LlmConfig;
}

export const DEFAULT_CONFIG: BatonConfig = {
  embedder: { kind: 'baton' },
  ignore: [],
  maxFileBytes: 1024 * 1024,
  llm: {},
};

export const CONFIG_FILES = ['baton.config.json', join('.baton', 'config.json')];

export class ConfigError extends Error {}

/** Reads the first config file found; unknown keys are rejected so typos do not pass silently. */
export function loadConfig(root: string): BatonConfig {
  for (const rel of CONFIG_FILES) {
    const file = join(root, rel);
    if (!existsSync(file)) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${rel}: not valid JSON (${(err as Error).message})`);
    }
    return validateConfig(raw, rel);
  }
  return { ...DEFAULT_CONFIG };
}

function validateConfig(raw: unknown, where: string): BatonConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(key in DEFAULT_CONFIG) && key !== '$schema') throw new ConfigError(`${where}: unknown setting "${key}"`);
  }
  const config: BatonConfig = { ...DEFAULT_CONFIG };
  if (obj.embedder !== undefined) config.embedder = parseEmbedderSpec(obj.embedder, `${where}: embedder`);
  if (obj.ignore !== undefined) {
    if (!Array.isArray(obj.ignore) || !obj.ignore.every((g) => typeof g === 'string')) {
      throw new ConfigError(`${where}: "ignore" must be an array of glob strings`);
    }
    config.ignore = obj.ignore as string[];
  }
  if (obj.llm !== undefined) {
    try {
      config.llm = validateLlmConfig(obj.llm, `${where}: llm`);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  if (obj.maxFileBytes !== undefined) {
    if (typeof obj.maxFileBytes !== 'number' || !(obj.maxFileBytes > 0)) {
      throw new ConfigError(`${where}: "maxFileBytes" must be a positive number`);
    }
    config.maxFileBytes = obj.maxFileBytes;
  }
  return config;
}

const SPEC_KEYS: Record<EmbedderSpec['kind'], { required: string[]; optional: Record<string, 'string' | 'number' | 'boolean'> }> = {
  baton: { required: [], optional: { batchSize: 'number' } },
  none: { required: [], optional: {} },
  transformers: {
    required: ['model'],
    optional: {
      model: 'string', cacheDir: 'string', quantized: 'boolean', allowRemote: 'boolean', queryPrefix: 'string',
      documentPrefix: 'string', batchSize: 'number', maxLength: 'number',
    },
  },
  openai: {
    required: ['baseURL', 'model'],
    optional: { baseURL: 'string', model: 'string', apiKeyEnv: 'string', dimensions: 'number', batchSize: 'number', timeoutMs: 'number' },
  },
};

/** Validates an embedder spec from JSON; the error names the offending field. */
export function parseEmbedderSpec(raw: unknown, where = 'embedder'): EmbedderSpec {
  if (!raw || typeof raw !== 'object') throw new ConfigError(`${where}: expected an object with a "kind"`);
  const obj = raw as Record<string, unknown>;
  const kind = obj.kind;
  if (typeof kind !== 'string' || !(kind in SPEC_KEYS)) {
    throw new ConfigError(`${where}: "kind" must be one of ${Object.keys(SPEC_KEYS).join(', ')}`);
  }
  const rules = SPEC_KEYS[kind as EmbedderSpec['kind']];
  for (const key of rules.required) {
    if (obj[key] === undefined) throw new ConfigError(`${where}: "${key}" is required for kind "${kind}"`);
  }
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'kind') continue;
    const type = rules.optional[key];
    if (!type) throw new ConfigError(`${where}: unknown field "${key}" for kind "${kind}"`);
    if (typeof value !== type) throw new ConfigError(`${where}: "${key}" must be a ${type}`);
  }
  if (kind === 'openai' && 'apiKey' in obj) throw new ConfigError(`${where}: put the key in an environment variable and name it in "apiKeyEnv"`);
  return obj as unknown as EmbedderSpec;
}

/** `--embedder` flag syntax: `baton`, `none`, `transformers:<model id or folder>`, `openai:<model>@<baseURL>`. */
export function embedderSpecFromFlag(flag: string): EmbedderSpec {
  if (flag === 'baton' || flag === 'none') return { kind: flag };
  const colon = flag.indexOf(':');
  const kind = colon < 0 ? flag : flag.slice(0, colon);
  const rest = colon < 0 ? '' : flag.slice(colon + 1);
  if (kind === 'transformers' && rest) return { kind: 'transformers', model: rest };
  if (kind === 'openai' && rest) {
    const at = rest.lastIndexOf('@');
    const model = at < 0 ? rest : rest.slice(0, at);
    const baseURL = at < 0 ? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1' : rest.slice(at + 1);
    return { kind: 'openai', model, baseURL };
  }
  throw new ConfigError(`--embedder: expected baton, none, transformers:<model> or openai:<model>[@<baseURL>], got "${flag}"`);
}
