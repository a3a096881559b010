// The language server under the longest questions a client may send, over its real stdio with a
// real OpenAI-protocol model server: while a 100,000-character question is worked on, status and
// cancellation still answer within a second; a question just under the cap is answered; one far
// over it is refused at once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResponseError } from 'vscode-jsonrpc/node';
import { MAX_QUESTION_CHARS } from '../../src/protocol';
import { LspClient } from '../helpers/lspClient';
import { OpenAIProtocolServer } from '../helpers/openaiProtocolServer';
import { makeWorkspace, REPO_ROOT, type TempWorkspace } from '../helpers/workspace';

const CHAT = 'POST /v1/chat/completions';
/** What the tests allow a status or cancel answer to take while the server works on a question. */
const RESPONSIVE_MS = 1000;

/** A question as a user might paste it: code, a stack trace, JSON, prose, some CJK; `n` characters. */
function realisticQuestion(n: number): string {
  const parts = [
    'Why does this fail when the session expires? Here is the code and the log:\n\n',
    readFileSync(join(REPO_ROOT, 'src/core/orchestration/orchestrator.ts'), 'utf8'),
    'TypeError: Cannot read properties of undefined (reading \'token\')\n    at verifySessionToken (src/auth/session.ts:18:22)\n'.repeat(40),
    JSON.stringify({ users: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `user${i}`, roles: ['admin', 'dev'] })) }),
    '用户会话过期后，令牌验证失败。请检查配置文件中的密钥设置。\n'.repeat(50),
    readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'),
  ];
  let text = '';
  for (let i = 0; text.length < n; i++) text += parts[i % parts.length];
  return text.slice(0, n);
}

const QUESTIONS: ReadonlyArray<[string, (n: number) => string]> = [
  ['one character repeated', (n) => 'a'.repeat(n)],
  ['a realistic mix', realisticQuestion],
];

describe('language server with long questions', function () {
  this.timeout(180_000);
  const model = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let client: LspClient;
  let runs = 0;
  const runId = () => `long-${++runs}`;

  before(async () => {
    const baseUrl = await model.start();
    ws = makeWorkspace();
    client = await LspClient.start({ root: ws.root, settings: { embedder: 'none', baseUrl, model: 'test-chat' }, env: { OPENAI_API_KEY: 'sk-test' } });
    await client.waitForState('indexed');
  });
  after(async () => {
    await client?.stop();
    await model.stop();
    ws?.remove();
  });
  beforeEach(() => model.reset());

  /** Asks indexStatus over and over while `run` is pending; the slowest answer, in ms. */
  async function slowestStatusWhile(run: Promise<unknown>): Promise<{ slowest: number; polls: number }> {
    let pending = true;
    void run.finally(() => (pending = false)).catch(() => undefined);
    let slowest = 0;
    let polls = 0;
    while (pending) {
      const start = performance.now();
      await client.request('baton/indexStatus', {});
      slowest = Math.max(slowest, performance.now() - start);
      polls++;
      await sleep(50);
    }
    return { slowest, polls };
  }

  for (const [kind, make] of QUESTIONS) {
    it(`answers indexStatus within a second while it works on a 100,000-character question (${kind}), then answers it`, async () => {
      model.script(CHAT, { kind: 'chat', chunks: ['The session ', 'token expired.'], chunkDelayMs: 200 });
      const id = runId();
      const asked = client.request('baton/ask', { runId: id, question: make(100_000) });
      const { slowest, polls } = await slowestStatusWhile(asked);
      const response = await asked;
      if (process.env.BATON_FIGURES) console.log(`FIGURE ${kind}: slowest status ${slowest.toFixed(0)} ms over ${polls} polls`);
      assert.equal(response.answer, 'The session token expired.');
      assert.ok(polls >= 2, `status was asked ${polls} times`);
      assert.ok(slowest < RESPONSIVE_MS, `the slowest status answer took ${slowest.toFixed(0)} ms`);
      // The question reached the model (cut to the context window, with the marker saying so).
      const sent = JSON.stringify(model.requestsTo(CHAT)[0].body);
      assert.ok(sent.includes(JSON.stringify(make(200)).slice(1, -1)), 'the start of the question is in the prompt');
    });

    it(`stops a run on a 100,000-character question (${kind}) within a second of baton/cancel`, async () => {
      model.script(CHAT, { kind: 'chat', chunks: Array.from({ length: 50 }, (_, i) => `word${i} `), chunkDelayMs: 200 });
      const id = runId();
      const asked = client.request('baton/ask', { runId: id, question: make(100_000) });
      const start = performance.now();
      assert.deepEqual(await client.request('baton/cancel', { runId: id }), { cancelled: true });
      const response = await asked;
      const elapsed = performance.now() - start;
      if (process.env.BATON_FIGURES) console.log(`FIGURE ${kind}: stopped ${elapsed.toFixed(0)} ms after cancel`);
      assert.equal(response.cancelled, true);
      assert.ok(elapsed < RESPONSIVE_MS, `the run stopped ${elapsed.toFixed(0)} ms after baton/cancel`);
      assert.ok(client.traces.some((t) => t.runId === id) || (await client.waitFor(() => client.traces.some((t) => t.runId === id), 'the trace')));
    });
  }

  it('answers a question just under the cap', async () => {
    model.script(CHAT, { kind: 'chat', content: 'Answered.' });
    const question = realisticQuestion(MAX_QUESTION_CHARS - 1);
    const response = await client.request('baton/ask', { runId: runId(), question });
    assert.equal(response.answer, 'Answered.');
    assert.equal(response.mode, 'agent');
    const conversation = await client.request('baton/conversation', { id: response.conversationId });
    assert.equal(conversation.messages[0].text, question, 'the whole question is kept in the conversation');
  });

  it('refuses a 2,000,000-character question at once with InvalidParams, doing no work', async () => {
    const before = model.requestsTo(CHAT).length;
    const refused = await client.request('baton/ask', { runId: runId(), question: 'q'.repeat(2_000_000) }).then(() => undefined, (err: unknown) => err);
    assert.ok(refused instanceof ResponseError, String(refused));
    assert.equal(refused.code, -32602);
    assert.match(refused.message, /question: the question is too long: 2000000 characters, at most 100000/);
    assert.equal(model.requestsTo(CHAT).length, before, 'no model call');
    assert.equal((await client.request('baton/indexStatus', {})).state, 'indexed');
  });
});
