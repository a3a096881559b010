// Identity of a tool call for repeat detection: the tool name plus its arguments with object keys
// sorted and whitespace gone, so {"a":1,"b":2} and { "b": 2, "a": 1 } are the same call. Arguments
// that are not JSON are compared as trimmed text.

export function callKey(name: string, rawArgs: string): string {
  let args: string;
  try {
    args = canonicalJson(rawArgs.trim() === '' ? {} : JSON.parse(rawArgs));
  } catch {
    args = rawArgs.trim();
  }
  return `${name}\u0000${args}`;
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
