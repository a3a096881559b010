// Routing on the real packaged model and a real lexical index built from an indexed workspace.
import assert from 'node:assert/strict';
import { createEmbedder } from '../../../src/core/embed/createEmbedder';
import type { Embedder } from '../../../src/core/embed/types';
import { indexWorkspace } from '../../../src/core/indexing/indexer';
import type { LexicalIndex } from '../../../src/core/search/lexical';
import { Retriever } from '../../../src/core/search/retriever';
import { IndexStore } from '../../../src/core/store/store';
import { batonDirOf } from '../../../src/core/indexing/workspaceIndex';
import { ROUTE_EXAMPLES, route, type WorkflowId } from '../../../src/core/orchestration/router';
import { QUERY_PREFIX_CHARS } from '../../../src/base/common/prefix';
import { makeWorkspace, type TempWorkspace } from '../../helpers/workspace';

/** Paraphrases written without looking at the router's scores; none is in ROUTE_EXAMPLES. */
const HELD_OUT: ReadonlyArray<[string, WorkflowId]> = [
  ['how are embeddings stored on disk in this project', 'ask'],
  ['does baton send my code to a remote server', 'ask'],
  ['what is the default number of search results', 'ask'],
  ['why is the lexical index kept in memory', 'ask'],
  ['what does this snippet do', 'explain'],
  ['can you explain how this works', 'explain'],
  ['walk me through this function', 'explain'],
  ['I do not understand this code, describe it', 'explain'],
  ['write a helper that formats dates as ISO strings', 'generate'],
  ['implement a function to merge two sorted arrays', 'generate'],
  ['create a class that wraps the HTTP client with retries', 'generate'],
  ['add a new endpoint that deletes a user', 'generate'],
  ['this crashes with undefined is not a function, please fix', 'fix'],
  ['fix the failing type check in this file', 'fix'],
  ['the loop never terminates, repair it', 'fix'],
  ['there is a bug here that returns null, correct it', 'fix'],
  ['write tests for this module', 'tests'],
  ['add unit tests for the parser', 'tests'],
  ['create a test suite covering error cases', 'tests'],
  ['generate assertions that check this function output', 'tests'],
  ['where do we sign the session token', 'search'],
  ['find the code that handles retries with backoff', 'search'],
  ['which file defines the invoice parser', 'search'],
  ['locate where the server starts listening', 'search'],
];

/** Most of these route right; the test asserts on this subset and reports the overall accuracy. */
const MIN_HELD_OUT_ACCURACY = 0.7;

describe('router', function () {
  let ws: TempWorkspace;
  let store: IndexStore;
  let lexical: LexicalIndex;
  let embedder: Embedder;

  before(async () => {
    ws = makeWorkspace();
    await indexWorkspace({ root: ws.root, batonDir: batonDirOf(ws.root), embedder: null });
    store = await IndexStore.open(batonDirOf(ws.root), { create: false });
    lexical = Retriever.fromStore(store, null).lexicalIndex;
    embedder = createEmbedder({ kind: 'baton' }, { inWorker: false })!;
    await embedder.init();
  });

  after(async () => {
    await embedder?.dispose();
    await store?.close();
    ws?.remove();
  });

  describe('command prefixes', () => {
    for (const [cmd, workflow] of [['/explain', 'explain'], ['/fix', 'fix'], ['/tests', 'tests'], ['/test', 'tests'],
      ['/generate', 'generate'], ['/search', 'search'], ['/ask', 'ask']] as const) {
      it(`${cmd} routes to ${workflow} by rule, whatever follows`, async () => {
        const r = await route({ text: `${cmd} how the session store expires entries` }, { embedder, lexical });
        assert.equal(r.workflow, workflow);
        assert.equal(r.via, 'rule');
        assert.equal(r.confidence, 1);
      });
    }

    it('/search with a known symbol carries the symbol; an unknown command is ordinary text', async () => {
      const r = await route({ text: '/search signSessionToken' }, { lexical });
      assert.deepEqual([r.workflow, r.symbol, r.role], ['search', 'signSessionToken', 'fast']);
      const other = await route({ text: '/deploy the app' }, {});
      assert.equal(other.via, 'default');
      const inside = await route({ text: 'what does the /fix command do' }, {});
      assert.equal(inside.via, 'default', 'a command is only a command at the start');
    });

    it('sets role and task from the workflow', async () => {
      const shapes = await Promise.all((['fix', 'generate', 'tests', 'explain', 'ask', 'search'] as const)
        .map(async (w) => { const r = await route({ text: `/${w} x` }, {}); return `${r.workflow}:${r.role}:${r.task}`; }));
      assert.deepEqual(shapes, ['fix:chat:edit', 'generate:chat:edit', 'tests:chat:edit', 'explain:chat:chat', 'ask:chat:chat', 'search:fast:chat']);
    });
  });

  describe('symbol lookups', () => {
    const cases: ReadonlyArray<[string, string, 'definition' | 'references']> = [
      ['where is retryWithBackoff defined?', 'retryWithBackoff', 'definition'],
      ["where's SessionStore", 'SessionStore', 'definition'],
      ['find signSessionToken', 'signSessionToken', 'definition'],
      ['definition of verifySessionToken', 'verifySessionToken', 'definition'],
      ['go to the `RetryOptions` interface', 'RetryOptions', 'definition'],
      ['who calls retryWithBackoff()?', 'retryWithBackoff', 'references'],
      ['usages of signSessionToken', 'signSessionToken', 'references'],
    ];
    for (const [text, symbol, lookup] of cases) {
      it(`"${text}" → search ${symbol} (${lookup}), no model`, async () => {
        const r = await route({ text }, { embedder, lexical });
        assert.equal(r.workflow, 'search');
        assert.equal(r.via, 'rule');
        assert.equal(r.symbol, symbol);
        assert.equal(r.lookup, lookup);
        assert.equal(r.role, 'fast');
      });
    }

    it('does not treat a name the index cannot resolve, or a lookup phrase in a longer sentence, as a lookup', async () => {
      for (const text of ['where is fooBarBazNotHere defined', 'find a way to make retries faster', 'find the bug',
        'where is the session token verified and can we cache it']) {
        const r = await route({ text }, { lexical });
        assert.equal(r.symbol, undefined, text);
        assert.notEqual(r.workflow === 'search' && r.via === 'rule', true, text);
        assert.notEqual(r.via, 'rule', text);
      }
    });

    it('needs an index to resolve symbols', async () => {
      const r = await route({ text: 'where is retryWithBackoff defined' }, {});
      assert.equal(r.symbol, undefined);
      assert.equal(r.via, 'default');
    });
  });

  describe('long requests', () => {
    it('embed only the start of a 100,000-character request, and are never lookups', async () => {
      const seen: number[] = [];
      const spy: Embedder = {
        id: embedder.id,
        get dimensions() { return embedder.dimensions; },
        init: (signal) => embedder.init(signal),
        embed: (texts, kind, signal) => { seen.push(...texts.map((t) => t.length)); return embedder.embed(texts, kind, signal); },
        dispose: async () => undefined,
      };
      const long = `where is retryWithBackoff defined ${'and why '.repeat(12_500)}`;
      const r = await route({ text: long }, { embedder: spy, lexical });
      assert.equal(r.symbol, undefined, 'a lookup is a short request');
      assert.ok(seen.length > 0 && Math.max(...seen) <= QUERY_PREFIX_CHARS, JSON.stringify(seen.slice(-3)));
      const command = await route({ text: `/search ${'a'.repeat(100_000)}` }, { lexical });
      assert.deepEqual([command.workflow, command.via, command.symbol], ['search', 'rule', undefined]);
    });
  });

  describe('editor context', () => {
    it('a selection with diagnostics and a vague request goes to fix', async () => {
      for (const deps of [{ embedder, lexical }, {}]) {
        const r = await route({ text: 'what is going on here', hasSelection: true, hasDiagnostics: true }, deps);
        assert.deepEqual([r.workflow, r.via, r.task], ['fix', 'rule', 'edit']);
      }
    });

    it('words that clearly ask for new code override the context', async () => {
      const r = await route({ text: 'write unit tests for this function', hasSelection: true, hasDiagnostics: true }, { embedder });
      assert.deepEqual([r.workflow, r.via], ['tests', 'similarity']);
    });

    it('an explicit command still wins over the context; a bare selection is explained', async () => {
      const r = await route({ text: '/tests', hasSelection: true, hasDiagnostics: true }, { embedder });
      assert.equal(r.workflow, 'tests');
      const bare = await route({ text: '', hasSelection: true }, { embedder });
      assert.deepEqual([bare.workflow, bare.via], ['explain', 'rule']);
    });

    it('diagnostics without a selection are no rule', async () => {
      const r = await route({ text: 'what is going on here', hasDiagnostics: true }, {});
      assert.equal(r.via, 'default');
    });
  });

  describe('similarity (packaged model)', () => {
    it('routes the example requests themselves to their own workflow', async () => {
      for (const [workflow, examples] of Object.entries(ROUTE_EXAMPLES)) {
        for (const text of examples) {
          const r = await route({ text }, { embedder });
          if (r.via === 'similarity') assert.equal(r.workflow, workflow, `${text}: ${r.reason}`);
        }
      }
    });

    it('routes held-out paraphrases', async () => {
      assert.ok(HELD_OUT.every(([t]) => !Object.values(ROUTE_EXAMPLES).some((ex) => ex.includes(t))), 'held-out phrases must not be examples');
      let right = 0;
      const misses: string[] = [];
      for (const [text, want] of HELD_OUT) {
        const r = await route({ text }, { embedder });
        if (r.workflow === want) right++;
        else misses.push(`  "${text}": wanted ${want}, got ${r.workflow} via ${r.via} (${r.reason})`);
      }
      const accuracy = right / HELD_OUT.length;
      console.log(`      held-out routing accuracy: ${right}/${HELD_OUT.length} (${(accuracy * 100).toFixed(0)}%)`);
      if (misses.length) console.log(misses.join('\n'));
      assert.ok(accuracy >= MIN_HELD_OUT_ACCURACY, `accuracy ${accuracy}\n${misses.join('\n')}`);
    });

    it('embeds the examples once per embedder id, then only the request', async () => {
      const counts: number[] = [];
      const counting: Embedder = {
        id: `${embedder.id}#counting`, dimensions: embedder.dimensions,
        init: () => embedder.init(),
        embed: (texts, kind) => { counts.push(texts.length); return embedder.embed(texts, kind); },
        dispose: async () => {},
      };
      const a = await route({ text: 'write unit tests for the retry helper' }, { embedder: counting });
      const b = await route({ text: 'write unit tests for the retry helper' }, { embedder: counting });
      const examples = Object.values(ROUTE_EXAMPLES).reduce((n, ex) => n + ex.length, 0);
      assert.deepEqual(counts, [examples, 1, 1]);
      assert.deepEqual(b, a);
    });
  });

  describe('degrading', () => {
    it('without an embedder: rules still work, everything else is the default ask', async () => {
      const r = await route({ text: 'write a function that parses dates' }, { embedder: null, lexical });
      assert.deepEqual([r.workflow, r.via, r.confidence < 0.5], ['ask', 'default', true]);
      assert.match(r.reason, /no embedder/);
      assert.equal((await route({ text: '/fix' }, { embedder: null })).workflow, 'fix');
      assert.equal((await route({ text: 'where is SessionStore defined' }, { embedder: null, lexical })).symbol, 'SessionStore');
    });

    it('an embedder that fails is reported, not thrown', async () => {
      const broken: Embedder = {
        id: 'broken', dimensions: 0,
        init: () => Promise.reject(new Error('model file missing')),
        embed: () => Promise.reject(new Error('unreachable')),
        dispose: async () => {},
      };
      const r = await route({ text: 'write a function that parses dates' }, { embedder: broken });
      assert.deepEqual([r.workflow, r.via], ['ask', 'default']);
      assert.match(r.reason, /embedder failed: model file missing/);
    });
  });

  describe('keywords alone never route', () => {
    const sentences = [
      'the fix for the login bug was merged yesterday, what changed in the session store?',
      'our tests run on every push, which CI provider is configured?',
      'I had to explain the architecture to a colleague; is docs/architecture.md current?',
      'can we generate invoices in another currency with the python script?',
      'search engines index our docs site, is there a robots file?',
    ];
    it('without an embedder, a workflow word inside a sentence triggers nothing', async () => {
      for (const text of sentences) {
        const r = await route({ text }, { embedder: null, lexical });
        assert.deepEqual([r.workflow, r.via], ['ask', 'default'], text);
      }
    });

    it('with the model, such sentences are not routed by rule', async () => {
      for (const text of sentences) {
        const r = await route({ text }, { embedder, lexical });
        assert.notEqual(r.via, 'rule', text);
      }
    });
  });
});
