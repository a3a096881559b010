// The chat view's host side (chatView.ts) in plain Node, against a stand-in `vscode` module, a fake
// webview and a scripted backend: page setup, message validation, streaming, errors, persistence.
import assert from 'node:assert/strict';
import type { ToWebview } from '../../../src/protocol';
import { executedCommands, extensionUri, FakeMemento, FakeWebviewView, installFakeVscode, ScriptedBackend, settle } from '../../helpers/webviewHarness';

installFakeVscode();
// Required after the stand-in is installed; the type import is erased.
const { ChatViewProvider } = require('../../../src/extension/chat/chatView') as typeof import('../../../src/extension/chat/chatView');

type Provider = InstanceType<typeof ChatViewProvider>;

function setup(backend = new ScriptedBackend(), memento = new FakeMemento()) {
  const logged: string[] = [];
  const provider = new ChatViewProvider(extensionUri as never, backend, memento, (line) => logged.push(line));
  return { provider, backend, memento, logged };
}

async function show(provider: Provider): Promise<FakeWebviewView> {
  const view = new FakeWebviewView();
  provider.resolveWebviewView(view as never);
  view.receive({ type: 'ready' });
  await settle();
  return view;
}

const answerId = (view: FakeWebviewView): string => view.ofType('messageStart').filter((m) => m.role === 'assistant').at(-1)!.id;

describe('webview host (ChatViewProvider)', () => {
  it('serves the page under a strict CSP with a fresh nonce and limited resource roots', () => {
    const { provider } = setup();
    assert.equal(ChatViewProvider.viewType, 'baton.chat');
    const views = [new FakeWebviewView(), new FakeWebviewView()];
    for (const view of views) provider.resolveWebviewView(view as never);
    const [a, b] = views.map((v) => v.webview);
    assert.equal(a.options.enableScripts, true);
    assert.deepEqual(a.options.localResourceRoots?.map((u) => u.path), ['/ext/dist/webview', '/ext/media']);
    const nonces = [a.html, b.html].map((html) => /script-src 'nonce-([^']+)'/.exec(html)?.[1]);
    assert.ok(nonces[0] && nonces[1] && nonces[0] !== nonces[1], 'a fresh nonce per page');
    assert.match(a.html, /default-src 'none'; style-src https:\/\/cdn.test; script-src 'nonce-[^']+'; img-src https:\/\/cdn.test data:; font-src https:\/\/cdn.test/);
    assert.match(a.html, new RegExp(`<script nonce="${nonces[0]}" src="file:///webview/ext/dist/webview/chat.js"></script>`));
    assert.match(a.html, /<link rel="stylesheet" href="file:\/\/\/webview\/ext\/media\/chat.css">/);
  });

  it('answers ready with the conversation, the models and the history', async () => {
    const { provider } = setup();
    const view = await show(provider);
    assert.deepEqual(view.posted.map((m) => m.type).sort(), ['context', 'conversation', 'history', 'models']);
    assert.deepEqual(view.ofType('models')[0], { type: 'models', current: 'm1', available: ['m1', 'm2'] });
  });

  it('lists the models again when the server restarts with new settings', async () => {
    const { provider, backend } = setup();
    await provider.modelsChanged(); // no view yet: nothing to update
    const view = await show(provider);
    backend.modelList = { current: 'm3', available: ['m3'] };
    await provider.modelsChanged();
    assert.deepEqual(view.ofType('models').at(-1), { type: 'models', current: 'm3', available: ['m3'] });
  });

  it('streams an ask: tokens, reset, tool, notice and waiting progress, then the answer; the conversation is remembered', async () => {
    const { provider, backend, memento } = setup();
    backend.files.set('a.ts', 3);
    const view = await show(provider);
    view.receive({ type: 'ask', question: 'where is x?', model: 'm2' });
    await settle();
    const [run] = backend.asks;
    assert.deepEqual(run.request, { question: 'where is x?', model: 'm2', withContext: false });
    const id = answerId(view);
    run.progress({ runId: run.runId, kind: 'token', text: 'wro' });
    run.progress({ runId: run.runId, kind: 'reset', reason: 'retry' });
    run.progress({ runId: run.runId, kind: 'tool', name: 'search', status: 'call' });
    run.progress({ runId: run.runId, kind: 'notice', message: 'lexical only' });
    const waiting = { runId: run.runId, kind: 'waiting', model: 'm2', baseURL: 'http://h/v1', seconds: 3, message: 'waiting for m2 at http://h/v1… 3 s' } as const;
    run.progress(waiting);
    run.progress({ ...waiting, seconds: 4, done: true });
    run.progress({ runId: run.runId, kind: 'token', text: 'In a.ts:1' });
    run.resolve({ answer: 'In a.ts:1', sources: [{ path: 'a.ts', startLine: 1, endLine: 1 }, { path: '/abs', startLine: 1, endLine: 1 }], mode: 'agent', conversationId: 'c1', trace: [], note: 'n' });
    await settle();
    const userId = view.ofType('messageStart')[0].id;
    const tail = view.posted.slice(view.posted.findIndex((m) => m.type === 'messageStart'));
    assert.deepEqual(tail.slice(0, 10), [
      { type: 'messageStart', id: userId, role: 'user', text: 'where is x?' },
      { type: 'messageStart', id, role: 'assistant', text: '' },
      { type: 'messageDelta', id, text: 'wro' },
      { type: 'messageReset', id },
      { type: 'status', text: 'Tool search: call' },
      { type: 'status', text: 'lexical only' },
      { type: 'messageWaiting', id, text: 'waiting for m2 at http://h/v1… 3 s' },
      { type: 'messageWaiting', id, text: '' },
      { type: 'messageDelta', id, text: 'In a.ts:1' },
      { type: 'messageEnd', id, text: 'In a.ts:1', sources: [{ path: 'a.ts', startLine: 1, endLine: 1 }], citations: ['a.ts:1'], note: 'n' },
    ] satisfies ToWebview[]);
    assert.equal(memento.get('baton.chat.conversationId'), 'c1');

    view.receive({ type: 'ask', question: 'and y?' });
    await settle();
    assert.deepEqual(backend.asks[1].request, { question: 'and y?', conversationId: 'c1', withContext: false });
  });

  it('Stop cancels the run; a second question while answering is refused with a status', async () => {
    const { provider, backend } = setup();
    const view = await show(provider);
    view.receive({ type: 'ask', question: 'q1' });
    await settle();
    view.receive({ type: 'ask', question: 'q2' });
    await settle();
    assert.equal(backend.asks.length, 1);
    assert.match(view.ofType('status').at(-1)!.text, /still answering/);
    view.receive({ type: 'stop' });
    await settle();
    assert.deepEqual(backend.calls, ['cancel run1']);
    backend.asks[0].resolve({ answer: 'partial', sources: [], mode: 'agent', conversationId: 'c', trace: [], cancelled: true });
    await settle();
    assert.equal(view.ofType('messageEnd')[0].note, 'Stopped.');
  });

  it('shows a failed ask as an error on the answer, keeping the question and the streamed text', async () => {
    const { provider, backend } = setup();
    const view = await show(provider);
    view.receive({ type: 'ask', question: 'q' });
    await settle();
    backend.asks[0].progress({ runId: 'run1', kind: 'token', text: 'partial' });
    backend.asks[0].reject(new Error('model server unreachable'));
    await settle();
    assert.equal(view.ofType('messageEnd')[0].error, 'model server unreachable');
    // A re-created view gets the question and the partial answer with its error.
    const again = await show(provider);
    const [conversation] = again.ofType('conversation');
    assert.deepEqual(conversation.messages.map((m) => [m.role, m.text, m.error]), [['user', 'q', undefined], ['assistant', 'partial', 'model server unreachable']]);
  });

  it('ignores and logs invalid messages and implausible citations; routes code actions', async () => {
    const { provider, backend, logged } = setup();
    const view = await show(provider);
    const before = view.posted.length;
    for (const bad of [null, 'ask', { type: 'ask' }, { type: 'exec', command: 'rm' }, { type: 'openConversation', id: '../x' }]) view.receive(bad);
    view.receive({ type: 'openCitation', citation: { path: '../../etc/passwd', startLine: 1, endLine: 1 } });
    view.receive({ type: 'openCitation', citation: { path: 'src/a.ts', startLine: 3, endLine: 5 } });
    view.receive({ type: 'copy', text: 'c' });
    view.receive({ type: 'insert', text: 'i' });
    view.receive({ type: 'apply', text: 'a', language: 'ts' });
    view.receive({ type: 'pickModel', model: 'm2' });
    await settle();
    assert.equal(logged.filter((l) => l.startsWith('ignored an invalid webview message')).length, 5);
    assert.ok(logged.some((l) => l.startsWith('ignored an implausible citation')));
    assert.deepEqual(backend.calls, ['openCitation src/a.ts:3-5', 'copy c', 'insert i', 'apply ts a', 'pickModel m2']);
    assert.deepEqual(view.posted.slice(before).map((m) => m.type), ['models']);
  });

  it('reloads the remembered conversation from the store, switches, and starts new ones', async () => {
    const backend = new ScriptedBackend();
    backend.conversationsStore.set('c1', { id: 'c1', title: 'One', messages: [{ role: 'user', text: 'old q' }, { role: 'assistant', text: 'old a', sources: [{ path: 'a.ts', startLine: 1, endLine: 2 }] }] });
    backend.conversationsStore.set('c2', { id: 'c2', title: 'Two', messages: [{ role: 'user', text: 'other' }] });
    const memento = new FakeMemento();
    await memento.update('baton.chat.conversationId', 'c1');
    const { provider } = setup(backend, memento);
    const view = await show(provider);
    const [restored] = view.ofType('conversation');
    assert.equal(restored.id, 'c1');
    assert.deepEqual(restored.messages.map((m) => m.text), ['old q', 'old a']);
    assert.deepEqual(view.ofType('history')[0].conversations.map((c) => c.id), ['c1', 'c2']);

    view.receive({ type: 'openConversation', id: 'c2' });
    await settle();
    assert.equal(view.ofType('conversation').at(-1)!.id, 'c2');
    assert.equal(memento.get('baton.chat.conversationId'), 'c2');

    view.receive({ type: 'newConversation' });
    await settle();
    assert.deepEqual(view.ofType('conversation').at(-1), { type: 'conversation', id: null, messages: [] });
    assert.equal(memento.get('baton.chat.conversationId'), undefined);
  });

  it('ask() before the view exists reveals it, and the view catches up on ready', async () => {
    executedCommands.length = 0;
    const { provider, backend } = setup();
    const asked = provider.ask('explain this');
    await settle();
    assert.deepEqual(executedCommands, ['workbench.view.extension.baton', 'baton.chat.focus']);
    backend.asks[0].progress({ runId: 'run1', kind: 'token', text: 'So far' });
    const view = await show(provider);
    const [conversation] = view.ofType('conversation');
    assert.deepEqual(conversation.messages.map((m) => [m.role, m.text, m.pending]), [['user', 'explain this', undefined], ['assistant', 'So far', true]]);
    backend.asks[0].progress({ runId: 'run1', kind: 'token', text: '...' });
    backend.asks[0].resolve({ answer: 'So far...', sources: [], mode: 'agent', conversationId: 'c9', trace: [] });
    await asked;
    assert.deepEqual(view.ofType('messageDelta').map((m) => m.text), ['...']);
    assert.equal(view.ofType('messageEnd')[0].text, 'So far...');
  });

  it('showResult adds the action line and the result with its sources', async () => {
    const { provider, backend } = setup();
    backend.files.set('src/a.ts', 4);
    const view = await show(provider);
    await provider.showResult('Explain selection', '**It** works', [{ path: 'src/a.ts', startLine: 2, endLine: 4 }]);
    assert.equal(view.shown, 1);
    const [user, assistant] = view.ofType('messageStart');
    assert.deepEqual([user.role, user.text, assistant.role], ['user', 'Explain selection', 'assistant']);
    assert.deepEqual(view.ofType('messageEnd')[0], { type: 'messageEnd', id: assistant.id, text: '**It** works', sources: [{ path: 'src/a.ts', startLine: 2, endLine: 4 }], citations: ['src/a.ts:2-4'] });
  });

  it('passes only citations into files that exist, at lines they have: the rest are not chips', async () => {
    const { provider, backend } = setup();
    backend.files.set('src/real.ts', 20);
    const view = await show(provider);
    const ask = provider.ask('where?');
    await settle();
    const text = 'See src/real.ts:3-5, src/real.ts:40 (past the end) and src/invented.ts:12.';
    backend.asks[0].resolve({
      answer: text, mode: 'agent', conversationId: 'c1', trace: [],
      sources: [{ path: 'src/real.ts', startLine: 3, endLine: 5 }, { path: 'src/invented.ts', startLine: 1, endLine: 2 }],
    });
    await ask;
    const end = view.ofType('messageEnd').at(-1)!;
    assert.deepEqual(end.sources, [{ path: 'src/real.ts', startLine: 3, endLine: 5 }]);
    assert.deepEqual(end.citations, ['src/real.ts:3-5']);
    assert.equal(end.excerpts, undefined, 'an agent answer\'s code may be applied');
  });

  it('marks a retrieval-only answer as excerpts (its code blocks offer no Apply)', async () => {
    const { provider, backend } = setup();
    const view = await show(provider);
    const ask = provider.ask('where?');
    await settle();
    backend.asks[0].resolve({ answer: '```ts\nx\n```', mode: 'retrieval-only', conversationId: 'c1', trace: [], sources: [] });
    await ask;
    assert.equal(view.ofType('messageEnd').at(-1)!.excerpts, true);
  });

  it('checks the citations of a stored conversation again when it is opened (a file deleted since is no chip)', async () => {
    const { provider, backend } = setup();
    backend.files.set('src/kept.ts', 10);
    backend.conversationsStore.set('c9', { id: 'c9', title: 't', messages: [
      { role: 'user', text: 'q' },
      { role: 'assistant', text: 'In src/kept.ts:2 and src/gone.ts:2', sources: [{ path: 'src/gone.ts', startLine: 2, endLine: 2 }] },
    ] });
    const view = await show(provider);
    view.receive({ type: 'openConversation', id: 'c9' });
    await settle();
    const [, answer] = view.ofType('conversation').at(-1)!.messages;
    assert.deepEqual(answer.sources, []);
    assert.deepEqual(answer.citations, ['src/kept.ts:2']);
  });

  it('shows the editor\'s file and selection as a chip that follows the editor, and sends the question with it', async () => {
    const { provider, backend } = setup();
    backend.editor = { path: 'src/util/retry.ts' };
    const view = await show(provider);
    assert.deepEqual(view.ofType('context').at(-1)?.context?.label, 'retry.ts');
    backend.editor = { path: 'src/util/retry.ts', startLine: 3, endLine: 9 };
    backend.editorChanged();
    await new Promise((r) => setTimeout(r, 200)); // the chip follows after a short pause
    assert.deepEqual(view.ofType('context').at(-1)?.context, { label: 'retry.ts:3-9', title: 'Questions are sent with the selected lines of src/util/retry.ts. × to leave it out.' });
    view.receive({ type: 'ask', question: 'what does this do?' });
    await settle();
    assert.equal(backend.asks[0].request.withContext, true);
  });

  it('leaves the context out once the chip is removed, until the editor or selection changes', async () => {
    const { provider, backend } = setup();
    backend.editor = { path: 'src/a.ts', startLine: 1, endLine: 2 };
    const view = await show(provider);
    view.receive({ type: 'dropContext' });
    await settle();
    assert.equal(view.ofType('context').at(-1)?.context, null);
    view.receive({ type: 'ask', question: 'general question' });
    await settle();
    assert.equal(backend.asks[0].request.withContext, false);
    backend.asks[0].resolve({ answer: 'a', sources: [], mode: 'agent', conversationId: 'c1', trace: [] });
    await settle();
    backend.editor = { path: 'src/b.ts' };
    backend.editorChanged();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(view.ofType('context').at(-1)?.context?.label, 'b.ts', 'another file brings the chip back');
  });
});
