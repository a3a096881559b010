// Where the language server's Node inspector listens, so a debugger can attach to it
// (.vscode/launch.json "Attach to Language Server"; CONTRIBUTING.md, "Debugging the server").
import * as vscode from 'vscode';

/** The port the server listens on when the extension host itself is being debugged (Run Extension). */
export const DEFAULT_INSPECT_PORT = 6009;

/** A port from `baton.server.debugPort` (user settings) or BATON_SERVER_INSPECT; undefined when neither is set. */
export function configuredInspectPort(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const fromSetting = vscode.workspace.getConfiguration('baton').get<number>('server.debugPort', 0);
  const port = fromSetting || Number(env.BATON_SERVER_INSPECT ?? 0);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/**
 * Node options for the server's process: `run` is used normally, `debug` when the extension host
 * runs under a debugger. A configured port opens the inspector in both (127.0.0.1 only).
 */
export function serverExecArgv(port = configuredInspectPort()): { run: string[]; debug: string[] } {
  if (port !== undefined) return { run: [`--inspect=${port}`], debug: ['--nolazy', `--inspect=${port}`] };
  return { run: [], debug: ['--nolazy', `--inspect=${DEFAULT_INSPECT_PORT}`] };
}
