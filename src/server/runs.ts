// Runs in flight (ask, runWorkflow), by the client-chosen runId: `baton/cancel` and the request's
// own LSP cancellation both abort the run's signal.
import type { CancellationToken } from 'vscode-languageserver/node';
import { ClientError } from './rpc';

export interface ActiveRun {
  readonly signal: AbortSignal;
  /** Removes the run; call when it is over, however it ended. */
  end(): void;
}

export class RunRegistry {
  private readonly runs = new Map<string, AbortController>();

  start(runId: unknown, token?: CancellationToken): ActiveRun {
    if (typeof runId !== 'string' || !runId) throw new ClientError('runId must be a non-empty string');
    if (this.runs.has(runId)) throw new ClientError(`a run with id ${runId} is already in progress`);
    const controller = new AbortController();
    this.runs.set(runId, controller);
    const subscription = token?.onCancellationRequested(() => controller.abort(new Error('cancelled by the client')));
    if (token?.isCancellationRequested) controller.abort(new Error('cancelled by the client'));
    return {
      signal: controller.signal,
      end: () => {
        subscription?.dispose();
        if (this.runs.get(runId) === controller) this.runs.delete(runId);
      },
    };
  }

  cancel(runId: string): boolean {
    const controller = this.runs.get(runId);
    if (!controller || controller.signal.aborted) return false;
    controller.abort(new Error('cancelled'));
    return true;
  }

  cancelAll(): void {
    for (const controller of this.runs.values()) controller.abort(new Error('the server is shutting down'));
  }
}
