// The server's effective configuration: the user's config, the workspace's baton.config.json when
// the workspace is trusted (security/workspaceTrust.ts), and the editor's settings
// (ServerSettings) on top. The model and server travel as the environment overlay the core
// already reads (BATON_MODEL, OPENAI_BASE_URL); keys only ever come from the process env.
import { DEFAULT_CONFIG, embedderSpecFromFlag, resolveConfig, type BatonConfig } from '../core/config/config';
import { trustState, untrustedNotice } from '../core/security/workspaceTrust';
import type { EmbedderSpec } from '../core/embed/types';
import type { ServerSettings } from '../protocol';
import { errorMessage } from '../base/common/errors';

export type Env = Record<string, string | undefined>;

export interface Effective {
  config: BatonConfig;
  env: Env;
  approval: 'ask' | 'never';
  /** The workspace's own Baton files apply (its config file, .baton/workflows). */
  trusted: boolean;
  /** What the untrusted workspace's files did not do, said once by the server. */
  trustNotice?: string;
  /** Why the configuration is not what the user wrote (a bad config file, a bad setting). */
  problems: string[];
}

/** Keeps the fields of the right type; the settings come from another process. */
export function parseSettings(raw: unknown): ServerSettings {
  const obj = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const settings: ServerSettings = {};
  if (str(obj.baseUrl)) settings.baseUrl = str(obj.baseUrl);
  if (str(obj.model)) settings.model = str(obj.model);
  if (str(obj.embedder)) settings.embedder = str(obj.embedder);
  if (Array.isArray(obj.ignore)) settings.ignore = obj.ignore.filter((g): g is string => typeof g === 'string' && g.trim() !== '');
  if (obj.approval === 'ask' || obj.approval === 'never') settings.approval = obj.approval;
  return settings;
}

export function effectiveConfig(root: string, settings: ServerSettings, baseEnv: Env = process.env, editorTrusted = false): Effective {
  const problems: string[] = [];
  const trust = trustState(root, { env: baseEnv, editorTrusted });
  let config: BatonConfig;
  try {
    config = resolveConfig(root, { trusted: trust.trusted, env: baseEnv });
  } catch (err) {
    problems.push(`${errorMessage(err)} (using the defaults until it is fixed)`);
    config = { ...DEFAULT_CONFIG };
  }
  if (settings.embedder) {
    try {
      config = { ...config, embedder: embedderFromSetting(settings.embedder, settings.baseUrl ?? baseEnv.OPENAI_BASE_URL) };
    } catch (err) {
      problems.push(`baton.embedder: ${errorMessage(err).replace(/^--embedder: /, '')}`);
    }
  }
  if (settings.ignore?.length) config = { ...config, ignore: [...config.ignore, ...settings.ignore] };
  const env: Env = { ...baseEnv };
  if (settings.baseUrl) env.OPENAI_BASE_URL = settings.baseUrl;
  if (settings.model) env.BATON_MODEL = settings.model;
  const trustNotice = untrustedNotice(trust, 'trust it in the editor, or run `baton index --trust` in it once');
  return { config, env, approval: settings.approval ?? 'ask', trusted: trust.trusted, ...(trustNotice ? { trustNotice } : {}), problems };
}

/** The setting's syntax: baton | none | openai:<model>[@<baseURL>] | transformers:<id> | a bare
 * transformers.js model id or folder. */
export function embedderFromSetting(value: string, baseUrl: string | undefined): EmbedderSpec {
  if (value.startsWith('openai:') && !value.includes('@') && baseUrl) return embedderSpecFromFlag(`${value}@${baseUrl}`);
  if (value === 'baton' || value === 'none' || /^(openai|transformers):/.test(value)) return embedderSpecFromFlag(value);
  return { kind: 'transformers', model: value };
}

/** What changed between two settings that needs a new index run. */
export function indexSettingsChanged(a: Effective, b: Effective): boolean {
  return JSON.stringify([a.config.embedder, a.config.ignore]) !== JSON.stringify([b.config.embedder, b.config.ignore]);
}
