import assert from 'node:assert/strict';
import { eventDescription, eventDetails, localTime, traceLines, TraceStore, totalMs, type TraceKeeper, type TraceRun } from '../../../src/extension/trace/traceModel';

const run = (id: string, events: TraceRun['events'] = []): TraceRun => ({ runId: id, title: `run ${id}`, startedAt: '2024-05-01T10:00:00.000Z', events });

describe('extension: trace model', () => {
  it('keeps runs newest first, capped, and notifies on change', () => {
    const store = new TraceStore(2);
    let changes = 0;
    store.onChange(() => changes++);
    store.add(run('a'));
    store.add(run('b'));
    store.add(run('c'));
    assert.deepEqual(store.list().map((r) => r.runId), ['c', 'b']);
    store.setMax(1);
    assert.deepEqual(store.list().map((r) => r.runId), ['c']);
    assert.equal(changes, 4);
  });

  it('takes the total time from the last event', () => {
    assert.equal(totalMs(run('a', [{ at: 5, kind: 'retrieve' }, { at: 840, kind: 'llm.done' }, { at: 12, kind: 'note' }])), 840);
    assert.equal(totalMs(run('empty')), 0);
  });

  it('summarises latency, tokens, retries and errors of an event', () => {
    const done = { at: 900, kind: 'llm.done', name: 'qwen', data: { attempts: 3, latencyMs: 850, promptTokens: 1200, completionTokens: 80 } };
    assert.deepEqual(eventDetails(done), ['850 ms', 'tokens 1200→80', 'retries 2']);
    assert.equal(eventDescription(done), '+900 ms · 850 ms · tokens 1200→80 · retries 2');
    const failed = { at: 3, kind: 'node.end', name: 'answer', data: { status: 'error', latencyMs: 2, error: 'boom' } };
    assert.deepEqual(eventDetails(failed), ['2 ms', 'error', 'boom']);
    assert.deepEqual(eventDetails({ at: 1, kind: 'note' }), []);
  });

  it('renders a run as readable log lines', () => {
    const lines = traceLines(run('x', [{ at: 4, kind: 'retrieve', name: 'retrieve', data: { results: 5 } }]));
    assert.match(lines[0], /^run x \(x\) started 2024-05-01T10:00:00.000Z, 4 ms, 1 events$/);
    assert.equal(lines[1], '  +4 ms  retrieve retrieve  5 results');
  });

  it('is restored after a reload from what it saved, dropping entries that are not runs', () => {
    let saved: unknown;
    const keeper: TraceKeeper = { load: () => saved, save: (runs) => { saved = JSON.parse(JSON.stringify(runs)); } };
    const first = new TraceStore(2, keeper);
    first.add({ runId: 'r1', title: 'ask: one', startedAt: '2026-12-02T10:00:00.000Z', events: [{ kind: 'retrieval', at: 5, data: { results: 3 } }] });
    first.add({ runId: 'r2', title: 'ask: two', startedAt: '2026-12-02T10:01:00.000Z', events: [] });
    const reloaded = new TraceStore(2, keeper);
    assert.deepEqual(reloaded.list().map((r) => r.runId), ['r2', 'r1']);
    assert.deepEqual(reloaded.list()[1].events, [{ kind: 'retrieval', at: 5, data: { results: 3 } }]);
    saved = [{ runId: 'x' }, 'junk', { runId: 'ok', title: 't', startedAt: 's', events: [{ kind: 'k', at: 'soon' }] }, ...(saved as unknown[])];
    assert.deepEqual(new TraceStore(5, keeper).list().map((r) => r.runId), ['r2', 'r1'], 'malformed entries are dropped');
    saved = { not: 'a list' };
    assert.deepEqual(new TraceStore(5, keeper).list(), []);
  });

  it('shows times in the user\'s locale, and an unreadable time as it is', () => {
    assert.equal(localTime('2026-12-02T10:00:00.000Z'), new Date('2026-12-02T10:00:00.000Z').toLocaleString());
    assert.equal(localTime('not a time'), 'not a time');
  });
});
