// Core messages name the CLI's commands (`baton index`); in an editor the same remedy is a
// command-palette entry, so messages are reworded on their way to the client.
const CLI_REMEDIES: Array<[RegExp, string]> = [
  [/`baton index(?: --rebuild)?`/g, '"Baton: Rebuild Index"'],
  [/`baton run ([\w-]+)`/g, 'the $1 command'],
];

export function forEditor(message: string): string {
  return CLI_REMEDIES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message);
}
