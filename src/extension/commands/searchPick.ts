// Search Codebase: a QuickPick that queries `baton/search` as the user types (debounced, the
// previous request cancelled), previews the active hit and opens the accepted one.
import * as vscode from 'vscode';
import type { SearchHit } from '../../protocol';
import { presentSearchHit } from '../format';
import type { Services } from '../services';
import { openAt } from '../lsp/workspaceFiles';
import { errorMessage } from '../../base/common/errors';

const DEBOUNCE_MS = 200;
const RESULTS = 30;

interface HitItem extends vscode.QuickPickItem {
  hit: SearchHit;
}

export function searchCodebase(svc: Pick<Services, 'client' | 'output'>): void {
  const pick = vscode.window.createQuickPick<HitItem>();
  pick.title = 'Baton: Search Codebase';
  pick.placeholder = 'Describe the code or name a symbol';
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: vscode.CancellationTokenSource | undefined;

  const search = async (query: string) => {
    inFlight?.cancel();
    const source = (inFlight = new vscode.CancellationTokenSource());
    pick.busy = true;
    try {
      const response = await svc.client.request('baton/search', { query, k: RESULTS }, source.token);
      if (source.token.isCancellationRequested) return;
      // Hits match by meaning, not by the typed text, so QuickPick must not filter them out.
      pick.items = response.results.map((hit) => ({ ...presentSearchHit(hit), hit, alwaysShow: true }));
      pick.title = `Baton: Search Codebase (${response.mode}, ${response.results.length} results)`;
      if (response.notices.length) pick.placeholder = response.notices.join(' ');
    } catch (err) {
      if (source.token.isCancellationRequested) return;
      pick.items = [];
      pick.title = `Baton: search failed: ${errorMessage(err)}`;
      svc.output.warn(`Search failed: ${errorMessage(err)}`);
    } finally {
      if (inFlight === source) pick.busy = false;
      source.dispose();
    }
  };

  const open = (item: HitItem | undefined, options: vscode.TextDocumentShowOptions) => {
    if (!item) return;
    openAt(item.hit.path, item.hit.startLine, item.hit.endLine, options)
      .catch((err: Error) => svc.output.warn(`Opening ${item.hit.path}: ${err.message}`));
  };

  pick.onDidChangeValue((value) => {
    clearTimeout(timer);
    if (value.trim() === '') {
      inFlight?.cancel();
      pick.items = [];
      return;
    }
    timer = setTimeout(() => void search(value.trim()), DEBOUNCE_MS);
  });
  pick.onDidChangeActive(([item]) => open(item, { preview: true, preserveFocus: true }));
  pick.onDidAccept(() => {
    open(pick.selectedItems[0] ?? pick.activeItems[0], { preview: false });
    pick.hide();
  });
  pick.onDidHide(() => {
    clearTimeout(timer);
    inFlight?.cancel();
    pick.dispose();
  });
  pick.show();
}
