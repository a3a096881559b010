// The chat webview in a real browser: headless Chromium loads the page chatHtml() builds, with the
// built dist/webview/chat.js and media/chat.css, under its CSP. A stub acquireVsCodeApi records what
// the page posts; the test plays the extension by posting ToWebview messages into the page.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { chatHtml, contentSecurityPolicy, makeNonce } from '../../src/extension/chat/chatHtml';
import type { FromWebview, ToWebview } from '../../src/protocol';
import { REPO_ROOT } from '../helpers/workspace';

const CHROMIUM = '/usr/bin/chromium';
const ORIGIN = 'https://webview.baton.test'; // plays webview.cspSource; served by page.route, no network
const SCRIPT = join(REPO_ROOT, 'dist', 'webview', 'chat.js');
const STYLE = join(REPO_ROOT, 'media', 'chat.css');

// The stub VS Code API, injected before the page's own script. State is passed in to simulate a
// view that is re-shown; violations of the CSP are recorded so any inline script or style shows up.
const STUB = `
  window.__posted = [];
  window.__state = window.__savedState;
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may be called only once');
    acquired = true;
    return {
      postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => window.__state,
      setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); },
    };
  };`;

// Posts messages as the extension would, then waits until the page has handled them and rendered:
// message events run in order, so once the sentinel arrives the page has seen the others; the
// page's animation frame was requested before ours, so it has run when ours does.
const DELIVER = `(messages) => new Promise((resolve) => {
  for (const m of messages) window.postMessage(m, '*');
  const onMessage = (e) => {
    if (e.data !== '__settled') return;
    window.removeEventListener('message', onMessage);
    requestAnimationFrame(() => setTimeout(resolve, 0));
  };
  window.addEventListener('message', onMessage);
  window.postMessage('__settled', '*');
})`;

interface Loaded {
  page: Page;
  nonce: string;
  errors: string[];
}

describe('webview in Chromium', function () {
  let context: BrowserContext;
  let profile: string;
  const pages: Loaded[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
    if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run \`node esbuild.mjs\` first`);
    profile = mkdtempSync(join(tmpdir(), 'baton-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
      env: { ...process.env, HOME: profile },
    });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  afterEach(async () => {
    for (const { page, errors } of pages.splice(0)) {
      const violations = await page.evaluate('window.__violations');
      await page.close();
      assert.deepEqual(errors, [], 'page errors');
      assert.deepEqual(violations, [], 'CSP violations');
    }
  });

  async function open(savedState?: unknown): Promise<Loaded> {
    const nonce = makeNonce();
    const html = chatHtml({ cspSource: ORIGIN, nonce, scriptUri: `${ORIGIN}/dist/webview/chat.js`, styleUri: `${ORIGIN}/media/chat.css` });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/') return route.fulfill({ contentType: 'text/html', body: html });
      if (path === '/dist/webview/chat.js') return route.fulfill({ contentType: 'text/javascript', body: readFileSync(SCRIPT) });
      if (path === '/media/chat.css') return route.fulfill({ contentType: 'text/css', body: readFileSync(STYLE) });
      return route.fulfill({ status: 404, body: '' });
    });
    await page.addInitScript({ content: `window.__savedState = ${JSON.stringify(savedState ?? null) ?? 'null'};${STUB}` });
    await page.goto(`${ORIGIN}/`);
    // A function, not a string: a string predicate is eval'd in the page, which the CSP forbids.
    await page.waitForFunction(() => (globalThis as unknown as { __posted: unknown[] }).__posted.length > 0);
    const loaded = { page, nonce, errors };
    pages.push(loaded);
    return loaded;
  }

  const deliver = (page: Page, ...messages: unknown[]): Promise<unknown> => page.evaluate(`(${DELIVER})(${JSON.stringify(messages)})`);
  const posted = (page: Page): Promise<FromWebview[]> => page.evaluate<FromWebview[]>('window.__posted');
  const lastPosted = async (page: Page): Promise<FromWebview | undefined> => (await posted(page)).at(-1);
  const count = (page: Page, selector: string): Promise<number> => page.locator(selector).count();

  function streamed(id: string, role: 'user' | 'assistant', ...deltas: string[]): ToWebview[] {
    return [{ type: 'messageStart', id, role, text: role === 'user' ? deltas.join('') : '' },
      ...(role === 'assistant' ? deltas.map((text): ToWebview => ({ type: 'messageDelta', id, text })) : [])];
  }

  it('loads under its CSP with only the nonce script, and says ready', async () => {
    const { page, nonce } = await open();
    assert.deepEqual(await posted(page), [{ type: 'ready' }]);
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.equal(csp, contentSecurityPolicy(ORIGIN, nonce));
    const scripts = await page.evaluate('Array.from(document.scripts).map((s) => ({ nonce: s.nonce, src: s.getAttribute("src"), inline: s.textContent.trim() }))');
    assert.deepEqual(scripts, [{ nonce, src: `${ORIGIN}/dist/webview/chat.js`, inline: '' }]);
    assert.equal(await count(page, '[style]'), 0, 'no inline style attributes');
    assert.equal(await page.evaluate('getComputedStyle(document.getElementById("baton-messages")).overflowY'), 'auto', 'chat.css applies');
    assert.deepEqual(await page.evaluate('window.__violations'), []);
    // The policy is live: an injected inline script does not run.
    await page.evaluate('(() => { const s = document.createElement("script"); s.textContent = "window.__inline = 1"; document.body.append(s); })()');
    assert.equal(await page.evaluate('window.__inline'), undefined);
    assert.match(String(await page.evaluate('window.__violations.splice(0).join()')), /script-src/);
  });

  it('in a narrow side bar, a long code line scrolls inside its block instead of widening the chat', async () => {
    const { page } = await open();
    await page.setViewportSize({ width: 260, height: 600 });
    const long = `const config = { ${Array.from({ length: 30 }, (_, i) => `key${i}: 'value${i}'`).join(', ')} };`;
    await deliver(page, ...streamed('a', 'assistant', '```ts\n' + long + '\n```'), { type: 'messageEnd', id: 'a', text: '', sources: [] });
    const sizes: { pre: number; preScroll: number; log: number; page: number; viewport: number } = await page.evaluate(`(() => {
      const pre = document.querySelector('.baton-code pre');
      return { pre: pre.clientWidth, preScroll: pre.scrollWidth, log: document.getElementById('baton-messages').clientWidth,
        page: document.documentElement.scrollWidth, viewport: window.innerWidth };
    })()`);
    assert.ok(sizes.pre <= sizes.log, `the block fits the chat (${sizes.pre} <= ${sizes.log})`);
    assert.ok(sizes.preScroll > sizes.pre, 'the long line scrolls inside the block');
    assert.ok(sizes.page <= sizes.viewport, `no horizontal scroll of the whole view (${sizes.page} <= ${sizes.viewport})`);
  });

  it('is accessible: a polite log and labelled controls', async () => {
    const { page } = await open();
    assert.equal(await page.locator('#baton-messages').getAttribute('role'), 'log');
    assert.equal(await page.locator('#baton-messages').getAttribute('aria-live'), 'polite');
    await deliver(page, ...streamed('a', 'assistant', '```js\nx\n```\nsee a.ts:1'), { type: 'messageEnd', id: 'a', text: '', sources: [] });
    const unlabelled = await page.evaluate('Array.from(document.querySelectorAll("button, select, textarea")).filter((b) => !b.getAttribute("aria-label") && !b.labels?.length).length');
    assert.equal(unlabelled, 0);
  });

  it('sends on Enter, keeps Shift+Enter as a new line, and passes the picked model', async () => {
    const { page } = await open();
    await deliver(page, { type: 'models', current: 'm1', available: ['m1', 'm2'] });
    await page.locator('#baton-input').click();
    await page.keyboard.type('first line');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('second line');
    assert.equal((await posted(page)).length, 1, 'Shift+Enter does not send');
    await page.keyboard.press('Enter');
    assert.deepEqual(await lastPosted(page), { type: 'ask', question: 'first line\nsecond line', model: 'm1' });
    assert.equal(await page.locator('#baton-input').inputValue(), '');
    await page.locator('#baton-model').selectOption('m2');
    assert.deepEqual(await lastPosted(page), { type: 'pickModel', model: 'm2' });
    await page.locator('#baton-input').fill('via button');
    await page.locator('#baton-send').click();
    assert.deepEqual(await lastPosted(page), { type: 'ask', question: 'via button', model: 'm2' });
  });

  it('streams markdown; Stop, code actions and citations post their messages', async () => {
    const { page } = await open();
    const answer = '.baton-message[data-role=assistant]';
    await deliver(page, ...streamed('u1', 'user', 'where is x?'), ...streamed('a1', 'assistant', 'Look at **src/a.ts:3-5**.\n\n```ts\nconst x', ' = 1;\n'));
    assert.equal(await page.locator(answer).getAttribute('data-pending'), '');
    assert.equal(await page.locator(`${answer} strong`).count(), 1);
    assert.equal(await page.locator(`${answer} code.language-ts`).textContent(), 'const x = 1;\n');
    assert.ok(await page.locator('#baton-stop').isVisible());
    assert.ok(!(await page.locator('#baton-send').isVisible()));
    await page.locator('#baton-stop').click();
    assert.deepEqual(await lastPosted(page), { type: 'stop' });

    await deliver(page, { type: 'messageDelta', id: 'a1', text: '```\nDone. See also src/invented.ts:4.' },
      { type: 'messageEnd', id: 'a1', text: '', sources: [{ path: 'src/a.ts', startLine: 3, endLine: 5 }, { path: 'src/b.ts', startLine: 7, endLine: 9 }, { path: '/etc/passwd', startLine: 1, endLine: 1 }],
        citations: ['src/a.ts:3-5', 'src/b.ts:7-9'] });
    assert.equal(await page.locator(answer).getAttribute('data-pending'), null);
    assert.ok(!(await page.locator('#baton-stop').isVisible()));
    assert.match(await page.locator(answer).textContent() ?? '', /Done\./);

    for (const action of ['copy', 'insert', 'apply'] as const) {
      await page.locator(`${answer} .baton-code-actions button[data-action=${action}]`).click();
      assert.deepEqual(await lastPosted(page), action === 'apply'
        ? { type: 'apply', text: 'const x = 1;\n', language: 'ts' }
        : { type: action, text: 'const x = 1;\n' });
      if (action === 'copy') assert.equal(await page.locator(`${answer} .baton-code-actions button[data-action=copy]`).textContent(), 'Copied');
    }
    assert.equal(await count(page, `${answer} .baton-message-body .baton-citation`), 1, 'a citation the extension did not confirm is no chip');
    assert.match(await page.locator(`${answer} .baton-message-body`).textContent() ?? '', /src\/invented\.ts:4/);
    await page.locator(`${answer} .baton-message-body .baton-citation`).click();
    assert.deepEqual(await lastPosted(page), { type: 'openCitation', citation: { path: 'src/a.ts', startLine: 3, endLine: 5 } });
    assert.equal(await count(page, `${answer} .baton-sources .baton-citation`), 1, 'the absolute path is no chip, and src/a.ts:3-5 (a chip in the text) is not listed twice');
    await page.locator(`${answer} .baton-sources .baton-citation`).click();
    assert.deepEqual(await lastPosted(page), { type: 'openCitation', citation: { path: 'src/b.ts', startLine: 7, endLine: 9 } });
  });

  it('discards streamed text on reset and keeps the question and partial answer on error', async () => {
    const { page } = await open();
    const body = '.baton-message[data-role=assistant] .baton-message-body';
    await deliver(page, ...streamed('u', 'user', 'q?'), ...streamed('a', 'assistant', 'wrong start'), { type: 'messageReset', id: 'a' });
    assert.equal(await page.locator(body).textContent(), 'Thinking…');
    await deliver(page, { type: 'messageDelta', id: 'a', text: 'partial' }, { type: 'messageEnd', id: 'a', text: '', sources: [], error: 'model server unreachable' });
    assert.equal((await page.locator(body).textContent())?.trim(), 'partial');
    assert.equal(await page.locator('.baton-message-error[role=alert]').textContent(), 'model server unreachable');
    assert.equal(await page.locator('.baton-message[data-role=user]').textContent(), 'You' + 'q?');
  });

  it('shows what a pending answer waits for in place of Thinking…, below any text, and drops it when text arrives', async () => {
    const { page } = await open();
    const body = '.baton-message[data-role=assistant] .baton-message-body';
    const waiting = 'waiting for qwen at http://127.0.0.1:11434/v1… 10 s';
    await deliver(page, ...streamed('u', 'user', 'q?'), ...streamed('a', 'assistant'), { type: 'messageWaiting', id: 'a', text: waiting });
    assert.equal(await page.locator(body).textContent(), waiting);
    await deliver(page, { type: 'messageDelta', id: 'a', text: 'Let me look.' }, { type: 'messageWaiting', id: 'a', text: 'waiting for qwen… 3 s (attempt 2)' });
    assert.equal((await page.locator(body).textContent())?.trim(), 'Let me look.');
    assert.equal(await page.locator('.baton-message-waiting').textContent(), 'waiting for qwen… 3 s (attempt 2)');
    await deliver(page, { type: 'messageDelta', id: 'a', text: ' Found it.' });
    assert.equal(await count(page, '.baton-message-waiting'), 0);
    assert.equal(await count(page, '.baton-message'), 2, 'no extra history entries');
  });

  it('renders hostile text as text and ignores invalid messages', async () => {
    const { page } = await open();
    const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><a href="javascript:window.__pwned=3">x</a> [y](javascript:window.__pwned=4) [z](https://evil.test/)';
    await deliver(page, ...streamed('u', 'user', hostile), ...streamed('a', 'assistant', hostile), { type: 'messageEnd', id: 'a', text: '', sources: [] });
    assert.equal(await count(page, '#baton-messages script, #baton-messages img, #baton-messages a, #baton-messages [onerror]'), 0);
    await page.locator('.baton-message[data-role=assistant] .baton-link').click();
    assert.equal(page.url(), `${ORIGIN}/`, 'links do not navigate');
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    assert.match(await page.locator('.baton-message[data-role=assistant]').textContent() ?? '', /<script>window.__pwned = 1<\/script>/);
    assert.match(await page.locator('.baton-message[data-role=user]').textContent() ?? '', /<img src=x onerror=/);

    const before = await page.locator('#baton-messages').innerHTML();
    await deliver(page, null, 'text', { type: 'messageDelta', id: 'a' }, { type: 'html', html: '<img src=x onerror="window.__pwned=5">' },
      { type: 'conversation', id: null, messages: 'none' }, { type: 'messageStart', id: 'z', role: 'system', text: 'x' });
    assert.equal(await page.locator('#baton-messages').innerHTML(), before);
    assert.equal(await page.evaluate('window.__pwned'), undefined);
  });

  it('keeps a 500-message conversation to a window of DOM nodes', async () => {
    const { page } = await open();
    const messages = Array.from({ length: 500 }, (_, i) => ({
      id: `m${i}`, role: i % 2 ? 'assistant' : 'user', text: i % 2 ? `Answer ${i} in a.ts:${i}\n\n\`\`\`ts\nconst v${i} = ${i};\n\`\`\`` : `Question ${i}`,
    }));
    await deliver(page, { type: 'conversation', id: 'big', messages });
    const shown = await count(page, '.baton-message');
    assert.ok(shown > 0 && shown <= 60, `${shown} message nodes for 500 messages`);
    assert.match(await page.locator('.baton-message').last().textContent() ?? '', /Answer 499/);
    assert.ok(Number(await page.evaluate('document.querySelectorAll("*").length')) < 3000);
    assert.match(await page.locator('#baton-earlier').textContent() ?? '', new RegExp(`\\(${500 - shown}\\)`));

    await page.locator('#baton-earlier').click();
    const more = await count(page, '.baton-message');
    assert.ok(more > shown && more <= 2 * shown, `${more} after Show earlier`);
    await deliver(page, ...streamed('n', 'user', 'one more'));
    assert.equal(await count(page, '.baton-message'), more, 'the window slides instead of growing');
    assert.match(await page.locator('.baton-message').last().textContent() ?? '', /one more/);
  });

  it('toolbar: history opens a conversation, New chat starts one', async () => {
    const { page } = await open();
    await deliver(page, { type: 'history', conversations: [{ id: 'c1', title: 'First', updatedAt: '2024-01-01' }, { id: 'c2', title: 'Second', updatedAt: '2024-01-02' }] });
    await page.locator('#baton-history').selectOption('c2');
    assert.deepEqual(await lastPosted(page), { type: 'openConversation', id: 'c2' });
    assert.equal(await page.locator('#baton-history').inputValue(), '');
    await page.locator('#baton-new').click();
    assert.deepEqual(await lastPosted(page), { type: 'newConversation' });
  });

  it('re-shows instantly from the saved state, before the extension answers', async () => {
    const first = await open();
    await deliver(first.page, { type: 'conversation', id: 'c', messages: [{ id: 'x', role: 'user', text: 'remembered question' }] },
      ...streamed('y', 'assistant', 'remembered **answer**'), { type: 'messageEnd', id: 'y', text: '', sources: [] });
    const saved = await first.page.evaluate('window.__state');
    const { page } = await open(saved);
    assert.equal(await count(page, '.baton-message'), 2);
    assert.equal(await page.locator('.baton-message[data-role=assistant] strong').textContent(), 'answer');
    assert.deepEqual(await posted(page), [{ type: 'ready' }]);
  });
});
