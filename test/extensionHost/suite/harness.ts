// Shared by the suites that run inside the extension host: the extension's API, polling, and the
// scripted model's request log (over HTTP, from the server run.ts started).
//
// Note: while an extension host runs tests (extensionTestsPath), VS Code answers every modal dialog
// at once with its cancel button, without showing it. A change Baton proposes is therefore always
// refused here; the accepted path (a real click on Apply) is covered by test/e2e/run.ts.
import { get } from 'node:http';
import * as vscode from 'vscode';
import type { BatonApi } from '../../../src/extension/api';

export const EXTENSION_ID = 'baton-dev.baton';

export async function batonApi(): Promise<BatonApi> {
  const ext = vscode.extensions.getExtension<BatonApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded`);
  const api = await ext.activate();
  if (!api || typeof api.ready !== 'function') throw new Error('activate() did not return the BatonApi');
  return api;
}

export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return folder.uri;
}

export function workspaceFile(rel: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceRoot(), rel);
}

export async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves with `promise`, or rejects when it takes longer than `ms`. */
export function within<T>(what: string, promise: Thenable<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

export interface ModelRequest { method: string; path: string; model?: string; stream: boolean; codeFix: 'tool' | 'json' | null }

/** What the scripted model server (started by run.ts) was asked so far. */
export function modelRequests(): Promise<ModelRequest[]> {
  const base = process.env.BATON_TEST_MODEL_URL;
  if (!base) throw new Error('BATON_TEST_MODEL_URL is not set (run through out/test/integration/run.js)');
  const url = base.replace(/\/v1\/?$/, '') + '/test/requests';
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => { try { resolve(JSON.parse(body)); } catch (e) { reject(e); } });
    }).on('error', reject);
  });
}
