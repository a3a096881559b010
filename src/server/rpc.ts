// Typed access to the Baton methods of protocol.ts over an LSP connection, so every handler,
// notification and host request is checked against the one contract. Every request's params are
// validated against its schema in protocol.ts before its handler runs.
import {
  ErrorCodes, LSPErrorCodes, ParameterStructures, RequestType, ResponseError, type CancellationToken, type Connection,
} from 'vscode-languageserver/node';
import type { z } from 'zod';
import {
  requestParamsSchemas, type HostRequestMethod, type HostRequests, type RequestMethod, type Requests, type ServerNotificationMethod,
  type ServerNotifications,
} from '../protocol';

export type RequestHandler<M extends RequestMethod> = (params: Requests[M][0], token: CancellationToken) => Promise<Requests[M][1]>;

/**
 * How Baton's requests are registered with the connection: params by name, so the connection itself
 * answers positional (array) params with InvalidParams instead of spreading them into the handler;
 * and params may be left out (numberOfParams 0), which the schema then reads as {}.
 */
class NamedParamsRequest extends RequestType<unknown, unknown, void> {
  override readonly numberOfParams = 0;

  constructor(method: string) {
    super(method, ParameterStructures.byName);
  }
}

/** Registers a Baton request. Params that do not match the method's schema are answered with
 * InvalidParams naming the field; failures reach the client as a ResponseError with a readable
 * message (and are logged); the server itself never goes down with a request. */
export function onRequest<M extends RequestMethod>(connection: Connection, method: M, handler: RequestHandler<M>): void {
  onValidatedRequest(connection, method, requestParamsSchemas[method], handler);
}

/** Registers any request (a standard one like textDocument/codeAction too) the same way: its
 * params validated by `schema` before `handler` sees them. */
export function onValidatedRequest<P, R>(
  connection: Connection, method: string, schema: z.ZodType<P>, handler: (params: P, token: CancellationToken) => Promise<R> | R,
): void {
  // Without params the connection passes the token alone; with them, params then the token.
  connection.onRequest(new NamedParamsRequest(method), async (...args: unknown[]) => {
    const token = args[args.length - 1] as CancellationToken;
    try {
      const parsed = schema.safeParse(args.length > 1 ? args[0] : {});
      if (!parsed.success) throw invalidParams(method, parsed.error);
      return await handler(parsed.data, token);
    } catch (err) {
      const error = toResponseError(err);
      if (error.code !== LSPErrorCodes.RequestCancelled) connection.console.error(`${method} failed: ${error.message}`);
      return error;
    }
  });
}

/** InvalidParams naming the offending fields, e.g. "baton/ask: question: the question is too long: ...". */
export function invalidParams(method: string, error: z.ZodError): ResponseError<void> {
  const problems = error.issues.slice(0, 3).map((issue) => `${issue.path.length ? issue.path.join('.') : 'params'}: ${issue.message}`);
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return new ResponseError(ErrorCodes.InvalidParams, `${method}: ${problems.join('; ')}${more}`);
}

export function notify<M extends ServerNotificationMethod>(connection: Connection, method: M, params: ServerNotifications[M]): void {
  void connection.sendNotification(method, params).catch(() => undefined); // the client went away: nothing to tell
}

export function hostRequest<M extends HostRequestMethod>(
  connection: Connection, method: M, params: HostRequests[M][0], token?: CancellationToken,
): Promise<HostRequests[M][1]> {
  return connection.sendRequest<HostRequests[M][1]>(method, params, token);
}

/** A request the client got wrong (unknown workflow, bad id): InvalidParams, not an internal error. */
export class ClientError extends Error {}

export function toResponseError(err: unknown): ResponseError<void> {
  if (err instanceof ResponseError) return err as ResponseError<void>;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ClientError) return new ResponseError(ErrorCodes.InvalidParams, message);
  if (err instanceof Error && err.name === 'AbortError') return new ResponseError(LSPErrorCodes.RequestCancelled, message);
  return new ResponseError(LSPErrorCodes.RequestFailed, message);
}
