// The chat webview's pure logic, in plain Node: markdown safety, citation detection, the state
// reducer, and message validation in both directions.
import assert from 'node:assert/strict';
import { citationLabel, findCitations, isPlausiblePath, parseCitation } from '../../../src/base/common/citations';
import { codeLanguage, renderMarkdown } from '../../../src/webview/markdown';
import { initialState, reduce, restoreState, streamingId, type ChatState } from '../../../src/webview/state';
import { chatHtml, contentSecurityPolicy, makeNonce } from '../../../src/extension/chat/chatHtml';
import { parseFromWebview, parseToWebview, type ToWebview } from '../../../src/protocol';

describe('webview markdown', () => {
  it('escapes raw HTML and scripts instead of rendering them', () => {
    const html = renderMarkdown('Hi <script>alert(1)</script> <img src=x onerror="alert(2)">\n\n<div onclick="x()">block</div>');
    assert.ok(!/<script|<img|<div onclick/i.test(html), html);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /&lt;img src=x onerror=&quot;alert\(2\)&quot;&gt;/);
  });

  it('renders links inert and images as their alt text', () => {
    const html = renderMarkdown('[docs](https://example.com/a?b="c") [bad](javascript:alert(1)) ![logo "x"](https://example.com/i.png)');
    assert.ok(!/<a\b|href=|<img\b|src=/i.test(html), html);
    assert.match(html, /<span class="baton-link" title="https:\/\/example.com\/a\?b=%22c%22">docs<\/span>/);
    assert.match(html, /<span class="baton-image-alt">logo &quot;x&quot;<\/span>/);
  });

  it('renders fenced code with escaped text, a safe language tag and the three actions', () => {
    const html = renderMarkdown('```ts" onload="x\nconst a = "<b>";\n```\n');
    assert.match(html, /<div class="baton-code" data-lang="">/);
    assert.match(html, /const a = &quot;&lt;b&gt;&quot;;/);
    for (const action of ['copy', 'insert', 'apply']) assert.match(html, new RegExp(`data-action="${action}"`));
    assert.match(renderMarkdown('```typescript\nx\n```'), /data-lang="typescript"><div[^>]*>.*<code class="language-typescript">/s);
    assert.equal(codeLanguage('c++ {.x}'), 'c++');
    assert.equal(codeLanguage('<script>'), '');
  });

  it('still renders an unfinished fence while streaming', () => {
    assert.match(renderMarkdown('Here:\n```py\nprint(1)\n'), /<code class="language-py">print\(1\)\n<\/code>/);
  });

  it('turns citations in text and in inline code into chips, not inside code blocks', () => {
    const html = renderMarkdown('See src/core/a.ts:12-30 and `lib/x.py:3`.\n\n```\nsrc/b.ts:4\n```');
    assert.match(html, /<button type="button" class="baton-citation" data-path="src\/core\/a.ts" data-start="12" data-end="30"[^>]*>src\/core\/a.ts:12-30<\/button>/);
    assert.match(html, /data-path="lib\/x.py" data-start="3" data-end="3"/);
    assert.ok(!html.includes('data-path="src/b.ts"'), 'code blocks keep their text');
  });

  it('with a set of checked citations, chips only those; the others stay as escaped text', () => {
    const html = renderMarkdown('See src/core/a.ts:12-30, `lib/x.py:3` and src/made/up.ts:7.', new Set(['src/core/a.ts:12-30']));
    assert.match(html, /data-path="src\/core\/a.ts" data-start="12"/);
    assert.ok(!html.includes('data-path="lib/x.py"') && html.includes('<code>lib/x.py:3</code>'), 'inline code stays code');
    assert.ok(!html.includes('data-path="src/made/up.ts"') && html.includes('src/made/up.ts:7'), 'plain text');
    assert.ok(!renderMarkdown('src/core/a.ts:12-30', new Set()).includes('baton-citation'), 'an empty set: no chips');
  });

  it('offers Apply on an answer\'s code blocks, but not on excerpts quoted from the index', () => {
    const block = '```ts\nconst a = 1;\n```';
    assert.match(renderMarkdown(block), /data-action="apply"/);
    const excerpt = renderMarkdown(block, undefined, true);
    assert.ok(!excerpt.includes('data-action="apply"'));
    assert.match(excerpt, /data-action="copy"/);
    assert.match(excerpt, /data-action="insert"/);
  });
});

describe('webview citations', () => {
  it('finds path:line and path:start-end with their offsets', () => {
    const text = 'in src/a.ts:3, README.md:10-12 (and pkg/mod_test.go:7:2)';
    assert.deepEqual(findCitations(text).map((m) => [text.slice(m.start, m.end), m.citation]), [
      ['src/a.ts:3', { path: 'src/a.ts', startLine: 3, endLine: 3 }],
      ['README.md:10-12', { path: 'README.md', startLine: 10, endLine: 12 }],
      ['pkg/mod_test.go:7', { path: 'pkg/mod_test.go', startLine: 7, endLine: 7 }],
    ]);
  });

  it('drops a leading ./ and accepts dotfiles (the core reads sources from answers with the same grammar)', () => {
    assert.deepEqual(findCitations('see ./src/a.ts:4-6 and .eslintrc.json:2').map((m) => m.citation), [
      { path: 'src/a.ts', startLine: 4, endLine: 6 },
      { path: '.eslintrc.json', startLine: 2, endLine: 2 },
    ]);
  });

  it('ignores URLs, ports, versions, absolute and parent paths, and reversed ranges', () => {
    for (const text of [
      'http://example.com:8080/x', 'https://host.io/a.ts:5', 'localhost:3000', 'node:20', 'v1.2:3',
      '/etc/passwd.txt:1', '../secret.ts:1', 'a/../b.ts:2', 'C:\\x\\a.ts:3', 'src/a.ts:0', 'src/a.ts:9-3', 'user@host.com:22',
    ]) assert.deepEqual(findCitations(text), [], text);
  });

  it('judges paths and labels citations', () => {
    assert.ok(isPlausiblePath('src/a.ts'));
    for (const bad of ['', '/abs.ts', 'a//b.ts', './a.ts', 'a/../b', 'c:/x.ts', 'a\\b.ts', 'a\nb.ts']) assert.ok(!isPlausiblePath(bad), bad);
    assert.equal(citationLabel({ path: 'a.ts', startLine: 2, endLine: 2 }), 'a.ts:2');
    assert.equal(citationLabel({ path: 'a.ts', startLine: 2, endLine: 5 }), 'a.ts:2-5');
    assert.deepEqual(parseCitation('a.ts:2-5'), { path: 'a.ts', startLine: 2, endLine: 5 });
    assert.equal(parseCitation('see a.ts:2'), null);
  });
});

describe('webview state reducer', () => {
  const apply = (...messages: ToWebview[]): ChatState => messages.reduce(reduce, initialState());

  it('streams start / delta / reset / end into one message', () => {
    let s = apply(
      { type: 'messageStart', id: 'u', role: 'user', text: 'why?' },
      { type: 'messageStart', id: 'a', role: 'assistant', text: '' },
      { type: 'messageDelta', id: 'a', text: 'Bec' },
      { type: 'messageDelta', id: 'a', text: 'ause' },
    );
    assert.equal(streamingId(s), 'a');
    assert.equal(s.messages[1].text, 'Because');
    s = reduce(s, { type: 'messageReset', id: 'a' });
    assert.equal(s.messages[1].text, '');
    s = reduce(s, { type: 'messageDelta', id: 'a', text: 'Retried' });
    s = reduce(s, { type: 'messageEnd', id: 'a', text: 'Final', sources: [{ path: 'a.ts', startLine: 1, endLine: 2 }], note: 'n' });
    assert.deepEqual(s.messages[1], { id: 'a', role: 'assistant', text: 'Final', sources: [{ path: 'a.ts', startLine: 1, endLine: 2 }], note: 'n' });
    assert.equal(streamingId(s), null);
    assert.deepEqual(s.messages[0], { id: 'u', role: 'user', text: 'why?', pending: undefined });
  });

  it('keeps the streamed text when an answer ends with an error and no text', () => {
    const s = apply(
      { type: 'messageStart', id: 'a', role: 'assistant', text: '' },
      { type: 'messageDelta', id: 'a', text: 'partial' },
      { type: 'messageEnd', id: 'a', text: '', sources: [], error: 'server down' },
    );
    assert.equal(s.messages[0].text, 'partial');
    assert.equal(s.messages[0].error, 'server down');
  });

  it('shows what a pending answer waits for until its text arrives, and never keeps it', () => {
    const waiting = 'waiting for qwen at http://127.0.0.1:11434/v1… 10 s';
    let s = apply(
      { type: 'messageStart', id: 'a', role: 'assistant', text: '' },
      { type: 'messageWaiting', id: 'a', text: waiting },
    );
    assert.equal(s.messages[0].waiting, waiting);
    assert.equal(s.messages[0].text, '', 'not part of the answer');
    assert.equal(restoreState(JSON.parse(JSON.stringify(s)))!.messages[0].waiting, undefined, 'not restored from saved state');
    assert.equal(reduce(s, { type: 'messageWaiting', id: 'a', text: '' }).messages[0].waiting, undefined, 'an empty text clears it');
    s = reduce(s, { type: 'messageDelta', id: 'a', text: 'Answer' });
    assert.deepEqual(s.messages[0], { id: 'a', role: 'assistant', text: 'Answer', pending: true }, 'the first token clears it');
    s = reduce(s, { type: 'messageWaiting', id: 'a', text: waiting });
    s = reduce(s, { type: 'messageEnd', id: 'a', text: 'Answer', sources: [] });
    assert.equal(s.messages[0].waiting, undefined, 'the end clears it');
    assert.deepEqual(reduce(s, { type: 'messageWaiting', id: 'a', text: waiting }), s, 'a late update for a finished answer is ignored');
  });

  it('ignores events for unknown or finished messages and duplicate starts', () => {
    const s0 = apply({ type: 'messageStart', id: 'a', role: 'assistant', text: '' }, { type: 'messageEnd', id: 'a', text: 'done', sources: [] });
    const s1 = [
      { type: 'messageDelta', id: 'a', text: 'late' },
      { type: 'messageReset', id: 'a' },
      { type: 'messageDelta', id: 'zz', text: 'x' },
      { type: 'messageStart', id: 'a', role: 'user', text: 'dup' },
    ].reduce((s, m) => reduce(s, m as ToWebview), s0);
    assert.deepEqual(s1.messages, s0.messages);
  });

  it('replaces the conversation and keeps status, models and history', () => {
    let s = apply({ type: 'status', text: 'Tool search: call' }, { type: 'models', current: 'm1', available: ['m1', 'm2'] });
    s = reduce(s, { type: 'history', conversations: [{ id: 'c1', title: 'T', updatedAt: '2024-01-01' }] });
    s = reduce(s, { type: 'conversation', id: 'c1', messages: [{ id: 'x', role: 'user', text: 'hi' }] });
    assert.equal(s.status, '');
    assert.equal(s.conversationId, 'c1');
    assert.equal(s.messages.length, 1);
    assert.deepEqual(s.models, { current: 'm1', available: ['m1', 'm2'] });
    assert.equal(s.history.length, 1);
  });

  it('restores a saved state, and rejects a corrupt one', () => {
    const saved = apply({ type: 'conversation', id: 'c', messages: [{ id: 'x', role: 'assistant', text: 't', sources: [] }] }, { type: 'models', current: null, available: ['m'] });
    assert.deepEqual(restoreState(JSON.parse(JSON.stringify(saved))), saved);
    assert.equal(restoreState(undefined), null);
    assert.equal(restoreState({ messages: [{ id: 1, role: 'robot' }] }), null);
  });
});

describe('webview message validation', () => {
  it('accepts the webview messages the UI posts', () => {
    for (const ok of [
      { type: 'ready' }, { type: 'ask', question: 'q', model: 'm' }, { type: 'stop' }, { type: 'newConversation' },
      { type: 'openConversation', id: 'abc-1' }, { type: 'openCitation', citation: { path: 'a.ts', startLine: 1, endLine: 2 } },
      { type: 'copy', text: 'x' }, { type: 'insert', text: 'x' }, { type: 'apply', text: 'x', language: 'ts' }, { type: 'pickModel', model: 'm' },
    ]) assert.deepEqual(parseFromWebview(ok), ok);
  });

  it('rejects malformed webview messages', () => {
    for (const bad of [
      null, 'ask', 42, {}, { type: 'eval', code: '1' }, { type: 'ask' }, { type: 'ask', question: '' },
      { type: 'ask', question: 'x'.repeat(100_001) }, { type: 'openConversation', id: '../../etc' },
      { type: 'openCitation', citation: { path: '', startLine: 1, endLine: 1 } },
      { type: 'openCitation', citation: { path: 'a.ts', startLine: 0, endLine: 1 } }, { type: 'copy', text: 5 },
    ]) assert.equal(parseFromWebview(bad), null, JSON.stringify(bad)?.slice(0, 80));
  });

  it('rejects malformed extension messages', () => {
    for (const bad of [
      { type: 'messageDelta', id: 'a' }, { type: 'messageStart', id: 'a', role: 'system', text: '' },
      { type: 'conversation', id: 'c', messages: [{ id: 'x', role: 'user' }] }, { type: 'messageEnd', id: 'a', text: '' },
      { type: 'html', html: '<script>' }, { type: 'models', current: 1, available: [] },
    ]) assert.equal(parseToWebview(bad), null, JSON.stringify(bad));
    assert.ok(parseToWebview({ type: 'messageDelta', id: 'a', text: '<script>' }));
  });
});

describe('webview page', () => {
  it('has a strict CSP, one nonce script and no inline styles', () => {
    const nonce = makeNonce();
    assert.notEqual(nonce, makeNonce());
    const html = chatHtml({ cspSource: 'https://cdn.test', nonce, scriptUri: 'https://cdn.test/chat.js', styleUri: 'https://cdn.test/chat.css' });
    assert.ok(html.includes(`content="${contentSecurityPolicy('https://cdn.test', nonce)}"`));
    assert.equal(contentSecurityPolicy('S', 'N'), `default-src 'none'; style-src S; script-src 'nonce-N'; img-src S data:; font-src S`);
    assert.deepEqual(html.match(/<script[^>]*>/g), [`<script nonce="${nonce}" src="https://cdn.test/chat.js">`]);
    assert.ok(!/\sstyle=|<style/i.test(html));
    for (const id of ['baton-input', 'baton-send', 'baton-stop', 'baton-messages', 'baton-model', 'baton-new', 'baton-history']) {
      assert.ok(html.includes(`id="${id}"`), id);
    }
    assert.match(html, /id="baton-messages" role="log" aria-live="polite"/);
    assert.throws(() => chatHtml({ cspSource: 'x', nonce: 'short', scriptUri: '', styleUri: '' }));
  });
});
