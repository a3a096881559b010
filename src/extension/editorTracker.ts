// The chat webview takes focus, and then `activeTextEditor` is undefined; commands and chat actions
// ("insert at cursor", "apply") mean the editor the user was last in.
import * as vscode from 'vscode';

export class EditorTracker implements vscode.Disposable {
  private last: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly subscription = vscode.window.onDidChangeActiveTextEditor((editor) => {
    if (editor && isCodeEditor(editor)) this.last = editor;
  });

  /** The active text editor, else the last one that is still visible. */
  current(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active && isCodeEditor(active)) return active;
    return this.last && vscode.window.visibleTextEditors.includes(this.last) ? this.last : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

/** Output panels and Baton's own proposals are editors too, but never a command's target. */
function isCodeEditor(editor: vscode.TextEditor): boolean {
  return editor.document.uri.scheme === 'file' || editor.document.uri.scheme === 'untitled';
}
