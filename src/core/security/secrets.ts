// Content-based secret detection and redaction for every boundary where workspace text leaves the
// machine or is stored: chunks before indexing, prompts, tool output, conversations, memory, traces.
// Two rule sets run on each text: secretlint's maintained recommended preset (secretlintScan.ts) and
// Baton's own rules for what the preset misses (secretRules.ts). Each secret becomes a stable
// placeholder `[secret:<rule>#<4 hex of sha256(secret)>]`, so the model can still tell secrets apart
// and an edit written over redacted text can have the real values put back.
import { createHash } from 'node:crypto';
import { assignmentRuleForName, isLikelySecretValue } from './secretHeuristics';
import { loadSecretlint, presetMayMatch, secretlintFindings } from './secretlintScan';
import { isCodePath, mayMatchBatonRules, scanBatonRules, type RawFinding } from './secretRules';

/** One secret in a text. Offsets are UTF-16 indices; findings never overlap and are sorted. */
export interface SecretFinding {
  /** Short kebab-case rule id: `aws-access-key`, `github-token`, `jwt`, `password-assignment`... */
  rule: string;
  start: number;
  end: number;
  /** 1-based line of `start`. */
  line: number;
  /** What `redactSecrets` writes instead of the secret. */
  placeholder: string;
}

export interface SecretScanOptions {
  /**
   * The file the text comes from, if any. In source code (by extension) an unquoted word after
   * `password =` is a variable and is not reported; elsewhere it may be the password itself.
   */
  path?: string;
}

export interface Redaction {
  rule: string;
  line: number;
  placeholder: string;
}

export interface RedactionResult {
  /** The text with each secret replaced; the same string when there was nothing to redact. */
  text: string;
  redactions: Redaction[];
}

/** Matches one placeholder; group 1 is the rule, group 2 the 4 hex digits. */
export const PLACEHOLDER_PATTERN = /\[secret:([a-z0-9-]+)#([0-9a-f]{4})\]/g;
const PLACEHOLDERS_ONLY = /^(?:\[secret:[a-z0-9-]+#[0-9a-f]{4}\]\s*)+$/;

/** The placeholder for `secret` found by `rule`: the same secret always gets the same placeholder. */
export function placeholderFor(rule: string, secret: string): string {
  return `[secret:${rule}#${createHash('sha256').update(secret).digest('hex').slice(0, 4)}]`;
}

let precheckSound: boolean | undefined;

/**
 * A quick synchronous check: false means `findSecrets` would find nothing, so callers can skip the
 * asynchronous path (and the first load of secretlint) for most short strings.
 */
export function mayContainSecrets(text: string): boolean {
  if (text.length < 8) return false;
  return precheckSound === false || mayMatchBatonRules(text) || presetMayMatch(text);
}

// ---- Cache -----------------------------------------------------------------------------------------

// Conversations resend their history every turn and restoreSecrets rescans the original of each
// edit: remember recent results for texts long enough to be worth it, bounded by total size.
const CACHE_MIN_CHARS = 256;
const CACHE_MAX_CHARS = 8_000_000;
const CACHE_MAX_ENTRIES = 2_000;
const cache = new Map<string, Map<string, RawFinding[]>>();
let cachedChars = 0;
let cachedEntries = 0;

/** Results differ only by whether the text is code and by secretlint's npm file-name rules. */
function profileOf(path: string | undefined): string {
  const base = path ? path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1) : '';
  const npm = base === '.npmrc' ? 'npmrc' : base === 'package.json' || base === 'package-lock.json' ? 'package' : '';
  return `${isCodePath(path) ? 'code' : 'data'}:${npm}`;
}

function cacheGet(profile: string, text: string): RawFinding[] | undefined {
  const bucket = cache.get(profile);
  const hit = bucket?.get(text);
  if (bucket && hit) {
    bucket.delete(text);
    bucket.set(text, hit);
  }
  return hit;
}

function cachePut(profile: string, text: string, findings: RawFinding[]): void {
  if (text.length < CACHE_MIN_CHARS || text.length > CACHE_MAX_CHARS / 4) return;
  let bucket = cache.get(profile);
  if (!bucket) cache.set(profile, (bucket = new Map<string, RawFinding[]>()));
  if (bucket.has(text)) return;
  bucket.set(text, findings);
  cachedChars += text.length;
  cachedEntries++;
  while (cachedChars > CACHE_MAX_CHARS || cachedEntries > CACHE_MAX_ENTRIES) {
    const [oldestBucket] = [...cache.values()].filter((b) => b.size > 0);
    const oldest = oldestBucket?.keys().next().value;
    if (!oldestBucket || oldest === undefined) break;
    oldestBucket.delete(oldest);
    cachedChars -= oldest.length;
    cachedEntries--;
  }
}

/** Forgets cached results (tests and benches that measure cold scans). */
export function clearSecretCache(): void {
  cache.clear();
  cachedChars = 0;
  cachedEntries = 0;
}

// ---- Detection -------------------------------------------------------------------------------------

/** Sorts and merges overlapping matches into one span labelled by its most specific rule. */
function merge(raw: RawFinding[]): RawFinding[] {
  raw.sort((a, b) => a.start - b.start || b.end - a.end || a.rank - b.rank);
  const out: RawFinding[] = [];
  for (const f of raw) {
    if (f.end <= f.start) continue;
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      if (f.end > last.end) last.end = f.end;
      if (f.rank < last.rank) {
        last.rule = f.rule;
        last.rank = f.rank;
      }
    } else {
      out.push({ ...f });
    }
  }
  return out;
}

async function rawFindings(text: string, path: string | undefined): Promise<RawFinding[]> {
  const { precheckSound: sound } = await loadSecretlint();
  precheckSound = sound;
  // The quick check pays off on short strings; a long text nearly always has some hit anyway.
  if (text.length < 4096 && !mayContainSecrets(text)) return [];
  const profile = profileOf(path);
  const cached = cacheGet(profile, text);
  if (cached) return cached;
  const raw = [...scanBatonRules(text, isCodePath(path)), ...(await secretlintFindings(text, path))];
  // A value that is already a placeholder (`postgres://u:[secret:database-password#1a2b]@h`) stays as it is.
  const found = merge(raw.filter((f) => !PLACEHOLDERS_ONLY.test(text.slice(f.start, f.end))));
  cachePut(profile, text, found);
  return found;
}

/**
 * Every secret in `text`, sorted by offset, non-overlapping. The first call loads secretlint; the
 * promise rejects only if it cannot be loaded (a boundary should then refuse rather than pass text on).
 */
export async function findSecrets(text: string, opts: SecretScanOptions = {}): Promise<SecretFinding[]> {
  const raw = await rawFindings(text, opts.path);
  const findings: SecretFinding[] = [];
  let line = 1;
  let pos = 0;
  for (const f of raw) {
    for (let nl = text.indexOf('\n', pos); nl >= 0 && nl < f.start; nl = text.indexOf('\n', nl + 1)) line++;
    pos = f.start;
    findings.push({ rule: f.rule, start: f.start, end: f.end, line, placeholder: placeholderFor(f.rule, text.slice(f.start, f.end)) });
  }
  return findings;
}

/** The line breaks inside a secret, kept after its placeholder so line numbers do not move. */
function lineBreaks(secret: string): string {
  return secret.includes('\n') || secret.includes('\r') ? secret.replace(/[^\r\n]+/g, '') : '';
}

/** `text` with every secret replaced by its placeholder (plus the secret's own line breaks). */
export async function redactSecrets(text: string, opts: SecretScanOptions = {}): Promise<RedactionResult> {
  const findings = await findSecrets(text, opts);
  if (findings.length === 0) return { text, redactions: [] };
  const parts: string[] = [];
  let pos = 0;
  for (const f of findings) {
    parts.push(text.slice(pos, f.start), f.placeholder, lineBreaks(text.slice(f.start, f.end)));
    pos = f.end;
  }
  parts.push(text.slice(pos));
  return { text: parts.join(''), redactions: findings.map(({ rule, line, placeholder }) => ({ rule, line, placeholder })) };
}

/**
 * Puts the real values back into `edited` (text the model wrote over a redacted `original`) for
 * each placeholder that stands for a secret of `original`, so saving an edit never replaces a real
 * secret by its placeholder. Placeholders of other texts are left as they are. `original` is also
 * scanned as code and as data, so a placeholder made under either reading is recognised.
 */
export async function restoreSecrets(edited: string, original: string, opts: SecretScanOptions = {}): Promise<string> {
  if (!edited.includes('[secret:')) return edited;
  const readings = [opts.path, isCodePath(opts.path) ? undefined : 'restore.ts'];
  const values = new Map<string, string[]>();
  for (const path of readings) {
    const seen = new Map<string, string[]>();
    for (const f of await findSecrets(original, { path })) {
      const list = seen.get(f.placeholder) ?? [];
      list.push(original.slice(f.start, f.end));
      seen.set(f.placeholder, list);
    }
    for (const [placeholder, list] of seen) if (!values.has(placeholder)) values.set(placeholder, list);
  }
  if (values.size === 0) return edited;
  // Two different secrets sharing 4 hex digits are told apart by order of appearance.
  const used = new Map<string, number>();
  let out = '';
  let pos = 0;
  PLACEHOLDER_PATTERN.lastIndex = 0;
  for (let m = PLACEHOLDER_PATTERN.exec(edited); m; m = PLACEHOLDER_PATTERN.exec(edited)) {
    const list = values.get(m[0]);
    if (!list) continue;
    const k = used.get(m[0]) ?? 0;
    used.set(m[0], k + 1);
    const secret = list[Math.min(k, list.length - 1)];
    let end = m.index + m[0].length;
    const breaks = lineBreaks(secret);
    if (breaks && edited.startsWith(breaks, end)) end += breaks.length;
    out += edited.slice(pos, m.index) + secret;
    pos = end;
    PLACEHOLDER_PATTERN.lastIndex = end;
  }
  return out + edited.slice(pos);
}

// ---- Structured values -----------------------------------------------------------------------------

const AUTHORIZATION_NAME = /^(?:proxy-)?authorization$/i;

/**
 * A string stored under `name`: its secrets are redacted, and a value that is itself a secret by the
 * name it sits under (`{ password: "..." }`, `{ Authorization: "Bearer ..." }`) is redacted whole.
 */
async function redactString(value: string, name: string | undefined): Promise<string> {
  if (name !== undefined && AUTHORIZATION_NAME.test(name)) {
    const m = /^(\w+)\s+(\S{8,})$/.exec(value);
    if (m && isLikelySecretValue(m[2], { quoted: true, code: false, inString: true, name })) {
      return `${m[1]} ${placeholderFor('authorization-header', m[2])}`;
    }
  }
  const redacted = mayContainSecrets(value) ? (await redactSecrets(value)).text : value;
  if (redacted !== value || name === undefined) return redacted;
  const rule = assignmentRuleForName(name);
  if (rule && isLikelySecretValue(value, { quoted: true, code: false, inString: true, name })) return placeholderFor(rule, value);
  return value;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

async function redactTree(value: unknown, name: string | undefined, copies: Map<object, unknown>): Promise<unknown> {
  if (typeof value === 'string') return redactString(value, name);
  if (value === null || typeof value !== 'object') return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    copies.set(value, out);
    for (const item of value) out.push(await redactTree(item, undefined, copies));
    return out;
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  for (const [key, item] of Object.entries(value)) out[key] = await redactTree(item, key, copies);
  return out;
}

/**
 * A deep copy of JSON-like data (plain objects, arrays, primitives) with every string redacted, for
 * trace events and logs. Other objects (class instances, Dates, Buffers) are passed through as they
 * are: convert them to plain data first.
 */
export async function redactValue<T>(value: T): Promise<T> {
  // The copy has the same shape as `value`, with strings where it had strings.
  return (await redactTree(value, undefined, new Map())) as T;
}
