// `baton/models`: the chat model used by default and what the configured server offers. A short
// timeout: the model picker must not hang on a server that is down; it says why the list is short.
import type { BatonConfig } from '../core/config/config';
import { listServerModels } from '../core/llm/detect';
import { resolveModelsAuto } from '../core/llm/models';
import type { ModelsResponse } from '../protocol';
import type { Env } from './settings';
import { errorMessage } from '../base/common/errors';

export async function listModels(config: BatonConfig, env: Env, timeoutMs = 3000): Promise<ModelsResponse> {
  let chat;
  try {
    chat = (await resolveModelsAuto(config.llm, env, { timeoutMs: Math.min(timeoutMs, 800) })).chat;
  } catch (err) {
    return { current: null, available: [], problem: errorMessage(err) };
  }
  const configured = chat.map((m) => m.model);
  const first = chat[0];
  try {
    const listed = await listServerModels(first.baseURL, { apiKey: env[first.apiKeyEnv ?? 'OPENAI_API_KEY'], timeoutMs });
    return { current: first.model, available: [...new Set([...configured, ...listed])] };
  } catch (err) {
    return { current: first.model, available: configured, problem: errorMessage(err) };
  }
}
