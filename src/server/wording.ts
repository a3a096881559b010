// Core messages name the CLI's commands (`baton index`); in an editor the same remedy is a
// command-palette entry, so messages are reworded on their way to the client.
const CLI_REMEDIES: Array<[RegExp, string]> = [
  [/`baton index(?: --rebuild)?`/g, '"Baton: Rebuild Index"'],
  [/`baton run ([\w-]+)`/g, 'the $1 command'],
  [/set BATON_MODEL \(plus OPENAI_BASE_URL, and OPENAI_API_KEY if the server needs a key\)/g, 'run "Baton: Configure Model" (and "Baton: Set API Key" if the server needs a key)'],
];

export function forEditor(message: string): string {
  return CLI_REMEDIES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message);
}
