// Maps between editor URIs and the protocol's workspace-relative paths (first workspace folder).
import * as vscode from 'vscode';
import type { SelectionDto } from '../../protocol';
import { resolveInside, toRelative } from '../../base/node/paths';

export function workspaceRoot(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

/** The protocol path of a document: workspace-relative when it is in the workspace, else its fs path. */
export function protocolPath(uri: vscode.Uri): string {
  const root = workspaceRoot();
  const rel = root && uri.scheme === 'file' ? toRelative(root.fsPath, uri.fsPath) : undefined;
  return rel ?? (uri.scheme === 'file' ? uri.fsPath : uri.toString());
}

/** The file a server-given relative path names; throws when it leaves the workspace. */
export function workspaceUri(rel: string): vscode.Uri {
  const root = workspaceRoot();
  if (!root) throw new Error('No workspace folder is open');
  const abs = resolveInside(root.fsPath, rel);
  if (!abs) throw new Error(`${rel} is outside the workspace`);
  return vscode.Uri.file(abs);
}

/** Whole lines start..end (0-based inclusive) of a document. */
export function lineRange(document: vscode.TextDocument, startLine: number, endLine: number): vscode.Range {
  const last = Math.min(Math.max(endLine, startLine), document.lineCount - 1);
  return new vscode.Range(startLine, 0, last, document.lineAt(last).text.length);
}

/** The whole lines a range touches, as the workflows take a selection. */
export function selectionDto(document: vscode.TextDocument, range: vscode.Range): SelectionDto {
  // A selection that ends at column 0 of a line does not include that line.
  const endLine = range.end.line > range.start.line && range.end.character === 0 ? range.end.line - 1 : range.end.line;
  const lines = lineRange(document, range.start.line, endLine);
  return {
    path: protocolPath(document.uri),
    language: document.languageId,
    text: document.getText(lines),
    startLine: lines.start.line + 1,
    endLine: lines.end.line + 1,
  };
}

export function fullRange(document: vscode.TextDocument): vscode.Range {
  return new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
}

let citedLines: vscode.TextEditorDecorationType | undefined;

/** Highlights whole lines until the user moves the cursor away from where it was put. */
function highlightCited(editor: vscode.TextEditor, range: vscode.Range): void {
  citedLines ??= vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
  });
  const decoration = citedLines;
  editor.setDecorations(decoration, [range]);
  const placed = editor.selection.active;
  const moved = vscode.window.onDidChangeTextEditorSelection((event) => {
    if (event.textEditor !== editor || event.selections[0]?.active.isEqual(placed)) return;
    editor.setDecorations(decoration, []);
    moved.dispose();
  });
}

/** Opens a cited range: the file in an editor, the cursor on its first line, the lines highlighted. */
export async function openAt(path: string, startLine: number, endLine: number, options: vscode.TextDocumentShowOptions = {}): Promise<void> {
  const root = workspaceRoot();
  const uri = root ? workspaceUri(path) : vscode.Uri.file(path);
  const document = await vscode.workspace.openTextDocument(uri);
  const range = lineRange(document, Math.max(0, startLine - 1), Math.max(0, endLine - 1));
  // The cursor goes to the first cited line; selecting whole lines would scroll long lines sideways.
  const editor = await vscode.window.showTextDocument(document, { ...options, selection: new vscode.Range(range.start, range.start) });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  highlightCited(editor, range);
}
