// Which model answers which role. A role (chat, fast, embed) maps to a chain of models tried in
// order: the first is preferred, the rest are fallbacks. Sources, most specific first: the config
// object (the "llm" section of baton.config.json), then the environment (BATON_MODEL,
// OPENAI_BASE_URL, OPENAI_API_KEY), then a detected local server. Keys are never part of any of
// this: a model names the environment variable that holds its key.
import type { ModelConfig, ModelRole } from './types';
import { detectLocalServer, type DetectOptions, type DetectedServer } from './detect';

export type TaskKind = 'edit' | 'chat' | 'brainstorm';

/** Low for code edits (deterministic, minimal diffs), higher for ideas. */
export const TASK_TEMPERATURE: Readonly<Record<TaskKind, number>> = { edit: 0.1, chat: 0.3, brainstorm: 0.8 };

export function temperatureFor(task: TaskKind = 'chat'): number {
  return TASK_TEMPERATURE[task];
}

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
/** Used when only OPENAI_API_KEY is set: a capable, cheap default on OpenAI itself. */
export const OPENAI_DEFAULT_CHAT_MODEL = 'gpt-4o-mini';

/** One model as written in configuration; anything left out comes from the defaults. */
export interface ModelEntry {
  model: string;
  baseURL?: string;
  apiKeyEnv?: string;
  contextWindow?: number;
  maxOutputTokens?: number;
  supportsTools?: boolean;
  supportsJsonSchema?: boolean;
  timeoutMs?: number;
  firstByteTimeoutMs?: number;
}

/** The "llm" configuration object. */
export interface LlmConfig {
  /** Server for every model that names none. */
  baseURL?: string;
  /** Key variable for every model that names none (default OPENAI_API_KEY). */
  apiKeyEnv?: string;
  /** Inactivity limit (ms): a non-streamed reply, and each gap between streamed chunks. */
  timeoutMs?: number;
  /** How long (ms) a streamed reply may take to send its first byte. */
  firstByteTimeoutMs?: number;
  /** Per role: a model name, an entry, or a fallback chain of either. */
  models?: Partial<Record<ModelRole, string | ModelEntry | Array<string | ModelEntry>>>;
}

export type ModelChains = Record<ModelRole, ModelConfig[]>;

export const DEFAULT_TIMEOUT_MS = 120_000;
/** A server that accepted the request but has sent nothing for this long is taken to be hung. */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 30_000;

/** Context window and output limit by model family; unknown (mostly local) models get conservative values. */
const KNOWN_LIMITS: Array<[RegExp, number, number]> = [
  [/^gpt-4\.1/, 1_047_576, 32_768],
  [/^gpt-5/, 400_000, 128_000],
  [/^(gpt-4o|chatgpt-4o)/, 128_000, 16_384],
  [/^o\d/, 200_000, 100_000],
  [/^gpt-4-turbo/, 128_000, 4_096],
  [/^gpt-3\.5/, 16_385, 4_096],
];
const LOCAL_CONTEXT_WINDOW = 8_192;
const LOCAL_MAX_OUTPUT = 2_048;

export function defaultLimits(model: string): { contextWindow: number; maxOutputTokens: number } {
  const name = model.replace(/^.*\//, '');
  for (const [re, contextWindow, maxOutputTokens] of KNOWN_LIMITS) if (re.test(name)) return { contextWindow, maxOutputTokens };
  return { contextWindow: LOCAL_CONTEXT_WINDOW, maxOutputTokens: LOCAL_MAX_OUTPUT };
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

type Env = Record<string, string | undefined>;

/**
 * Model chains for every role. `chat` must resolve (or this throws a ModelConfigError that says how
 * to configure one); `fast` defaults to the chat chain; `embed` is empty unless configured.
 */
export function resolveModels(config: LlmConfig = {}, env: Env = process.env, detected?: DetectedServer): ModelChains {
  validateLlmConfig(config);
  const envBase = env.OPENAI_BASE_URL?.trim() || undefined;
  const defaultBase = config.baseURL ?? envBase ?? detected?.baseURL ?? (env.OPENAI_API_KEY ? OPENAI_BASE_URL : undefined);
  const defaults = { baseURL: defaultBase, apiKeyEnv: config.apiKeyEnv, timeoutMs: config.timeoutMs, firstByteTimeoutMs: config.firstByteTimeoutMs };

  const envModels = (env.BATON_MODEL ?? '').split(',').map((m) => m.trim()).filter(Boolean);
  let chatEntries = entries(config.models?.chat);
  if (!chatEntries.length) chatEntries = envModels.map((model) => ({ model }));
  if (!chatEntries.length && !config.baseURL && !envBase && detected?.models.length) chatEntries = [{ model: detected.models[0] }];
  if (!chatEntries.length && defaultBase === OPENAI_BASE_URL) chatEntries = [{ model: OPENAI_DEFAULT_CHAT_MODEL }];
  if (!chatEntries.length) throw new ModelConfigError(noModelMessage(detected, defaultBase));

  const chat = chatEntries.map((e) => complete(e, defaults, 'chat'));
  const fastEntries = entries(config.models?.fast);
  return {
    chat,
    fast: fastEntries.length ? fastEntries.map((e) => complete(e, defaults, 'fast')) : chat,
    embed: entries(config.models?.embed).map((e) => complete(e, defaults, 'embed')),
  };
}

/**
 * resolveModels, looking for a local server only when neither the config nor the environment names
 * a server or a model.
 */
export async function resolveModelsAuto(config: LlmConfig = {}, env: Env = process.env, detect: DetectOptions = {}): Promise<ModelChains> {
  const configured = config.baseURL || config.models?.chat || env.OPENAI_BASE_URL || env.BATON_MODEL || env.OPENAI_API_KEY;
  const detected = configured ? undefined : await detectLocalServer(detect);
  return resolveModels(config, env, detected);
}

function noModelMessage(detected: DetectedServer | undefined, base: string | undefined): string {
  if (detected && !detected.models.length) {
    return `no chat model configured: ${detected.name} at ${detected.baseURL} lists no models; pull or load one, or set BATON_MODEL`;
  }
  const where = base ? ` for ${base}` : '';
  return `no chat model configured${where}: set BATON_MODEL (plus OPENAI_BASE_URL, and OPENAI_API_KEY if the server needs a key), ` +
    'add "llm": {"models": {"chat": "<model>"}} to baton.config.json, or start Ollama (127.0.0.1:11434) or LM Studio (127.0.0.1:1234)';
}

function entries(value: string | ModelEntry | Array<string | ModelEntry> | undefined): ModelEntry[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (typeof v === 'string' ? { model: v } : v));
}

type Defaults = Pick<LlmConfig, 'baseURL' | 'apiKeyEnv' | 'timeoutMs' | 'firstByteTimeoutMs'>;

function complete(entry: ModelEntry, defaults: Defaults, role: ModelRole): ModelConfig {
  const baseURL = (entry.baseURL ?? defaults.baseURL)?.replace(/\/+$/, '');
  if (!baseURL) {
    throw new ModelConfigError(`${role} model "${entry.model}" has no server: set OPENAI_BASE_URL or "baseURL" in the llm configuration`);
  }
  const limits = defaultLimits(entry.model);
  const config: ModelConfig = {
    model: entry.model,
    baseURL,
    contextWindow: entry.contextWindow ?? limits.contextWindow,
    maxOutputTokens: entry.maxOutputTokens ?? limits.maxOutputTokens,
    timeoutMs: entry.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    firstByteTimeoutMs: entry.firstByteTimeoutMs ?? defaults.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS,
  };
  const apiKeyEnv = entry.apiKeyEnv ?? defaults.apiKeyEnv;
  if (apiKeyEnv) config.apiKeyEnv = apiKeyEnv;
  if (entry.supportsTools !== undefined) config.supportsTools = entry.supportsTools;
  if (entry.supportsJsonSchema !== undefined) config.supportsJsonSchema = entry.supportsJsonSchema;
  return config;
}

const ENTRY_FIELDS: Record<string, 'string' | 'number' | 'boolean'> = {
  model: 'string', baseURL: 'string', apiKeyEnv: 'string', contextWindow: 'number', maxOutputTokens: 'number',
  supportsTools: 'boolean', supportsJsonSchema: 'boolean', timeoutMs: 'number', firstByteTimeoutMs: 'number',
};
const CONFIG_FIELDS: Record<string, 'string' | 'number' | 'object'> = {
  baseURL: 'string', apiKeyEnv: 'string', timeoutMs: 'number', firstByteTimeoutMs: 'number', models: 'object',
};
const ROLES: readonly ModelRole[] = ['chat', 'fast', 'embed'];

/**
 * Checks an "llm" object read from JSON: unknown or mistyped fields are named, and a key written
 * into the file is refused (keys live in environment variables, named by apiKeyEnv).
 */
export function validateLlmConfig(raw: unknown, where = 'llm'): LlmConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelConfigError(`${where}: expected an object`);
  checkFields(raw as Record<string, unknown>, CONFIG_FIELDS, where);
  const models = (raw as LlmConfig).models;
  if (models !== undefined) {
    if (!models || Array.isArray(models)) throw new ModelConfigError(`${where}.models: expected an object keyed by role`);
    for (const [role, value] of Object.entries(models)) {
      if (!ROLES.includes(role as ModelRole)) throw new ModelConfigError(`${where}.models: unknown role "${role}" (expected ${ROLES.join(', ')})`);
      const list = Array.isArray(value) ? value : [value];
      if (!list.length) throw new ModelConfigError(`${where}.models.${role}: empty model list`);
      list.forEach((item, i) => {
        const at = Array.isArray(value) ? `${where}.models.${role}[${i}]` : `${where}.models.${role}`;
        if (typeof item === 'string') {
          if (!item.trim()) throw new ModelConfigError(`${at}: empty model name`);
          return;
        }
        if (!item || typeof item !== 'object') throw new ModelConfigError(`${at}: expected a model name or an object with "model"`);
        checkFields(item as unknown as Record<string, unknown>, ENTRY_FIELDS, at);
        if (typeof item.model !== 'string' || !item.model.trim()) throw new ModelConfigError(`${at}: "model" is required`);
      });
    }
  }
  return raw;
}

function checkFields(obj: Record<string, unknown>, fields: Record<string, string>, where: string): void {
  for (const [key, value] of Object.entries(obj)) {
    if (/^api_?key$/i.test(key)) throw new ModelConfigError(`${where}: put the key in an environment variable and name it in "apiKeyEnv"`);
    const type = fields[key];
    if (!type) throw new ModelConfigError(`${where}: unknown field "${key}"`);
    if (value !== undefined && typeof value !== type) throw new ModelConfigError(`${where}: "${key}" must be a ${type}`);
    if (type === 'number' && !((value as number) > 0)) throw new ModelConfigError(`${where}: "${key}" must be a positive number`);
  }
}
