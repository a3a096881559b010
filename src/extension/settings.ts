// The `baton.*` settings: what the server gets (ServerSettings), what forces a restart, and where an
// update is written (the scope that already sets it, else the user's settings).
import * as vscode from 'vscode';
import type { ServerSettings } from '../protocol';

const SECTION = 'baton';
/** Settings the server reads at start; changing any of them restarts it. */
const SERVER_KEYS = ['model.baseUrl', 'model.chat', 'embedder', 'ignore', 'approval'] as const;

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function readServerSettings(): ServerSettings {
  const c = config();
  // The extension starts the server only in a trusted folder; say so, so the server applies the
  // workspace's own Baton files.
  const settings: ServerSettings = { approval: approvalPolicy(), workspaceTrusted: vscode.workspace.isTrusted };
  const baseUrl = nonEmpty(c.get<string>('model.baseUrl'));
  const model = nonEmpty(c.get<string>('model.chat'));
  const embedder = nonEmpty(c.get<string>('embedder'));
  const ignore = (c.get<unknown[]>('ignore') ?? []).filter((g): g is string => typeof g === 'string' && g.trim() !== '');
  if (baseUrl) settings.baseUrl = baseUrl;
  if (model) settings.model = model;
  if (embedder) settings.embedder = embedder;
  if (ignore.length) settings.ignore = ignore;
  return settings;
}

export function affectsServer(e: vscode.ConfigurationChangeEvent): boolean {
  return SERVER_KEYS.some((key) => e.affectsConfiguration(`${SECTION}.${key}`));
}

/** Read at each request, so 'never' takes effect even before the restart completes. */
export function approvalPolicy(): 'ask' | 'never' {
  return config().get<string>('approval') === 'never' ? 'never' : 'ask';
}

export function traceMaxRuns(): number {
  const n = config().get<number>('trace.maxRuns') ?? 50;
  return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 50;
}

export function affectsTraceMaxRuns(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(`${SECTION}.trace.maxRuns`);
}

/** The settings Configure Model and Configure Embeddings write. */
export type SetupSettingKey = 'model.baseUrl' | 'model.chat' | 'embedder';

export async function updateSetting(key: SetupSettingKey, value: string): Promise<void> {
  const c = config();
  const inspected = c.inspect(key);
  const target = inspected?.workspaceFolderValue !== undefined || inspected?.workspaceValue !== undefined
    ? vscode.ConfigurationTarget.Workspace
    : vscode.ConfigurationTarget.Global;
  await c.update(key, value, target);
}
