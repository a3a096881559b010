// Configure Model / Configure Embeddings as steps: pick a server (detected, current, typed) → list
// its models (a key asked for only when the server refuses without one) → pick a model → one test
// request → write the settings (the server restarts with them). No vscode here: the UI, the
// language server and the settings come in as interfaces, so tests can script every step.
import type { ModelServerCandidate, ModelServerProbe, ProbeModelServerParams, TestModelParams, TestModelResponse } from '../../protocol';

export type SetupKind = 'chat' | 'embed';
/** Which question is being asked: scripted UIs answer by it. */
export type SetupStep = 'server' | 'url' | 'key' | 'problem' | 'model' | 'failed' | 'embeddings';

export interface SetupChoice<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

export interface SetupUi {
  /** undefined: the user closed the picker. `items` may still be loading. */
  pick<T>(step: SetupStep, title: string, placeholder: string, items: SetupChoice<T>[] | Promise<SetupChoice<T>[]>): Promise<T | undefined>;
  input(step: SetupStep, opts: { title: string; prompt: string; value?: string; password?: boolean; validate?: (value: string) => string | undefined }): Promise<string | undefined>;
  /** Runs `task` while showing `title`; the signal aborts when the user cancels. */
  progress<T>(title: string, task: (signal: AbortSignal) => Promise<T>): Promise<T>;
  info(message: string): void;
}

/** The language server's model-setup requests. */
export interface SetupServer {
  detect(): Promise<ModelServerCandidate[]>;
  probe(params: ProbeModelServerParams, signal: AbortSignal): Promise<ModelServerProbe>;
  test(params: TestModelParams, signal: AbortSignal): Promise<TestModelResponse>;
}

export interface SetupValues {
  baseUrl?: string;
  chat?: string;
  embedder?: string;
}

export interface SetupSettings {
  current(): SetupValues;
  /** Writes the settings (and a key typed during setup to the secret store); resolves once the
   * server runs with them. */
  apply(values: SetupValues, apiKey?: string): Promise<void>;
}

export interface SetupDeps {
  ui: SetupUi;
  server: SetupServer;
  settings: SetupSettings;
}

export interface SetupResult {
  baseURL: string;
  /** The chat model (Configure Model) or the embedding model (Configure Embeddings). */
  model: string;
  ms: number;
  /** Configure Model: an embedding model of the same server chosen as well. */
  embedModel?: string;
}

export const OPENAI_SERVER = 'https://api.openai.com/v1';
const EMBEDDING_NAME = /embed|bge|e5-|gte-|minilm|nomic|arctic/i;
const BACK = Symbol('back');
type Back = typeof BACK;

export function looksLikeEmbeddingModel(model: string): boolean {
  return EMBEDDING_NAME.test(model);
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The embedder setting for a model of a server: always with the server, so it stays put when the
 * chat server changes (an index is tied to the embedder that built it). */
export function embedderSetting(model: string, baseURL: string): string {
  return `openai:${model}@${baseURL}`;
}

interface Listed {
  probe: ModelServerProbe;
  apiKey?: string;
}

export async function runModelSetup(kind: SetupKind, deps: SetupDeps): Promise<SetupResult | undefined> {
  for (;;) {
    const baseURL = await chooseServer(kind, deps);
    if (baseURL === undefined) return undefined;
    const listed = await listModels(baseURL, deps);
    if (listed === BACK) continue;
    if (listed === undefined) return undefined;
    const tested = await pickAndTest(kind, listed, deps);
    if (tested === BACK) continue;
    if (tested === undefined) return undefined;
    const server = listed.probe.baseURL;
    if (kind === 'embed') {
      await deps.settings.apply({ embedder: embedderSetting(tested.model, server) }, listed.apiKey);
      deps.ui.info(`Baton: indexing with ${tested.model} at ${server} (${tested.reply ?? 'it answered'}); the index is rebuilt with it.`);
      return { baseURL: server, model: tested.model, ms: tested.ms };
    }
    const embed = await offerEmbeddings(listed, deps);
    await deps.settings.apply({ baseUrl: server, chat: tested.model, ...(embed ? { embedder: embedderSetting(embed, server) } : {}) }, listed.apiKey);
    deps.ui.info(`Baton: chatting with ${tested.model} at ${server} (it answered in ${tested.ms} ms)${embed ? `; indexing with ${embed}` : ''}.`);
    return { baseURL: server, model: tested.model, ms: tested.ms, ...(embed ? { embedModel: embed } : {}) };
  }
}

type ServerChoice = { url: string } | 'enter';

async function chooseServer(kind: SetupKind, deps: SetupDeps): Promise<string | undefined> {
  const current = deps.settings.current().baseUrl;
  const items = deps.server.detect().catch(() => []).then((servers) => {
    const choices: SetupChoice<ServerChoice>[] = servers.map((s) => ({
      label: s.name, description: s.baseURL, detail: s.models.length ? `running: ${summary(s.models)}` : 'running, no models pulled yet', value: { url: s.baseURL },
    }));
    if (current && !servers.some((s) => s.baseURL === current)) choices.push({ label: 'Current server', description: current, value: { url: current } });
    choices.push({ label: 'Enter base URL…', detail: 'Any OpenAI-compatible server: llama.cpp, vLLM, a remote gateway…', value: 'enter' });
    if (current !== OPENAI_SERVER) choices.push({ label: 'OpenAI', description: OPENAI_SERVER, detail: 'Needs an API key', value: { url: OPENAI_SERVER } });
    return choices;
  });
  const title = kind === 'chat' ? 'Baton: Configure Model (1/3: server)' : 'Baton: Configure Embeddings (1/3: server)';
  const picked = await deps.ui.pick('server', title, 'Which model server? Local servers that are running are listed first', items);
  if (picked === undefined) return undefined;
  if (picked !== 'enter') return picked.url;
  const typed = await deps.ui.input('url', {
    title: 'Baton: model server base URL',
    prompt: 'An OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 (Ollama) or http://127.0.0.1:8080/v1 (llama.cpp)',
    value: current ?? '',
    validate: (v) => (isHttpUrl(v.trim()) ? undefined : 'Enter an http:// or https:// URL'),
  });
  return typed?.trim() || undefined;
}

async function listModels(baseURL: string, deps: SetupDeps): Promise<Listed | Back | undefined> {
  let apiKey: string | undefined;
  for (;;) {
    const params: ProbeModelServerParams = apiKey ? { baseURL, apiKey } : { baseURL };
    const probe = await deps.ui.progress(`Baton: asking ${baseURL} for its models…`, (signal) => deps.server.probe(params, signal));
    if (probe.needsKey) {
      const key = await deps.ui.input('key', {
        title: `Baton: API key for ${probe.baseURL}`,
        prompt: apiKey ? `${probe.baseURL} refused that key: enter it again` : `${probe.baseURL} asks for an API key. Baton keeps it in VS Code's secret storage.`,
        password: true,
        validate: (v) => (v.trim() ? undefined : 'Enter the key (Escape to stop)'),
      });
      if (key === undefined) return undefined;
      apiKey = key.trim();
      continue;
    }
    const problem = !probe.ok ? probe.problem ?? `${baseURL} did not list its models`
      : !probe.models.length ? `${probe.baseURL} lists no models: pull or load one first (e.g. \`ollama pull qwen2.5-coder\`)` : undefined;
    if (!problem) return { probe, ...(apiKey ? { apiKey } : {}) };
    const next = await deps.ui.pick<'again' | 'back'>('problem', 'Baton: the server did not list models', problem, [
      { label: 'Try again', value: 'again' },
      { label: 'Choose another server', value: 'back' },
    ]);
    if (next === undefined) return undefined;
    if (next === 'back') return BACK;
  }
}

async function pickAndTest(kind: SetupKind, listed: Listed, deps: SetupDeps): Promise<(TestModelResponse & { model: string }) | Back | undefined> {
  const { probe, apiKey } = listed;
  const current = kind === 'chat' ? deps.settings.current().chat : undefined;
  const preferred = (m: string) => (kind === 'embed') === looksLikeEmbeddingModel(m);
  const models = [...probe.models.filter(preferred), ...probe.models.filter((m) => !preferred(m))];
  for (;;) {
    const title = kind === 'chat' ? 'Baton: Configure Model (2/3: chat model)' : 'Baton: Configure Embeddings (2/3: embedding model)';
    const picked = await deps.ui.pick<string | Back>('model', title, `The models ${probe.baseURL} offers`, [
      ...models.map((m) => ({ label: m, ...(m === current ? { description: 'current' } : {}), value: m })),
      { label: '← Another server', value: BACK },
    ]);
    if (picked === undefined || picked === BACK) return picked;
    const params: TestModelParams = { baseURL: probe.baseURL, model: picked, kind, ...(apiKey ? { apiKey } : {}) };
    const check = await deps.ui.progress(`Baton (3/3): testing ${picked}…`, (signal) => deps.server.test(params, signal));
    if (check.ok) return { ...check, model: picked };
    const next = await deps.ui.pick<'model' | 'back'>('failed', `Baton: ${picked} did not answer`, `${picked} failed: ${check.problem ?? 'no answer'}`, [
      { label: 'Pick another model', value: 'model' },
      { label: 'Choose another server', value: 'back' },
    ]);
    if (next === undefined) return undefined;
    if (next === 'back') return BACK;
  }
}

/** After a chat model: the same server's embedding models, if it lists any, tested before use. */
async function offerEmbeddings(listed: Listed, deps: SetupDeps): Promise<string | undefined> {
  const candidates = listed.probe.models.filter(looksLikeEmbeddingModel);
  if (!candidates.length) return undefined;
  const current = deps.settings.current().embedder;
  const picked = await deps.ui.pick<string | null>('embeddings', 'Baton: index with this server\'s embedding model too?', 'Optional: the packaged offline model works without one', [
    ...candidates.map((m) => ({ label: m, description: 'embeddings', value: m })),
    { label: 'Keep the current embedder', description: current || 'the packaged offline model', value: null },
  ]);
  if (!picked) return undefined;
  const params: TestModelParams = { baseURL: listed.probe.baseURL, model: picked, kind: 'embed', ...(listed.apiKey ? { apiKey: listed.apiKey } : {}) };
  const check = await deps.ui.progress(`Baton: testing ${picked}…`, (signal) => deps.server.test(params, signal));
  if (check.ok) return picked;
  deps.ui.info(`Baton: ${picked} did not embed (${check.problem ?? 'no answer'}); the current embedder stays.`);
  return undefined;
}

function summary(models: string[]): string {
  return models.length <= 3 ? models.join(', ') : `${models.slice(0, 3).join(', ')} and ${models.length - 3} more`;
}
