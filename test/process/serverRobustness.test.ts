// The language server against clients that get things wrong, over its real stdio: every Baton
// request with params of the wrong shape, type or size is answered InvalidParams (-32602, never an
// internal error) naming the field; malformed codeAction params likewise; and bad framing (a
// Content-Length that is not a number, too short, too long, garbage between messages) costs one
// message and one logged error, after which the server answers as before. Both entry points.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAX_QUESTION_CHARS, requestParamsSchemas, type RequestMethod } from '../../src/protocol';
import { frame, NO_PARAMS, RawLspProcess, type RpcReply } from '../helpers/rawLsp';
import { makeWorkspace, REPO_ROOT, type TempWorkspace } from '../helpers/workspace';

const INVALID_PARAMS = -32602;
const HUGE = 'x'.repeat(2_000_000);

/** Params any request refuses: not an object. */
const NOT_OBJECTS: ReadonlyArray<[string, unknown]> = [['null', null], ['an array', []], ['an array of an object', [{}]], ['a number', 5], ['a string', 'params'], ['true', true]];

/** Per method: well-formed params, and variants each broken in one field (the field named in the error). */
const VARIANTS: { [M in RequestMethod]: { valid: unknown; broken: ReadonlyArray<[field: string, params: unknown]> } } = {
  'baton/ask': {
    valid: { runId: 'ask-1', question: 'how are tokens verified?' },
    broken: [
      ['runId', { question: 'q' }], ['question', { runId: 'a' }],
      ['runId', { runId: 7, question: 'q' }], ['runId', { runId: '', question: 'q' }], ['runId', { runId: HUGE, question: 'q' }],
      ['question', { runId: 'a', question: 42 }], ['question', { runId: 'a', question: null }], ['question', { runId: 'a', question: '   ' }],
      ['question', { runId: 'a', question: HUGE }],
      ['conversationId', { runId: 'a', question: 'q', conversationId: 3 }], ['conversationId', { runId: 'a', question: 'q', conversationId: HUGE }],
      ['model', { runId: 'a', question: 'q', model: ['gpt'] }], ['model', { runId: 'a', question: 'q', model: HUGE }],
      ['activeFile', { runId: 'a', question: 'q', activeFile: {} }], ['activeFile', { runId: 'a', question: 'q', activeFile: HUGE }],
      ['selection', { runId: 'a', question: 'q', selection: 'src/a.ts' }],
      ['selection.text', { runId: 'a', question: 'q', selection: { path: 'a.ts', language: 'ts', text: 5, startLine: 1, endLine: 1 } }],
      ['selection.text', { runId: 'a', question: 'q', selection: { path: 'a.ts', language: 'ts', text: HUGE, startLine: 1, endLine: 1 } }],
      ['selection.startLine', { runId: 'a', question: 'q', selection: { path: 'a.ts', language: 'ts', text: 'x', startLine: 'one', endLine: 1 } }],
      ['selection.path', { runId: 'a', question: 'q', selection: { language: 'ts', text: 'x', startLine: 1, endLine: 1 } }],
    ],
  },
  'baton/runWorkflow': {
    valid: { runId: 'wf-1', workflow: 'explain', input: {} },
    broken: [
      ['runId', { workflow: 'explain', input: {} }], ['workflow', { runId: 'w', input: {} }], ['input', { runId: 'w', workflow: 'explain' }],
      ['workflow', { runId: 'w', workflow: 1, input: {} }], ['workflow', { runId: 'w', workflow: HUGE, input: {} }],
      ['input', { runId: 'w', workflow: 'explain', input: 'selection' }], ['input', { runId: 'w', workflow: 'explain', input: [] }],
      ['input', { runId: 'w', workflow: 'explain', input: { notes: HUGE } }],
      ['input.selection', { runId: 'w', workflow: 'explain', input: { selection: 'a.ts' } }],
      ['input.selection.text', { runId: 'w', workflow: 'explain', input: { selection: { path: 'a.ts', language: 'ts', text: 'x'.repeat(300_000), startLine: 1, endLine: 1 } } }],
      ['input.question', { runId: 'w', workflow: 'explain', input: { question: 'y'.repeat(MAX_QUESTION_CHARS + 1) } }],
    ],
  },
  'baton/search': {
    valid: { query: 'verify token', k: 3, mode: 'lexical' },
    broken: [
      ['query', {}], ['query', { query: 9 }], ['query', { query: HUGE }],
      ['k', { query: 'q', k: 'three' }], ['k', { query: 'q', k: 1.5 }], ['k', { query: 'q', k: 0 }],
      ['mode', { query: 'q', mode: 'fuzzy' }],
    ],
  },
  'baton/cancel': { valid: { runId: 'nothing-running' }, broken: [['runId', {}], ['runId', { runId: 12 }], ['runId', { runId: HUGE }]] },
  'baton/indexStatus': { valid: {}, broken: [] },
  'baton/rebuildIndex': { valid: { full: false }, broken: [['full', {}], ['full', { full: 'yes' }]] },
  'baton/models': { valid: {}, broken: [] },
  'baton/conversations': { valid: {}, broken: [] },
  'baton/conversation': { valid: { id: 'x' }, broken: [['id', {}], ['id', { id: 5 }], ['id', { id: HUGE }]] },
  'baton/detectModelServers': { valid: {}, broken: [] },
  'baton/probeModelServer': {
    valid: { baseURL: 'http://127.0.0.1:9/v1' },
    broken: [
      ['baseURL', {}], ['baseURL', { baseURL: 7 }], ['baseURL', { baseURL: 'not a url' }], ['baseURL', { baseURL: 'file:///etc/passwd' }],
      ['baseURL', { baseURL: `http://${HUGE}` }], ['apiKey', { baseURL: 'http://127.0.0.1:9/v1', apiKey: 5 }],
      ['apiKey', { baseURL: 'http://127.0.0.1:9/v1', apiKey: HUGE }],
    ],
  },
  'baton/testModel': {
    valid: { baseURL: 'http://127.0.0.1:9/v1', model: 'test-chat', kind: 'chat' },
    broken: [
      ['baseURL', { model: 'm', kind: 'chat' }], ['model', { baseURL: 'http://127.0.0.1:9/v1', kind: 'chat' }],
      ['model', { baseURL: 'http://127.0.0.1:9/v1', model: HUGE, kind: 'chat' }], ['kind', { baseURL: 'http://127.0.0.1:9/v1', model: 'm', kind: 'image' }],
      ['apiKey', { baseURL: 'http://127.0.0.1:9/v1', model: 'm', kind: 'embed', apiKey: [] }],
    ],
  },
};

function assertInvalidParams(reply: RpcReply, what: string, field?: string): void {
  assert.ok(reply.error, `${what}: expected an error, got ${String(JSON.stringify(reply.result)).slice(0, 200)}`);
  assert.equal(reply.error.code, INVALID_PARAMS, `${what}: ${reply.error.message}`);
  if (field) assert.ok(reply.error.message.includes(field), `${what}: the message names ${field}: ${reply.error.message}`);
  assert.ok(reply.error.message.length < 1000, `${what}: a short message`);
}

describe('language server robustness', function () {
  this.timeout(120_000);
  let ws: TempWorkspace;
  let lsp: RawLspProcess;

  before(async () => {
    ws = makeWorkspace();
    lsp = await RawLspProcess.start({ root: ws.root, settings: { embedder: 'none', baseUrl: 'http://127.0.0.1:9/v1', model: 'test-chat' } });
  });
  after(async () => {
    await lsp?.stop();
    ws?.remove();
  });

  const answersStatus = async (after: string) => {
    const status = await lsp.request('baton/indexStatus', {});
    assert.equal(status.error, undefined, `indexStatus after ${after}: ${status.error?.message}`);
    assert.match(String((status.result as { state?: string }).state), /^(starting|indexing|indexed)$/);
  };

  it('has a robustness case for every Baton request', () => {
    assert.deepEqual(Object.keys(VARIANTS).sort(), Object.keys(requestParamsSchemas).sort());
  });

  for (const method of Object.keys(VARIANTS) as RequestMethod[]) {
    it(`${method}: params that are not an object, miss a field, have a wrong type or a huge string get InvalidParams`, async () => {
      const cases: Array<[string, unknown, string | undefined]> = [
        ...NOT_OBJECTS.map(([name, params]): [string, unknown, string | undefined] => [`params ${name}`, params, undefined]),
        ...VARIANTS[method].broken.map(([field, params]): [string, unknown, string | undefined] => [`bad ${field}`, params, field]),
      ];
      const replies = await Promise.all(cases.map(([, params]) => lsp.request(method, params)));
      replies.forEach((reply, i) => assertInvalidParams(reply, `${method} with ${cases[i][0]}`, cases[i][2]));
      await answersStatus(method);
    });
  }

  it('answers a 2,000,000-character question at once, saying it is too long', async () => {
    const reply = await lsp.request('baton/ask', { runId: 'too-long', question: HUGE });
    assertInvalidParams(reply, 'huge question', 'question');
    assert.match(reply.error!.message, /the question is too long: 2000000 characters, at most 100000/);
  });

  it('takes well-formed params, left-out params for requests without any, and ignores unknown fields', async () => {
    assert.deepEqual((await lsp.request('baton/cancel', { runId: 'nothing-running', extra: true })).result, { cancelled: false });
    assert.equal((await lsp.request('baton/indexStatus', NO_PARAMS)).error, undefined);
    const search = await lsp.request('baton/search', VARIANTS['baton/search'].valid);
    assert.equal(search.error, undefined, search.error?.message);
  });

  describe('textDocument/codeAction', () => {
    const uri = () => pathToFileURL(join(ws.root, 'src/util/retry.ts')).href;
    const range = { start: { line: 1, character: 0 }, end: { line: 3, character: 0 } };

    it('answers malformed params with InvalidParams naming the field, and keeps answering', async () => {
      const cases: Array<[string, unknown, string]> = [
        ['no textDocument', { range, context: { diagnostics: [] } }, 'textDocument'],
        ['textDocument null', { textDocument: null, range, context: { diagnostics: [] } }, 'textDocument'],
        ['textDocument without uri', { textDocument: {}, range, context: { diagnostics: [] } }, 'textDocument.uri'],
        ['range as a string', { textDocument: { uri: uri() }, range: '1:0-3:0', context: { diagnostics: [] } }, 'range'],
        ['a negative line', { textDocument: { uri: uri() }, range: { ...range, start: { line: -1, character: 0 } }, context: { diagnostics: [] } }, 'range.start.line'],
        ['no context', { textDocument: { uri: uri() }, range }, 'context'],
        ['diagnostics not a list', { textDocument: { uri: uri() }, range, context: { diagnostics: 'many' } }, 'context.diagnostics'],
        ['a diagnostic without a range', { textDocument: { uri: uri() }, range, context: { diagnostics: [{ message: 'x' }] } }, 'context.diagnostics.0.range'],
        ['params null', null, 'params'],
      ];
      const replies = await Promise.all(cases.map(([, params]) => lsp.request('textDocument/codeAction', params)));
      replies.forEach((reply, i) => assertInvalidParams(reply, `codeAction with ${cases[i][0]}`, cases[i][2]));
      const good = await lsp.request('textDocument/codeAction', {
        textDocument: { uri: uri() }, range, context: { diagnostics: [{ range, message: 'broken', severity: 1, source: 'ts' }] },
      });
      const actions = good.result as Array<{ title: string; diagnostics?: unknown[] }>;
      assert.deepEqual(actions.map((a) => a.title), ['Fix with Baton', 'Explain problem', 'Explain', 'Generate tests', 'Document']);
      assert.deepEqual(actions[0].diagnostics, [{ range, message: 'broken', severity: 1, source: 'ts' }], 'the diagnostic goes back as sent');
      await answersStatus('codeAction');
    });
  });
});

describe('language server framing recovery', function () {
  this.timeout(120_000);
  let ws: TempWorkspace;
  before(() => { ws = makeWorkspace(); });
  after(() => ws?.remove());

  const request = (id: number, method: string, params: unknown) => frame({ jsonrpc: '2.0', id, method, params });
  const FRAMING = /bad message framing from the client/;

  for (const [entry, args] of [
    ['dist/server.js --stdio', [join(REPO_ROOT, 'dist', 'server.js'), '--stdio']],
    ['dist/cli.js lsp --stdio', [join(REPO_ROOT, 'dist', 'cli.js'), 'lsp', '--stdio']],
  ] as const) {
    it(`${entry}: each kind of bad framing is one logged error, and the next request is answered`, async () => {
      const lsp = await RawLspProcess.start({ root: ws.root, settings: { embedder: 'none' }, args: [...args] });
      try {
        const bodyOf = (id: number) => {
          const framed = request(id, 'baton/cancel', { runId: `lost-${id}` });
          return framed.subarray(framed.indexOf('\r\n\r\n') + 4);
        };
        const cases: Array<[string, (id: number) => Buffer]> = [
          ['a Content-Length that is not a number', (id) => Buffer.concat([Buffer.from('Content-Length: forty-two\r\n\r\n'), bodyOf(id)])],
          ['a Content-Length that is too short', (id) => Buffer.concat([Buffer.from(`Content-Length: ${bodyOf(id).length - 7}\r\n\r\n`), bodyOf(id)])],
          ['a Content-Length that is too long', (id) => Buffer.concat([Buffer.from(`Content-Length: ${bodyOf(id).length + 25}\r\n\r\n`), bodyOf(id)])],
          ['garbage bytes between messages', () => Buffer.from([0x00, 0xff, 0x47, 0x45, 0x54, 0x20, 0x2f, 0x0d, 0x0a, 0x7b, 0x7d, 0x0d, 0x0a, 0x0d, 0x0a, 0x71])],
        ];
        for (const [what, bad] of cases) {
          const logged = lsp.logs.filter((l) => FRAMING.test(l.message)).length;
          lsp.write(bad(lsp.takeId()));
          const id = lsp.takeId();
          lsp.write(request(id, 'baton/indexStatus', {}));
          const reply = await lsp.reply(id, 10_000);
          assert.equal(reply.error, undefined, `${what}: ${reply.error?.message}`);
          assert.ok((reply.result as { state: string }).state, what);
          const errors = lsp.logs.filter((l) => FRAMING.test(l.message)).slice(logged);
          assert.equal(errors.length, 1, `${what}: ${JSON.stringify(errors)}`);
          assert.equal(errors[0].type, 1, 'logged as an error');
        }
        // And the connection is as good as new.
        assert.deepEqual((await lsp.request('baton/cancel', { runId: 'after' })).result, { cancelled: false });
      } finally {
        await lsp.stop();
      }
    });
  }
});
