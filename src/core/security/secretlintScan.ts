// secretlint's maintained rule set (@secretlint/core + @secretlint/secretlint-rule-preset-recommend,
// both ESM-only) behind Baton's finding shape: loaded lazily with a dynamic import (esbuild keeps
// `import()` in the CommonJS it emits, so it works from out/ and from dist/cli.js), configured once,
// with its profiler silenced and a literal pre-check that skips texts no preset rule could match.
import type { RawFinding } from './secretRules';
import { RANK_STRUCTURE } from './secretRules';

type CoreModule = typeof import('@secretlint/core');
type LintSource = CoreModule['lintSource'];
type LintOptions = Parameters<LintSource>[0]['options'];
type LintMessage = Awaited<ReturnType<LintSource>>['messages'][number];

interface Secretlint {
  lintSource: LintSource;
  config: LintOptions['config'];
  /** False when the preset has a rule the pre-check does not know: then every text is linted. */
  precheckSound: boolean;
}

const RULE_PREFIX = '@secretlint/secretlint-rule-';
/**
 * filter-comments honours `secretlint-disable` comments, which anyone who can write a file could use
 * to hide a secret; gcp reports a whole service-account file (its key is found as a private key) and
 * reads .p12 files from disk. core 12 ignores `disabled` on rules inside a preset, so the preset's
 * rules are registered one by one instead.
 */
const DISABLED = new Set([`${RULE_PREFIX}filter-comments`, `${RULE_PREFIX}gcp`]);
/** The ID scan also reports access key ids (AKIA...), which the default configuration leaves out. */
const RULE_OPTIONS: Record<string, Record<string, unknown>> = { [`${RULE_PREFIX}aws`]: { enableIDScanRule: true } };

/** Short ids for the preset's messages; other messages of a rule take the rule's short name. */
const MESSAGE_RULES: Record<string, string> = {
  AWSAccessKeyID: 'aws-access-key', AWSSecretAccessKey: 'aws-secret-key', AWSAccountID: 'aws-account-id',
  PackageJSON_xOauthToken: 'github-token', Npmrc_authToken: 'npm-token', NPM_ACCESS_TOKEN: 'npm-token',
  SLACK_TOKEN: 'slack-token', IncomingWebhook: 'slack-webhook', BasicAuth: 'url-password',
  OPENAI_TOKEN: 'openai-key', ANTHROPIC_API_KEY: 'anthropic-key', GROQ_API_KEY: 'groq-key',
  HUGGINGFACE_USER_ACCESS_TOKEN: 'huggingface-token', LINEAR_API_TOKEN: 'linear-key', NOTION_INTEGRATION_TOKEN: 'notion-token',
  PrivateKey: 'private-key', SENDGRID_KEY: 'sendgrid-key', SHOPIFY_KEY: 'shopify-token', GITHUB_TOKEN: 'github-token',
  GITLAB_PERSONAL_ACCESS_TOKEN: 'gitlab-token', GRAFANA_CLOUD_API_TOKEN: 'grafana-token', GRAFANA_SERVICE_ACCOUNT_TOKEN: 'grafana-token',
  OPS_TOKEN: 'onepassword-token', MongoDBConnection: 'database-password', MySQLConnection: 'database-password',
  PostgreSQLConnection: 'database-password', DATABRICKS_PERSONAL_ACCESS_TOKEN: 'databricks-token',
  DOCKER_PERSONAL_ACCESS_TOKEN: 'docker-token', FIGMA_PERSONAL_ACCESS_TOKEN: 'figma-token',
};
const RULE_NAMES: Record<string, string> = { 'hashicorp-vault': 'vault-token', vercel: 'vercel-token' };

/**
 * Rules the pre-check covers, each with literals (or a pattern) its matches cannot do without:
 * an enabled preset rule outside this list switches the pre-check off.
 */
const PRECHECKED_RULES = new Set([
  'aws', 'npm', 'slack', 'basicauth', 'openai', 'anthropic', 'groq', 'huggingface', 'linear', 'notion', 'privatekey',
  'sendgrid', 'shopify', 'github', 'gitlab', 'grafana', '1password', 'database-connection-string', 'hashicorp-vault',
  'vercel', 'databricks', 'docker', 'figma',
].map((r) => RULE_PREFIX + r));
const PRESET_LITERALS =
  /A3T|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA|T3BlbkFJ|sk-ant-api0|gsk_|hf_|lin_api_|ntn_|-----BEGIN|SG\.|shp(?:pa|ca|at|ss)_|gh[pousr]_|github_pat_|glpat-|gl(?:c|sa)_|ops_ey|hv[sbr]\.|vc[pciark]_|dapi|dckr_pat_|figd_|npm_|_authToken=|x-oauth-basic|xox[bpaor]-|xapp-/;
/** aws' secret-key and account-id patterns, and Slack webhooks (matched case-insensitively). */
const PRESET_WORDS = /secret_?access_?key|account|hooks\.slack\.com/i;
/** basicauth and the database rules report only `scheme://user:password@`. */
const PRESET_URL_CREDENTIALS = /:\/\/[^\s:/]{1,256}:[^\s@/]{1,256}@/;

let loading: Promise<Secretlint> | undefined;

async function load(): Promise<Secretlint> {
  const [core, preset, profiler] = await Promise.all([
    import('@secretlint/core'),
    import('@secretlint/secretlint-rule-preset-recommend'),
    import('@secretlint/profiler').catch(() => undefined),
  ]);
  // The profiler keeps every performance mark of every lint in the process-wide timeline and in an
  // array it scans on each new mark: memory grows without bound and a call slows to ~150 ms after a
  // few thousand files. Baton never reads it.
  if (profiler) profiler.secretLintProfiler.mark = () => undefined;
  const rules = preset.creator.rules.filter((rule) => !DISABLED.has(rule.meta.id));
  const config: LintOptions['config'] = {
    rules: rules.map((rule) => ({ id: rule.meta.id, rule, options: RULE_OPTIONS[rule.meta.id] ?? {} })),
  };
  return { lintSource: core.lintSource, config, precheckSound: rules.every((rule) => PRECHECKED_RULES.has(rule.meta.id)) };
}

/** Loads secretlint once; later calls share the same promise. */
export function loadSecretlint(): Promise<Secretlint> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/** False only when no rule of the preset could match `text` (checked literally, without secretlint). */
export function presetMayMatch(text: string): boolean {
  return PRESET_LITERALS.test(text) || PRESET_WORDS.test(text) || PRESET_URL_CREDENTIALS.test(text);
}

function ruleFor(message: LintMessage): string {
  const byMessage = MESSAGE_RULES[message.messageId];
  if (byMessage) return byMessage;
  const short = message.ruleId.startsWith(RULE_PREFIX) ? message.ruleId.slice(RULE_PREFIX.length) : message.ruleId;
  return RULE_NAMES[short] ?? short.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
}

/**
 * The secret's own span. Most rules report exactly the secret; aws' secret-key rule reports the
 * assignment's start with the key's length, and the URL rules report the whole URL, of which only
 * the password is secret (the host and the database name stay readable).
 */
function spanOf(text: string, message: LintMessage): [number, number] {
  const [start, end] = message.range;
  if (message.messageId === 'AWSSecretAccessKey') {
    const data: Record<string, unknown> = message.data ?? {};
    const key = data.KEY;
    if (typeof key === 'string' && key.length > 0) {
      const at = text.indexOf(key, start);
      if (at >= 0 && at <= end + key.length) return [at, at + key.length];
    }
  }
  if (message.messageId === 'AWSAccountID') {
    const id = /\d{4}-?\d{4}-?\d{4}/.exec(text.slice(start, end));
    if (id) return [start + id.index, start + id.index + id[0].length];
  }
  if (message.messageId === 'BasicAuth' || message.messageId.endsWith('Connection')) {
    const credentials = /:\/\/[^:/\s]*:([^@/\s]+)@/d.exec(text.slice(start, Math.min(end, start + 1024)));
    const password = credentials?.indices?.[1];
    if (password) return [start + password[0], start + password[1]];
  }
  return [start, end];
}

/** secretlint's findings in `text`; `path` tells file-specific rules (.npmrc, package.json) what they read. */
export async function secretlintFindings(text: string, path: string | undefined): Promise<RawFinding[]> {
  const { lintSource, config, precheckSound } = await loadSecretlint();
  if (precheckSound && !presetMayMatch(text)) return [];
  // secretlint drops a leading BOM and reports offsets into what is left.
  const offset = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const content = offset ? text.slice(1) : text;
  const filePath = path && path.length > 0 ? path : 'text.txt';
  const dot = filePath.lastIndexOf('.');
  const ext = dot > filePath.lastIndexOf('/') ? filePath.slice(dot) : '.txt';
  const result = await lintSource({
    source: { content, filePath, ext, contentType: 'text' },
    options: { config, noPhysicFilePath: true, maskSecrets: false, locale: 'en' },
  });
  return result.messages.map((message) => {
    const [start, end] = spanOf(content, message);
    return { rule: ruleFor(message), start: start + offset, end: end + offset, rank: RANK_STRUCTURE };
  });
}
