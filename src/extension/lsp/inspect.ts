// Where the language server's Node inspector listens, so a debugger can attach to it
// (.vscode/launch.json "Attach to Language Server"; CONTRIBUTING.md, "Debugging").
/** The port the server listens on when the extension host itself is being debugged (Run Extension). */
export const DEFAULT_INSPECT_PORT = 6009;

/** The port from `baton.server.debugPort` (user settings), else BATON_SERVER_INSPECT; undefined when neither names one. */
export function configuredInspectPort(setting: number | undefined, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const port = setting || Number(env.BATON_SERVER_INSPECT ?? 0);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/**
 * Node options for the server's process: `run` is used normally, `debug` when the extension host
 * runs under a debugger. A configured port opens the inspector (127.0.0.1 only) in both.
 */
export function serverExecArgv(port: number | undefined): { run: string[]; debug: string[] } {
  if (port !== undefined) return { run: [`--inspect=${port}`], debug: ['--nolazy', `--inspect=${port}`] };
  return { run: [], debug: ['--nolazy', `--inspect=${DEFAULT_INSPECT_PORT}`] };
}
