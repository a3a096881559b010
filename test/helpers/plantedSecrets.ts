// Realistic secrets planted in ordinary source and config files, generated at run time from a seeded
// PRNG so that no secret-looking literal is ever committed (scanners would flag the repository, and
// Baton indexes its own tests). Also ordinary files full of look-alikes (digests, UUIDs, base64 test
// data, placeholders, references) that must not be flagged. For the secrets unit tests, the secrets
// bench, and end-to-end checks that no planted secret reaches a model request or a stored file.
import { seededRandom } from './seededRandom';

export interface PlantedSecret {
  /** The rule id `findSecrets` is expected to report for it. */
  rule: string;
  /** The secret exactly as it appears in the file. */
  value: string;
}

export interface PlantedFile {
  /** Workspace-relative path; the extension tells code from config. */
  path: string;
  content: string;
  secrets: PlantedSecret[];
}

export interface DecoyFile {
  path: string;
  content: string;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const ALNUM = LOWER + UPPER + DIGITS;
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const B64URL = ALNUM + '-_';
const BASE32 = UPPER + '234567';
const SYMBOLS = '!%^*-_+=~';
const DASHES = '-'.repeat(5);

/** Value generators over one PRNG stream. */
class Gen {
  private readonly rand: () => number;
  constructor(seed: number) {
    this.rand = seededRandom(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }
  pick(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.rand() * alphabet.length)];
    return s;
  }
  /** Mixed-class password of `n` characters, with URL- and quote-safe symbols. */
  password(n = this.int(12, 20), symbols = SYMBOLS): string {
    const chars = [this.pick(LOWER, 1), this.pick(DIGITS, 1), this.pick(symbols, 1), ...this.pick(ALNUM + symbols, n - 4)];
    for (let i = chars.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [chars[i], chars[j]] = [chars[j], chars[i]];
    }
    // A letter first, as a YAML or shell value must start (`*`, `!`, `=` would be syntax there).
    return this.pick(UPPER, 1) + chars.join('');
  }
  /** Letters and digits only, with at least one digit (a password in a .properties file). */
  alnumPassword(n = this.int(12, 16)): string {
    return this.pick(LOWER, 2) + this.pick(DIGITS, 1) + this.pick(ALNUM, n - 3);
  }
  base64Bytes(n: number): string {
    const bytes = Buffer.alloc(n);
    for (let i = 0; i < n; i++) bytes[i] = this.int(0, 255);
    return bytes.toString('base64');
  }
  uuid(): string {
    const h = this.pick(HEX, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }
  /** A PEM private-key block: `MII` starts every DER-encoded RSA key in base64. */
  pem(kind = 'RSA PRIVATE KEY'): string {
    const body = 'MII' + this.pick(B64, 61) + this.pick(B64, 64 * 14);
    const lines = body.match(/.{1,64}/g) ?? [];
    return [`${DASHES}BEGIN ${kind}${DASHES}`, ...lines, `${DASHES}END ${kind}${DASHES}`].join('\n');
  }
  jwt(): string {
    const b64url = (s: string) => Buffer.from(s).toString('base64url');
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = b64url(JSON.stringify({ sub: this.pick(DIGITS, 10), name: `svc-${this.pick(LOWER, 6)}`, iat: 1_700_000_000 + this.int(0, 9_999_999) }));
    return `${header}.${payload}.${this.pick(B64URL, 43)}`;
  }
}

/**
 * 59 secrets in 42 ordinary files (TypeScript, JavaScript, Python, Go, Java, .properties, YAML
 * including a kubeconfig, JSON, shell, Dockerfile, Terraform, XML, .env, .npmrc, .netrc, Markdown).
 * The same seed always gives the same files.
 */
export function plantedSecretFiles(seed = 1): PlantedFile[] {
  const g = new Gen(seed);
  const files: PlantedFile[] = [];
  const add = (path: string, secrets: PlantedSecret[], content: string) => files.push({ path, content, secrets });
  const s = (rule: string, value: string): PlantedSecret => ({ rule, value });

  const akia = s('aws-access-key', 'AKIA' + g.pick(BASE32, 16));
  const awsSecret = s('aws-secret-key', g.pick(B64, 40));
  add('src/storage/s3Client.ts', [akia, awsSecret], `import { S3Client } from '@aws-sdk/client-s3';

// TODO: move to the secrets manager before launch
export const s3 = new S3Client({
  region: 'eu-west-1',
  credentials: {
    accessKeyId: '${akia.value}',
    secretAccessKey: '${awsSecret.value}',
  },
});

export async function bucketUrl(bucket: string, key: string): Promise<string> {
  return \`https://\${bucket}.s3.eu-west-1.amazonaws.com/\${encodeURIComponent(key)}\`;
}
`);

  const asia = s('aws-access-key', 'ASIA' + g.pick(BASE32, 16));
  const asiaSecret = s('aws-secret-key', g.pick(B64, 40));
  const session = s('token-assignment', g.base64Bytes(180));
  add('deploy/aws/credentials', [asia, asiaSecret, session], `[default]
region = us-east-1
output = json

[ci]
aws_access_key_id = ${asia.value}
aws_secret_access_key = ${asiaSecret.value}
aws_session_token = ${session.value}
`);

  const ghp = s('github-token', 'ghp_' + g.pick(ALNUM, 36));
  add('scripts/release.sh', [ghp], `#!/usr/bin/env bash
set -euo pipefail

export GITHUB_TOKEN=${ghp.value}
VERSION="$(node -p "require('./package.json').version")"

gh release create "v$VERSION" dist/*.vsix --notes-file CHANGELOG.md
echo "released v$VERSION"
`);

  const pat = s('github-token', 'github_pat_' + g.pick(ALNUM, 22) + '_' + g.pick(ALNUM, 59));
  add('.github/workflows/mirror.yml', [pat], `name: mirror
on:
  push:
    branches: [main]
jobs:
  mirror:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: git push --mirror https://x-access-token:\${TOKEN}@github.com/acme/mirror.git
        env:
          TOKEN: ${pat.value}
`);

  const glpat = s('gitlab-token', 'glpat-' + g.pick(B64URL, 20));
  add('ci/gitlab-env.sh', [glpat], `# sourced by the runner before the deploy job
export CI_REGISTRY=registry.gitlab.com
export GITLAB_API=https://gitlab.com/api/v4
export GITLAB_PRIVATE_TOKEN="${glpat.value}"
curl --silent --header "PRIVATE-TOKEN: $GITLAB_PRIVATE_TOKEN" "$GITLAB_API/projects"
`);

  const slackBot = s('slack-token', `xoxb-${g.pick(DIGITS, 12)}-${g.pick(DIGITS, 13)}-${g.pick(ALNUM, 24)}`);
  add('bot/notify.py', [slackBot], `import logging

from slack_sdk import WebClient

log = logging.getLogger(__name__)
client = WebClient(token="${slackBot.value}")


def notify(channel: str, text: str) -> None:
    """Posts a build notification; failures are logged, never raised."""
    try:
        client.chat_postMessage(channel=channel, text=text)
    except Exception:  # noqa: BLE001
        log.exception("slack notification failed")
`);

  const hook = s('slack-webhook', `https://hooks.slack.com/services/T${g.pick(UPPER + DIGITS, 8)}/B${g.pick(UPPER + DIGITS, 10)}/${g.pick(ALNUM, 24)}`);
  const discordToken = s('discord-webhook', g.pick(B64URL, 68));
  add('config/alerts.json', [hook, discordToken], JSON.stringify({
    alerts: [
      { name: 'deploy-failed', channel: '#ops', webhook: hook.value },
      { name: 'nightly', channel: 'builds', webhook: `https://discord.com/api/webhooks/${g.pick(DIGITS, 18)}/${discordToken.value}` },
    ],
    retries: 3,
  }, null, 2) + '\n');

  const openai = s('openai-key', `sk-proj-${g.pick(B64URL, 58)}T3BlbkFJ${g.pick(B64URL, 58)}`);
  add('src/llm/openaiClient.ts', [openai], `import OpenAI from 'openai';

const client = new OpenAI({
  apiKey: '${openai.value}',
  timeout: 30_000,
});

export async function complete(prompt: string): Promise<string> {
  const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
  return res.choices[0]?.message.content ?? '';
}
`);

  const legacyOpenai = s('openai-key', 'sk-' + g.pick(ALNUM, 48));
  const hfToken = s('huggingface-token', 'hf_' + g.pick(LOWER + UPPER, 34));
  add('notebooks/embeddings.py', [legacyOpenai, hfToken], `import os

import openai
from huggingface_hub import login

openai.api_key = "${legacyOpenai.value}"
login("${hfToken.value}")

MODEL = os.environ.get("EMBED_MODEL", "text-embedding-3-small")
`);

  const anthropic = s('anthropic-key', 'sk-ant-api03-' + g.pick(B64URL, 93) + 'AA');
  add('agent/claude_client.py', [anthropic], `from anthropic import Anthropic

ANTHROPIC_API_KEY = "${anthropic.value}"
client = Anthropic(api_key=ANTHROPIC_API_KEY)


def ask(question: str) -> str:
    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=512, messages=[{"role": "user", "content": question}])
    return message.content[0].text
`);

  const stripe = s('stripe-key', 'sk_live_' + g.pick(ALNUM, 24));
  add('payments/stripe.go', [stripe], `package payments

import (
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/charge"
)

func init() {
	stripe.Key = "${stripe.value}"
}

// Charge bills a customer in cents.
func Charge(customer string, cents int64) (*stripe.Charge, error) {
	return charge.New(&stripe.ChargeParams{Customer: stripe.String(customer), Amount: stripe.Int64(cents), Currency: stripe.String("eur")})
}
`);

  const google = s('google-api-key', 'AIza' + g.pick(B64URL, 35));
  add('web/maps.js', [google], `// Loads the Maps script once and resolves with the google.maps namespace.
const MAPS_KEY = '${google.value}';
let loading;

export function loadMaps() {
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = \`https://maps.googleapis.com/maps/api/js?key=\${MAPS_KEY}&libraries=places\`;
    script.onload = () => resolve(window.google.maps);
    script.onerror = reject;
    document.head.appendChild(script);
  });
  return loading;
}
`);

  const jwt = s('jwt', g.jwt());
  add('src/api/adminClient.ts', [jwt], `// Admin API client used by the nightly jobs.
const BASE = 'https://admin.internal.example/api';

export async function listUsers(): Promise<unknown[]> {
  const res = await fetch(\`\${BASE}/users\`, {
    headers: { Authorization: 'Bearer ${jwt.value}', Accept: 'application/json' },
  });
  if (!res.ok) throw new Error(\`listUsers: HTTP \${res.status}\`);
  return (await res.json()) as unknown[];
}
`);

  const npm = s('npm-token', 'npm_' + g.pick(ALNUM, 36));
  add('.npmrc', [npm], `registry=https://registry.npmjs.org/
//registry.npmjs.org/:_authToken=${npm.value}
save-exact=true
`);

  const sendgrid = s('sendgrid-key', `SG.${g.pick(B64URL, 22)}.${g.pick(B64URL, 43)}`);
  const jdbcPw = s('password-assignment', g.password(16, '!%^*-_+~'));
  add('src/main/resources/application.properties', [sendgrid, jdbcPw], `server.port=8080
spring.application.name=orders
spring.datasource.url=jdbc:sqlserver://db.internal:1433;databaseName=orders;user=orders_app;password=${jdbcPw.value};encrypt=true
spring.datasource.hikari.maximum-pool-size=10
spring.sendgrid.api-key=${sendgrid.value}
management.endpoints.web.exposure.include=health,info
`);

  const propsPw = s('password-assignment', g.alnumPassword());
  add('config/ldap.properties', [propsPw], `ldap.url=ldaps://ldap.corp.example:636
ldap.base=dc=corp,dc=example
ldap.user=cn=svc-orders,ou=services,dc=corp,dc=example
ldap.password=${propsPw.value}
ldap.pool.size=4
`);

  const pgPw = s('database-password', g.password(18, '!*-_~'));
  add('docker-compose.yml', [pgPw], `services:
  api:
    build: .
    environment:
      DATABASE_URL: postgres://orders:${pgPw.value}@db:5432/orders
      LOG_LEVEL: info
    depends_on: [db]
  db:
    image: postgres:16
    volumes: [pgdata:/var/lib/postgresql/data]
volumes:
  pgdata: {}
`);

  const mongoPw = s('database-password', g.password(16, '!*-_~'));
  add('src/db.js', [mongoPw], `const { MongoClient } = require('mongodb');

const uri = 'mongodb+srv://reporting:${mongoPw.value}@cluster0.ab12c.mongodb.net/reports?retryWrites=true&w=majority';
const client = new MongoClient(uri);

module.exports = async function reports() {
  await client.connect();
  return client.db('reports').collection('daily');
};
`);

  const redisPw = s('database-password', g.password(20, '!*-_~'));
  add('internal/cache/redis.go', [redisPw], `package cache

import "github.com/redis/go-redis/v9"

// New connects to the shared cache.
func New() (*redis.Client, error) {
	opts, err := redis.ParseURL("redis://:${redisPw.value}@cache.internal:6379/0")
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opts), nil
}
`);

  const mysqlPw = s('password-assignment', g.password(14, '!*-_~'));
  add('src/main/resources/reporting.properties', [mysqlPw], `reporting.jdbc.url=jdbc:mysql://mysql.internal:3306/reporting?user=report&password=${mysqlPw.value}&useSSL=true
reporting.jdbc.pool=5
`);

  const adoPw = s('password-assignment', g.password(16, '!%^*-_+~'));
  const appKey = s('api-key-assignment', g.pick(ALNUM, 32));
  add('Web.config', [adoPw, appKey], `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <connectionStrings>
    <add name="Orders" connectionString="Server=sql01.corp.example;Database=Orders;User ID=orders_web;Password=${adoPw.value};TrustServerCertificate=True" providerName="System.Data.SqlClient" />
  </connectionStrings>
  <appSettings>
    <add key="PaymentApiKey" value="${appKey.value}" />
    <add key="Environment" value="Production" />
  </appSettings>
</configuration>
`);

  const accountKey = s('api-key-assignment', g.base64Bytes(64));
  add('appsettings.json', [accountKey], JSON.stringify({
    Logging: { LogLevel: { Default: 'Information' } },
    Storage: { ConnectionString: `DefaultEndpointsProtocol=https;AccountName=ordersprod;AccountKey=${accountKey.value};EndpointSuffix=core.windows.net` },
    AllowedHosts: '*',
  }, null, 2) + '\n');

  const yamlPw = s('password-assignment', g.password());
  add('config/database.yml', [yamlPw], `default: &default
  adapter: postgresql
  encoding: unicode
  pool: 5

production:
  <<: *default
  database: orders_production
  username: orders
  password: ${yamlPw.value}
  host: db.internal
`);

  const clientSecret = s('secret-assignment', g.pick(B64URL, 40));
  add('config/oauth.yaml', [clientSecret], `oauth:
  issuer: https://login.example.com
  client_id: orders-web
  client_secret: "${clientSecret.value}"
  scopes: [openid, profile, email]
`);

  const pyKey = s('api-key-assignment', g.pick(HEX, 32));
  add('services/weather.py', [pyKey], `import requests

API_KEY = "${pyKey.value}"
BASE_URL = "https://api.weather.example/v2"


def forecast(city: str) -> dict:
    res = requests.get(f"{BASE_URL}/forecast", params={"q": city, "appid": API_KEY}, timeout=10)
    res.raise_for_status()
    return res.json()
`);

  const shToken = s('token-assignment', g.pick(ALNUM, 40));
  add('scripts/deploy.sh', [shToken], `#!/bin/sh
# Deploys the current build to the staging cluster.
export API_TOKEN=${shToken.value}
export TARGET=staging
./bin/deploy --target "$TARGET" --token "$API_TOKEN"
`);

  const kubeToken = s('token-assignment', g.pick(B64URL, 64));
  const kubeKey = s('kube-client-key', Buffer.from(g.pem()).toString('base64'));
  add('deploy/kubeconfig', [kubeToken, kubeKey], `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${Buffer.from('cert ' + g.pick(ALNUM, 40)).toString('base64')}
    server: https://k8s.corp.example:6443
  name: prod
contexts:
- context:
    cluster: prod
    user: deployer
  name: prod
current-context: prod
users:
- name: deployer
  user:
    token: ${kubeToken.value}
- name: admin
  user:
    client-key-data: ${kubeKey.value}
`);

  const pem = s('private-key', g.pem());
  add('src/tls/devCertificate.ts', [pem], `// Self-signed key for the local HTTPS dev server.
export const DEV_KEY = \`${pem.value}\`;

export const DEV_HOSTS = ['localhost', '127.0.0.1'];
`);

  const dockerToken = s('token-assignment', g.pick(HEX, 64));
  const dockerArg = s('password-assignment', g.password());
  add('Dockerfile', [dockerToken, dockerArg], `FROM node:20-slim AS build
WORKDIR /app
ENV SENTRY_AUTH_TOKEN ${dockerToken.value}
ARG REGISTRY_PASSWORD=${dockerArg.value}
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:20-slim
COPY --from=build /app/dist /app
CMD ["node", "/app/main.js"]
`);

  const tfPw = s('password-assignment', g.password());
  const tfSecret = s('api-key-assignment', g.pick(B64, 40));
  const doToken = s('digitalocean-token', 'dop_v1_' + g.pick(HEX, 64));
  add('infra/main.tf', [tfPw, tfSecret, doToken], `provider "aws" {
  region     = "eu-central-1"
  secret_key = "${tfSecret.value}"
}

provider "digitalocean" {
  token = "${doToken.value}"
}

resource "aws_db_instance" "orders" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
  username          = "orders"
  password          = "${tfPw.value}"
}
`);

  const basic = s('authorization-header', Buffer.from(`svc-smoke:${g.password()}`).toString('base64'));
  add('scripts/smoke.sh', [basic], `#!/usr/bin/env bash
# Smoke test against staging.
curl -fsS -H "Authorization: Basic ${basic.value}" https://staging.example.com/health
`);

  const dockerAuth = s('token-assignment', Buffer.from(`deploy:${g.password()}`).toString('base64'));
  add('.docker/config.json', [dockerAuth], JSON.stringify({ auths: { 'registry.corp.example': { auth: dockerAuth.value } } }, null, 2) + '\n');

  const smtpPw = s('password-assignment', g.password());
  add('internal/mail/smtp.go', [smtpPw], `package mail

import "net/smtp"

var cfg = Config{
	Host:     "smtp.corp.example",
	Port:     587,
	User:     "noreply@corp.example",
	Password: "${smtpPw.value}",
}

func auth() smtp.Auth { return smtp.PlainAuth("", cfg.User, cfg.Password, cfg.Host) }
`);

  const javaSecret = s('secret-assignment', g.pick(ALNUM, 32));
  add('src/main/java/com/acme/Signing.java', [javaSecret], `package com.acme;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public final class Signing {
    private static final String WEBHOOK_SECRET = "${javaSecret.value}";

    public static byte[] sign(byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(WEBHOOK_SECRET.getBytes(), "HmacSHA256"));
        return mac.doFinal(body);
    }
}
`);

  const databricks = s('databricks-token', 'dapi' + g.pick(HEX, 32));
  const vault = s('vault-token', 'hvs.' + g.pick(B64URL, 95));
  const whsec = s('stripe-webhook-secret', 'whsec_' + g.pick(ALNUM, 32));
  add('.env', [databricks, vault, whsec], `NODE_ENV=production
DATABRICKS_HOST=https://adb-1234.azuredatabricks.net
DATABRICKS_TOKEN=${databricks.value}
VAULT_ADDR=https://vault.corp.example:8200
VAULT_TOKEN=${vault.value}
STRIPE_WEBHOOK_SECRET=${whsec.value}
`);

  const telegram = s('telegram-bot-token', `${g.pick('123456789', 1)}${g.pick(DIGITS, 9)}:AA${g.pick(B64URL, 33)}`);
  const gocspx = s('google-oauth-secret', 'GOCSPX-' + g.pick(B64URL, 28));
  add('src/integrations/config.ts', [telegram, gocspx], `export const integrations = {
  telegram: { bot: '${telegram.value}', chat: -1001234567890 },
  google: { clientId: '1234567890-abc.apps.googleusercontent.com', clientSecret: '${gocspx.value}' },
};
`);

  const query = s('token-assignment', g.pick(ALNUM, 40));
  add('docs/api-examples.md', [query], `# API examples

List the items of the staging project:

\`\`\`sh
curl "https://api.staging.example.com/v1/items?project=orders&access_token=${query.value}"
\`\`\`
`);

  const twilio = s('twilio-key', 'SK' + g.pick(HEX, 32));
  const mailPw = s('password-assignment', g.password());
  add('src/notifications/settings.py', [twilio, mailPw], `TWILIO_ACCOUNT = "AC" + "0" * 32  # filled in by the deploy
TWILIO_API_KEY_SID = "${twilio.value}"

EMAIL_HOST = "smtp.corp.example"
EMAIL_HOST_USER = "alerts"
EMAIL_HOST_PASSWORD = '${mailPw.value}'
`);

  const gcpKey = s('private-key', g.pem('PRIVATE KEY'));
  add('deploy/gcp/service-account.json', [gcpKey], JSON.stringify({
    type: 'service_account', project_id: 'orders-prod', private_key_id: g.pick(HEX, 40), private_key: gcpKey.value + '\n',
    client_email: 'deployer@orders-prod.iam.gserviceaccount.com', client_id: g.pick(DIGITS, 21), token_uri: 'https://oauth2.googleapis.com/token',
  }, null, 2) + '\n');
  // The JSON file holds the key with its line breaks escaped; that is the text to look for.
  gcpKey.value = JSON.stringify(gcpKey.value).slice(1, -1);

  const azure = s('azure-client-secret', `${g.pick(ALNUM, 3)}${g.pick(DIGITS, 1)}Q~${g.pick(ALNUM + '_~.-', 34)}`);
  const heroku = s('api-key-assignment', g.uuid());
  add('config/cloud.env', [azure, heroku], `AZURE_TENANT_ID=${g.uuid()}
AZURE_CLIENT_ID=${g.uuid()}
AZURE_CLIENT_SECRET=${azure.value}
HEROKU_API_KEY=${heroku.value}
`);

  const netrc = s('password-assignment', g.password());
  add('ci/netrc', [netrc], `machine api.heroku.com
  login deploy@corp.example
  password ${netrc.value}
machine git.corp.example login ci password ${g.password()}
`);
  files[files.length - 1].secrets.push(s('password-assignment', files[files.length - 1].content.split('password ')[2].trim()));

  const odbc = s('password-assignment', g.password(16, '!%;=-_+~'));
  add('reports/export.py', [odbc], `import pyodbc

CONN = "DRIVER={ODBC Driver 18 for SQL Server};SERVER=sql01.corp.example;DATABASE=reports;UID=exporter;PWD={${odbc.value}};Encrypt=yes"


def connect():
    return pyodbc.connect(CONN, timeout=30)
`);

  return files;
}

/**
 * Ordinary files whose look-alikes must not be flagged: integrity hashes, git SHAs, UUIDs, base64
 * test data and data: URIs, long identifiers, minified code, references to secrets kept elsewhere,
 * type annotations, empty and placeholder values, and example text in docs.
 */
export function decoyFiles(seed = 1): DecoyFile[] {
  const g = new Gen(seed + 1000);
  const sha1 = () => g.pick(HEX, 40);
  const files: DecoyFile[] = [];
  const add = (path: string, content: string) => files.push({ path, content });

  add('package-lock.json', JSON.stringify({
    name: 'orders', lockfileVersion: 3, requires: true,
    packages: Object.fromEntries(['left-pad', 'yaml', 'zod'].map((name) => [`node_modules/${name}`, {
      version: `1.${g.int(0, 9)}.${g.int(0, 9)}`,
      resolved: `https://registry.npmjs.org/${name}/-/${name}-1.0.0.tgz`,
      integrity: `sha512-${g.base64Bytes(64)}`,
      shasum: sha1(),
    }])),
  }, null, 2) + '\n');

  add('go.sum', Array.from({ length: 4 }, (_, i) => `github.com/acme/mod${i} v1.${i}.0 h1:${g.base64Bytes(32)}`).join('\n') + '\n');

  add('CHANGELOG.md', `# Changelog

## 1.4.0
- Token refresh no longer races the first request (${sha1().slice(0, 7)}).
- Merge commit ${sha1()} restores the password reset flow.
- Checksums: sha256 ${g.pick(HEX, 64)}, md5 ${g.pick(HEX, 32)}.
`);

  add('src/fixtures/users.json', JSON.stringify({
    users: [1, 2, 3].map((i) => ({ id: g.uuid(), requestId: g.uuid(), name: `user${i}`, passwordHash: `$2b$12$${g.pick(B64, 53)}`, avatar: `data:image/png;base64,${g.base64Bytes(60)}` })),
  }, null, 2) + '\n');

  add('test/imageData.ts', `// Tiny images for the renderer tests.
export const PIXEL_PNG = 'iVBORw0KGgo${g.pick(B64, 80)}';
export const ICON = \`data:image/svg+xml;base64,${g.base64Bytes(90)}\`;
export const SAMPLE_BYTES = Buffer.from('${g.base64Bytes(48)}', 'base64');
export const ETAG = '"${g.pick(HEX, 32)}"';
export const COMMIT = '${sha1()}';
`);

  add('src/auth/tokenService.ts', `import type { CancellationToken } from 'vscode-languageserver';

export interface Credentials {
  username: string;
  password?: string;
  token: string | undefined;
  apiKey: string;
  clientSecret: Buffer;
}

export class AuthenticationTokenForSecretManagerServiceProvider {
  private readonly refreshTokenExpirySeconds = 3600;
  constructor(private readonly secretManagerClient: SecretManagerClient, private readonly passwordPolicy: PasswordPolicy) {}

  async login(user: string, token: CancellationToken): Promise<Credentials> {
    const password = process.env.SERVICE_PASSWORD ?? '';
    const apiKey = config.apiKey;
    const secret = await this.secretManagerClient.getSecret('orders/api');
    const accessToken = await getAccessToken(user, password);
    if (token.isCancellationRequested) throw new Error('cancelled');
    return { username: user, password, token: accessToken, apiKey, clientSecret: Buffer.from(secret) };
  }
}

export const headers = (accessToken: string) => ({ Authorization: \`Bearer \${accessToken}\` });
export const passwordMinLength = 12;
export const tokenizerSecretKeyManagerFactoryName = 'tokenizerSecretKeyManagerFactory';
`);

  add('dist/vendor.min.js', `!function(e,t){"object"==typeof exports?module.exports=t():e.auth=t()}(this,function(){var a={token:n.token,secret:r.secret,password:o||"",apiKey:i.apiKey,key:"${g.pick(HEX, 40)}"};function s(e){return e.password=e.password||null,e.token=e.token||void 0,e}return{create:s,defaults:a,version:"2.3.1",hash:"${g.pick(HEX, 64)}"}});\n`);

  add('settings.py', `import getpass
import os

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "orders",
        "USER": os.environ["DB_USER"],
        "PASSWORD": os.environ.get("DB_PASSWORD", ""),
    }
}
SECRET_KEY = os.getenv("DJANGO_SECRET_KEY")
API_TOKEN = getpass.getpass("API token: ")
password = ''
secret = "changeme"
api_key = "xxxxxxxxxxxxxxxxxxxxxxxx"
token = None
`);

  add('deploy/values.yaml', `image:
  repository: registry.corp.example/orders
  tag: "1.4.0"
  digest: sha256:${g.pick(HEX, 64)}
database:
  host: db.internal
  password: \${DB_PASSWORD}
  passwordSecretRef:
    name: orders-db
    key: password
oauth:
  clientSecret: "{{ .Values.oauthSecret }}"
  token: !vault |
    ansible-vault-reference
redis:
  password: ""
`);

  add('.github/workflows/ci.yml', `name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci && npm test
        env:
          NPM_TOKEN: \${{ secrets.NPM_TOKEN }}
          GITHUB_TOKEN: \${{ secrets.GITHUB_TOKEN }}
`);

  add('infra/variables.tf', `variable "db_password" {
  type      = string
  sensitive = true
}

resource "aws_db_instance" "orders" {
  password = var.db_password
  username = "orders"
}
`);

  add('src/main/resources/application-defaults.properties', `app.password.min-length=12
app.token.expiry-seconds=3600
app.secret.rotation-days=90
spring.datasource.password=\${DB_PASSWORD}
spring.security.oauth2.client.registration.web.client-secret=
`);

  add('README.md', `# Orders

Copy \`.env.example\` to \`.env\` and fill in your own values:

\`\`\`sh
export OPENAI_API_KEY=sk-...            # starts with sk-
export GITHUB_TOKEN=<your-token>
export DATABASE_URL=postgres://user:password@localhost:5432/orders
export API_KEY=your-api-key-here
\`\`\`

The password must be at least 12 characters. Tokens expire after one hour; pass \`--token <token>\`
to the CLI or set \`token: <token>\` in \`~/.orders.yml\`. Example: \`password: "********"\`.
`);

  add('src/i18n/en.json', JSON.stringify({
    password: 'Password', passwordHint: 'At least 12 characters', token_expired: 'Your session token has expired',
    apiKeyLabel: 'API key', secret: 'Secret', resetPassword: 'Reset your password',
  }, null, 2) + '\n');

  add('src/parser/scanner.go', `package parser

// Token kinds produced by the scanner.
type Token int

const (
	TokenEOF Token = iota
	TokenIdent
	TokenString
)

func (s *Scanner) next() Token {
	token := s.scan()
	key := s.lookup(token)
	password := s.field("password")
	_ = password
	return key
}
`);

  return files;
}

/** Every planted secret of `files`, in order. */
export function allPlantedSecrets(files: PlantedFile[]): PlantedSecret[] {
  return files.flatMap((f) => f.secrets);
}

/** What to look for: the whole value, and the middle of each long piece (a PEM body's lines). */
function fragments(value: string): string[] {
  const pieces = value.split(/\s+/).filter((p) => p.length >= 12);
  return [value, ...pieces.map((p) => (p.length > 24 ? p.slice(Math.floor(p.length / 2) - 8, Math.floor(p.length / 2) + 8) : p))];
}

/**
 * The planted secrets that appear in `haystack` (a request body, a stored file): the whole value or
 * the distinctive middle of any of its pieces, which also catches a secret cut in two, partly
 * redacted, or JSON-escaped across lines.
 */
export function leakedSecrets(haystack: string, files: PlantedFile[]): PlantedSecret[] {
  return allPlantedSecrets(files).filter((s) => fragments(s.value).some((f) => haystack.includes(f)));
}
