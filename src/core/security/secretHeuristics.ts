// Judgement calls behind Baton's generic secret rules: which names denote a credential (`DB_PASSWORD`,
// `apiKey`, `client-key-data`) and whether a value looks like a real secret rather than a placeholder,
// a reference (`${VAR}`, `process.env.X`), a type annotation or an ordinary identifier.

/** Rule ids of the name-based ("assignment") rules. */
export type AssignmentRule = 'password-assignment' | 'secret-assignment' | 'token-assignment' | 'api-key-assignment';

/** Shannon entropy of `s` in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** `DB_PASSWORD` → [db, password]; `APIKey` → [api, key]; `client-key-data` → [client, key, data]. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

const PASSWORD_WORDS = new Set(['password', 'passwd', 'pwd', 'pass', 'passphrase', 'passcode']);
/** `pw` only as the last of several words (`db_pw`, `smtpPw`): alone it is too often something else (`pw:debug`). */
const SHORT_PASSWORD_WORDS = new Set(['pw']);
const CREDENTIAL_WORDS = new Set(['credential', 'credentials', 'creds']);
/** `<qualifier> key` names a secret key; a bare `key` (cache keys, i18n keys, map keys) does not. */
const KEY_QUALIFIERS = new Set([
  'api', 'access', 'secret', 'private', 'signing', 'sign', 'encryption', 'encrypt', 'decryption', 'master', 'client',
  'auth', 'app', 'account', 'subscription', 'storage', 'shared', 'session', 'hmac', 'jwt', 'webhook', 'consumer',
  'license', 'service', 'ssh', 'deploy', 'admin', 'crypto', 'cipher', 'aes', 'rsa', 'ecdsa', 'ed25519', 'write',
  'ingest', 'integration', 'partner', 'merchant', 'developer', 'server', 'root',
]);
/** The same two words written as one (`APIKEY`, `secretkey`). */
const GLUED_KEYS = ['apikey', 'accesskey', 'secretkey', 'privatekey', 'signingkey', 'masterkey', 'encryptionkey', 'clientkey', 'sharedkey', 'accountkey'];
/** Words that describe a secret's encoding without changing what it is (`SECRET_KEY_BASE`, `client-key-data`). */
const TRANSPARENT_SUFFIXES = new Set(['value', 'string', 'str', 'base', 'data', 'b64', 'base64', 'hex', 'raw', 'plain', 'plaintext', 'literal']);

/**
 * The assignment rule a name belongs to, or undefined. The credential word must end the name, so
 * `passwordHash`, `tokenType`, `secretName`, `maxTokens` and `keyof` are not credentials.
 */
export function assignmentRuleForName(name: string): AssignmentRule | undefined {
  const words = nameWords(name);
  let n = words.length;
  while (n > 1 && TRANSPARENT_SUFFIXES.has(words[n - 1])) n--;
  if (n === 0) return undefined;
  const last = words[n - 1];
  if (PASSWORD_WORDS.has(last) || last.endsWith('password') || last.endsWith('passwd')) return 'password-assignment';
  if (SHORT_PASSWORD_WORDS.has(last) && n > 1 && /^[a-z]{2,}$/.test(words[n - 2])) return 'password-assignment';
  if (last.endsWith('secret') || CREDENTIAL_WORDS.has(last)) return 'secret-assignment';
  if (last.endsWith('token') || last === 'auth') return 'token-assignment';
  if (GLUED_KEYS.some((k) => last.endsWith(k))) return 'api-key-assignment';
  if (last === 'key' && n > 1 && KEY_QUALIFIERS.has(words[n - 2])) return 'api-key-assignment';
  return undefined;
}

/** How a candidate value was written, which changes what counts as an ordinary identifier. */
export interface ValueContext {
  /** The value was a quoted string literal. */
  quoted: boolean;
  /** The text is source code, where an unquoted word is a variable, not a password. */
  code: boolean;
  /** The assignment sits inside a string (`"Server=db;Password=…;"`, `?token=…`). */
  inString: boolean;
  /** The name it was assigned to. */
  name: string;
}

// Documentation and test values: a real secret virtually never contains these words.
const PLACEHOLDER_WORDS =
  /example|sample|placeholder|change_?me|changeit|your|dummy|fake|mock|redacted|replace|insert|todo|fixme|password|passwd|secret|token|api_?key|test|default|foobar|lorem|not_?a_?real|notreal|hunter2|letmein|qwerty|123456|abcdef|abc123/i;
const PLACEHOLDER_VALUES = /^(?:true|false|none|null|nil|undefined|empty|string|str|bytes|required|optional|unset|disabled?|enabled?)$/i;
// References to a secret kept elsewhere, and templates filled in later.
const REFERENCE = /\$\{|\{\{|#\{|%\([A-Za-z_]+\)[sd]|\$\(|<%|@\{|\[secret:|process\.env|os\.environ|getenv|System\.getenv|\bENV\[|\benv\(|Environment\.|\bsecrets\.|\bvault:|^\$[A-Za-z_]|^%[A-Za-z_]+%$/i;
/** YAML tags (`!vault`), anchors and aliases, and block scalars: syntax when unquoted. */
const YAML_SYNTAX = /^[!&*|>]/;
/** `sk-...`, `****`, `xxxx1234`, `<your key>`, `[REDACTED]`, `{token}`: masks and blanks to fill in. */
const ELLIPSIS_OR_MASK = /\.\.\.|…|^([*xX#._-])\1\1|([*xX#._-])\2\2$|([*xX#])\3{5}|<[^<>]*>|^\[.*\]$|^\{.*\}$/;
const URL_OR_RELATIVE_PATH = /^(?:[a-z][a-z0-9+.-]*:\/\/|\.{1,2}\/|~\/|[A-Za-z]:\\)/i;
/** `/run/secrets/db`, but not base64 that happens to start with `/`. */
function isAbsolutePath(value: string): boolean {
  return value.startsWith('/') && /^[\w./-]+$/.test(value) && !looksRandom(value.replace(/\//g, ''));
}
const MEMBER_CHAIN = /^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+$/;
const ENV_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
const WORD_CHAIN = /^[a-z]+(?:[-_.][a-z]+)+$/;

function normalized(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * True when `value`, assigned to a credential-like name, looks like a real secret: long enough, no
 * placeholder or reference, not an identifier or type, and varied enough (character classes and
 * Shannon entropy scaled to its length, since a short string cannot reach a long one's entropy).
 */
export function isLikelySecretValue(value: string, ctx: ValueContext): boolean {
  const n = value.length;
  if (n < 6 || n > 16_384) return false;
  if (/\s/.test(value)) return false;
  if (REFERENCE.test(value) || ELLIPSIS_OR_MASK.test(value) || URL_OR_RELATIVE_PATH.test(value) || isAbsolutePath(value)) return false;
  // A long random value contains some short word by chance, and AWS's documented example secret
  // (`...EXAMPLEKEY`) is random apart from its suffix; placeholders are short and plain.
  const incidentalWords = n > 48 || (n >= 32 && shannonEntropy(value) >= 4.3);
  if ((!incidentalWords && PLACEHOLDER_WORDS.test(value)) || PLACEHOLDER_VALUES.test(value)) return false;
  if (normalized(value) === normalized(ctx.name)) return false;
  if (/^\d+$/.test(value) || /^(.)\1+$/.test(value)) return false;
  if (ENV_NAME.test(value) || WORD_CHAIN.test(value)) return false;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  if (!ctx.quoted) {
    // In source code a secret is a string literal: an unquoted value is an expression or a type,
    // unless the assignment sits inside a string (`"…;Password=…;"`).
    if (ctx.code && !ctx.inString) return false;
    if (YAML_SYNTAX.test(value)) return false;
    // A member access (`config.db.password`, `exports.apiKey`, `this.token*2`).
    if (MEMBER_CHAIN.test(value) && (digits <= 2 || /^[A-Za-z_$]+[.:-]/.test(value))) return false;
    if (/^(?:this|self|exports|module|process|window|globalThis)\./.test(value)) return false;
  }
  return looksRandom(value);
}

const CAMEL_SEGMENT = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g;

/**
 * camelCase and PascalCase identifiers (`privateKeyPEM`, `X509Credential`, `getJSDocTag`) are made of
 * few long segments; a random mixed-case string of many short ones. Segments of 3.5 characters or
 * more on average: 97.8% of typescript.js's mixed-case identifiers, 0.5% of random 16-character
 * strings and 0.1% of 24-character ones (4 for shorter values, where chance does more).
 */
function isCamelCaseIdentifier(value: string): boolean {
  const segments = value.match(CAMEL_SEGMENT)?.length ?? 1;
  return value.length / segments >= (value.length < 16 ? 4 : 3.5);
}

/** Character-class and entropy test shared by the generic rules and the bare-token rules. */
export function looksRandom(value: string): boolean {
  const n = value.length;
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let other = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 97 && c <= 122) lower++;
    else if (c >= 65 && c <= 90) upper++;
    else if (c >= 48 && c <= 57) digit++;
    else other++;
  }
  const entropy = shannonEntropy(value);
  const mixedCase = upper > 0 && lower > 0;
  // Words repeat letters: a long identifier stays below the entropy of a long random string.
  if (mixedCase && other === 0 && isCamelCaseIdentifier(value) && (n < 24 || entropy < 4.2)) return false;
  if (digit === 0 && other === 0) return mixedCase ? n >= 12 && entropy >= 3.2 : n >= 24 && entropy >= 4.0;
  const classes = (lower > 0 ? 1 : 0) + (upper > 0 ? 1 : 0) + (digit > 0 ? 1 : 0) + (other > 0 ? 1 : 0);
  if (classes < 2) return n >= 20 && entropy >= 3.5;
  // Hex (and UUIDs) carry 4 bits a character at most; a random 32-digit hex string scores about 3.6.
  const hex = upper === 0 || lower === 0 ? /^[0-9a-f]+(?:-[0-9a-f]+)*$/i.test(value) : false;
  const needed = n < 12 ? 2.4 : n < 20 ? 2.7 : hex ? 3.0 : n < 32 ? 3.2 : 3.4;
  return entropy >= needed;
}

/** Stricter test for a bare token with no credential name next to it (`Bearer <x>`, `sk-<x>`). */
export function looksLikeBareToken(value: string): boolean {
  if (value.length < 16 || REFERENCE.test(value) || ELLIPSIS_OR_MASK.test(value)) return false;
  if (value.length <= 48 && PLACEHOLDER_WORDS.test(value)) return false;
  return /[A-Za-z]/.test(value) && looksRandom(value) && shannonEntropy(value) >= 3.5;
}
