// Secrets planted in ordinary source files never leave the machine or land in .baton/: the built
// CLI indexes them with a remote (OpenAI-protocol) embedder, answers questions whose tool calls read
// and grep those files, is asked a question that quotes a key, and continues the conversation. The
// test server on 127.0.0.1 records every request body (chat and embeddings); neither those bodies
// nor any byte under .baton/ may contain any planted secret.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpenAIProtocolServer } from '../helpers/openaiProtocolServer';
import { allPlantedSecrets, leakedSecrets, plantedSecretFiles, type PlantedFile } from '../helpers/plantedSecrets';
import { runCli } from '../helpers/runCli';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import { redactSecrets } from '../../src/core/security/secrets';

const CHAT = 'POST /v1/chat/completions';
const EMBED = 'POST /v1/embeddings';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

describe('secrets never leave: planted secrets vs the model server and .baton/', function () {
  this.timeout(180_000);
  const server = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let planted: PlantedFile[];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const base = await server.start();
    env = { OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sk-test-secrets-e2e', BATON_MODEL: 'test-chat' };
    ws = makeWorkspace();
    planted = plantedSecretFiles(7);
    for (const f of planted) ws.write(f.path, f.content);
    assert.ok(allPlantedSecrets(planted).length >= 30, 'at least 30 planted secrets');
  });
  after(async () => {
    await server.stop();
    ws.remove();
  });

  it('indexes with a remote embedder, answers with tools over the secret-holding files, and continues the conversation: nothing leaks', async () => {
    const index = await runCli(['index', ws.root, '--embedder', `openai:test-embed@${server.baseURL}`], { env });
    assert.equal(index.code, 0, index.stderr);
    assert.match(index.stdout, /\d+ secrets redacted/);
    assert.ok(server.requestsTo(EMBED).length > 0, 'the chunks went to the embedder');

    // The model reads and greps the planted files; the user then quotes a key in a question.
    const readable = planted.filter((f) => !/(^|\/)\.env|\.pem$|\.key$/.test(f.path)).slice(0, 6);
    server.script(CHAT,
      { kind: 'chat', toolCalls: readable.map((f) => ({ name: 'read_file', arguments: JSON.stringify({ path: f.path }) })) },
      { kind: 'chat', toolCalls: [{ name: 'grep', arguments: JSON.stringify({ pattern: 'password|secret|token|key' }) }] },
      { kind: 'chat', content: 'The credentials are configured in the files above.' });
    const first = await runCli(['ask', '--dir', ws.root, '--json', 'Where are the service credentials configured?'], { env });
    assert.equal(first.code, 0, first.stderr);
    const out = JSON.parse(first.stdout) as { conversationId: string; trace: Array<{ kind: string; name?: string; data?: { count?: number } }> };
    const noted = out.trace.filter((e) => e.kind === 'note' && e.name === 'secrets.redacted');
    assert.ok(noted.length > 0 && noted.some((e) => (e.data?.count ?? 0) > 0), 'redactions are shown in the trace');

    const quoted = allPlantedSecrets(planted).find((s) => s.rule === 'github-token') ?? allPlantedSecrets(planted)[0];
    server.script(CHAT, { kind: 'chat', content: `That token (${quoted.value}) is read by the release script.` });
    const follow = await runCli(['ask', '--dir', ws.root, '--json', '--conversation', out.conversationId, `Is ${quoted.value} the token the release uses?`], { env });
    assert.equal(follow.code, 0, follow.stderr);
    server.script(CHAT, { kind: 'chat', content: 'Yes.' });
    const third = await runCli(['ask', '--dir', ws.root, '--json', '--conversation', out.conversationId, 'And where is it read?'], { env });
    assert.equal(third.code, 0, third.stderr);

    const bodies = server.requests.map((r) => JSON.stringify(r.body)).join('\n');
    assert.ok(bodies.includes('[secret:'), 'placeholders stand where the secrets were');
    assert.deepEqual(leakedSecrets(bodies, planted).map((s) => s.rule), [], 'a secret reached the model or the embedder');
    for (const file of filesUnder(join(ws.root, '.baton'))) {
      const bytes = readFileSync(file).toString('latin1');
      assert.deepEqual(leakedSecrets(bytes, planted).map((s) => s.rule), [], `a secret was stored in ${file}`);
    }
    const traces = [first.stdout, follow.stdout, third.stdout].join('\n');
    assert.deepEqual(leakedSecrets(traces.replace(/"answer":"(?:[^"\\]|\\.)*"/g, ''), planted).map((s) => s.rule), [], 'a secret in a printed trace');
  });

  it('an edit the model writes over a redacted file keeps the real secret', async () => {
    const file = planted.find((f) => f.path.endsWith('.ts') && f.secrets.length > 0)!;
    const secret = file.secrets[0].value;
    const lines = file.content.split('\n');
    const at = lines.findIndex((l) => l.includes(secret));
    const line = lines[at];
    // What the model saw (and copies into its search text) is the redacted line.
    const seen = server.requests.map((r) => JSON.stringify(r.body)).join('\n');
    const placeholder = /\[secret:[a-z0-9-]+#[0-9a-f]{4}\]/.exec(seen)?.[0];
    assert.ok(placeholder);
    const redactedLine = (await redactSecrets(line, { path: file.path })).text;
    assert.notEqual(redactedLine, line);
    server.script(CHAT,
      { kind: 'chat', toolCalls: [{ name: 'propose_edit', arguments: JSON.stringify({ path: file.path, description: 'add a comment', search: redactedLine, replace: `${redactedLine} // reviewed` }) }] },
      { kind: 'chat', content: 'Added the comment.' });
    const r = await runCli(['ask', '--dir', ws.root, '--yes', 'Mark the credential line as reviewed'], { env });
    assert.equal(r.code, 0, r.stderr);
    const after = readFileSync(join(ws.root, file.path), 'utf8');
    assert.ok(after.includes(`${line} // reviewed`), 'the edit applied to the real line, secret intact');
    assert.ok(!after.includes('[secret:'), 'no placeholder was written into the file');
    writeFileSync(join(ws.root, file.path), file.content);
  });
});
