// Starts the language server on the transport named on the command line (--stdio, --node-ipc,
// --socket=N, --pipe=NAME), for `node dist/server.js` and `baton lsp` alike.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer, type ServerOptions } from './server';

export function launchServer(opts: ServerOptions = {}): void {
  const connection = createConnection(ProposedFeatures.all);
  // A bug in one request must not take the editor's server down with it: log it and go on.
  process.on('uncaughtException', (err) => connection.console.error(`unexpected error: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (reason) => connection.console.error(`unhandled rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`));
  startServer(connection, opts);
}
