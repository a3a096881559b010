// Model failures as a user meets them: the built CLI and the language server against the real
// OpenAI-protocol server with injected faults. Each failure is one accurate line (the retrieval-only
// answer still follows), a hung server is given up on after the configured first-byte timeout with
// progress shown meanwhile, and Ctrl-C or baton/cancel end the wait at once.
import assert from 'node:assert/strict';
import type { RunProgress } from '../../src/protocol';
import { freePort } from '../helpers/ports';
import { LspClient } from '../helpers/lspClient';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';
import { runCli, startCli } from '../helpers/runCli';
import { OpenAIProtocolServer, serveDuringSuite, type Step } from '../helpers/openaiProtocolServer';

const ROUTE = 'POST /v1/chat/completions';
const KEY = 'sk-test-e2e-failure-key-123456';
const QUESTION = 'How are session tokens verified?';
const PROGRESS = /^baton: waiting for test-chat at http:\/\/127\.0\.0\.1:\d+\/v1… \d+(\.\d)? m?s( \(attempt \d\))?$/;
const times = (n: number, step: Step): Step[] => Array.from({ length: n }, () => step);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('model failures, end to end', function () {
  this.timeout(120_000);
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  serveDuringSuite(server, (url) => { baseURL = url; });

  describe('baton ask', () => {
    let ws: TempWorkspace;
    let env: NodeJS.ProcessEnv;
    const config = (llm: Record<string, unknown>) => ws.write('baton.config.json', JSON.stringify({ llm }));
    before(async () => {
      ws = makeWorkspace();
      config({ firstByteTimeoutMs: 1000 });
      env = { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: KEY, BATON_MODEL: 'test-chat' };
      const r = await runCli(['index', ws.root, '--embedder', 'none']);
      assert.equal(r.code, 0, r.stderr);
    });
    after(() => ws.remove());

    /** The lines of stderr that are not wait progress. */
    const messages = (stderr: string) => stderr.split('\n').filter((l) => l && !PROGRESS.test(l));

    it('prints exactly one accurate line per failure, then the retrieval-only answer; no SDK noise, no key', async () => {
      const at = `test-chat at ${baseURL}: `;
      const alone = '; answered from retrieval alone';
      const refused = await freePort();
      const cases: Array<{ what: string; steps: Step[]; line: string | RegExp; env?: NodeJS.ProcessEnv }> = [
        { what: '401', steps: [{ kind: 'error', status: 401, message: `Incorrect API key provided: ${KEY}` }],
          line: `${at}the key in $OPENAI_API_KEY was rejected (401 Incorrect API key provided: [redacted])${alone}` },
        { what: '400', steps: [{ kind: 'error', status: 400, message: 'messages: too many tokens' }],
          line: `${at}the request was refused (400 messages: too many tokens)${alone}` },
        { what: '404', steps: [{ kind: 'error', status: 404, message: 'model not found' }],
          line: `${at}not found (404 model not found): check the model name "test-chat" and the base URL${alone}` },
        { what: '503 after retries', steps: times(3, { kind: 'error', status: 503, message: 'overloaded' }),
          line: `${at}server error (503 overloaded, 3 attempts)${alone}` },
        { what: '429, Retry-After 120', steps: [{ kind: 'error', status: 429, retryAfter: 120 }],
          line: `${at}rate-limited: the server asks to wait 120 s${alone}` },
        { what: 'an HTML page', steps: [{ kind: 'raw', body: '<!doctype html><html><head><title>Welcome to nginx!</title></head></html>' }],
          line: `${at}the server did not answer in the OpenAI format (got an HTML page titled "Welcome to nginx!"): check the base URL${alone}` },
        { what: 'text/plain', steps: [{ kind: 'raw', contentType: 'text/plain', body: 'It works!' }],
          line: `${at}the server did not answer in the OpenAI format (got text/plain: "It works!"): check the base URL${alone}` },
        { what: 'invalid JSON', steps: times(3, { kind: 'raw', contentType: 'application/json', body: '{"choices": [' }),
          line: `${at}the server did not answer in the OpenAI format (invalid JSON)${alone}` },
        { what: 'garbage SSE', steps: times(3, { kind: 'sse', events: ['<<<garbage>>>'] }),
          line: `${at}the server did not answer in the OpenAI format (an event is not JSON)${alone}` },
        { what: 'connection refused', steps: [], env: { OPENAI_BASE_URL: `http://127.0.0.1:${refused}/v1` },
          line: new RegExp(`^baton: no language model answered \\(test-chat at http://127\\.0\\.0\\.1:${refused}/v1: cannot connect to 127\\.0\\.0\\.1:${refused}: connection refused \\(is the server running\\?\\) \\(3 attempts\\)\\); connect a model: `) },
        { what: 'no such host', steps: [], env: { OPENAI_BASE_URL: 'http://no-such-host.invalid/v1' },
          line: /^baton: no language model answered \(test-chat at http:\/\/no-such-host\.invalid\/v1: cannot resolve the host name no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\) \(3 attempts\)\); connect a model: / },
        { what: 'no model configured', steps: [], env: { BATON_MODEL: '' },
          line: new RegExp(`^baton: no language model answered: no chat model configured for ${escape(baseURL)}: set BATON_MODEL`) },
      ];
      for (const c of cases) {
        server.reset();
        server.script(ROUTE, ...c.steps);
        const r = await runCli(['ask', '--dir', ws.root, '--trust', QUESTION], { env: { ...env, ...c.env } });
        assert.equal(r.code, 0, `${c.what}: ${r.stderr}`);
        assert.match(r.stdout, /^The most relevant code for your question:\n/, c.what);
        const lines = r.stderr.split('\n').filter(Boolean);
        assert.equal(lines.length, 1, `${c.what}: one line on stderr, got:\n${r.stderr}`);
        if (typeof c.line === 'string') assert.equal(lines[0], `baton: ${c.line}`, c.what);
        else assert.match(lines[0], c.line, c.what);
        const configured = !c.env;
        if (configured) assert.doesNotMatch(r.stderr, /connect a model/, `${c.what}: a configured, reachable model needs no setup advice`);
        assert.ok(!(r.stdout + r.stderr).includes(KEY), `${c.what}: the key never shows`);
      }
    });

    it('gives up on a hung server after the configured first-byte timeout, showing what it waits for meanwhile', async () => {
      for (const step of [{ kind: 'hang' }, { kind: 'headers' }] as const) {
        server.reset();
        server.script(ROUTE, ...times(3, step));
        const r = await runCli(['ask', '--dir', ws.root, '--trust', QUESTION], { env });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^The most relevant code for your question:\n/);
        const what = step.kind === 'hang' ? 'no reply within 1 s' : 'the server sent headers but no reply within 1 s';
        assert.deepEqual(messages(r.stderr), [`baton: test-chat at ${baseURL}: ${what} (3 attempts); answered from retrieval alone`]);
        const progress = r.stderr.split('\n').filter((l) => PROGRESS.test(l));
        assert.ok(progress.length >= 3, `progress lines while waiting:\n${r.stderr}`);
        assert.ok(progress.some((l) => l.endsWith('(attempt 2)')), 'retries say which attempt they are');
        assert.equal(server.requestsTo(ROUTE).length, 3);
      }
    });

    it('Ctrl-C ends a wait on a hung server at once, with the interrupted status (130)', async () => {
      config({ firstByteTimeoutMs: 60_000 });
      try {
        server.script(ROUTE, { kind: 'hang' });
        const cli = startCli(['ask', '--dir', ws.root, '--trust', QUESTION], { env });
        // Stuck: the server holds the request and says nothing.
        while (!server.requestsTo(ROUTE).length && cli.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
        const signalled = performance.now();
        cli.child.kill('SIGINT');
        const r = await cli.done;
        assert.equal(r.code, 130, r.stderr);
        assert.ok(performance.now() - signalled < 15_000, 'promptly, not after the 60 s timeout');
        assert.doesNotMatch(r.stderr, /no reply within/);
        assert.equal(server.requestsTo(ROUTE).length, 1, 'no retry after the interrupt');
      } finally {
        config({ firstByteTimeoutMs: 1000 });
      }
    });
  });

  describe('language server', () => {
    let ws: TempWorkspace;
    let client: LspClient;
    let runs = 0;
    const runId = () => `failure-run-${++runs}`;
    const waitingOf = (id: string) => client.progress.filter((p): p is Extract<RunProgress, { kind: 'waiting' }> => p.runId === id && p.kind === 'waiting');
    before(async () => {
      ws = makeWorkspace();
      // One update a second while waiting; the runs below end by cancellation long before this.
      ws.write('baton.config.json', JSON.stringify({ llm: { firstByteTimeoutMs: 10_000 } }));
      client = await LspClient.start({ root: ws.root, settings: { embedder: 'none', baseUrl: baseURL, model: 'test-chat', workspaceTrusted: true }, env: { OPENAI_API_KEY: KEY } });
      await client.waitForState('indexed');
    });
    after(async () => {
      await client?.stop();
      ws?.remove();
    });

    it('streams waiting progress for a hung model, and baton/cancel ends the run at once', async () => {
      server.script(ROUTE, ...times(3, { kind: 'hang' }));
      const id = runId();
      const pending = client.request('baton/ask', { runId: id, question: QUESTION });
      const [first] = await client.waitFor(() => waitingOf(id).length > 0 && waitingOf(id), 'a waiting update');
      assert.equal(first.model, 'test-chat');
      assert.equal(first.baseURL, baseURL);
      assert.equal(first.done, undefined);
      assert.match(first.message, new RegExp(`^waiting for test-chat at ${escape(baseURL)}… \\d+(\\.\\d)? m?s$`));
      const cancelled = performance.now();
      assert.deepEqual(await client.request('baton/cancel', { runId: id }), { cancelled: true });
      const response = await pending;
      assert.ok(performance.now() - cancelled < 5_000, 'at once, not after the 10 s first-byte timeout');
      assert.equal(response.cancelled, true);
      await client.waitFor(() => waitingOf(id).some((p) => p.done), 'the wait is reported over');
      assert.equal(server.requestsTo(ROUTE).length, 1, 'a cancelled run is not retried');
      assert.ok(!client.progress.some((p) => p.runId === id && p.kind === 'token'), 'nothing was streamed as the answer');
    });

    it('a configured model that refuses says so, without the advice to connect a model', async () => {
      server.script(ROUTE, { kind: 'error', status: 401, message: 'invalid api key' });
      const response = await client.request('baton/ask', { runId: runId(), question: QUESTION });
      assert.equal(response.mode, 'retrieval-only');
      assert.equal(response.note, `test-chat at ${baseURL}: the key in $OPENAI_API_KEY was rejected (401 invalid api key); answered from retrieval alone`);
      assert.ok(!JSON.stringify(response).includes(KEY));
    });
  });
});
