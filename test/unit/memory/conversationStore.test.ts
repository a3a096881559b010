import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenCounter } from '../../../src/core/llm/tokens';
import { Conversation } from '../../../src/core/memory/conversation';
import {
  ConversationCorruptError, ConversationNotFoundError, ConversationStore, TRUNCATION_MARKER,
} from '../../../src/core/memory/conversationStore';

describe('ConversationStore', () => {
  let ws: string;
  let clock: number;
  /** A deterministic clock: every call is one second later, so updatedAt orders saves. */
  const now = () => new Date(Date.UTC(2025, 0, 1) + (clock += 1000));
  beforeEach(() => { ws = mkdtempSync(join(tmpdir(), 'baton-conv-')); clock = 0; });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));
  const dir = () => join(ws, '.baton', 'conversations');

  function sample(store: ConversationStore, question: string): Conversation {
    const conv = store.create();
    conv.addUser(question);
    conv.addAssistant('', { toolCalls: [{ id: 'c1', name: 'read_file', arguments: '{"path":"src/a.ts"}' }] });
    conv.addToolResult('c1', 'read_file', 'export const a = 1;\n');
    conv.addAssistant('`a` is 1.', { sources: [{ path: 'src/a.ts', startLine: 1, endLine: 1 }] });
    return conv;
  }

  it('persists conversations that a fresh store reopens and continues', async () => {
    const first = new ConversationStore(ws, { now });
    const conv = sample(first, 'What is   a\nin src/a.ts?');
    conv.data.summary = { text: 'earlier: nothing', coveredTurns: 0, at: now().toISOString() };
    await first.save(conv);
    assert.equal(readFileSync(join(ws, '.baton', '.gitignore'), 'utf8'), '*\n');

    const second = new ConversationStore(ws, { now });
    const reopened = await second.open(conv.id);
    assert.deepEqual(reopened.data, conv.data);
    assert.equal(reopened.title, 'What is a in src/a.ts?');
    reopened.addUser('and b?');
    await second.save(reopened);

    const third = new ConversationStore(ws, { now });
    const again = await third.open(conv.id);
    assert.equal(again.turns.length, 5);
    assert.equal(again.turns.at(-1)!.content, 'and b?');
    const history = await again.historyFor(2000, createTokenCounter('gpt-4o'));
    assert.equal(history.at(-1)!.content, 'and b?');
    const list = await third.list();
    assert.deepEqual(list, [{ id: conv.id, title: 'What is a in src/a.ts?', updatedAt: again.data.updatedAt, turns: 5 }]);
    assert.ok(existsSync(join(dir(), 'index.json')));
  });

  it('lists the most recently updated first and rejects unknown or unsafe ids', async () => {
    const store = new ConversationStore(ws, { now });
    const a = sample(store, 'first');
    const b = sample(store, 'second');
    await store.save(b);
    await store.save(a);
    a.addUser('more');
    await store.save(a);
    assert.deepEqual((await store.list()).map((e) => e.title), ['first', 'second']);
    await assert.rejects(store.open('nothere'), ConversationNotFoundError);
    await assert.rejects(store.open('../../etc/passwd'), /invalid conversation id/);
    await store.delete(b.id);
    assert.deepEqual((await store.list()).map((e) => e.title), ['first']);
  });

  it('reports a corrupt conversation file for that conversation only', async () => {
    const store = new ConversationStore(ws, { now });
    const good = sample(store, 'good one');
    const bad = sample(store, 'bad one');
    const wrongShape = sample(store, 'wrong shape');
    await store.save(good);
    await store.save(bad);
    await store.save(wrongShape);
    writeFileSync(join(dir(), `${bad.id}.json`), '{"version":1,"id":"half-writ');
    const shape = JSON.parse(readFileSync(join(dir(), `${wrongShape.id}.json`), 'utf8'));
    shape.turns = 'nope';
    writeFileSync(join(dir(), `${wrongShape.id}.json`), JSON.stringify(shape));

    const fresh = new ConversationStore(ws, { now });
    const list = await fresh.list();
    assert.equal(list.length, 3);
    assert.equal(list.find((e) => e.id === good.id)!.error, undefined);
    assert.match(list.find((e) => e.id === bad.id)!.error!, new RegExp(`conversation ${bad.id} cannot be read .*JSON`));
    assert.match(list.find((e) => e.id === wrongShape.id)!.error!, /"turns" must be an array/);
    const err = await fresh.open(bad.id).then(() => assert.fail('expected an error'), (e: unknown) => e);
    assert.ok(err instanceof ConversationCorruptError);
    assert.ok(err.message.includes(join(dir(), `${bad.id}.json`)));
    assert.deepEqual((await fresh.open(good.id)).data, good.data);
  });

  it('prunes the least recently updated conversations beyond the cap, never an unreadable one', async () => {
    const store = new ConversationStore(ws, { now, maxConversations: 3 });
    const convs = ['one', 'two', 'three'].map((q) => sample(store, q));
    for (const c of convs) await store.save(c);
    writeFileSync(join(dir(), `${convs[0].id}.json`), 'garbage'); // unreadable: kept for the user to inspect
    for (const q of ['four', 'five', 'six']) await store.save(sample(store, q));
    const list = await store.list();
    assert.deepEqual(list.filter((e) => !e.error).map((e) => e.title), ['six', 'five', 'four']);
    assert.deepEqual(list.filter((e) => e.error).map((e) => e.id), [convs[0].id]);
    const files = readdirSync(dir()).filter((n) => n !== 'index.json').sort();
    assert.equal(files.length, 4);
    assert.ok(!existsSync(join(dir(), `${convs[1].id}.json`)));
  });

  it('cuts very long tool output on save with a marker and keeps each file under its cap', async () => {
    const store = new ConversationStore(ws, { now, maxToolOutputChars: 1000, maxFileBytes: 30_000 });
    const conv = store.create();
    conv.addUser('run the tests');
    conv.addAssistant('', { toolCalls: [{ id: 't', name: 'run', arguments: '{}' }] });
    const huge = 'ok 1 - test passes\n'.repeat(5000);
    conv.addToolResult('t', 'run', huge);
    await store.save(conv);
    assert.equal(conv.turns[2].content, huge, 'the conversation in memory stays whole');
    let saved = (await store.open(conv.id)).turns[2].content;
    assert.ok(saved.startsWith(huge.slice(0, 1000)));
    assert.ok(saved.includes(`${TRUNCATION_MARKER} ${huge.length - 1000} more characters]`));

    for (let i = 0; i < 60; i++) {
      conv.addUser(`question ${i} ` + 'why '.repeat(200));
      conv.addAssistant(`answer ${i} ` + 'because '.repeat(300));
    }
    await store.save(conv);
    assert.ok(statSync(join(dir(), `${conv.id}.json`)).size <= 30_000);
    const reopened = await store.open(conv.id);
    saved = reopened.turns.at(-1)!.content;
    assert.ok(saved.startsWith('answer 59 because'));
    assert.ok(saved.includes(TRUNCATION_MARKER));
  });

  it('drops the oldest turns, noted in history, when even cut texts do not fit', async () => {
    const store = new ConversationStore(ws, { now, maxFileBytes: 8_000 });
    const conv = store.create();
    for (let i = 0; i < 100; i++) { conv.addUser(`q${i} ` + 'x'.repeat(150)); conv.addAssistant(`a${i}`); }
    await store.save(conv);
    assert.ok(statSync(join(dir(), `${conv.id}.json`)).size <= 8_000);
    const reopened = await store.open(conv.id);
    assert.ok(reopened.data.omittedTurns! > 0);
    assert.equal(reopened.turns.length + reopened.data.omittedTurns!, 200);
    assert.equal(reopened.turns.at(-1)!.content, 'a99');
    const history = await reopened.historyFor(100_000, createTokenCounter('gpt-4o'));
    assert.match(history[0].content!, new RegExp(`^Note: ${reopened.data.omittedTurns} earlier turns were left out`));
  });

  it('rebuilds a missing or damaged index from the files', async () => {
    const store = new ConversationStore(ws, { now });
    const a = sample(store, 'alpha');
    const b = sample(store, 'beta');
    await store.save(a);
    await store.save(b);
    writeFileSync(join(dir(), 'index.json'), '{ not json');
    assert.deepEqual((await new ConversationStore(ws).list()).map((e) => e.title), ['beta', 'alpha']);
    rmSync(join(dir(), 'index.json'));
    assert.deepEqual((await new ConversationStore(ws).list()).map((e) => e.title), ['beta', 'alpha']);
  });

  it('two writers (like a CLI and an editor) never corrupt files; last writer wins per conversation', async () => {
    const cli = new ConversationStore(ws);
    const editor = new ConversationStore(ws);
    const shared = sample(cli, 'shared');
    await cli.save(shared);
    const mine = await cli.open(shared.id);
    const theirs = await editor.open(shared.id);
    const own = Array.from({ length: 10 }, (_, i) => sample(i % 2 ? cli : editor, `own ${i}`));
    // Interleaved saves of distinct conversations and of the same one, from both stores at once.
    await Promise.all([
      ...own.map((c, i) => (i % 2 ? cli : editor).save(c)),
      ...Array.from({ length: 5 }, (_, i) => { mine.addUser(`cli ${i}`); return cli.save(mine); }),
      ...Array.from({ length: 5 }, (_, i) => { theirs.addUser(`editor ${i}`); return editor.save(theirs); }),
    ]);
    const list = await new ConversationStore(ws).list();
    assert.equal(list.length, 11);
    assert.ok(list.every((e) => !e.error), JSON.stringify(list));
    const final = await new ConversationStore(ws).open(shared.id);
    const last = final.turns.at(-1)!.content;
    assert.ok(last === 'cli 4' || last === 'editor 4', last);
    assert.equal(readdirSync(dir()).filter((n) => n.endsWith('.tmp')).length, 0);
  });
});
