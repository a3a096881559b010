// Which files are worth indexing. Two stages: by name (free, done by the walker before any read)
// and by content (done by the indexer on the bytes it read anyway). Secrets must never reach an
// index or a model prompt, so their checks come first and err on the side of skipping.
import * as path from 'node:path';

export type SkipReason =
  | 'ignored' | 'secret' | 'binary' | 'minified' | 'generated' | 'too-large'
  | 'non-utf8' | 'symlink-loop' | 'outside-root' | 'unreadable';

export type NameSkip = { reason: SkipReason; detail: string };
export type ContentClass = { ok: true; text: string } | { ok: false; reason: SkipReason; detail: string };

/** Bytes scanned for NUL, as git does to call a file binary. */
export const BINARY_SNIFF_BYTES = 8 * 1024;
/** Average characters per line above which code is treated as minified. */
export const MINIFIED_AVG_LINE = 500;
/** A line this long in a file of at most MINIFIED_FEW_LINES lines means a bundle. */
export const MINIFIED_LONG_LINE = 5000;
export const MINIFIED_FEW_LINES = 50;
/** Files shorter than this are never called minified by their average (a one-line config is fine). */
const MINIFIED_MIN_CHARS = 2048;
/** Lines of the header searched for a generated-code marker. */
const GENERATED_HEADER_LINES = 10;

// ---- names -------------------------------------------------------------------------------------

const SECRET_EXACT = new Set([
  '.env', '.npmrc', '.pypirc', '.netrc', '_netrc', '.pgpass', 'credentials', 'credentials.json',
  '.htpasswd', '.git-credentials', '.dockercfg', '.boto', '.s3cfg',
  'secrets.json', 'secrets.yml', 'secrets.yaml', 'secrets.toml',
  'terraform.tfstate', 'terraform.tfstate.backup',
]);
const SECRET_EXTENSIONS = new Set([
  '.pem', '.key', '.p12', '.pfx', '.p8', '.ppk', '.keystore', '.jks', '.kdbx', '.tfstate',
]);
/** `.env.example` and friends document variables without holding values. */
const ENV_TEMPLATES = new Set(['example', 'sample', 'template']);
const SSH_KEY = /^id_(rsa|dsa|ecdsa|ed25519)/;

/** The rule a secret-looking file name matches, or null. */
function secretRule(name: string): string | null {
  const lower = name.toLowerCase();
  if (SECRET_EXACT.has(lower)) return lower;
  if (lower.startsWith('.env.')) return ENV_TEMPLATES.has(lower.slice(5)) ? null : '.env.*';
  if (lower.endsWith('.env')) return '*.env';
  const ext = path.posix.extname(lower);
  if (SECRET_EXTENSIONS.has(ext)) return `*${ext}`;
  if (lower.endsWith('.tfstate.backup')) return '*.tfstate.backup';
  if (SSH_KEY.test(lower) && !lower.endsWith('.pub')) return 'SSH private key (id_*)';
  if (lower.startsWith('service-account') && lower.endsWith('.json')) return 'service-account*.json';
  if (lower.startsWith('client_secret') && lower.endsWith('.json')) return 'client_secret*.json';
  return null;
}

/** Whether a file's name marks it as holding credentials or keys. */
export function isSecretPath(relPath: string): boolean {
  return secretRule(baseName(relPath)) !== null;
}

const BINARY_EXTENSIONS = new Set([
  // images and fonts (svg is text, kept)
  'png', 'jpg', 'jpeg', 'gif', 'bmp', 'ico', 'icns', 'webp', 'tif', 'tiff', 'psd', 'heic', 'avif',
  'woff', 'woff2', 'ttf', 'otf', 'eot', 'ttc',
  // archives and packages
  'zip', 'gz', 'tgz', 'bz2', 'xz', 'zst', 'lz4', '7z', 'rar', 'tar', 'jar', 'war', 'ear', 'apk',
  'ipa', 'dmg', 'iso', 'deb', 'rpm', 'whl', 'egg', 'nupkg', 'vsix', 'crx', 'lockb',
  // compiled code
  'exe', 'dll', 'so', 'dylib', 'a', 'lib', 'o', 'obj', 'bin', 'class', 'pyc', 'pyo', 'pyd',
  'wasm', 'node', 'elf', 'dex',
  // documents and media
  'pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'odp',
  'mp3', 'mp4', 'm4a', 'aac', 'wav', 'ogg', 'flac', 'avi', 'mov', 'mkv', 'webm', 'wmv', 'swf',
  // data, databases and model weights
  'sqlite', 'sqlite3', 'db', 'parquet', 'avro', 'orc', 'npy', 'npz', 'pkl', 'pickle', 'h5',
  'hdf5', 'onnx', 'pt', 'pth', 'ckpt', 'safetensors', 'tflite', 'gguf',
]);

const LOCKFILES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock',
  'cargo.lock', 'go.sum', 'poetry.lock', 'pipfile.lock', 'uv.lock', 'pdm.lock', 'composer.lock',
  'gemfile.lock', 'mix.lock', 'pubspec.lock', 'podfile.lock', 'flake.lock', 'packages.lock.json',
  'deno.lock', 'gradle.lockfile', '.terraform.lock.hcl',
]);
/** Suffixes of generated sources: source maps, protobuf/gRPC stubs, code generators' outputs. */
const GENERATED_SUFFIXES = [
  '.map', '.pb.go', '.pb.cc', '.pb.h', '_pb2.py', '_pb2.pyi', '_pb2_grpc.py', '_pb.js', '_pb.d.ts',
  '_grpc_pb.js', '.g.dart', '.freezed.dart', '.designer.cs', '.g.cs',
];
const MINIFIED_NAME = /[.-]min\.(m?js|cjs|css)$/;

/** Skip decision from the file name alone: secrets, binaries, lockfiles, generated and minified names. */
export function skipByName(relPath: string): NameSkip | null {
  const name = baseName(relPath);
  const lower = name.toLowerCase();
  const secret = secretRule(name);
  if (secret) return { reason: 'secret', detail: `credentials-like name (${secret})` };
  const ext = lower.includes('.') ? lower.slice(lower.lastIndexOf('.') + 1) : '';
  if (BINARY_EXTENSIONS.has(ext) || lower === '.ds_store') return { reason: 'binary', detail: `binary file type (.${ext || lower})` };
  if (LOCKFILES.has(lower)) return { reason: 'generated', detail: `lockfile (${name})` };
  if (MINIFIED_NAME.test(lower)) return { reason: 'minified', detail: 'minified file name (*.min.*)' };
  const suffix = GENERATED_SUFFIXES.find((s) => lower.endsWith(s));
  if (suffix) return { reason: 'generated', detail: `generated file name (*${suffix})` };
  return null;
}

// ---- content -----------------------------------------------------------------------------------

const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/;
const GENERATED_MARKERS: readonly RegExp[] = [
  /@generated\b/,
  /\bDO NOT EDIT\b/, // also Go's "Code generated ... DO NOT EDIT."
  /<auto-generated\b/i,
  /\b(?:auto-?generated|automatically generated) (?:by|from|file|code)\b/i,
];
/** Prose is written with one paragraph per line; long lines there are not minification. */
const PROSE_EXTENSIONS = new Set(['.md', '.markdown', '.mdx', '.txt', '.rst', '.adoc', '.org', '.tex']);
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decides from a file's bytes whether to index it, and decodes it when so. */
export function classifyContent(relPath: string, bytes: Buffer): ContentClass {
  if (hasUtf16Bom(bytes)) return { ok: false, reason: 'non-utf8', detail: 'UTF-16 text (byte order mark)' };
  const nul = bytes.subarray(0, BINARY_SNIFF_BYTES).indexOf(0);
  if (nul >= 0) return { ok: false, reason: 'binary', detail: `NUL byte at offset ${nul.toLocaleString('en-US')}` };

  let text: string;
  try {
    text = decoder.decode(bytes); // drops a leading UTF-8 BOM (ignoreBOM: false)
  } catch {
    return { ok: false, reason: 'non-utf8', detail: `not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes).toLocaleString('en-US')})` };
  }

  if (PRIVATE_KEY_BLOCK.test(text)) return { ok: false, reason: 'secret', detail: 'contains a private key block' };

  const marker = generatedMarker(text);
  if (marker) return { ok: false, reason: 'generated', detail: marker };

  if (!PROSE_EXTENSIONS.has(path.posix.extname(relPath).toLowerCase())) {
    const minified = minifiedReason(text);
    if (minified) return { ok: false, reason: 'minified', detail: minified };
  }
  return { ok: true, text };
}

function hasUtf16Bom(b: Buffer): boolean {
  return b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff));
}

function generatedMarker(text: string): string | null {
  let end = -1;
  for (let n = 0; n < GENERATED_HEADER_LINES; n++) {
    const next = text.indexOf('\n', end + 1);
    if (next < 0) { end = text.length; break; }
    end = next;
  }
  const lines = text.slice(0, Math.min(end, 4000)).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const hit = GENERATED_MARKERS.map((re) => re.exec(lines[i])).find((m) => m !== null);
    if (hit) return `generated-code marker "${hit[0]}" on line ${i + 1}`;
  }
  return null;
}

function minifiedReason(text: string): string | null {
  let lines = 1;
  let longest = 0;
  let longestLine = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
    if (i - start > longest) { longest = i - start; longestLine = lines; }
    start = i + 1;
    if (start < text.length) lines++;
  }
  if (text.length - start > longest) { longest = text.length - start; longestLine = lines; }
  const average = text.length / lines;
  if (text.length >= MINIFIED_MIN_CHARS && average > MINIFIED_AVG_LINE) {
    return `average line length ${Math.round(average).toLocaleString('en-US')} chars`;
  }
  if (longest > MINIFIED_LONG_LINE && lines <= MINIFIED_FEW_LINES) {
    return `line ${longestLine} is ${longest.toLocaleString('en-US')} chars long`;
  }
  return null;
}

/** Offset of the first byte that breaks UTF-8, for a useful skip message. */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n >= b.length + (n === 0 ? 1 : 0)) return i;
    // Second-byte ranges that rule out overlong forms, surrogates and code points above U+10FFFF.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (n > 0 && (b[i + 1] < lo || b[i + 1] > hi)) return i;
    for (let k = 2; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return i;
}

function baseName(relPath: string): string {
  const norm = relPath.replace(/\\/g, '/').replace(/\/+$/, '');
  return norm.slice(norm.lastIndexOf('/') + 1);
}
