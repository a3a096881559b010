// The index status in the status bar, from `baton/indexStatusChanged`; a click shows the details.
import * as vscode from 'vscode';
import { COMMANDS, type IndexStatus } from '../protocol';
import { presentIndexStatus } from './format';

export class IndexStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('baton.index', vscode.StatusBarAlignment.Left, 10);

  constructor() {
    this.item.name = 'Baton Index';
    this.item.command = COMMANDS.showIndexStatus;
    this.item.text = '$(sync~spin) Baton: starting';
    this.item.show();
  }

  update(status: IndexStatus): void {
    const view = presentIndexStatus(status);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  /** The server itself is down: nothing about the index is known. */
  showProblem(message: string): void {
    this.item.text = '$(warning) Baton: server stopped';
    this.item.tooltip = `${message}\nSee the "Baton" output channel.`;
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
  }

  untrusted(): void {
    this.item.text = '$(shield) Baton: not started';
    this.item.tooltip = 'Baton starts once you trust this workspace ("Workspaces: Manage Workspace Trust").';
    this.item.backgroundColor = undefined;
  }

  starting(): void {
    this.item.text = '$(sync~spin) Baton: starting';
    this.item.tooltip = 'The Baton server is starting';
    this.item.backgroundColor = undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
