// Content-based secret detection and redaction (src/core/security): planted secrets in ordinary files
// are all found and redacted with stable placeholders, look-alikes are left alone, restore round-trips,
// adversarial input stays linear, and secretlint loads both from out/ and from an esbuild bundle.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import {
  clearSecretCache, findSecrets, mayContainSecrets, placeholderFor, PLACEHOLDER_PATTERN, redactSecrets, redactValue, restoreSecrets,
  type SecretFinding,
} from '../../../src/core/security/secrets';
import { loadSecretlint, presetMayMatch, secretlintFindings } from '../../../src/core/security/secretlintScan';
import { allPlantedSecrets, decoyFiles, leakedSecrets, plantedSecretFiles, type PlantedFile } from '../../helpers/plantedSecrets';
import { seededRandom } from '../../helpers/seededRandom';
import { REPO_ROOT } from '../../helpers/workspace';

/** Random strings for inline cases: no secret-looking literal is committed. */
function randomString(seed: number): (alphabet: string, n: number) => string {
  const rand = seededRandom(seed);
  return (alphabet, n) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const rnd = randomString(7);
/** A password-like value: letter first, mixed classes. */
const pw = (): string => `Q${rnd(ALNUM, 6)}7%${rnd(ALNUM, 6)}`;

function lines(text: string): number {
  return text.split('\n').length;
}

function covering(findings: SecretFinding[], text: string, value: string): SecretFinding | undefined {
  const at = text.indexOf(value);
  return findings.find((f) => f.start <= at && f.end >= at + value.length);
}

function kindOf(path: string): string {
  const base = path.split('/').pop() ?? path;
  const dot = base.lastIndexOf('.');
  return dot >= 0 ? base.slice(dot + 1) : base;
}

describe('secrets', function () {
  this.timeout(120_000);
  const files = plantedSecretFiles(1);

  describe('planted secrets in ordinary files', () => {
    it('plants at least 30 distinct secrets in files of many kinds', () => {
      const secrets = allPlantedSecrets(files);
      assert.ok(secrets.length >= 30, `${secrets.length} secrets`);
      assert.equal(new Set(secrets.map((s) => s.value)).size, secrets.length);
      assert.ok(new Set(secrets.map((s) => s.rule)).size >= 25, 'distinct rules');
      const kinds = new Set(files.map((f) => kindOf(f.path)));
      for (const k of ['ts', 'js', 'py', 'go', 'java', 'properties', 'yml', 'yaml', 'json', 'sh', 'Dockerfile', 'tf', 'config', 'kubeconfig', 'env']) {
        assert.ok(kinds.has(k), `a ${k} file`);
      }
    });

    it('is reproducible from the seed and differs between seeds', () => {
      assert.deepEqual(plantedSecretFiles(1), files);
      assert.notDeepEqual(allPlantedSecrets(plantedSecretFiles(2)), allPlantedSecrets(files));
    });

    for (const file of files) {
      it(`finds and redacts ${file.secrets.map((s) => s.rule).join(', ')} in ${file.path}`, async () => {
        const findings = await findSecrets(file.content, { path: file.path });
        for (const secret of file.secrets) {
          const f = covering(findings, file.content, secret.value);
          assert.ok(f, `${secret.rule} not found in ${file.path}`);
          assert.equal(f.rule, secret.rule);
        }
        // Nothing but the planted secrets.
        assert.equal(findings.length, file.secrets.length, JSON.stringify(findings.map((f) => f.rule)));
        const { text, redactions } = await redactSecrets(file.content, { path: file.path });
        assert.deepEqual(leakedSecrets(text, [file]), []);
        assert.equal(lines(text), lines(file.content));
        assert.equal(redactions.length, file.secrets.length);
        assert.deepEqual(redactions.map((r) => r.placeholder), findings.map((f) => f.placeholder));
        for (const r of redactions) assert.ok(text.includes(r.placeholder));
      });
    }

    it('finds every planted secret for other seeds too', async () => {
      for (let seed = 2; seed <= 12; seed++) {
        for (const file of plantedSecretFiles(seed)) {
          const findings = await findSecrets(file.content, { path: file.path });
          for (const secret of file.secrets) {
            assert.equal(covering(findings, file.content, secret.value)?.rule, secret.rule, `seed ${seed}: ${secret.rule} in ${file.path}`);
          }
        }
      }
    });

    it('keeps every line where it was', async () => {
      for (const file of files) {
        const { text, redactions } = await redactSecrets(file.content, { path: file.path });
        const before = file.content.split('\n');
        const after = text.split('\n');
        const touched = new Set(redactions.flatMap((r) => {
          const f = file.secrets.find((s) => placeholderFor(r.rule, s.value) === r.placeholder);
          const span = f ? f.value.split('\n').length : 1;
          return Array.from({ length: span }, (_, i) => r.line + i);
        }));
        for (let i = 0; i < before.length; i++) {
          if (!touched.has(i + 1)) assert.equal(after[i], before[i], `${file.path}:${i + 1}`);
        }
        for (const r of redactions) assert.ok(after[r.line - 1].includes(r.placeholder), `${file.path}: placeholder on line ${r.line}`);
      }
    });

    it('gives a secret the same placeholder in every call and every file, and different secrets different ones', async () => {
      const file = files.find((f) => f.path === 'payments/stripe.go') as PlantedFile;
      const [{ value }] = file.secrets;
      const a = await redactSecrets(file.content, { path: file.path });
      clearSecretCache();
      const b = await redactSecrets(file.content, { path: file.path });
      const elsewhere = await redactSecrets(`# notes\nkey: ${value}\n`, { path: 'notes.md' });
      const expected = `[secret:stripe-key#${createHash('sha256').update(value).digest('hex').slice(0, 4)}]`;
      assert.equal(a.redactions[0].placeholder, expected);
      assert.equal(b.text, a.text);
      assert.equal(elsewhere.redactions[0].placeholder, expected);
      const all = await Promise.all(files.map((f) => findSecrets(f.content, { path: f.path })));
      const byPlaceholder = new Map<string, string>();
      all.forEach((findings, i) => findings.forEach((f) => {
        const secret = files[i].content.slice(f.start, f.end);
        assert.equal(byPlaceholder.get(f.placeholder) ?? secret, secret, `${f.placeholder} stands for two secrets`);
        byPlaceholder.set(f.placeholder, secret);
      }));
    });

    it('restores the original from its redaction, and real values into an edit of it', async () => {
      for (const file of files) {
        const { text } = await redactSecrets(file.content, { path: file.path });
        assert.equal(await restoreSecrets(text, file.content, { path: file.path }), file.content, file.path);
      }
      const file = files.find((f) => f.path === 'src/storage/s3Client.ts') as PlantedFile;
      const { text } = await redactSecrets(file.content, { path: file.path });
      const edited = text.replace("region: 'eu-west-1'", "region: 'eu-north-1'") + '\nexport const RETRIES = 3;\n';
      const restored = await restoreSecrets(edited, file.content);
      assert.equal(restored, file.content.replace("region: 'eu-west-1'", "region: 'eu-north-1'") + '\nexport const RETRIES = 3;\n');
    });

    it('restores a multi-line private key and keeps its line breaks in the redaction', async () => {
      const file = files.find((f) => f.path === 'src/tls/devCertificate.ts') as PlantedFile;
      const { text, redactions } = await redactSecrets(file.content, { path: file.path });
      assert.equal(redactions[0].rule, 'private-key');
      assert.equal(redactions[0].line, 2);
      assert.match(text, /^export const DEV_KEY = `\[secret:private-key#[0-9a-f]{4}\]\n+`;$/m);
      assert.equal(lines(text), lines(file.content));
      assert.ok(text.endsWith("export const DEV_HOSTS = ['localhost', '127.0.0.1'];\n"));
      assert.equal(await restoreSecrets(text, file.content), file.content);
      // An edit that dropped the placeholder's blank lines still gets the whole key back.
      const squeezed = text.replace(/\]\n+`/, ']`');
      assert.ok((await restoreSecrets(squeezed, file.content)).includes(file.secrets[0].value));
    });
  });

  describe('look-alikes that are not secrets', () => {
    for (const file of decoyFiles(1)) {
      it(`reports nothing in ${file.path}`, async () => {
        const findings = await findSecrets(file.content, { path: file.path });
        assert.deepEqual(findings.map((f) => `${f.rule}: ${file.content.slice(f.start, f.end)}`), []);
      });
    }

    it('reports nothing in the decoys of other seeds', async () => {
      for (let seed = 2; seed <= 12; seed++) {
        for (const file of decoyFiles(seed)) assert.deepEqual(await findSecrets(file.content, { path: file.path }), [], `seed ${seed}: ${file.path}`);
      }
    });

    const r = randomString(11);
    const negatives: Array<[string, string, string]> = [
      ['sha1 and git SHAs', 'a.md', `commit ${r(HEX, 40)}\nMerge: ${r(HEX, 7)} ${r(HEX, 7)}\n`],
      ['sha256 digests', 'Dockerfile', `ARG NODE_SHA256=${r(HEX, 64)}\nRUN echo "${r(HEX, 64)}  node.tgz" | sha256sum -c\n`],
      ['md5 checksums', 'a.json', `{ "md5": "${r(HEX, 32)}", "etag": "${r(HEX, 32)}" }\n`],
      ['lockfile integrity lines', 'yarn.lock', `"zod@^3.0.0":\n  version "3.22.4"\n  integrity sha512-${r(B64, 86)}==\n  checksum: ${r(HEX, 128)}\n`],
      ['UUIDs', 'a.ts', `export const TENANT_ID = '${r(HEX, 8)}-${r(HEX, 4)}-4${r(HEX, 3)}-8${r(HEX, 3)}-${r(HEX, 12)}';\nconst requestId = "${r(HEX, 8)}-${r(HEX, 4)}-4${r(HEX, 3)}-9${r(HEX, 3)}-${r(HEX, 12)}";\n`],
      ['base64 test data', 'a.test.ts', `const payload = Buffer.from('${r(B64, 120)}==', 'base64');\nexpect(encode(input)).toBe("${r(B64, 64)}");\n`],
      ['data: URIs of images', 'a.css', `.logo { background: url(data:image/png;base64,iVBORw0KGgo${r(B64, 200)}=); }\n`],
      ['long camelCase identifiers', 'a.ts', 'const refreshAccessTokenForSecretManagerServiceAccount = createSecretManagerPasswordRotationPolicyHandler();\n'],
      ['minified code', 'a.min.js', 'var e={token:t.token,password:n||"",secret:r.secret,apiKey:o.apiKey,auth:i};function s(e){return e.token=e.token||null,e}\n'],
      ['references to secrets kept elsewhere', 'a.ts', "const cfg = { password: process.env.DB_PASSWORD, token: env.API_TOKEN, apiKey: config.apiKey, secret: await vault.read('db') };\n"],
      ['environment references in config', 'a.yaml', 'password: ${DB_PASSWORD}\ntoken: "{{ vault_token }}"\napi_key: $API_KEY\nsecret: %APP_SECRET%\nclient_secret: "#{clientSecret}"\n'],
      ['type annotations', 'a.ts', 'interface Login { password: string; token?: string | null; apiKey: ApiKey; secret: Buffer; refreshToken: RefreshToken }\nfunction f(password: string, token: CancellationToken): void {}\n'],
      ['Python and Go code', 'a.py', 'password = getpass.getpass("Password: ")\ntoken = os.environ["TOKEN"]\napi_key: str = settings.api_key\n'],
      ['empty and placeholder values', 'a.env', 'PASSWORD=\nSECRET=changeme\nAPI_KEY=your-api-key-here\nTOKEN=<token>\nDB_PASSWORD=********\nSECRET_KEY=xxxxxxxxxxxxxxxx\nPASSWORD=password123\nAUTH_TOKEN=TODO\n'],
      ['empty literals', 'a.ts', "let password = '';\nconst secret = \"changeme\";\nconst token = ``;\n"],
      ['example text in docs', 'README.md', 'Set `OPENAI_API_KEY=sk-...` and `GITHUB_TOKEN=<your token>`, then run\n`curl -u user:password https://api.example.com` or connect to `postgres://user:password@localhost/db`.\nThe token must be a JWT (eyJ...).\n'],
      ['names that merely contain a credential word', 'a.ts', 'const tokenType = "Bearer";\nconst passwordMinLength = 12;\nconst secretName = "orders-db";\nconst maxTokens = 4096;\nconst keyboardShortcut = "ctrl+k";\n'],
      ['prose', 'notes.txt', 'Password: the one you chose at sign-up.\nToken: see the admin page.\n'],
      ['Authorization headers built from variables', 'a.ts', 'headers.Authorization = `Bearer ${accessToken}`;\nconst h = { Authorization: "Basic " + btoa(user + ":" + pass) };\n'],
      ['already-redacted text', 'a.ts', `const password = "${placeholderFor('password-assignment', 'x')}";\n`],
      ['code read as plain text (a tool\'s output, no path)', 'tool-output',
        'credential?: X509Credential | undefined;\nconst next = isOpening(p2) ? token : parent2;\nindentToken = lastToken2 && start.line;\n'
        + 'return token.value === value2;\nbatch[token] = -Infinity;\nthis.ms_per_token=this.seq_length*2,x=1;\nexports.AuthToken2 = exports.X509Auth = void 0;\n'],
    ];
    for (const [what, path, text] of negatives) {
      it(`leaves ${what} alone`, async () => {
        const findings = await findSecrets(text, { path });
        assert.deepEqual(findings.map((f) => `${f.rule}: ${text.slice(f.start, f.end)}`), []);
      });
    }
  });

  describe('rules', () => {
    it("reports what secretlint's preset misses", async () => {
      const cases: Array<[string, string, string]> = [
        ['aws-access-key', 'a.md', 'AKIA' + 'IOSFODNN7' + 'EXAMPLE'], // AWS's documented example id
        ['aws-access-key', 'a.ts', `ASIA${rnd('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`],
        ['aws-secret-key', '.env', 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCY' + 'EXAMPLEKEY'], // and its example secret
        ['jwt', 'a.ts', `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx${rnd(ALNUM, 20)}.${rnd(ALNUM, 43)}`],
        ['stripe-key', 'a.ts', `rk_live_${rnd(ALNUM, 24)}`],
        ['google-api-key', 'a.ts', `AIza${rnd(ALNUM, 35)}`],
        ['password-assignment', 'a.properties', pw()],
        ['token-assignment', 'kubeconfig', rnd(ALNUM, 40)],
        ['password-assignment', 'Web.config', pw()],
        ['authorization-header', 'a.sh', `${rnd(ALNUM, 30)}`],
        ['secret-assignment', 'main.go', `${rnd(ALNUM, 24)}`],
      ];
      const texts = [
        (v: string) => `see ${v} in the docs`,
        (v: string) => `const id = "${v}";`,
        (v: string) => `AWS_SECRET_ACCESS_KEY=${v}`,
        (v: string) => `const t = '${v}';`,
        (v: string) => `stripe.key = "${v}"`,
        (v: string) => `key: '${v}'`,
        (v: string) => `db.password=${v}`,
        (v: string) => `users:\n- user:\n    token: ${v}\n`,
        (v: string) => `<add name="a" connectionString="Server=s;User Id=u;Password=${v};" />`,
        (v: string) => `curl -H "Authorization: Bearer ${v}" https://x`,
        (v: string) => `os.Setenv("WEBHOOK_SECRET", "${v}")`,
      ];
      for (let i = 0; i < cases.length; i++) {
        const [rule, path, value] = cases[i];
        const text = texts[i](value);
        assert.equal(covering(await findSecrets(text, { path }), text, value)?.rule, rule, text);
      }
    });

    it('judges unquoted values by the kind of file', async () => {
      const value = `hq${rnd(ALNUM, 10)}4z`;
      assert.equal((await findSecrets(`db_password = ${value}`, { path: 'a.ts' })).length, 0, 'an identifier in code');
      assert.equal((await findSecrets(`db_password = ${value}`, { path: 'app.env' })).length, 1, 'a value in config');
      assert.equal((await findSecrets(`db_password = ${value}`)).length, 1, 'a value in plain text');
      assert.equal((await findSecrets(`const s = "Server=db;Password=${value};";`, { path: 'a.ts' })).length, 1, 'a connection string in code');
    });

    it('narrows URL credentials to the password and keeps the host readable', async () => {
      const secret = pw().replace('%', '-');
      const { text } = await redactSecrets(`DATABASE_URL=postgresql://orders:${secret}@db.internal:5432/orders`);
      assert.match(text, /^DATABASE_URL=postgresql:\/\/orders:\[secret:database-password#[0-9a-f]{4}\]@db\.internal:5432\/orders$/);
      const amqp = await redactSecrets(`amqp://svc:${secret}@mq:5672`);
      assert.match(amqp.text, /^amqp:\/\/svc:\[secret:database-password#[0-9a-f]{4}\]@mq:5672$/);
    });

    it('ignores secretlint-disable comments, which anyone who can write a file could add', async () => {
      const token = `ghp_${rnd(ALNUM, 36)}`;
      const text = `// secretlint-disable\nconst token = "${token}";\n// secretlint-enable\n`;
      assert.equal((await findSecrets(text, { path: 'a.ts' }))[0]?.rule, 'github-token');
    });

    it('finds the halves of a private key cut by a chunk boundary', async () => {
      const body = Array.from({ length: 6 }, () => rnd(B64, 64));
      const begin = `${'-'.repeat(5)}BEGIN EC PRIVATE KEY${'-'.repeat(5)}`;
      const end = `${'-'.repeat(5)}END EC PRIVATE KEY${'-'.repeat(5)}`;
      const head = `const k = [\n${begin}\n${body.slice(0, 3).join('\n')}\n`;
      const tail = `${body.slice(3).join('\n')}\n${end}\n];\n`;
      const h = await redactSecrets(head);
      const t = await redactSecrets(tail);
      for (const line of body.slice(0, 3)) assert.ok(!h.text.includes(line));
      for (const line of body.slice(3)) assert.ok(!t.text.includes(line));
      assert.ok(h.text.startsWith('const k = [\n') && t.text.endsWith('\n];\n'));
      assert.equal(lines(h.text), lines(head));
      assert.equal(lines(t.text), lines(tail));
    });
  });

  describe('API', () => {
    it('returns sorted, non-overlapping findings with 1-based lines', async () => {
      const text = files.map((f) => f.content).join('\n');
      const findings = await findSecrets(text);
      assert.ok(findings.length >= 45);
      for (let i = 0; i < findings.length; i++) {
        const f = findings[i];
        assert.ok(f.end > f.start);
        if (i > 0) assert.ok(f.start >= findings[i - 1].end, 'sorted and non-overlapping');
        assert.equal(f.line, text.slice(0, f.start).split('\n').length);
        assert.equal(f.placeholder, placeholderFor(f.rule, text.slice(f.start, f.end)));
        assert.match(f.placeholder, /^\[secret:[a-z0-9]+(?:-[a-z0-9]+)*#[0-9a-f]{4}\]$/);
      }
    });

    it('returns the very same string when there is nothing to redact', async () => {
      const text = decoyFiles(1)[0].content;
      const result = await redactSecrets(text, { path: 'package-lock.json' });
      assert.equal(result.text, text);
      assert.deepEqual(result.redactions, []);
      assert.equal((await redactSecrets('')).text, '');
    });

    it('does not flag its own placeholders: redacting twice changes nothing more', async () => {
      for (const file of files) {
        const once = await redactSecrets(file.content, { path: file.path });
        const twice = await redactSecrets(once.text, { path: file.path });
        assert.equal(twice.text, once.text, file.path);
      }
    });

    it('keeps CRLF line breaks and handles a byte-order mark', async () => {
      const file = files.find((f) => f.path === 'src/tls/devCertificate.ts') as PlantedFile;
      const crlf = '\uFEFF' + file.content.replace(/\n/g, '\r\n');
      const { text } = await redactSecrets(crlf, { path: file.path });
      assert.equal(text.split('\r\n').length, crlf.split('\r\n').length);
      assert.ok(text.startsWith('\uFEFF// Self-signed key'));
      assert.deepEqual(leakedSecrets(text, [file]), []);
      const token = `xoxb-${rnd('0123456789', 12)}-${rnd('0123456789', 12)}-${rnd(ALNUM, 24)}`;
      const bom = `\uFEFFtoken = "${token}"`;
      const [f] = await findSecrets(bom);
      assert.equal(bom.slice(f.start, f.end), token);
    });

    it('restoreSecrets leaves placeholders of other texts, and removed secrets stay removed', async () => {
      const file = files.find((f) => f.path === 'src/storage/s3Client.ts') as PlantedFile;
      const { text } = await redactSecrets(file.content, { path: file.path });
      const foreign = placeholderFor('jwt', 'another text');
      const edited = text.replace(/ {4}secretAccessKey: .*\n/, '') + `// ${foreign}\n`;
      const restored = await restoreSecrets(edited, file.content);
      assert.ok(restored.includes(file.secrets[0].value));
      assert.ok(!restored.includes(file.secrets[1].value));
      assert.ok(restored.includes(foreign));
      assert.equal(await restoreSecrets('no placeholders here', file.content), 'no placeholders here');
    });

    it('restoreSecrets tells apart repeated placeholders by order', async () => {
      const a = pw();
      const original = `password = "${a}"\nbackup_password = "${a}"\n`;
      const { text } = await redactSecrets(original);
      assert.equal([...text.matchAll(PLACEHOLDER_PATTERN)].length, 2);
      assert.equal(await restoreSecrets(text, original), original);
    });

    it('redactValue deep-copies JSON-like data with every string redacted', async () => {
      const token = `ghp_${rnd(ALNUM, 36)}`;
      const password = pw();
      const bearer = rnd(ALNUM, 32);
      const event = {
        kind: 'tool.result', ms: 12, ok: true, none: null,
        output: [`cloned with ${token}`, { nested: { line: `export GITHUB_TOKEN=${token}` } }],
        request: { headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json' }, body: { username: 'svc', password } },
      };
      const copy = await redactValue(event);
      const json = JSON.stringify(copy);
      for (const secret of [token, password, bearer]) assert.ok(!json.includes(secret), secret);
      assert.equal(copy.ms, 12);
      assert.equal(copy.none, null);
      assert.equal(copy.request.headers.Accept, 'application/json');
      assert.equal(copy.request.body.username, 'svc');
      assert.match(copy.request.body.password, /^\[secret:password-assignment#[0-9a-f]{4}\]$/);
      assert.match(copy.request.headers.Authorization, /^Bearer \[secret:authorization-header#[0-9a-f]{4}\]$/);
      assert.equal(event.request.body.password, password, 'the input is not modified');
      assert.notEqual(copy.output, event.output);
      const cyclic: { name: string; self?: unknown } = { name: 'loop' };
      cyclic.self = cyclic;
      const c = await redactValue(cyclic);
      assert.equal(c.self, c);
    });

    it('mayContainSecrets is false for ordinary text and true wherever a secret is found', async () => {
      assert.equal(mayContainSecrets('hello world, nothing to see here'), false);
      assert.equal(mayContainSecrets('const x = 1;'), false);
      for (const file of files) assert.equal(mayContainSecrets(file.content), true, file.path);
      for (const s of allPlantedSecrets(files)) {
        const findings = await findSecrets(s.value);
        if (findings.length > 0) assert.equal(mayContainSecrets(s.value), true, s.rule);
      }
    });
  });

  describe('cost', () => {
    const MB = 1 << 20;
    const repeat = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
    const adversarial: Record<string, string> = {
      'a= repeated': repeat('a='),
      'password= repeated': repeat('password='),
      'token=a repeated': repeat('token=a'),
      'an unterminated quoted password': repeat('password = "'),
      '"password": " repeated': repeat('"password": "'),
      'a 1 MB identifier before an assignment': 'x'.repeat(MB) + 'password = "v"',
      'BEGIN lines without END': repeat('-----BEGIN PRIVATE KEY-----\n'),
      'a BEGIN line and 1 MB of base64': '-----BEGIN PRIVATE KEY-----\n' + repeat('QUFBQUFB'),
      'URL user:password prefixes': repeat('mongodb://a:'),
      'JWT-like segments': repeat('eyJhbGciOiJ.'),
      'Slack-like prefixes': repeat('xoxb-1-'),
      'Authorization headers': repeat('authorization: bearer '),
      'a credential name and 1 MB of blanks': 'password' + ' '.repeat(MB),
      'AWS secret key names': repeat('aws_secret_access_key='),
    };
    for (const [what, text] of Object.entries(adversarial)) {
      it(`stays linear on ${what} (1 MB)`, async () => {
        await findSecrets('warm up', { path: 'a.ts' });
        const started = performance.now();
        await findSecrets(text, { path: 'a.ts' });
        await findSecrets(text);
        assert.ok(performance.now() - started < 3000, `${(performance.now() - started).toFixed(0)} ms`);
      });
    }
  });

  describe('secretlint', () => {
    it('runs without leaving performance marks behind (its profiler would grow without bound)', async () => {
      const file = files.find((f) => f.path === 'scripts/release.sh') as PlantedFile;
      for (let i = 0; i < 30; i++) {
        clearSecretCache();
        await findSecrets(file.content + `\n# ${i}`, { path: file.path });
      }
      assert.deepEqual(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('@core>')).map((m) => m.name), []);
    });

    it('the pre-check skips secretlint only where a full run finds nothing', async () => {
      const { lintSource, config } = await loadSecretlint();
      const texts = [...files, ...decoyFiles(1), ...plantedSecretFiles(3)].map((f) => ({ path: f.path, content: f.content }));
      for (const { path, content } of texts) {
        const full = await lintSource({ source: { content, filePath: path, ext: '.txt', contentType: 'text' }, options: { config, noPhysicFilePath: true } });
        if (!presetMayMatch(content)) assert.deepEqual(full.messages, [], path);
        assert.equal((await secretlintFindings(content, path)).length, full.messages.length, path);
      }
    });

    it('loads from an esbuild bundle with packages external, as in dist/cli.js', async () => {
      const dir = join(REPO_ROOT, 'out', 'secrets-bundle-test');
      mkdirSync(dir, { recursive: true });
      try {
        const entry = join(dir, 'entry.ts');
        writeFileSync(entry, [
          `import { redactSecrets } from ${JSON.stringify(join(REPO_ROOT, 'src/core/security/secrets'))};`,
          `redactSecrets(process.argv[2]).then((r) => console.log(JSON.stringify(r)));`,
        ].join('\n'));
        await build({ entryPoints: [entry], outfile: join(dir, 'bundle.js'), bundle: true, packages: 'external', platform: 'node', target: 'node20', format: 'cjs', logLevel: 'silent' });
        const token = `glpat-${rnd(ALNUM, 20)}`;
        const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'bundle.js'), `GITLAB_TOKEN=${token}`]);
        const result = JSON.parse(stdout) as { text: string; redactions: Array<{ rule: string }> };
        assert.equal(result.redactions[0]?.rule, 'gitlab-token');
        assert.ok(!result.text.includes(token));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
