// `baton ask` end to end: the built CLI, a real index, and a real OpenAI-protocol server on 127.0.0.1.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/ports';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import { runCli } from '../helpers/runCli';
import { OpenAIProtocolServer } from '../helpers/openaiProtocolServer';

const ROUTE = 'POST /v1/chat/completions';

describe('baton ask', function () {
  this.timeout(90_000);
  const server = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    ws = makeWorkspace();
    const baseURL = await server.start();
    env = { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'sk-test-ask-key', BATON_MODEL: 'test-chat' };
    const r = await runCli(['index', ws.root, '--embedder', 'none']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await server.stop();
    ws.remove();
  });
  beforeEach(() => server.reset());

  it('streams the answer after a tool call and ends with the cited sources', async () => {
    server.script(ROUTE,
      { kind: 'chat', toolCalls: [{ name: 'search_code', arguments: JSON.stringify({ query: 'verify session token' }) }] },
      { kind: 'chat', content: 'Tokens are checked by verifySessionToken in src/auth/session.ts:15-22, which compares HMAC signatures.' });
    const r = await runCli(['ask', '--dir', ws.root, 'How are session tokens verified?'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Tokens are checked by verifySessionToken/);
    assert.match(r.stdout, /\nSources:\n  src\/auth\/session\.ts:15-22\n$/);
    assert.match(r.stderr, /search_code/);
    const requests = server.requestsTo(ROUTE);
    assert.equal(requests.length, 2);
    const first = JSON.stringify(requests[0].body);
    assert.match(first, /untrusted-data/, 'retrieved code is fenced as data');
    assert.match(first, /verifySessionToken/, 'retrieved code reaches the model');
    assert.ok(!JSON.stringify(requests.map((q) => q.body)).includes('hunter2'), 'secrets never reach the model');
  });

  it('--json gives answer, sources, conversation id and the trace, without the key', async () => {
    server.script(ROUTE, { kind: 'error', status: 429, retryAfter: '0' }, { kind: 'chat', content: 'See src/util/retry.ts:6-19.' });
    const r = await runCli(['ask', '--dir', ws.root, '--json', 'Where is retry with backoff?'], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.mode, 'agent');
    assert.deepEqual(out.sources, ['src/util/retry.ts:6-19']);
    assert.ok(out.trace.some((e: { kind: string }) => e.kind === 'llm.retry'), 'the 429 retry is in the trace');
    assert.ok(!r.stdout.includes('sk-test-ask-key'));
    assert.ok(existsSync(join(ws.root, '.baton', 'conversations', `${out.conversationId}.json`)), 'the conversation is saved');
  });

  it('answers from retrieval alone, with a one-line hint, when the model server is down', async () => {
    const down = { ...env, OPENAI_BASE_URL: `http://127.0.0.1:${await freePort()}/v1` };
    const r = await runCli(['ask', '--dir', ws.root, 'parse invoice csv'], { env: down });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /The most relevant code for your question:\n\nscripts\/parse_invoice\.py:\d+-\d+/);
    assert.match(r.stdout, /Sources:\n  scripts\/parse_invoice\.py/);
    const notes = r.stderr.split('\n').filter((l) => /connect a model/.test(l));
    assert.equal(notes.length, 1);
  });

  it('saves answers made without a model (retrieval-only and lookups), so --conversation continues them', async () => {
    const down = { ...env, OPENAI_BASE_URL: `http://127.0.0.1:${await freePort()}/v1` };
    const first = await runCli(['ask', '--dir', ws.root, '--json', 'parse invoice csv'], { env: down });
    assert.equal(first.code, 0, first.stderr);
    const { conversationId, mode } = JSON.parse(first.stdout) as { conversationId: string; mode: string };
    assert.equal(mode, 'retrieval-only');
    const second = await runCli(['ask', '--dir', ws.root, '--json', '--conversation', conversationId, 'where is retryWithBackoff defined?'], { env: down });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).conversationId, conversationId);
    const third = await runCli(['ask', '--dir', ws.root, '--json', '--conversation', conversationId, 'and how are invoices totalled?'], { env: down });
    assert.equal(third.code, 0, third.stderr);
    const saved = JSON.parse(readFileSync(join(ws.root, '.baton', 'conversations', `${conversationId}.json`), 'utf8')) as unknown;
    const text = JSON.stringify(saved);
    for (const q of ['parse invoice csv', 'where is retryWithBackoff defined?', 'and how are invoices totalled?']) assert.ok(text.includes(q), `the turn "${q}" is saved`);
  });

  it('remembers past answers and recalls them, fenced, for a related question; never one holding a secret', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'Invoices are totalled by invoice_total_cents in scripts/parse_invoice.py:21-23.' });
    assert.equal((await runCli(['ask', '--dir', ws.root, 'How is the invoice total computed?'], { env })).code, 0);
    server.script(ROUTE, { kind: 'chat', content: 'Use the key sk-abcdefghijklmnopqrstuvwxyz123456 to call it.' });
    assert.equal((await runCli(['ask', '--dir', ws.root, 'Which key do I use for the invoice API?'], { env })).code, 0);
    server.reset();
    server.script(ROUTE, { kind: 'chat', content: 'As before: scripts/parse_invoice.py:21-23.' });
    const r = await runCli(['ask', '--dir', ws.root, 'Remind me how the invoice total is computed'], { env });
    assert.equal(r.code, 0, r.stderr);
    const sent = JSON.stringify(server.requestsTo(ROUTE)[0].body);
    assert.match(sent, /untrusted-data[^"]*source=\\".baton\/memory\\"/, 'memory arrives fenced as data');
    assert.match(sent, /An earlier answer \(\d{4}-\d\d-\d\d\): Question: How is the invoice total computed\?/);
    assert.ok(!sent.includes('sk-abcdefghijklmnopqrstuvwxyz123456'), 'an answer holding a key was never remembered');
  });

  it('runs a routed request with its task: /fix as a low-temperature edit, a question as chat', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'Stop after the last attempt: src/util/retry.ts:6-19.' }, { kind: 'chat', content: 'It signs tokens.' });
    const fix = await runCli(['ask', '--dir', ws.root, '--json', '/fix the retry loop sleeps after the last attempt'], { env });
    assert.equal(fix.code, 0, fix.stderr);
    const question = await runCli(['ask', '--dir', ws.root, '--json', 'How are session tokens signed?'], { env });
    assert.equal(question.code, 0, question.stderr);
    const [fixBody, questionBody] = server.requestsTo(ROUTE).map((q) => q.body as { temperature?: number });
    assert.equal(fixBody.temperature, 0.1);
    assert.equal(questionBody.temperature, 0.3);
    const route = JSON.parse(fix.stdout).trace.find((e: { kind: string; name?: string }) => e.kind === 'note' && e.name === 'route');
    assert.equal(route.data.workflow, 'fix');
    assert.equal(route.data.via, 'rule');
  });

  it('/generate runs the generate workflow with the request; a similar-sounding question stays on ask', async () => {
    server.script(ROUTE, { kind: 'chat', content: '```ts\nexport const slug = (t: string) => t.toLowerCase();\n```' }, { kind: 'chat', content: 'It lower-cases.' });
    const gen = await runCli(['ask', '--dir', ws.root, '--json', '/generate a function that slugifies a title'], { env });
    assert.equal(gen.code, 0, gen.stderr);
    const workflowOf = (stdout: string) => JSON.parse(stdout).trace.find((e: { kind: string; name?: string }) => e.kind === 'note' && e.name === 'workflow').data.id;
    assert.equal(workflowOf(gen.stdout), 'generate');
    const plain = await runCli(['ask', '--dir', ws.root, '--json', 'write a function that slugifies a title'], { env });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(workflowOf(plain.stdout), 'ask');
    const [genBody, plainBody] = server.requestsTo(ROUTE).map((q) => q.body as { tools?: unknown[]; messages: { content: string }[] });
    assert.equal(genBody.tools, undefined, 'generate is a plain llm node: no tools');
    assert.match(genBody.messages.at(-1)!.content, /a function that slugifies a title$/);
    assert.doesNotMatch(genBody.messages.at(-1)!.content, /\/generate/);
    assert.ok(plainBody.tools && plainBody.tools.length > 0, 'ask offers tools');
  });

  it('continues a saved conversation in a later process with --conversation', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'Sessions live 30 minutes by default.' }, { kind: 'chat', content: 'Yes, pass a longer ttlMs.' });
    const first = await runCli(['ask', '--dir', ws.root, '--json', 'How long do sessions live?'], { env });
    assert.equal(first.code, 0, first.stderr);
    const id = JSON.parse(first.stdout).conversationId as string;
    const second = await runCli(['ask', '--dir', ws.root, '--json', '--conversation', id, 'Can I make them longer?'], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).conversationId, id);
    const history = (server.requestsTo(ROUTE)[1].body as { messages: { role: string; content: string }[] }).messages;
    assert.ok(history.some((m) => m.role === 'user' && m.content === 'How long do sessions live?'), 'the earlier question is in the history');
    assert.ok(history.some((m) => m.role === 'assistant' && /Sessions live 30 minutes/.test(m.content)), 'and the earlier answer');
  });

  it('answers "where is X defined" from the index, without calling a model', async () => {
    const r = await runCli(['ask', '--dir', ws.root, '--json', 'where is retryWithBackoff defined?'], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.mode, 'lookup');
    assert.match(out.answer, /^`retryWithBackoff` is defined in:\n\nsrc\/util\/retry\.ts:\d+-\d+  retryWithBackoff/);
    assert.match(out.sources[0], /^src\/util\/retry\.ts:\d+-\d+$/);
    assert.equal(server.requestsTo(ROUTE).length, 0, 'no model call');
  });

  it('refuses a side-effecting tool without a TTY or --yes, and runs nothing', async () => {
    server.script(ROUTE,
      { kind: 'chat', toolCalls: [{ name: 'run_command', arguments: JSON.stringify({ command: 'touch pwned.marker' }) }] },
      { kind: 'chat', content: 'I could not run the command.' });
    const r = await runCli(['ask', '--dir', ws.root, 'clean the build'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(ws.root, 'pwned.marker')));
    assert.match(JSON.stringify(server.requestsTo(ROUTE)[1].body), /declined/);
  });
});
