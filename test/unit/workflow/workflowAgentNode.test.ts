// The `agent` workflow node against a real OpenAI-protocol server: tool calls then an answer, its
// details in the state, streaming, the no-retry-after-side-effects rule, and `ask()` running the
// workspace's `ask` workflow (a user override included).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { AgentEvent } from '../../../src/core/agent/loop';
import { NodeHost } from '../../../src/core/host/nodeHost';
import { indexWorkspace } from '../../../src/core/indexing/indexer';
import { batonDirOf, openIndexForSearch, type OpenedIndex } from '../../../src/core/indexing/workspaceIndex';
import { LlmClient } from '../../../src/core/llm/client';
import { DEFAULT_RETRY_POLICY } from '../../../src/core/llm/retry';
import { ask } from '../../../src/core/orchestration/orchestrator';
import { createCoreToolRegistry } from '../../../src/core/tools/allTools';
import { Trace } from '../../../src/core/trace/trace';
import { runWorkflow, WorkflowRunError, type WorkflowRunOptions } from '../../../src/core/workflow/engine';
import type { AgentDetails, WorkflowServices } from '../../../src/core/workflow/nodes';
import { parseWorkflow, WorkflowValidationError, type WorkflowDefinition, type WorkflowInput } from '../../../src/core/workflow/schema';
import { OpenAIProtocolServer } from '../../helpers/openaiProtocolServer';
import { seededRandom } from '../../helpers/seededRandom';
import { makeWorkspace, type TempWorkspace } from '../../helpers/workspace';

const ROUTE = 'POST /v1/chat/completions';
type Sent = { messages: Array<{ role: string; content: string | null }>; tools?: Array<{ function: { name: string } }> };

describe('workflow agent node', function () {
  this.timeout(60_000);
  const server = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let index: OpenedIndex;
  let llm: LlmClient;
  let baseURL: string;

  before(async () => {
    baseURL = await server.start();
    llm = new LlmClient({
      models: { chat: [{ model: 'test-chat', baseURL, apiKeyEnv: 'BATON_TEST_KEY', contextWindow: 16_384, maxOutputTokens: 256, timeoutMs: 5_000 }] },
      // No client-side retries: a scripted 500 ends the agent's model call at once.
      retry: { ...DEFAULT_RETRY_POLICY, maxRetries: 0, baseDelayMs: 1, maxDelayMs: 2 },
      random: seededRandom(5),
      env: {},
    });
    ws = makeWorkspace();
    await indexWorkspace({ root: ws.root, batonDir: batonDirOf(ws.root), embedder: null });
    index = await openIndexForSearch(ws.root);
  });
  after(async () => {
    await server.stop();
    await index?.close();
    ws?.remove();
  });
  beforeEach(() => server.reset());

  const sent = (): Sent[] => server.requestsTo(ROUTE).map((r) => r.body as Sent);
  const define = (raw: Omit<WorkflowInput, 'id'>) => parseWorkflow({ id: 'test', ...raw }, { file: 'test.json' });
  const host = (autoApprove = false) => new NodeHost({ root: ws.root, autoApprove, input: new PassThrough(), output: new PassThrough() });
  const run = (def: WorkflowDefinition, input: Record<string, unknown>, services: Partial<WorkflowServices> = {}, opts: Partial<WorkflowRunOptions> = {}) =>
    runWorkflow(def, {
      input,
      services: { trace: new Trace(), llm, retriever: index.retriever, tools: createCoreToolRegistry(), toolContext: { host: host(), retriever: index.retriever }, ...services },
      ...opts,
    });
  const toolCall = (name: string, args: Record<string, unknown>) => ({ kind: 'chat' as const, toolCalls: [{ name, arguments: JSON.stringify(args) }] });

  /** retrieve -> agent, the shape of the built-in ask. */
  const retrieveThenAgent = (agent: Record<string, unknown> = {}) => define({
    state: { question: { type: 'string', required: true }, context: { type: 'array' }, answer: { type: 'string' }, details: { type: 'object' } },
    start: 'retrieve',
    nodes: [
      { id: 'retrieve', kind: 'retrieve', query: '{{question}}', k: 4, output: 'context' },
      { id: 'agent', kind: 'agent', question: 'Question: {{question}}', system: 'You answer questions about {{question}}.', context: 'context', stream: true, output: 'answer', details: 'details', ...agent },
    ],
    edges: [{ from: 'retrieve', to: 'agent' }],
    outputs: ['answer', 'details'],
  });

  it('calls a tool, then answers: answer, tool calls and stop reason in the state, tokens streamed', async () => {
    const reply = 'retryWithBackoff is defined in src/util/retry.ts:7.';
    server.script(ROUTE, toolCall('grep', { pattern: 'retryWithBackoff' }), { kind: 'chat', content: reply });
    const tokens: string[] = [];
    const events: Array<AgentEvent['type']> = [];
    const result = await run(retrieveThenAgent({ tools: ['grep', 'read_file'] }), { question: 'retry with backoff' }, {}, {
      onToken: (delta, info) => {
        assert.equal(info.node, 'agent');
        tokens.push(delta);
      },
      onAgentEvent: (e, info) => {
        assert.equal(info.node, 'agent');
        events.push(e.type);
      },
    });

    assert.equal(result.outputs.answer, reply);
    assert.equal(tokens.join(''), reply);
    const details = result.outputs.details as AgentDetails;
    assert.equal(details.stopReason, 'answer');
    assert.equal(details.steps, 2);
    assert.deepEqual(details.toolCalls, [{ step: 1, name: 'grep', arguments: JSON.stringify({ pattern: 'retryWithBackoff' }), outcome: 'ok' }]);
    assert.deepEqual(events, ['step', 'tool-call', 'tool-result', 'step', 'stop']);

    const [first, second] = sent();
    // Only the tools the node names are offered; the templated system and question arrive, with the retrieved code fenced.
    assert.deepEqual(first.tools!.map((t) => t.function.name).sort(), ['grep', 'read_file']);
    assert.ok(first.messages[0].content!.startsWith('You answer questions about retry with backoff.'));
    assert.match(first.messages.at(-1)!.content!, /<untrusted-data-[0-9a-f]{8} source="src\/util\/retry\.ts:\d+-\d+">/);
    assert.ok(first.messages.at(-1)!.content!.endsWith('Question: retry with backoff'));
    // The grep result went back to the model.
    assert.match(JSON.stringify(second.messages), /src\/util\/retry\.ts:7: export async function retryWithBackoff/);
    const end = result.trace.ofKind('node.end').find((e) => e.name === 'agent')!.data!;
    assert.deepEqual(end.toolCalls, [{ name: 'grep', outcome: 'ok' }]);
    assert.equal(end.stopReason, 'answer');
  });

  it('retries an agent whose model failed after read-only tool calls', async () => {
    server.script(ROUTE,
      toolCall('grep', { pattern: 'retryWithBackoff' }), { kind: 'error', status: 500, message: 'model crashed' },
      { kind: 'chat', content: 'Second try: see src/util/retry.ts:7.' });
    const result = await run(retrieveThenAgent({ retry: { attempts: 3, backoffMs: 0 } }), { question: 'retry with backoff' });
    assert.equal(result.outputs.answer, 'Second try: see src/util/retry.ts:7.');
    assert.deepEqual(result.trace.ofKind('node.end').map((e) => `${e.name}:${e.data!.status}`), ['retrieve:ok', 'agent:error', 'agent:ok']);
    assert.equal(result.trace.ofKind('node.retry').length, 1);
    assert.equal(sent().length, 3);
  });

  it('never re-runs an agent whose tools had side effects, even with retries left', async () => {
    // An approved command that leaves one line per run, then the model fails: a retry would run it again.
    const command = 'echo ran >> agent-side-effect.txt';
    server.script(ROUTE, toolCall('run_command', { command }), { kind: 'error', status: 500, message: 'model crashed' },
      { kind: 'chat', content: 'a retry must not get this far' });
    const trace = new Trace();
    const def = retrieveThenAgent({ retry: { attempts: 3, backoffMs: 0 } });
    const err = await run(def, { question: 'clean the build' }, { trace, toolContext: { host: host(true), retriever: index.retriever } })
      .then(() => assert.fail('expected the run to fail'), (e: Error) => e);
    assert.ok(err instanceof WorkflowRunError);
    assert.equal(err.node, 'agent');
    assert.match(err.message, /node "agent" \(agent\) failed: .*model crashed/);
    assert.equal(readFileSync(join(ws.root, 'agent-side-effect.txt'), 'utf8'), 'ran\n');
    assert.equal(sent().length, 2);
    assert.equal(trace.ofKind('node.retry').length, 0);
    assert.deepEqual(trace.ofKind('note').filter((e) => e.name === 'agent').map((e) => e.data!.retrySkipped), ['tools with side effects ran: run_command']);
    // The state up to the failure comes with the error.
    assert.ok(Array.isArray(err.state!.context));

    // A refused side effect is final too: retrying would ask the user again.
    server.reset();
    server.script(ROUTE, toolCall('run_command', { command }), { kind: 'error', status: 500, message: 'model crashed' });
    await assert.rejects(run(def, { question: 'clean the build' }), /model crashed/);
    assert.equal(sent().length, 2);
    assert.equal(readFileSync(join(ws.root, 'agent-side-effect.txt'), 'utf8'), 'ran\n');
  });

  it('keeps a partial answer with its note when the run stops short (step limit), and follows an error edge when there is none', async () => {
    server.script(ROUTE, { kind: 'chat', content: 'Looking.', toolCalls: [{ name: 'grep', arguments: '{"pattern":"retry"}' }] });
    const limited = await run(retrieveThenAgent({ maxSteps: 1 }), { question: 'retry' });
    const details = limited.outputs.details as AgentDetails;
    assert.equal(details.stopReason, 'max-steps');
    assert.match(String(limited.outputs.answer), /^Looking\.\n\n\[Stopped at the step limit \(1\)/);

    server.reset();
    server.script(ROUTE, { kind: 'error', status: 500, message: 'down' });
    const def = define({
      state: { question: { type: 'string', required: true } },
      start: 'agent',
      nodes: [
        { id: 'agent', kind: 'agent', question: '{{question}}', tools: [], output: 'answer' },
        { id: 'fallback', kind: 'code', fn: 'passthrough', args: { value: 'fallback: {{error.message}}' }, output: 'answer' },
      ],
      edges: [{ from: 'agent', to: 'fallback', on: 'error' }],
      outputs: ['answer'],
    });
    const recovered = await run(def, { question: 'hello' });
    assert.match(String(recovered.outputs.answer), /^fallback: workflow "test": node "agent" \(agent\) failed: .*down/);
    assert.equal(sent()[0].tools, undefined, 'tools: [] offers none');
  });

  it('validates agent nodes: template paths, tool names, details key', () => {
    const raw = {
      id: 'bad', start: 'a',
      state: { question: { type: 'string' } },
      nodes: [{ id: 'a', kind: 'agent', question: '{{questoin}}', context: 'nowhere', tools: ['grep', 'rm_rf'], output: 'answer', details: 'answer' }],
    };
    try {
      parseWorkflow(raw, { file: 'bad.json', tools: ['grep', 'read_file'] });
      assert.fail('expected a validation error');
    } catch (err) {
      assert.ok(err instanceof WorkflowValidationError, String(err));
      assert.deepEqual(err.issues.map((i) => i.field).sort(), ['context', 'details', 'question', 'tools[1]']);
      assert.match(err.message, /node "a", field "tools\[1\]": no tool named "rm_rf"/);
    }
  });

  describe('ask()', () => {
    const env = () => ({ OPENAI_BASE_URL: `${baseURL}`, OPENAI_API_KEY: 'sk-test', BATON_MODEL: 'test-chat' });

    it('runs the built-in ask workflow: tool call, answer, cited sources, saved conversation', async () => {
      server.script(ROUTE, toolCall('search_code', { query: 'verify session token' }),
        { kind: 'chat', content: 'verifySessionToken in src/auth/session.ts:15-22 checks the HMAC.' });
      const events: string[] = [];
      const tokens: string[] = [];
      const result = await ask({
        host: host(), question: 'How are session tokens verified?', env: env(),
        onEvent: (e) => events.push(e.type), onToken: (d) => tokens.push(d),
      });
      assert.equal(result.mode, 'agent');
      assert.equal(result.stopReason, 'answer');
      assert.equal(result.note, undefined);
      assert.equal(result.answer, 'verifySessionToken in src/auth/session.ts:15-22 checks the HMAC.');
      assert.equal(tokens.join(''), result.answer);
      assert.deepEqual(result.sources, [{ path: 'src/auth/session.ts', startLine: 15, endLine: 22 }]);
      assert.deepEqual(events, ['step', 'tool-call', 'tool-result', 'step', 'stop']);
      assert.ok(existsSync(join(ws.root, '.baton', 'conversations', `${result.conversationId}.json`)));
      assert.deepEqual(result.trace.filter((e) => e.kind === 'node.end').map((e) => e.name), ['retrieve', 'answer']);
    });

    it('honours a user ask.json override, and reports broken workflow files', async () => {
      ws.write('.baton/workflows/ask.json', JSON.stringify({
        state: { question: { type: 'string', required: true }, answer: { type: 'string' }, hits: { type: 'array' } },
        start: 'find',
        nodes: [
          { id: 'find', kind: 'retrieve', query: '{{question}}', k: 2, output: 'hits' },
          { id: 'reply', kind: 'agent', question: '{{question}}', system: 'Answer like a pirate.', context: 'hits', tools: [], output: 'answer' },
        ],
        edges: [{ from: 'find', to: 'reply' }],
      }));
      ws.write('.baton/workflows/broken.json', '{ "start": ');
      try {
        server.script(ROUTE, { kind: 'chat', content: 'Arr, no citations here.' });
        const notices: string[] = [];
        const result = await ask({ host: host(), question: 'parse invoice csv', env: env(), trusted: true, onNotice: (m) => notices.push(m) });
        assert.equal(result.answer, 'Arr, no citations here.');
        assert.ok(sent()[0].messages[0].content!.startsWith('Answer like a pirate.'));
        assert.ok(notices.includes('.baton/workflows/ask.json overrides the built-in workflow "ask"'), notices.join('\n'));
        assert.ok(notices.some((n) => /^workflow not loaded: \.baton\/workflows\/broken\.json: invalid JSON/.test(n)), notices.join('\n'));
        // Nothing cited: the sources are what the override's retrieve node found.
        assert.equal(result.sources.length, 2);
      } finally {
        rmSync(join(ws.root, '.baton', 'workflows'), { recursive: true, force: true });
      }
    });

    it('answers from the workflow\'s retrieval when the model refuses, saying why without the connect-a-model advice', async () => {
      // 401 is not retried by the client, so the model's one answer is this refusal.
      server.script(ROUTE, { kind: 'error', status: 401, message: 'invalid api key' });
      const result = await ask({ host: host(), question: 'parse invoice csv', env: env() });
      assert.equal(result.mode, 'retrieval-only');
      assert.match(result.answer, /^The most relevant code for your question:\n\nscripts\/parse_invoice\.py:\d+-\d+/);
      assert.match(result.note!, /^test-chat at http:\/\/127\.0\.0\.1:\d+\/v1: the key in \$OPENAI_API_KEY was rejected \(401 invalid api key\); answered from retrieval alone$/);
      assert.doesNotMatch(result.note!, /connect a model/, 'a model is configured and reachable');
    });
  });
});
