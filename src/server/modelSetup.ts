// `baton/detectModelServers`, `baton/probeModelServer`, `baton/testModel`: the model-setup requests
// (core/llm/modelSetup.ts). They need no workspace. Without a key in the params, the key the server
// was started with (OPENAI_API_KEY, from the editor's SecretStorage) is used.
import type { CancellationToken } from 'vscode-languageserver/node';
import { detectModelServers, listModelsOf, testChatModel, testEmbeddingModel } from '../core/llm/modelSetup';
import type {
  DetectModelServersResponse, ModelServerProbe, ProbeModelServerParams, TestModelParams, TestModelResponse,
} from '../protocol';
import type { Env } from './settings';

/** Aborts when the client cancels the request (Configure Model's progress notification). */
function signalOf(token: CancellationToken): { signal: AbortSignal; dispose: () => void } {
  const abort = new AbortController();
  const subscription = token.onCancellationRequested(() => abort.abort(new Error('cancelled by the client')));
  return { signal: abort.signal, dispose: () => subscription.dispose() };
}

async function cancellable<T>(token: CancellationToken, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { signal, dispose } = signalOf(token);
  try {
    return await run(signal);
  } finally {
    dispose();
  }
}

export async function handleDetectModelServers(): Promise<DetectModelServersResponse> {
  return { servers: await detectModelServers() };
}

export function handleProbeModelServer(params: ProbeModelServerParams, token: CancellationToken, env: Env = process.env): Promise<ModelServerProbe> {
  return cancellable(token, (signal) => listModelsOf(params.baseURL, { apiKey: params.apiKey ?? env.OPENAI_API_KEY, signal }));
}

export function handleTestModel(params: TestModelParams, token: CancellationToken, env: Env = process.env): Promise<TestModelResponse> {
  const test = params.kind === 'embed' ? testEmbeddingModel : testChatModel;
  return cancellable(token, (signal) => test(params.baseURL, params.model, { apiKey: params.apiKey ?? env.OPENAI_API_KEY, signal }));
}
