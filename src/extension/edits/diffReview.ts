// Every change Baton proposes is reviewed the same way: a diff between the file as it is (open buffer
// included) and the proposal, served from memory under a custom scheme, and a modal to accept it.
import * as vscode from 'vscode';
import { approvalDialog } from './approvalDialog';
import { fullRange } from '../lsp/workspaceFiles';
import { errorMessage } from '../../base/common/errors';

export const PROPOSED_SCHEME = 'baton-proposed';

/** Read-only documents holding proposals; each review puts its text in and takes it out. */
export class ProposedContent implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private next = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.query) ?? '';
  }

  /** The path is kept so the diff editor picks the file's language. */
  put(path: string, text: string): vscode.Uri {
    const id = String(++this.next);
    this.texts.set(id, text);
    return vscode.Uri.from({ scheme: PROPOSED_SCHEME, path, query: id });
  }

  drop(uri: vscode.Uri): void {
    this.texts.delete(uri.query);
  }
}

export interface ReviewRequest {
  target: vscode.Uri;
  newText: string;
  title: string;
  detail?: string;
  acceptLabel?: string;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) return true;
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

async function closeDiff(modified: vscode.Uri): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === modified.toString());
  if (tabs.length) await vscode.window.tabGroups.close(tabs);
}

/** Shows the diff and asks; true when the user accepts. */
export async function reviewChange(proposed: ProposedContent, req: ReviewRequest): Promise<boolean> {
  const isNew = !(await exists(req.target));
  const original = isNew ? proposed.put(req.target.path, '') : req.target;
  const modified = proposed.put(req.target.path, req.newText);
  // Title and detail are untrusted (a model's description, a diff): shown inert, in the tab too.
  const dialog = approvalDialog({ kind: 'edit', title: req.title, detail: req.detail ?? '' }, req.acceptLabel);
  try {
    await vscode.commands.executeCommand('vscode.diff', original, modified, `${dialog.message}${isNew ? ' (new file)' : ''}`, { preview: true });
    const accept: vscode.MessageItem = { title: dialog.accept };
    const reject: vscode.MessageItem = { title: 'Reject', isCloseAffordance: true };
    const choice = await vscode.window.showWarningMessage(dialog.message, { modal: true, detail: dialog.detail || undefined }, accept, reject);
    return choice === accept;
  } finally {
    await closeDiff(modified).catch(() => undefined);
    proposed.drop(modified);
    if (isNew) proposed.drop(original);
  }
}

export interface ApplyResult {
  applied: boolean;
  error?: string;
}

/**
 * Replaces the whole file through its buffer, so the change is one undo step and unsaved edits are
 * not bypassed. `save` writes it when the buffer was clean (tools that run next read the disk).
 */
export async function applyWholeFile(uri: vscode.Uri, newText: string, save: boolean): Promise<ApplyResult> {
  try {
    const edit = new vscode.WorkspaceEdit();
    let wasDirty = false;
    if (await exists(uri)) {
      const document = await vscode.workspace.openTextDocument(uri);
      wasDirty = document.isDirty;
      edit.replace(uri, fullRange(document), newText);
    } else {
      edit.createFile(uri, { ignoreIfExists: true });
      edit.insert(uri, new vscode.Position(0, 0), newText);
    }
    if (!(await vscode.workspace.applyEdit(edit))) return { applied: false, error: 'VS Code did not apply the edit' };
    if (save && !wasDirty) await (await vscode.workspace.openTextDocument(uri)).save();
    return { applied: true };
  } catch (err) {
    return { applied: false, error: errorMessage(err) };
  }
}

/** Review then apply: the path every user-initiated change (fix, chat "apply") takes. */
export async function reviewAndApply(proposed: ProposedContent, req: ReviewRequest): Promise<void> {
  if (!(await reviewChange(proposed, req))) return;
  const result = await applyWholeFile(req.target, req.newText, false);
  if (!result.applied) void vscode.window.showErrorMessage(`Baton could not apply the change: ${result.error}`);
}
