// Which environment variables a command Baton runs for the agent must not inherit: the ones
// Baton's own keys come from (its models', its embedder's), the user's additions, minus what the
// user lets through. Decided from the user's and trusted configuration, never by the command.
import type { BatonConfig } from '../config/config';
import { matchesVariable } from '../../base/common/envFilter';

/** Always withheld: the variable the openai SDK and Baton read a key from by default. */
const DEFAULT_KEY_VARIABLES = ['OPENAI_API_KEY'];

/** The variables Baton reads keys from under this configuration. */
export function batonKeyVariables(config: BatonConfig): string[] {
  const names = new Set(DEFAULT_KEY_VARIABLES);
  const llm = config.llm;
  if (llm.apiKeyEnv) names.add(llm.apiKeyEnv);
  for (const value of Object.values(llm.models ?? {})) {
    for (const entry of Array.isArray(value) ? value : [value]) {
      if (entry && typeof entry === 'object' && entry.apiKeyEnv) names.add(entry.apiKeyEnv);
    }
  }
  if (config.embedder.kind === 'openai' && config.embedder.apiKeyEnv) names.add(config.embedder.apiKeyEnv);
  return [...names];
}

/** The names (and `PREFIX_*` patterns) a command runs without, in a stable order. */
export function withheldVariables(config: BatonConfig): string[] {
  const allow = config.commandEnv.allow;
  const keys = batonKeyVariables(config).filter((n) => !matchesVariable(n, allow));
  return [...new Set([...keys, ...config.commandEnv.withhold])];
}
