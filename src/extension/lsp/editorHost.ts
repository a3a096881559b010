// The editor side of the server's EditorHost (`baton/host/*` requests): diagnostics, approvals
// (a diff for edits, the command line for commands), whole-file edits and shell commands.
import * as vscode from 'vscode';
import type { DiagnosticDto } from '../../protocol';
import type { HostHandlers } from './client';
import { approvalDialog } from '../edits/approvalDialog';
import { applyWholeFile, reviewChange, type ProposedContent } from '../edits/diffReview';
import { resolveInside } from '../../base/node/paths';
import { runShellCommand } from './processRunner';
import { withoutVariables } from '../../base/common/envFilter';
import { approvalPolicy } from '../settings';
import { protocolPath, workspaceRoot, workspaceUri } from './workspaceFiles';
import { errorMessage } from '../../base/common/errors';

const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_TIMEOUT_MS = 600_000;
const MAX_OUTPUT_CHARS = 100_000;
const MAX_DIAGNOSTICS = 500;
const REFUSED = 'refused: the baton.approval setting is "never"';

const SEVERITY: Record<vscode.DiagnosticSeverity, DiagnosticDto['severity']> = {
  [vscode.DiagnosticSeverity.Error]: 'error',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'info',
  [vscode.DiagnosticSeverity.Hint]: 'hint',
};

export function toDiagnosticDto(uri: vscode.Uri, d: vscode.Diagnostic): DiagnosticDto {
  const dto: DiagnosticDto = {
    path: protocolPath(uri),
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    severity: SEVERITY[d.severity],
    message: d.message,
  };
  if (d.source) dto.source = d.source;
  return dto;
}

function diagnostics(path: string | undefined): DiagnosticDto[] {
  const root = workspaceRoot();
  const entries: Array<[vscode.Uri, readonly vscode.Diagnostic[]]> = path
    ? [workspaceUri(path)].map((uri) => [uri, vscode.languages.getDiagnostics(uri)])
    : vscode.languages.getDiagnostics().filter(([uri]) => uri.scheme === 'file' && !!root && !!resolveInside(root.fsPath, uri.fsPath));
  return entries.flatMap(([uri, list]) => list.map((d) => toDiagnosticDto(uri, d))).slice(0, MAX_DIAGNOSTICS);
}

function cancelSignal(token: vscode.CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

export function createHostHandlers(proposed: ProposedContent): HostHandlers {
  return {
    'baton/host/getDiagnostics': async ({ path }) => diagnostics(path),

    'baton/host/requestApproval': async ({ kind, title, detail, path, newText, command }) => {
      if (approvalPolicy() === 'never') return { approved: false };
      if (kind === 'edit' && path !== undefined && newText !== undefined) {
        return { approved: await reviewChange(proposed, { target: workspaceUri(path), newText, title, detail, acceptLabel: 'Apply' }) };
      }
      const dialog = approvalDialog({ kind, title, detail, command });
      const accept: vscode.MessageItem = { title: dialog.accept };
      const reject: vscode.MessageItem = { title: 'Reject', isCloseAffordance: true };
      const choice = await vscode.window.showWarningMessage(dialog.message, { modal: true, detail: dialog.detail }, accept, reject);
      return { approved: choice === accept };
    },

    'baton/host/applyEdit': async ({ path, newText }) => {
      if (approvalPolicy() === 'never') return { applied: false, error: REFUSED };
      let uri: vscode.Uri;
      try {
        uri = workspaceUri(path);
      } catch (err) {
        return { applied: false, error: errorMessage(err) };
      }
      return applyWholeFile(uri, newText, true);
    },

    'baton/host/runCommand': async ({ command, cwd, timeoutMs, withholdEnv }, token) => {
      if (approvalPolicy() === 'never') return { exitCode: null, stdout: '', stderr: REFUSED };
      const root = workspaceRoot();
      const dir = root ? resolveInside(root.fsPath, cwd ?? '.') : undefined;
      if (!dir) return { exitCode: null, stdout: '', stderr: `refused: ${cwd ?? 'the working folder'} is outside the workspace` };
      const limit = Math.min(Math.max(1, timeoutMs ?? DEFAULT_TIMEOUT_MS), MAX_TIMEOUT_MS);
      // The extension host's own environment may hold keys too: the server names which to withhold.
      const withhold = Array.isArray(withholdEnv) ? withholdEnv.filter((n): n is string => typeof n === 'string') : ['OPENAI_API_KEY'];
      return runShellCommand(command, { cwd: dir, timeoutMs: limit, maxChars: MAX_OUTPUT_CHARS, signal: cancelSignal(token), env: withoutVariables(process.env, withhold) });
    },
  };
}
