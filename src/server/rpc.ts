// Typed access to the Baton methods of protocol.ts over an LSP connection, so every handler,
// notification and host request is checked against the one contract.
import { ResponseError, ErrorCodes, LSPErrorCodes, type CancellationToken, type Connection } from 'vscode-languageserver/node';
import type {
  HostRequestMethod, HostRequests, RequestMethod, Requests, ServerNotificationMethod, ServerNotifications,
} from '../protocol';

export type RequestHandler<M extends RequestMethod> = (params: Requests[M][0], token: CancellationToken) => Promise<Requests[M][1]>;

/** Registers a Baton request. Failures reach the client as a ResponseError with a readable message
 * (and are logged); the server itself never goes down with a request. */
export function onRequest<M extends RequestMethod>(connection: Connection, method: M, handler: RequestHandler<M>): void {
  // JSON-RPC hands a request without params just the token, and positional params spread out:
  // the token is always last, the params object (when any) first.
  connection.onRequest(method, async (...args: unknown[]) => {
    const token = args[args.length - 1] as CancellationToken;
    const params = (args.length > 1 && args[0] && typeof args[0] === 'object' ? args[0] : {}) as Requests[M][0];
    try {
      return await handler(params, token);
    } catch (err) {
      const error = toResponseError(err);
      if (error.code !== LSPErrorCodes.RequestCancelled) connection.console.error(`${method} failed: ${error.message}`);
      return error;
    }
  });
}

export function notify<M extends ServerNotificationMethod>(connection: Connection, method: M, params: ServerNotifications[M]): void {
  void connection.sendNotification(method, params).catch(() => undefined); // the client went away: nothing to tell
}

export function hostRequest<M extends HostRequestMethod>(
  connection: Connection, method: M, params: HostRequests[M][0], token?: CancellationToken,
): Promise<HostRequests[M][1]> {
  return connection.sendRequest(method, params, token) as Promise<HostRequests[M][1]>;
}

/** A request the client got wrong (unknown workflow, bad id): InvalidParams, not an internal error. */
export class ClientError extends Error {}

export function toResponseError(err: unknown): ResponseError<void> {
  if (err instanceof ResponseError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ClientError) return new ResponseError(ErrorCodes.InvalidParams, message);
  if (err instanceof Error && err.name === 'AbortError') return new ResponseError(LSPErrorCodes.RequestCancelled, message);
  return new ResponseError(LSPErrorCodes.RequestFailed, message);
}
