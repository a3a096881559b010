// Starts the language server on the transport named on the command line (--stdio, --node-ipc,
// --socket=N, --pipe=NAME), for `node dist/server.js` and `baton lsp` alike. Over stdio the client's
// bytes pass through a FramingGuard first, so bad framing costs one message, not the connection.
import { inspect } from 'node:util';
import { createConnection, ProposedFeatures, type Connection } from 'vscode-languageserver/node';
import { FramingGuard } from './framing';
import { startServer, type ServerOptions } from './server';

export function launchServer(opts: ServerOptions = {}): void {
  const connection = process.argv.includes('--stdio') ? guardedStdioConnection() : createConnection(ProposedFeatures.all);
  // A bug in one request must not take the editor's server down with it: log it and go on.
  process.on('uncaughtException', (err) => connection.console.error(`unexpected error: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (reason) => connection.console.error(`unhandled rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`));
  startServer(connection, opts);
}

function guardedStdioConnection(): Connection {
  // eslint-disable-next-line prefer-const -- the guard's callback may run before the connection exists
  let connection: Connection | undefined;
  const input = new FramingGuard((problem) => connection?.console.error(problem));
  process.stdin.pipe(input);
  connection = createConnection(ProposedFeatures.all, input, process.stdout);
  // Given streams rather than --stdio, the library leaves the console alone; stdout is the protocol,
  // so anything printed goes to the client's log instead, as with --stdio.
  const log = connection.console;
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
  console.log = (...args: unknown[]) => log.log(text(args));
  console.info = (...args: unknown[]) => log.info(text(args));
  console.debug = (...args: unknown[]) => log.log(text(args));
  console.warn = (...args: unknown[]) => log.warn(text(args));
  console.error = (...args: unknown[]) => log.error(text(args));
  return connection;
}
