// The language server end to end: the bundled server over stdio, a real fixture workspace and index,
// and a real OpenAI-protocol model server on 127.0.0.1. The test client plays the editor.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { freePort } from '../helpers/ports';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import type { CodeAction } from 'vscode-languageserver-protocol';
import { COMMANDS, type CodeActionArgs, type RunProgress, type SelectionDto } from '../../src/protocol';
import { LspClient } from '../helpers/lspClient';
import { OpenAIProtocolServer } from '../helpers/openaiProtocolServer';
import { makeWorkspace, type TempWorkspace } from '../helpers/workspace';

const CHAT = 'POST /v1/chat/completions';

describe('language server', function () {
  this.timeout(90_000);
  const model = new OpenAIProtocolServer();
  let ws: TempWorkspace;
  let client: LspClient;
  let baseUrl: string;
  let runs = 0;
  const runId = () => `run-${++runs}`;
  const settings = () => ({ embedder: 'none', baseUrl, model: 'test-chat' });

  before(async () => {
    baseUrl = await model.start();
    ws = makeWorkspace();
    client = await LspClient.start({ root: ws.root, settings: settings(), env: { OPENAI_API_KEY: 'sk-test-server-key' } });
  });
  after(async () => {
    await client?.stop();
    await model.stop();
    ws?.remove();
  });
  beforeEach(() => {
    model.reset();
    client.approve = () => true;
  });

  it('indexes the workspace after initialized and reports it: indexing, then indexed', async () => {
    const indexed = await client.waitForState('indexed');
    assert.equal(client.statuses[0].state, 'indexing', 'the first status says a run started');
    assert.ok(indexed.files >= 5 && indexed.chunks >= indexed.files, JSON.stringify(indexed));
    assert.equal(indexed.embedder, null);
    assert.match(indexed.message ?? '', /lexical-only/);
    assert.ok(indexed.updatedAt && !Number.isNaN(Date.parse(indexed.updatedAt)));
    assert.deepEqual(await client.request('baton/indexStatus', {}), indexed);
    const watch = await client.waitFor(() => client.registrations.find((r) => r.method === 'workspace/didChangeWatchedFiles'), 'file watcher registration');
    assert.deepEqual(watch.registerOptions, { watchers: [{ globPattern: '**/*' }] });
  });

  it('searches the warm index and maps hits to SearchHit', async () => {
    const response = await client.request('baton/search', { query: 'verify session token signature', k: 5 });
    assert.equal(response.mode, 'lexical');
    const hit = response.results.find((r) => r.path === 'src/auth/session.ts');
    assert.ok(hit, JSON.stringify(response.results.map((r) => r.path)));
    assert.ok(hit.startLine >= 1 && hit.endLine >= hit.startLine && hit.score > 0);
    assert.equal(hit.language, 'typescript');
    assert.match(hit.text, /verifySessionToken/);
    assert.deepEqual(hit.sources, ['lexical']);
    assert.ok(!response.results.some((r) => r.path === '.env'), 'secrets are not indexed');
  });

  it('ask streams tokens as runProgress, returns citations, and sends the trace', async () => {
    model.script(CHAT, { kind: 'chat', content: 'Tokens are verified by verifySessionToken in src/auth/session.ts:15-22 using an HMAC.' });
    const id = runId();
    const response = await client.request('baton/ask', { runId: id, question: 'How are session tokens verified?' });
    assert.equal(response.mode, 'agent');
    assert.match(response.answer, /^Tokens are verified/);
    assert.equal(client.tokensOf(id), response.answer, 'the streamed tokens make the answer');
    assert.deepEqual(response.sources, [{ path: 'src/auth/session.ts', startLine: 15, endLine: 22 }]);
    assert.equal(response.cancelled, undefined);
    assert.ok(response.conversationId);
    const trace = await client.waitFor(() => client.traces.find((t) => t.runId === id), 'the trace');
    assert.ok(trace.events.some((e) => e.kind === 'llm.done'));
    assert.match(trace.title, /session tokens/);
    const sent = JSON.stringify(model.requestsTo(CHAT)[0].body);
    assert.match(sent, /verifySessionToken/, 'retrieved code reaches the model');
    assert.equal(model.requestsTo(CHAT)[0].headers.authorization, 'Bearer sk-test-server-key');
    assert.ok(!client.stderr.includes('sk-test-server-key'), 'the key is never logged');
  });

  it('ask puts the editor selection in front of the model, fenced, before retrieved code', async () => {
    model.script(CHAT, { kind: 'chat', content: 'The selected function sums the values.' });
    const selection = { path: 'src/util/retry.ts', language: 'typescript', text: 'const SELECTED_MARKER = 1; // what the user highlighted', startLine: 3, endLine: 3 };
    const before = model.requestsTo(CHAT).length;
    const response = await client.request('baton/ask', { runId: runId(), question: 'What does this retry backoff helper do?', selection });
    assert.equal(response.answer, 'The selected function sums the values.');
    const sent = JSON.stringify(model.requestsTo(CHAT)[before].body);
    // Every workspace excerpt is fenced with its source; the selection's fence is the first one.
    const sources = [...sent.matchAll(/<untrusted-data-\w+ source=\\"([^"\\]+)\\"/g)].map((m) => m[1]);
    assert.ok(sources.length > 1, `expected the selection and retrieved chunks: ${sources.join(', ')}`);
    assert.equal(sources[0], 'src/util/retry.ts:3-3');
    const fences = [...sent.matchAll(/<untrusted-data-\w+ source=/g)].map((m) => m.index);
    const marker = sent.indexOf('SELECTED_MARKER');
    assert.ok(marker > fences[0] && marker < fences[1], 'the selection is inside the first fence');
  });

  it('lists the conversation of an ask and opens it as user/assistant messages with sources', async () => {
    model.script(CHAT, { kind: 'chat', content: 'Retries back off exponentially, see src/util/retry.ts:6-19.' });
    const asked = await client.request('baton/ask', { runId: runId(), question: 'How does retry back off?' });
    const list = await client.request('baton/conversations', {});
    const entry = list.find((c) => c.id === asked.conversationId);
    assert.ok(entry, JSON.stringify(list));
    assert.equal(entry.turns, 2);
    const conversation = await client.request('baton/conversation', { id: asked.conversationId });
    assert.deepEqual(conversation.messages, [
      { role: 'user', text: 'How does retry back off?' },
      { role: 'assistant', text: asked.answer, sources: [{ path: 'src/util/retry.ts', startLine: 6, endLine: 19 }] },
    ]);
    await assert.rejects(client.request('baton/conversation', { id: 'no-such-conversation' }), /no conversation no-such-conversation/);
  });

  it('baton/cancel stops a streaming ask: the partial answer comes back with cancelled: true', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i} `);
    model.script(CHAT, { kind: 'chat', chunks: words, chunkDelayMs: 100 });
    const id = runId();
    const pending = client.request('baton/ask', { runId: id, question: 'Explain the architecture in detail' });
    await client.waitFor(() => client.tokensOf(id).length > 0, 'the first token');
    assert.deepEqual(await client.request('baton/cancel', { runId: id }), { cancelled: true });
    const response = await pending;
    assert.equal(response.cancelled, true);
    assert.ok(response.answer.startsWith('word0 '), response.answer);
    assert.ok(response.answer.length < words.join('').length, 'only part of the answer');
    assert.deepEqual(await client.request('baton/cancel', { runId: id }), { cancelled: false }, 'the run is over');
  });

  it('$/cancelRequest cancels a runWorkflow the same way', async () => {
    model.script(CHAT, { kind: 'chat', chunks: Array.from({ length: 40 }, (_, i) => `part${i} `), chunkDelayMs: 100 });
    const id = runId();
    const source = new CancellationTokenSource();
    const pending = client.request('baton/runWorkflow', { runId: id, workflow: 'explain', input: { selection: selectionOf('src/util/retry.ts', 1, 12) } }, source.token);
    await client.waitFor(() => client.tokensOf(id).length > 0, 'the first token');
    source.cancel();
    const response = await pending.catch((err: Error) => err);
    assert.ok(!(response instanceof Error), `expected the partial result, got ${String(response)}`);
    assert.equal(response.cancelled, true);
    assert.match(String(response.outputs.answer), /^part0 /);
  });

  it('runWorkflow explain streams and returns the answer for a selection', async () => {
    model.script(CHAT, { kind: 'chat', content: 'It retries with exponential backoff.' });
    const id = runId();
    const response = await client.request('baton/runWorkflow', { runId: id, workflow: 'explain', input: { selection: selectionOf('src/util/retry.ts', 1, 12) } });
    assert.equal(response.outputs.answer, 'It retries with exponential backoff.');
    assert.equal(client.tokensOf(id), 'It retries with exponential backoff.');
    const user = (model.requestsTo(CHAT)[0].body as { messages: Array<{ content: string }> }).messages.at(-1)!.content;
    assert.match(user, /src\/util\/retry\.ts/);
    await assert.rejects(client.request('baton/runWorkflow', { runId: runId(), workflow: 'nope', input: {} }), /no workflow "nope"/);
  });

  it('runWorkflow document returns a codeFix-shaped doc comment', async () => {
    const code = 'export function isExpired(s: Session) {\n  return s.expiresAt < Date.now();\n}';
    model.script(CHAT, { kind: 'chat', content: JSON.stringify({ explanation: 'Adds a TSDoc comment.', code: `/** Whether the session has expired. */\n${code}` }) });
    const response = await client.request('baton/runWorkflow', {
      runId: runId(), workflow: 'document',
      input: { selection: { path: 'src/auth/session.ts', language: 'typescript', text: code, startLine: 1, endLine: 3 } },
    });
    assert.deepEqual(response.outputs.fix, { explanation: 'Adds a TSDoc comment.', code: `/** Whether the session has expired. */\n${code}` });
  });

  it('respects an approval the client denies: the tool reports denied and nothing is edited', async () => {
    const before = readFileSync(join(ws.root, 'src/util/retry.ts'), 'utf8');
    client.approve = () => false;
    model.script(CHAT,
      { kind: 'chat', toolCalls: [{ name: 'propose_edit', arguments: JSON.stringify({ path: 'src/util/retry.ts', content: '// gone\n', description: 'empty the file' }) }] },
      { kind: 'chat', content: 'You declined the edit, so nothing changed.' });
    const id = runId();
    const response = await client.request('baton/ask', { runId: id, question: 'Please empty src/util/retry.ts' });
    assert.match(response.answer, /declined/);
    const asked = client.hostCalls.filter((c) => c.method === 'baton/host/requestApproval').at(-1)?.params as { kind: string; path?: string; newText?: string };
    assert.equal(asked.kind, 'edit');
    assert.equal(asked.path, 'src/util/retry.ts');
    assert.equal(asked.newText, '// gone\n');
    const tool = client.progress.filter((p): p is Extract<RunProgress, { kind: 'tool' }> => p.runId === id && p.kind === 'tool');
    assert.deepEqual(tool.map((t) => `${t.name}:${t.status}`), ['propose_edit:call', 'propose_edit:denied']);
    assert.equal(readFileSync(join(ws.root, 'src/util/retry.ts'), 'utf8'), before);
  });

  it('forwards a proposed command to the client exactly, for the editor to show whole', async () => {
    client.approve = () => false;
    const command = `npm test\x1b[2K\r${' '.repeat(500)}; touch pwned.marker`;
    model.script(CHAT,
      { kind: 'chat', toolCalls: [{ name: 'run_command', arguments: JSON.stringify({ command }) }] },
      { kind: 'chat', content: 'You declined the command.' });
    await client.request('baton/ask', { runId: runId(), question: 'Run the tests' });
    const asked = client.hostCalls.filter((c) => c.method === 'baton/host/requestApproval').at(-1)?.params as { kind: string; command?: string; detail: string };
    assert.equal(asked.kind, 'command');
    assert.equal(asked.command, command, 'the raw command: the editor renders it inert');
    assert.ok(asked.detail.startsWith(`$ ${command}\n`));
    assert.ok(!existsSync(join(ws.root, 'pwned.marker')));
  });

  it('with approval "never" refuses side effects without asking the client', async () => {
    await client.notify('workspace/didChangeConfiguration', { settings: { baton: { ...settings(), approval: 'never' } } });
    const asked = client.hostCalls.filter((c) => c.method === 'baton/host/requestApproval').length;
    model.script(CHAT,
      { kind: 'chat', toolCalls: [{ name: 'propose_edit', arguments: JSON.stringify({ path: 'src/util/retry.ts', content: '// gone\n', description: 'empty the file' }) }] },
      { kind: 'chat', content: 'The edit was refused.' });
    const id = runId();
    await client.request('baton/ask', { runId: id, question: 'Please empty src/util/retry.ts' });
    assert.equal(client.hostCalls.filter((c) => c.method === 'baton/host/requestApproval').length, asked, 'the client was not asked');
    assert.ok(client.progress.some((p) => p.runId === id && p.kind === 'tool' && p.status === 'denied'));
    await client.notify('workspace/didChangeConfiguration', { settings: { baton: settings() } });
  });

  it('offers Fix/Explain problem for overlapping diagnostics and Explain/Tests/Document for a selection', async () => {
    const uri = pathToFileURL(join(ws.root, 'src/util/retry.ts')).href;
    const range = (l1: number, c1: number, l2: number, c2: number) => ({ start: { line: l1, character: c1 }, end: { line: l2, character: c2 } });
    const diagnostic = { range: range(3, 2, 3, 10), message: "Cannot find name 'sleeep'.", severity: 1 };
    const elsewhere = { range: range(20, 0, 20, 5), message: 'unused', severity: 2 };
    const actions = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri }, range: range(2, 0, 5, 0), context: { diagnostics: [diagnostic, elsewhere] },
    });
    assert.deepEqual(actions.map((a) => [a.title, a.kind, a.command?.command]), [
      ['Fix with Baton', 'quickfix', COMMANDS.fixProblem],
      ['Explain problem', 'quickfix', COMMANDS.explainProblem],
      ['Explain', 'refactor', COMMANDS.explainSelection],
      ['Generate tests', 'refactor', COMMANDS.generateTests],
      ['Document', 'refactor', COMMANDS.documentSymbol],
    ]);
    const fixArgs = actions[0].command!.arguments![0] as CodeActionArgs;
    assert.deepEqual(fixArgs, { uri, range: diagnostic.range, diagnostic: diagnostic.message });
    assert.deepEqual(actions[2].command!.arguments, [{ uri, range: range(2, 0, 5, 0) }]);
    const cursor = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri }, range: range(3, 4, 3, 4), context: { diagnostics: [diagnostic] },
    });
    assert.deepEqual(cursor.map((a) => a.title), ['Fix with Baton', 'Explain problem'], 'a cursor gets the problem actions only');
  });

  it('re-indexes after didChangeWatchedFiles: search finds the new text', async () => {
    ws.write('src/util/zebra.ts', 'export function quaggaStripeCounter(stripes: number) {\n  return stripes * 2;\n}\n');
    const since = client.statuses.length;
    await client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(join(ws.root, 'src/util/zebra.ts')).href, type: 1 }] });
    await client.waitForState('indexed', since);
    const response = await client.request('baton/search', { query: 'quaggaStripeCounter', k: 3 });
    assert.equal(response.results[0]?.path, 'src/util/zebra.ts');
  });

  it('reads an open document with its unsaved edits', async () => {
    const uri = pathToFileURL(join(ws.root, 'docs/architecture.md')).href;
    await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'markdown', version: 1, text: '# Unsaved marker ocelotUnsavedText\n' } });
    model.script(CHAT,
      { kind: 'chat', toolCalls: [{ name: 'read_file', arguments: JSON.stringify({ path: 'docs/architecture.md' }) }] },
      { kind: 'chat', content: 'It says ocelot.' });
    await client.request('baton/ask', { runId: runId(), question: 'What does docs/architecture.md say?' });
    const toolResult = JSON.stringify(model.requestsTo(CHAT)[1].body);
    assert.match(toolResult, /ocelotUnsavedText/);
    await client.notify('textDocument/didClose', { textDocument: { uri } });
  });

  it('rebuildIndex {full: true} rebuilds and returns the final status', async () => {
    const status = await client.request('baton/rebuildIndex', { full: true });
    assert.equal(status.state, 'indexed');
    assert.ok(status.files >= 6);
    const response = await client.request('baton/search', { query: 'quaggaStripeCounter', k: 3 });
    assert.equal(response.results[0]?.path, 'src/util/zebra.ts');
  });

  it('models lists the server\'s models with the configured one current', async () => {
    model.chatModel.models = ['test-chat', 'other-model'];
    const models = await client.request('baton/models', {});
    assert.deepEqual(models, { current: 'test-chat', available: ['test-chat', 'other-model'] });
  });

  describe('with the model server down', () => {
    before(async () => {
      const down = `http://127.0.0.1:${await freePort()}/v1`;
      await client.notify('workspace/didChangeConfiguration', { settings: { ...settings(), baseUrl: down } });
    });
    after(() => client.notify('workspace/didChangeConfiguration', { settings: settings() }));

    it('models says why the list is short', async () => {
      const models = await client.request('baton/models', {});
      assert.equal(models.current, 'test-chat');
      assert.deepEqual(models.available, ['test-chat']);
      assert.match(models.problem ?? '', /cannot reach http:\/\/127\.0\.0\.1:\d+\/v1/);
    });

    it('ask answers from retrieval alone with a note', async () => {
      const response = await client.request('baton/ask', { runId: runId(), question: 'parse invoice csv' });
      assert.equal(response.mode, 'retrieval-only');
      assert.match(response.answer, /The most relevant code for your question:\n\nscripts\/parse_invoice\.py/);
      assert.match(response.answer, /\n```python\n/, 'the editor gets fenced code blocks');
      assert.match(response.note ?? '', /no language model answered/);
      assert.ok(response.sources.some((s) => s.path === 'scripts/parse_invoice.py'));
    });
  });
});

function selectionOf(path: string, startLine: number, endLine: number): SelectionDto {
  return { path, language: 'typescript', text: `// lines ${startLine}-${endLine} of ${path}`, startLine, endLine };
}
