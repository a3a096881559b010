// Removes variables from an environment before a command inherits it: Baton's own keys (and any
// the user names) must not reach a command the agent runs. Shared by the CLI's host and the
// extension's command runner, so both withhold exactly the same names.

export type EnvMap = Record<string, string | undefined>;

/** Does `name` match an entry: an exact variable name, or a prefix ending in `*` (`AWS_*`). */
export function matchesVariable(name: string, entries: readonly string[]): boolean {
  return entries.some((e) => (e.endsWith('*') ? name.startsWith(e.slice(0, -1)) : name === e));
}

/** A copy of `env` without the variables `withhold` names. */
export function withoutVariables(env: EnvMap, withhold: readonly string[]): EnvMap {
  const out: EnvMap = {};
  for (const [name, value] of Object.entries(env)) if (!matchesVariable(name, withhold)) out[name] = value;
  return out;
}
