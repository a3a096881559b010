import assert from 'node:assert/strict';
import { LlmClient } from '../../../src/core/llm/client';
import { createTokenCounter } from '../../../src/core/llm/tokens';
import type { ChatMessage, ModelConfig } from '../../../src/core/llm/types';
import {
  Conversation, createLlmSummarizer, formatCitation, SUMMARY_HEADING, validateConversationData, type Summarizer,
} from '../../../src/core/memory/conversation';
import { Trace } from '../../../src/core/trace/trace';
import { OpenAIProtocolServer, sendJson } from '../../helpers/openaiProtocolServer';

const ROUTE = 'POST /v1/chat/completions';

interface SentBody { model: string; messages: Array<{ role: string; content: string }>; temperature?: number; max_tokens?: number }

describe('Conversation', function () {
  this.timeout(60_000);
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  /** 'numbered': each summary is "summary #N"; 'echo': the summary repeats its whole input (too long). */
  let mode: 'numbered' | 'echo' = 'numbered';
  before(async () => {
    baseURL = await server.start();
    server.route(ROUTE, (req, res) => {
      const body = req.body as SentBody;
      const n = server.requestsTo(ROUTE).length;
      const content = mode === 'echo' ? body.messages.map((m) => m.content).join('\n') : `summary #${n}`;
      sendJson(res, 200, {
        id: 'chatcmpl-test', object: 'chat.completion', created: 1700000000, model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
      });
    });
  });
  after(() => server.stop());
  beforeEach(() => { server.reset(); mode = 'numbered'; });

  const model = (name: string): ModelConfig => ({ model: name, baseURL, contextWindow: 8192, maxOutputTokens: 512, timeoutMs: 5_000 });
  const client = () => new LlmClient({
    models: { chat: [model('big-chat')], fast: [model('small-fast')] },
    retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 2 },
    env: {},
  });
  const sent = (): SentBody[] => server.requestsTo(ROUTE).map((r) => r.body as SentBody);
  const counter = createTokenCounter('gpt-4o');

  /** A conversation of `exchanges` question/answer pairs, every third answer using a tool. */
  function grow(conv: Conversation, from: number, exchanges: number): void {
    for (let i = from; i < from + exchanges; i++) {
      conv.addUser(`question-${i}: how does module ${i} handle retries and timeouts when the server is slow? ` + 'detail '.repeat(i % 7));
      if (i % 3 === 0) {
        conv.addAssistant('', { toolCalls: [{ id: `call-${i}`, name: 'read_file', arguments: JSON.stringify({ path: `src/m${i}.ts` }) }] });
        conv.addToolResult(`call-${i}`, 'read_file', `tool-${i}: ` + `export function m${i}() { return ${i}; }\n`.repeat(8));
      }
      conv.addAssistant(`answer-${i}: module ${i} retries three times with backoff. ` + 'more '.repeat(i % 5), {
        sources: [{ path: `src/m${i}.ts`, startLine: i + 1, endLine: i + 20 }],
      });
    }
  }

  /** Every tool message answers a call made by an earlier assistant message of the same history. */
  function assertToolPairing(history: ChatMessage[]): void {
    const called = new Set<string>();
    for (const m of history) {
      for (const c of m.toolCalls ?? []) called.add(c.id);
      if (m.role === 'tool') assert.ok(called.has(m.toolCallId!), `orphan tool result ${m.toolCallId}`);
    }
  }

  it('sends everything verbatim, sources included, while it fits, without calling the model', async () => {
    const conv = new Conversation(undefined, { summarize: createLlmSummarizer(client()) });
    grow(conv, 0, 3);
    const history = await conv.historyFor(4000, counter);
    assert.equal(history.length, conv.turns.length);
    assert.equal(history[0].content, conv.turns[0].content);
    assert.ok(history.at(-1)!.content!.endsWith(`Sources: ${formatCitation({ path: 'src/m2.ts', startLine: 3, endLine: 22 })}`));
    assert.equal(history[1].toolCalls?.[0].name, 'read_file');
    assert.equal(history[2].role, 'tool');
    assert.equal(conv.title, conv.turns[0].content.replace(/\s+/g, ' ').trim().slice(0, 79) + '…');
    assert.equal(sent().length, 0);
  });

  it('stays within budget over many turns, summarising each turn once, incrementally, on the fast model', async () => {
    const trace = new Trace();
    const conv = new Conversation(undefined, { summarize: createLlmSummarizer(client(), { trace }) });
    const budget = 700;
    let requestsBefore = 0;
    for (let i = 0; i < 40; i++) {
      grow(conv, i, 1);
      conv.addUser(`current question ${i}`);
      const history = await conv.historyFor(budget, counter, { trace });
      assert.ok(counter.countMessages(history) <= budget, `turn ${i}: ${counter.countMessages(history)} tokens`);
      assert.deepEqual(history.at(-1), { role: 'user', content: `current question ${i}` });
      assert.notEqual(history[0].role, 'tool');
      assertToolPairing(history);
      // Asking again without a new turn never calls the model.
      requestsBefore = sent().length;
      assert.deepEqual(await conv.historyFor(budget, counter), history);
      assert.equal(sent().length, requestsBefore);
    }
    const bodies = sent();
    assert.ok(bodies.length >= 2, `expected several summaries, got ${bodies.length}`);
    assert.ok(bodies.length < 20, `folding should batch turns, got ${bodies.length} summaries for 40 exchanges`);
    // Each turn went to the summariser exactly once.
    const covered = conv.summary!.coveredTurns;
    for (let i = 0; i < covered; i++) {
      const marker = conv.turns[i].content.split(':')[0];
      if (!marker) continue; // tool-calling assistant turns have no text
      const hits = bodies.filter((b) => new RegExp(`\\b${marker}\\b(?!\\d)`).test(b.messages[1].content)).length;
      assert.equal(hits, 1, `${marker} summarised ${hits} times`);
    }
    // Incremental: each summary after the first was given the previous one.
    bodies.slice(1).forEach((b, i) => assert.match(b.messages[1].content, new RegExp(`Summary so far:\\nsummary #${i + 1}\\b`)));
    // The production summariser: the fast model, a low temperature, the summary's share as its limit.
    assert.ok(bodies.every((b) => b.model === 'small-fast' && b.temperature === 0.1));
    assert.ok(bodies.every((b) => b.max_tokens === Math.floor(budget * 0.25)));
    // Tool output reaches the summariser fenced as untrusted data.
    assert.ok(bodies.some((b) => /<untrusted-data-[0-9a-f]{8} source="tool read_file">/.test(b.messages[1].content)));
    const history = await conv.historyFor(budget, counter);
    assert.equal(history[0].role, 'system');
    assert.equal(history[0].content, `${SUMMARY_HEADING}\nsummary #${bodies.length}`);
    assert.equal(trace.ofKind('note').filter((e) => e.name === 'history.summarised').length, bodies.length);
  });

  it('keeps an over-long summary within its share of the budget', async () => {
    mode = 'echo';
    const conv = new Conversation(undefined, { summarize: createLlmSummarizer(client()) });
    grow(conv, 0, 30);
    const history = await conv.historyFor(600, counter);
    assert.ok(counter.countMessages(history) <= 600);
    assert.ok(history[0].content!.startsWith(SUMMARY_HEADING));
    assert.ok(counter.count(conv.summary!.text) <= 150);
    assert.equal(sent().length, 1);
  });

  it('falls back to dropping the oldest turns with a note when the summariser fails, and retries later', async () => {
    const trace = new Trace();
    const conv = new Conversation(undefined, { summarize: createLlmSummarizer(client()) });
    grow(conv, 0, 30);
    server.script(ROUTE, { kind: 'error', status: 503, message: 'model is down' });
    const history = await conv.historyFor(600, counter, { trace });
    assert.ok(counter.countMessages(history) <= 600);
    assert.equal(history[0].role, 'system');
    assert.match(history[0].content!, /^Note: \d+ earlier turns were left out/);
    assert.equal(history.at(-1)!.content, conv.turns.at(-1)!.content + '\n\nSources: src/m29.ts:30-49');
    assertToolPairing(history);
    assert.equal(conv.summary, undefined);
    const failed = trace.ofKind('note').find((e) => e.name === 'history.summary-failed');
    assert.match(String(failed?.data?.message), /503|model is down/);

    // The model is back: the same turns are summarised now.
    const again = await conv.historyFor(600, counter);
    assert.equal(again[0].content, `${SUMMARY_HEADING}\nsummary #2`);
    assert.equal(sent().length, 2);
  });

  it('falls back without a summariser, and when the summariser returns nothing', async () => {
    const bare = new Conversation();
    grow(bare, 0, 30);
    const history = await bare.historyFor(500, counter);
    assert.ok(counter.countMessages(history) <= 500);
    assert.match(history[0].content!, /earlier turns were left out/);

    const empty: Summarizer = async () => '   ';
    const conv = new Conversation(undefined, { summarize: empty });
    grow(conv, 0, 30);
    const h2 = await conv.historyFor(500, counter);
    assert.match(h2[0].content!, /earlier turns were left out/);
    assert.equal(conv.summary, undefined);
  });

  it('lets the event loop run while it counts a long history, and stops when aborted', async () => {
    const conv = new Conversation();
    // Thirty pasted 100,000-character questions, each different, so nothing is counted from a cache.
    for (let t = 0; t < 30; t++) {
      conv.addUser(Array.from({ length: 9000 }, (_, w) => `w${t}x${w}`).join(' '));
      conv.addAssistant(`answer ${t}`);
    }
    let turns = 0;
    let spinning = true;
    const spin = () => { if (spinning) { turns++; setImmediate(spin); } };
    setImmediate(spin);
    const history = await conv.historyFor(2000, counter);
    spinning = false;
    assert.ok(counter.countMessages(history) <= 2000);
    assert.ok(turns > 2, `the event loop turned ${turns} times while the history was built`);

    const abort = new AbortController();
    const pending = conv.historyFor(2000, counter, { signal: abort.signal });
    setImmediate(() => abort.abort(new Error('stopped by the test')));
    await assert.rejects(pending, /stopped by the test/);
  });

  it('truncates a single turn larger than the whole budget instead of failing', async () => {
    const conv = new Conversation();
    conv.addUser('hello');
    conv.addAssistant('hi');
    conv.addUser('please review: ' + 'const x = compute(a, b, c);\n'.repeat(2000));
    const history = await conv.historyFor(300, counter);
    assert.ok(counter.countMessages(history) <= 300, String(counter.countMessages(history)));
    assert.equal(history.at(-1)!.role, 'user');
    assert.ok(history.at(-1)!.content!.startsWith('please review:'));
    assert.match(history.at(-1)!.content!, /\[\.\.\. truncated: \d+ of \d+ characters not shown \.\.\.\]$/);
  });

  it('never sends a tool result without its call when the cut lands inside a tool exchange', async () => {
    const conv = new Conversation();
    conv.addUser('start');
    conv.addAssistant('', { toolCalls: [{ id: 'a', name: 'grep', arguments: '{}' }, { id: 'b', name: 'grep', arguments: '{}' }] });
    conv.addToolResult('a', 'grep', 'x '.repeat(300));
    conv.addToolResult('b', 'grep', 'y '.repeat(300));
    conv.addAssistant('done');
    conv.addUser('next');
    for (const budget of [120, 200, 400, 700, 2000]) {
      const h = await new Conversation(structuredClone(conv.data), { summarize: async () => 'sum' }).historyFor(budget, counter);
      assert.ok(counter.countMessages(h) <= budget);
      assert.notEqual(h.find((m) => m.role !== 'system')?.role, 'tool');
      assertToolPairing(h);
    }
  });

  it('validates persisted data and names the problem', () => {
    const conv = new Conversation();
    conv.addUser('q');
    assert.doesNotThrow(() => validateConversationData(JSON.parse(JSON.stringify(conv.data))));
    const broken = JSON.parse(JSON.stringify(conv.data));
    broken.turns[0].role = 'wizard';
    assert.throws(() => validateConversationData(broken), /turn 0 has unknown role "wizard"/);
    assert.throws(() => validateConversationData([]), /not a JSON object/);
  });
});
