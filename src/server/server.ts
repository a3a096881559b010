// The Baton language server: hosts the core (index, retrieval, orchestrator) for an editor over
// one LSP connection. Requests and notifications are those of src/protocol.ts; the editor side
// of tools (diagnostics, approvals, edits, commands) goes back to the client as `baton/host/*`.
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind, CodeActionRequest, DidChangeConfigurationNotification, DidChangeWatchedFilesNotification, ResponseError, ErrorCodes,
  TextDocuments, TextDocumentSyncKind, type Connection, type InitializeParams, type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { z } from 'zod';
import { findPackageRoot } from '../core/embed/createEmbedder';
import { createTokenCounter } from '../core/llm/tokens';
import { ConversationStore } from '../core/memory/conversationStore';
import { memoryStorePreloadSteps } from '../core/memory/longTerm';
import { BATON_DIR } from '../core/indexing/workspaceIndex';
import type { ServerSettings } from '../protocol';
import { codeActionParamsSchema, codeActionsFor } from './codeActions';
import { listConversations, openConversation } from './conversations';
import { IndexService } from './indexService';
import { listModels } from './models';
import { handleDetectModelServers, handleProbeModelServer, handleTestModel } from './modelSetup';
import { handleAsk, handleRunWorkflow, type OrchestrationContext } from './orchestration';
import { RemoteHost } from './remoteHost';
import { notify, onRequest, onValidatedRequest, type RequestHandler } from './rpc';
import { RunRegistry } from './runs';
import { effectiveConfig, indexSettingsChanged, parseSettings, type Effective } from './settings';
import { relativeInside } from '../base/node/paths';
import { decideTrust } from '../core/security/workspaceTrust';

const watchedFilesSchema = z.object({ changes: z.array(z.looseObject({ uri: z.string() })) });

/** Warming up starts once the first requests after `initialized` are answered, and leaves a gap
 * after each step for whatever the client sent meanwhile. */
const WARM_UP_DELAY_MS = 300;
const WARM_UP_GAP_MS = 50;

/** Everything that exists once the client named a workspace. */
interface Workspace {
  root: string;
  index: IndexService;
  orchestration: OrchestrationContext;
  conversations: ConversationStore;
}

export interface ServerOptions {
  /** `baton lsp --trust`: the user trusts whatever workspace the client opens (recorded for it). */
  trustWorkspace?: boolean;
}

export function startServer(connection: Connection, opts: ServerOptions = {}): void {
  const documents = new TextDocuments(TextDocument);
  const runs = new RunRegistry();
  const log = (message: string) => connection.console.info(message);
  let settings: ServerSettings = {};
  /** Captured from initializationOptions only: later configuration changes cannot grant it. */
  let editorTrusted = false;
  let workspace: Workspace | undefined;
  let canWatchFiles = false;
  let canListenToConfiguration = false;

  const effective = (): Effective => effectiveConfig(workspace!.root, settings, process.env, editorTrusted);
  /** Handlers that need a workspace answer plainly without one instead of failing obscurely. */
  const withWorkspace = <A extends unknown[], R>(fn: (ws: Workspace, ...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    if (!workspace) throw new ResponseError(ErrorCodes.InvalidRequest, 'Baton needs a workspace folder: open a folder and try again');
    return fn(workspace, ...args);
  };

  connection.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
    settings = parseSettings(params.initializationOptions);
    editorTrusted = isRecord(params.initializationOptions) && params.initializationOptions.workspaceTrusted === true;
    const root = workspaceRoot(params);
    if (root && opts.trustWorkspace) await decideTrust(root, { grant: true }).catch((err: Error) => connection.console.warn(`could not record trust: ${err.message}`));
    if (root) {
      const host = new RemoteHost({ root, connection, documents, approval: () => effective().approval });
      const index = new IndexService({ root, effective, onStatus: (s) => notify(connection, 'baton/indexStatusChanged', s), log });
      workspace = { root, index, conversations: new ConversationStore(root), orchestration: { connection, runs, index, host, effective, saidOnce: new Set() } };
    }
    canWatchFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    canListenToConfiguration = params.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Refactor] },
      },
      serverInfo: { name: 'baton', version: version() },
    };
  });

  connection.onInitialized(() => {
    if (!workspace) {
      connection.console.warn('no workspace folder: Baton indexes and answers once a folder is open');
      return;
    }
    log(`workspace ${workspace.root}`);
    const now = effective();
    if (now.trustNotice) connection.console.warn(now.trustNotice);
    for (const problem of now.problems) connection.console.warn(problem);
    if (canWatchFiles) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*' }] })
        .catch((err: Error) => connection.console.warn(`file watching unavailable (${err.message}); the index follows saves only`));
    }
    if (canListenToConfiguration) void connection.client.register(DidChangeConfigurationNotification.type, undefined).catch(() => undefined);
    void workspace.index.update();
    warmUp([() => createTokenCounter(effective().env.BATON_MODEL ?? '').count('warm up'), ...memoryStorePreloadSteps()]);
  });

  connection.onDidChangeConfiguration((change) => {
    if (!workspace) return;
    const raw = change.settings as Record<string, unknown> | null | undefined;
    // A pull-model client sends null: nothing new, keep what initializationOptions said.
    if (!raw || typeof raw !== 'object') return;
    // Either ServerSettings themselves or a { baton: {...} } section of them.
    const next = parseSettings('baton' in raw ? raw.baton : raw);
    const before = effective();
    settings = next;
    if (indexSettingsChanged(before, effective())) workspace.index.scheduleUpdate();
  });

  connection.onDidChangeWatchedFiles((change) => {
    if (!workspace) return;
    const ws = workspace;
    // A notification gets no answer: a malformed one is ignored.
    const parsed = watchedFilesSchema.safeParse(change);
    if (parsed.success && parsed.data.changes.some((c) => affectsIndex(ws.root, c.uri))) ws.index.scheduleUpdate();
  });
  documents.onDidSave((e) => {
    if (workspace && affectsIndex(workspace.root, e.document.uri)) workspace.index.scheduleUpdate();
  });

  // Not connection.onCodeAction: it reads the params (for progress tokens) before any handler could check them.
  onValidatedRequest(connection, CodeActionRequest.method, codeActionParamsSchema, codeActionsFor);

  const handle = <M extends Parameters<typeof onRequest>[1]>(method: M, handler: RequestHandler<M>) => onRequest(connection, method, handler);
  handle('baton/ask', withWorkspace((ws, params, token) => handleAsk(ws.orchestration, params, token)));
  handle('baton/runWorkflow', withWorkspace((ws, params, token) => handleRunWorkflow(ws.orchestration, params, token)));
  handle('baton/search', withWorkspace((ws, params) => ws.index.search(params)));
  handle('baton/cancel', async (params) => ({ cancelled: runs.cancel(params.runId) }));
  handle('baton/indexStatus', withWorkspace(async (ws) => ws.index.status));
  handle('baton/rebuildIndex', withWorkspace(async (ws, params, token) => {
    const abort = new AbortController();
    const subscription = token.onCancellationRequested(() => abort.abort(new Error('cancelled by the client')));
    try {
      return await ws.index.rebuild(params.full, abort.signal);
    } finally {
      subscription.dispose();
    }
  }));
  handle('baton/models', withWorkspace(async () => {
    const { config, env } = effective();
    return listModels(config, env);
  }));
  handle('baton/detectModelServers', handleDetectModelServers);
  handle('baton/probeModelServer', (params, token) => handleProbeModelServer(params, token));
  handle('baton/testModel', (params, token) => handleTestModel(params, token));
  handle('baton/conversations', withWorkspace((ws) => listConversations(ws.conversations, log)));
  handle('baton/conversation', withWorkspace((ws, params) => openConversation(ws.conversations, params.id)));

  connection.onShutdown(async () => {
    runs.cancelAll();
    await workspace?.index.dispose();
  });

  documents.listen(connection);
  connection.listen();
}

/** Loads what loads in long synchronous steps (the tokenizer's tables, the memory store's modules:
 * up to a few hundred milliseconds each) now, one step per turn of the event loop, rather than all
 * inside the first question while the client waits for status or cancellation. */
function warmUp(steps: Array<() => unknown>, delayMs = WARM_UP_DELAY_MS): void {
  const [step, ...rest] = steps;
  if (!step) return;
  setTimeout(() => {
    try {
      step();
    } catch {
      // Loading again when first needed reports the problem there.
    }
    warmUp(rest, WARM_UP_GAP_MS);
  }, delayMs).unref();
}

/** rootUri, else the first workspace folder, else rootPath; only an existing local folder counts. */
function workspaceRoot(params: InitializeParams): string | undefined {
  const candidates = [params.rootUri, params.workspaceFolders?.[0]?.uri].filter((u): u is string => typeof u === 'string');
  for (const uri of candidates) {
    const dir = toPath(uri);
    if (dir && isDirectory(dir)) return dir;
  }
  const legacy = params.rootPath;
  return legacy && isDirectory(legacy) ? path.resolve(legacy) : undefined;
}

function toPath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Changes inside .baton (the index's own writes) or .git, or outside the workspace, never start a run. */
function affectsIndex(root: string, uri: string): boolean {
  const file = toPath(uri);
  if (!file) return false;
  const rel = relativeInside(root, file);
  if (rel === null) return false;
  const first = rel.split(path.sep)[0];
  return first !== BATON_DIR && first !== '.git';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function version(): string {
  const root = findPackageRoot();
  try {
    return root ? (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version : 'unknown';
  } catch {
    return 'unknown';
  }
}
