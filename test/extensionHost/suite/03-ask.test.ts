// Asking through the extension reaches the OpenAI-protocol model server configured by environment
// (OPENAI_BASE_URL, BATON_MODEL), streams the answer token by token and returns its citations.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/protocol';
import { ANSWER_MARKER, CITED_PATH } from '../../helpers/scriptedModel';
import { batonApi, modelRequests, within } from './harness';

describe('ask', () => {
  it('streams an answer from the configured model, with citations', async () => {
    const api = await batonApi();
    await api.waitForIndexed(180_000);
    const deltas: string[] = [];
    const res = await api.ask('How does retrying with exponential backoff work in this workspace?', (d) => deltas.push(d));
    assert.ok(deltas.length > 1, `onToken was called ${deltas.length} time(s)`);
    assert.equal(deltas.join(''), res.answer);
    assert.ok(res.answer.includes(ANSWER_MARKER), res.answer);
    assert.equal(res.mode, 'agent', `mode ${res.mode}: ${res.note ?? ''}`);
    assert.ok(res.sources.some((s) => s.path === CITED_PATH), `sources: ${JSON.stringify(res.sources)}`);
    const chat = (await modelRequests()).filter((r) => r.path === '/v1/chat/completions');
    assert.ok(chat.some((r) => r.stream && r.model === 'test-chat'), `chat requests: ${JSON.stringify(chat)}`);
  });

  it('records a trace that the Show Trace command shows', async () => {
    const api = await batonApi();
    const traces = api.traces();
    assert.ok(traces.length > 0, 'no traces after an ask');
    assert.ok(traces[0].events.length > 0);
    await within('baton.showTrace', vscode.commands.executeCommand(COMMANDS.showTrace), 20_000);
  });

  it('runs a built-in workflow (explain) on a selection', async () => {
    const api = await batonApi();
    const res = await api.runWorkflow('explain', {
      selection: { path: 'src/util/retry.ts', language: 'typescript', text: 'const delay = options.baseDelayMs * 2 ** attempt;', startLine: 14, endLine: 14 },
    });
    assert.ok(!res.cancelled);
    assert.ok(Object.keys(res.outputs).length > 0, JSON.stringify(res));
  });
});
