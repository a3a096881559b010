// The Trace view: one node per finished orchestration (newest first), one child per trace event.
import * as vscode from 'vscode';
import type { TraceEventDto } from '../../protocol';
import { eventDescription, eventLabel, localTime, runDescription, type TraceRun, type TraceStore } from './traceModel';

type TraceNode = { run: TraceRun } | { run: TraceRun; event: TraceEventDto };

export class TraceTreeProvider implements vscode.TreeDataProvider<TraceNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(private readonly store: TraceStore) {
    this.subscription = store.onChange(() => this.changed.fire());
  }

  getChildren(node?: TraceNode): TraceNode[] {
    if (!node) return this.store.list().map((run) => ({ run }));
    return 'event' in node ? [] : node.run.events.map((event) => ({ run: node.run, event }));
  }

  getTreeItem(node: TraceNode): vscode.TreeItem {
    if ('event' in node) {
      const item = new vscode.TreeItem(eventLabel(node.event), vscode.TreeItemCollapsibleState.None);
      item.description = eventDescription(node.event);
      if (node.event.data) item.tooltip = JSON.stringify(node.event.data, null, 2);
      item.iconPath = new vscode.ThemeIcon(/error|denied|fallback/.test(node.event.kind) ? 'warning' : /retry/.test(node.event.kind) ? 'debug-restart' : 'circle-small');
      return item;
    }
    const item = new vscode.TreeItem(node.run.title, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = node.run.runId;
    item.description = runDescription(node.run);
    item.tooltip = `${node.run.title}\nstarted ${localTime(node.run.startedAt)}\nrun ${node.run.runId}, ${node.run.events.length} events`;
    item.iconPath = new vscode.ThemeIcon('pulse');
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
