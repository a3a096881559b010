// Configure Model's steps with a scripted UI, over the same core requests the language server makes,
// against a real OpenAI-protocol server on 127.0.0.1: a typed URL, a key asked for only on 401, a
// model that fails its test and another that passes, a server that is down, the embeddings step,
// cancelling; and exactly which settings (and key) are written.
import assert from 'node:assert/strict';
import { freePort } from '../../helpers/ports';
import { listModelsOf, testChatModel, testEmbeddingModel } from '../../../src/core/llm/modelSetup';
import {
  runModelSetup, type SetupChoice, type SetupServer, type SetupStep, type SetupUi, type SetupValues,
} from '../../../src/extension/commands/modelSetupFlow';
import type { ModelServerCandidate } from '../../../src/protocol';
import { OpenAIProtocolServer, serveDuringSuite } from '../../helpers/openaiProtocolServer';

/** Answers each step from `answers` (consumed in order per step); records what was asked. */
class ScriptedUi implements SetupUi {
  readonly asked: Array<{ step: SetupStep; placeholder?: string; labels?: string[]; password?: boolean }> = [];
  readonly infos: string[] = [];
  readonly progress_: string[] = [];
  constructor(private readonly answers: Partial<Record<SetupStep, Array<string | ((labels: string[]) => string | undefined) | undefined>>>) {}

  async pick<T>(step: SetupStep, _title: string, placeholder: string, items: SetupChoice<T>[] | Promise<SetupChoice<T>[]>): Promise<T | undefined> {
    const list = await items;
    const labels = list.map((i) => `${i.label}${i.description ? ` ${i.description}` : ''}`);
    this.asked.push({ step, placeholder, labels });
    const answer = this.next(step);
    const label = typeof answer === 'function' ? answer(labels) : answer;
    if (label === undefined) return undefined;
    const at = labels.findIndex((l) => l.startsWith(label));
    assert.ok(at >= 0, `step ${step}: no item "${label}" in ${JSON.stringify(labels)}`);
    return list[at].value;
  }

  async input(step: SetupStep, opts: { password?: boolean; validate?: (v: string) => string | undefined }): Promise<string | undefined> {
    this.asked.push({ step, password: opts.password === true });
    const answer = this.next(step);
    assert.ok(typeof answer !== 'function');
    if (answer !== undefined) assert.equal(opts.validate?.(answer), undefined, `step ${step}: "${answer}" is valid`);
    return answer;
  }

  progress<T>(title: string, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.progress_.push(title);
    return task(new AbortController().signal);
  }

  info(message: string): void {
    this.infos.push(message);
  }

  steps(): SetupStep[] {
    return this.asked.map((a) => a.step);
  }

  private next(step: SetupStep) {
    const queue = this.answers[step];
    assert.ok(queue?.length, `unexpected step ${step}`);
    return queue.shift();
  }
}

function coreServer(detected: ModelServerCandidate[] = []): SetupServer {
  return {
    detect: async () => detected,
    probe: (p, signal) => listModelsOf(p.baseURL, { apiKey: p.apiKey, signal, timeoutMs: 2000 }),
    test: (p, signal) => (p.kind === 'embed' ? testEmbeddingModel : testChatModel)(p.baseURL, p.model, { apiKey: p.apiKey, signal }),
  };
}

function recordingSettings(current: SetupValues = {}) {
  const applied: Array<{ values: SetupValues; apiKey?: string }> = [];
  return { applied, current: () => current, apply: async (values: SetupValues, apiKey?: string) => { applied.push({ values, ...(apiKey ? { apiKey } : {}) }); } };
}

describe('Configure Model steps', function () {
  this.timeout(20_000);
  const server = new OpenAIProtocolServer();
  let baseURL: string;
  serveDuringSuite(server, (url) => { baseURL = url; });

  it('typed URL → 401 → key → models → chat model tested → embedding model tested → settings and key written', async () => {
    server.requireKey = 'sk-setup';
    server.chatModel.models = ['nomic-embed-text', 'qwen2.5-coder:7b'];
    const ui = new ScriptedUi({ server: ['Enter base URL…'], url: [baseURL], key: ['sk-setup'], model: ['qwen2.5-coder:7b'], embeddings: ['nomic-embed-text'] });
    const settings = recordingSettings();
    const result = await runModelSetup('chat', { ui, server: coreServer(), settings });

    assert.deepEqual(result, { baseURL, model: 'qwen2.5-coder:7b', ms: result!.ms, embedModel: 'nomic-embed-text' });
    assert.deepEqual(ui.steps(), ['server', 'url', 'key', 'model', 'embeddings']);
    assert.equal(ui.asked[2].password, true, 'the key is typed into a password box');
    // Chat models first for a chat model; the way back last.
    assert.deepEqual(ui.asked[3].labels, ['qwen2.5-coder:7b', 'nomic-embed-text', '← Another server']);
    assert.deepEqual(server.requestsTo('GET /v1/models').map((r) => r.headers.authorization), [undefined, 'Bearer sk-setup']);
    const chat = server.requestsTo('POST /v1/chat/completions');
    assert.deepEqual(chat.map((r) => (r.body as { model: string }).model), ['qwen2.5-coder:7b']);
    assert.deepEqual(server.requestsTo('POST /v1/embeddings').map((r) => (r.body as { model: string }).model), ['nomic-embed-text']);
    assert.deepEqual(settings.applied, [{
      values: { baseUrl: baseURL, chat: 'qwen2.5-coder:7b', embedder: `openai:nomic-embed-text@${baseURL}` }, apiKey: 'sk-setup',
    }]);
    assert.match(ui.infos[0], /chatting with qwen2\.5-coder:7b at http:\/\/127\.0\.0\.1:\d+\/v1 \(it answered in \d+ ms\); indexing with nomic-embed-text/);
  });

  it('a server that is down says why; another server; a model that fails its test; another that passes; no key asked', async () => {
    const down = `http://127.0.0.1:${await freePort()}/v1`;
    server.chatModel.models = ['broken-model', 'test-chat'];
    server.script('POST /v1/chat/completions', { kind: 'error', status: 500, message: 'model failed to load' });
    const ui = new ScriptedUi({
      server: ['Current server', 'Local'], problem: ['Choose another server'], model: ['broken-model', 'test-chat'], failed: ['Pick another model'],
    });
    const settings = recordingSettings({ baseUrl: down, chat: 'test-chat' });
    const result = await runModelSetup('chat', { ui, server: coreServer([{ name: 'Local', baseURL, models: server.chatModel.models }]), settings });

    assert.equal(result?.model, 'test-chat');
    assert.deepEqual(ui.steps(), ['server', 'problem', 'server', 'model', 'failed', 'model']);
    assert.ok(ui.asked[0].labels!.some((l) => l.startsWith('Local') && l.includes(baseURL)), JSON.stringify(ui.asked[0].labels));
    assert.match(ui.asked[1].placeholder!, /cannot reach .* \(ECONNREFUSED\); is the server running\?/);
    assert.match(ui.asked[4].placeholder!, /^broken-model failed: .*model failed to load/);
    assert.ok(ui.asked[5].labels!.includes('test-chat current'), 'the configured model is marked');
    assert.deepEqual(settings.applied, [{ values: { baseUrl: baseURL, chat: 'test-chat' } }]);
  });

  it('a server that lists no models says to pull one', async () => {
    server.chatModel.models = [];
    const ui = new ScriptedUi({ server: ['Local'], problem: [undefined] });
    const settings = recordingSettings();
    assert.equal(await runModelSetup('chat', { ui, server: coreServer([{ name: 'Local', baseURL, models: [] }]), settings }), undefined);
    assert.match(ui.asked[1].placeholder!, /lists no models: pull or load one first/);
    assert.deepEqual(settings.applied, []);
  });

  it('closing the first picker changes nothing and asks the server nothing', async () => {
    const ui = new ScriptedUi({ server: [undefined] });
    const settings = recordingSettings();
    assert.equal(await runModelSetup('chat', { ui, server: coreServer(), settings }), undefined);
    assert.deepEqual(settings.applied, []);
    assert.equal(server.requests.length, 0);
  });

  it('Configure Embeddings: embedding models first, one /embeddings test, only the embedder written', async () => {
    server.chatModel.models = ['test-chat', 'text-embedding-3-small'];
    const ui = new ScriptedUi({ server: ['Current server'], model: [(labels) => labels[0]] });
    const settings = recordingSettings({ baseUrl: baseURL.replace(/\/v1$/, '') });
    const result = await runModelSetup('embed', { ui, server: coreServer(), settings });
    assert.equal(result?.model, 'text-embedding-3-small');
    assert.deepEqual(server.requestsTo('POST /v1/embeddings').map((r) => (r.body as { model: string }).model), ['text-embedding-3-small']);
    assert.equal(server.requestsTo('POST /v1/chat/completions').length, 0);
    assert.deepEqual(settings.applied, [{ values: { embedder: `openai:text-embedding-3-small@${baseURL}` } }]);
    assert.match(ui.infos[0], /indexing with text-embedding-3-small/);
  });
});
