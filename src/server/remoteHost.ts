// The EditorHost of the language server: the editor answers through `baton/host/*` requests.
// Files are read from the open document when there is one (unsaved edits included), else from disk.
// With approval 'never' side-effecting tools are refused here, without asking the client.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CancellationTokenSource, type Connection, type TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { inertLine } from '../base/common/inert';
import type { ApprovalRequest, CommandResult, Diagnostic, EditorHost, FileEdit, RunCommandOptions } from '../core/host/editorHost';
import { hostRequest } from './rpc';
import { errorMessage } from '../base/common/errors';

export interface RemoteHostOptions {
  root: string;
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  approval: () => 'ask' | 'never';
}

export class RemoteHost implements EditorHost {
  readonly root: string;

  constructor(private readonly opts: RemoteHostOptions) {
    this.root = path.resolve(opts.root);
  }

  async readFile(file: string): Promise<string> {
    const abs = path.resolve(this.root, file);
    const open = this.openDocument(abs);
    return open ? open.getText() : readFile(abs, 'utf8');
  }

  async getDiagnostics(file?: string): Promise<Diagnostic[]> {
    const rel = file === undefined ? undefined : this.relative(file);
    const found = await hostRequest(this.opts.connection, 'baton/host/getDiagnostics', rel === undefined ? {} : { path: rel });
    return Array.isArray(found) ? found : [];
  }

  async requestApproval(request: ApprovalRequest): Promise<boolean> {
    if (this.opts.approval() === 'never') {
      this.opts.connection.console.info(`refused without asking (approval: never): ${inertLine(request.title)}`);
      return false;
    }
    try {
      const reply = await hostRequest(this.opts.connection, 'baton/host/requestApproval', {
        kind: request.kind, title: request.title, detail: request.detail,
        ...(request.path !== undefined ? { path: request.path } : {}),
        ...(request.newText !== undefined ? { newText: request.newText } : {}),
        ...(request.command !== undefined ? { command: request.command } : {}),
      });
      return reply?.approved === true;
    } catch (err) {
      this.opts.connection.console.warn(`approval request failed, treated as denied: ${errorMessage(err)}`);
      return false;
    }
  }

  async applyEdit(edit: FileEdit): Promise<void> {
    const reply = await hostRequest(this.opts.connection, 'baton/host/applyEdit', { path: this.relative(edit.path), newText: edit.newText, description: edit.description });
    if (!reply?.applied) throw new Error(reply?.error ?? 'the editor did not apply the edit');
  }

  async runCommand(command: string, opts: RunCommandOptions = {}): Promise<CommandResult> {
    opts.signal?.throwIfAborted();
    const source = new CancellationTokenSource();
    const onAbort = () => source.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const params = {
        command,
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        withholdEnv: opts.withholdEnv ?? ['OPENAI_API_KEY'],
      };
      return await hostRequest(this.opts.connection, 'baton/host/runCommand', params, source.token);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      source.dispose();
    }
  }

  /** Workspace-relative with '/' separators, as the protocol's paths are. */
  private relative(file: string): string {
    return path.relative(this.root, path.resolve(this.root, file)).split(path.sep).join('/');
  }

  private openDocument(abs: string): TextDocument | undefined {
    for (const doc of this.opts.documents.all()) {
      if (!doc.uri.startsWith('file:')) continue;
      try {
        if (samePath(fileURLToPath(doc.uri), abs)) return doc;
      } catch {
        // not a local file URI
      }
    }
    return undefined;
  }
}

function samePath(a: string, b: string): boolean {
  const norm = (p: string) => path.normalize(p);
  return process.platform === 'win32' || process.platform === 'darwin' ? norm(a).toLowerCase() === norm(b).toLowerCase() : norm(a) === norm(b);
}
