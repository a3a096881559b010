// Baton's configuration and where each part of it may come from. Two files share one format:
//  - the user's own `config.json` in the user config folder (userConfigDir): always applies;
//  - the workspace's `baton.config.json` (or `.baton/config.json`): written by whoever wrote the
//    repository, so it applies only in a workspace the user trusted (security/workspaceTrust.ts).
//    Untrusted, only what narrows the index applies (extra ignore globs, a lower size limit);
//    endpoints, key variables and embedders, which decide where code and keys go, are ignored.
// Secrets never live in either file: an endpoint names the environment variable that holds its key.
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EmbedderSpec } from '../embed/types';
import { validateLlmConfig, type LlmConfig } from '../llm/models';
import { errorMessage } from '../../base/common/errors';

/** Which environment variables commands Baton runs (run_command) must not inherit. */
export interface CommandEnvPolicy {
  /** Withheld on top of the variables Baton's own keys come from (names, or prefixes ending in `*`). */
  withhold: string[];
  /** Baton's own key variables that the user lets through anyway. */
  allow: string[];
}

export interface BatonConfig {
  embedder: EmbedderSpec;
  /** Extra ignore globs (gitignore syntax) on top of .gitignore and .batonignore. */
  ignore: string[];
  /** Files larger than this are skipped. */
  maxFileBytes: number;
  /** Chat models by role; OPENAI_BASE_URL / BATON_MODEL fill what this leaves out. */
  llm: LlmConfig;
  /** User config only: what commands run for the agent inherit. */
  commandEnv: CommandEnvPolicy;
}

export const DEFAULT_CONFIG: BatonConfig = {
  embedder: { kind: 'baton' },
  ignore: [],
  maxFileBytes: 1024 * 1024,
  llm: {},
  commandEnv: { withhold: [], allow: [] },
};

export const CONFIG_FILES = ['baton.config.json', join('.baton', 'config.json')];
export const USER_CONFIG_FILE = 'config.json';

/** Settings only the user may make: a workspace file naming them is refused. */
const USER_ONLY_KEYS = new Set<keyof BatonConfig>(['commandEnv']);

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** The user's Baton folder: $BATON_CONFIG_DIR, else $XDG_CONFIG_HOME/baton, else ~/.config/baton. */
export function userConfigDir(env: Env = process.env): string {
  if (env.BATON_CONFIG_DIR?.trim()) return env.BATON_CONFIG_DIR.trim();
  const base = env.XDG_CONFIG_HOME?.trim() || join(homedir(), '.config');
  return join(base, 'baton');
}

/** The workspace's config file (workspace-relative), or null when it has none. */
export function workspaceConfigFile(root: string): string | null {
  return CONFIG_FILES.find((rel) => existsSync(join(root, rel))) ?? null;
}

/** The settings the workspace's config file makes, validated; {} without a file. Throws ConfigError. */
export function readWorkspaceConfig(root: string): Partial<BatonConfig> {
  const rel = workspaceConfigFile(root);
  return rel ? readConfigFile(join(root, rel), rel, 'workspace') : {};
}

/** The settings the user's own config file makes; {} without a file. Throws ConfigError. */
export function readUserConfig(env: Env = process.env): Partial<BatonConfig> {
  const file = join(userConfigDir(env), USER_CONFIG_FILE);
  return existsSync(file) ? readConfigFile(file, file, 'user') : {};
}

/** The workspace config file alone over the defaults, as if the workspace were trusted and the user
 * had no config (tests and tools that read a workspace they created). */
export function loadConfig(root: string): BatonConfig {
  return merge(DEFAULT_CONFIG, readWorkspaceConfig(root));
}

/**
 * Defaults, then the user's config, then the workspace's: all of it when `trusted`, otherwise only
 * what narrows the index (extra ignore globs, a lower size limit; workspaceTrust.untrustedNotice
 * says so). Ignore globs add up. Throws ConfigError for a broken file that applies.
 */
export function resolveConfig(root: string, opts: { trusted: boolean; env?: Env }): BatonConfig {
  const config = merge(DEFAULT_CONFIG, readUserConfig(opts.env));
  if (opts.trusted) return merge(config, readWorkspaceConfig(root));
  let workspace: Partial<BatonConfig>;
  try {
    workspace = readWorkspaceConfig(root);
  } catch {
    return config; // unused anyway; trusting the workspace reports the error
  }
  const narrowing: Partial<BatonConfig> = {};
  if (workspace.ignore) narrowing.ignore = workspace.ignore;
  if (workspace.maxFileBytes !== undefined && workspace.maxFileBytes < config.maxFileBytes) narrowing.maxFileBytes = workspace.maxFileBytes;
  return merge(config, narrowing);
}

function merge(base: BatonConfig, over: Partial<BatonConfig>): BatonConfig {
  return { ...base, ...over, ignore: [...base.ignore, ...(over.ignore ?? [])] };
}

function readConfigFile(file: string, where: string, scope: 'user' | 'workspace'): Partial<BatonConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${where}: not valid JSON (${errorMessage(err)})`);
  }
  return validateConfig(raw, where, scope);
}

function validateConfig(raw: unknown, where: string, scope: 'user' | 'workspace'): Partial<BatonConfig> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(key in DEFAULT_CONFIG) && key !== '$schema') throw new ConfigError(`${where}: unknown setting "${key}"`);
    if (scope === 'workspace' && USER_ONLY_KEYS.has(key as keyof BatonConfig)) {
      throw new ConfigError(`${where}: "${key}" is a user setting; put it in ${join(userConfigDir(), USER_CONFIG_FILE)}`);
    }
  }
  const config: Partial<BatonConfig> = {};
  if (obj.embedder !== undefined) config.embedder = parseEmbedderSpec(obj.embedder, `${where}: embedder`);
  if (obj.ignore !== undefined) config.ignore = stringList(obj.ignore, `${where}: "ignore" must be an array of glob strings`);
  if (obj.llm !== undefined) {
    try {
      config.llm = validateLlmConfig(obj.llm, `${where}: llm`);
    } catch (err) {
      throw new ConfigError(errorMessage(err));
    }
  }
  if (obj.maxFileBytes !== undefined) {
    if (typeof obj.maxFileBytes !== 'number' || !(obj.maxFileBytes > 0)) {
      throw new ConfigError(`${where}: "maxFileBytes" must be a positive number`);
    }
    config.maxFileBytes = obj.maxFileBytes;
  }
  if (obj.commandEnv !== undefined) config.commandEnv = parseCommandEnv(obj.commandEnv, `${where}: commandEnv`);
  return config;
}

function parseCommandEnv(raw: unknown, where: string): CommandEnvPolicy {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where}: expected {"withhold": [...], "allow": [...]}`);
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (key !== 'withhold' && key !== 'allow') throw new ConfigError(`${where}: unknown field "${key}"`);
  return {
    withhold: obj.withhold === undefined ? [] : stringList(obj.withhold, `${where}: "withhold" must be an array of variable names`),
    allow: obj.allow === undefined ? [] : stringList(obj.allow, `${where}: "allow" must be an array of variable names`),
  };
}

function stringList(value: unknown, message: string): string[] {
  if (!Array.isArray(value) || !value.every((g) => typeof g === 'string')) throw new ConfigError(message);
  return value;
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
