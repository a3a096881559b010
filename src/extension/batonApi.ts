// The BatonApi that activate() returns (api.ts), over the client and the chat backend.
import { randomUUID } from 'node:crypto';
import type { IndexStatus } from '../protocol';
import type { BatonApi } from './api';
import type { ChatBackend } from './chat/chatBackend';
import type { Services } from './services';
import { configureModel } from './commands/modelCommands';

const DEFAULT_INDEX_TIMEOUT_MS = 120_000;

function waitForIndexed(svc: Pick<Services, 'client'>, timeoutMs: number): Promise<IndexStatus> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (status: IndexStatus | undefined, error?: Error) => {
      if (settled) return;
      if (!error && status?.state !== 'indexed' && status?.state !== 'error') return;
      settled = true;
      clearTimeout(timer);
      listening.dispose();
      if (error) reject(error);
      else if (status!.state === 'error') reject(new Error(`Indexing failed: ${status!.message ?? 'unknown error'}`));
      else resolve(status!);
    };
    const timer = setTimeout(() => settle(undefined, new Error(`The index was not ready after ${timeoutMs} ms`)), timeoutMs);
    // Listen first, then ask: a change between the two is not missed.
    const listening = svc.client.onIndexStatus((s) => settle(s));
    svc.client.request('baton/indexStatus', {}).then((s) => settle(s), (err: Error) => settle(undefined, err));
  });
}

export function createBatonApi(svc: Pick<Services, 'client' | 'traces' | 'apiKeys'>, backend: ChatBackend): BatonApi {
  return {
    ready: () => svc.client.ready(),
    indexStatus: () => svc.client.request('baton/indexStatus', {}),
    waitForIndexed: (timeoutMs = DEFAULT_INDEX_TIMEOUT_MS) => waitForIndexed(svc, timeoutMs),
    search: (query, k) => svc.client.request('baton/search', k === undefined ? { query } : { query, k }),
    // The chat's own path (same backend, same run routing); the view shows chats it started itself.
    ask: (question, onToken) => backend.ask({ question }, (p) => {
      if (p.kind === 'token') onToken?.(p.text);
    }).done,
    runWorkflow: (workflow, input) => svc.client.request('baton/runWorkflow', { runId: randomUUID(), workflow, input }),
    configureModel: (ui, kind = 'chat') => configureModel(svc, kind, ui),
    traces: () => [...svc.traces.list()],
  };
}
