// Configure Model inside the real extension host, its UI scripted (QuickPicks cannot be clicked
// here): a second OpenAI-protocol server started by this suite, which wants a key, is typed in; its
// models are listed (after the key), the picked model gets its test request, the settings and the
// key are written, the server restarts, and the chat then answers from the picked model.
// Runs last: it leaves the typed key in SecretStorage (the settings are put back).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SetupChoice, SetupStep, SetupUi } from '../../../src/extension/commands/modelSetupFlow';
import { OpenAIProtocolServer } from '../../helpers/openaiProtocolServer';
import { batonApi, within } from './harness';

const KEY = 'sk-setup-extension-host';

/** Answers each step with the item whose label starts with the scripted text. */
function scriptedUi(answers: Partial<Record<SetupStep, string[]>>, asked: string[]): SetupUi {
  const next = (step: SetupStep) => {
    const answer = answers[step]?.shift();
    if (answer === undefined) throw new Error(`unexpected step ${step}`);
    return answer;
  };
  return {
    async pick<T>(step: SetupStep, _title: string, placeholder: string, items: SetupChoice<T>[] | Promise<SetupChoice<T>[]>) {
      const list = await items;
      asked.push(`${step}: ${placeholder} [${list.map((i) => i.label).join(' | ')}]`);
      const answer = next(step);
      const item = list.find((i) => i.label.startsWith(answer));
      if (!item) throw new Error(`step ${step}: no "${answer}" among ${list.map((i) => i.label).join(', ')}`);
      return item.value;
    },
    async input(step) {
      asked.push(`${step}`);
      return next(step);
    },
    progress: (_title, task) => task(new AbortController().signal),
    info: (message) => { asked.push(`info: ${message}`); },
  };
}

describe('model setup', () => {
  const setup = new OpenAIProtocolServer();

  before(async () => {
    await setup.start();
    setup.requireKey = KEY;
    setup.chatModel.models = ['setup-chat', 'nomic-embed-setup'];
  });
  after(async () => {
    const c = vscode.workspace.getConfiguration('baton');
    await c.update('model.baseUrl', undefined, vscode.ConfigurationTarget.Global);
    await c.update('model.chat', undefined, vscode.ConfigurationTarget.Global);
    await setup.stop();
  });

  it('Configure Model lists the typed server\'s models, tests the pick, writes the settings, and the chat answers from it', async () => {
    const api = await batonApi();
    await api.waitForIndexed(180_000);
    const asked: string[] = [];
    const ui = scriptedUi({ server: ['Enter base URL…'], url: [setup.baseURL], key: [KEY], model: ['setup-chat'], embeddings: ['Keep the current embedder'] }, asked);
    const result = await within('Configure Model', api.configureModel(ui), 90_000);
    assert.equal(result?.model, 'setup-chat', asked.join('\n'));
    assert.equal(result?.baseURL, setup.baseURL);

    // Listed: first refused (no key, or the key the server was started with), then with the typed key.
    const listed = setup.requestsTo('GET /v1/models');
    assert.ok(listed.length >= 2, asked.join('\n'));
    assert.equal(listed.at(-1)!.headers.authorization, `Bearer ${KEY}`);
    assert.ok(asked.some((a) => a.startsWith('model: ') && a.includes('setup-chat | nomic-embed-setup')), asked.join('\n'));
    const tested = setup.requestsTo('POST /v1/chat/completions');
    assert.equal(tested.length, 1);
    assert.equal((tested[0].body as { model: string }).model, 'setup-chat');
    assert.match(JSON.stringify(tested[0].body), /Reply with OK/);

    const c = vscode.workspace.getConfiguration('baton');
    assert.equal(c.get('model.baseUrl'), setup.baseURL);
    assert.equal(c.get('model.chat'), 'setup-chat');
    assert.equal(c.get('embedder'), '', 'the embedder was kept');

    const res = await within('ask', api.ask('Which model answers after setup?'), 90_000);
    assert.ok(res.answer.length > 0);
    const asks = setup.requestsTo('POST /v1/chat/completions').slice(1);
    assert.ok(asks.length >= 1, 'the chat asked the configured server');
    for (const r of asks) {
      assert.equal((r.body as { model: string }).model, 'setup-chat');
      assert.equal(r.headers.authorization, `Bearer ${KEY}`, 'the restarted server has the typed key');
    }
  });
});
