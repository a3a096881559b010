// The text of Baton's modal approvals in VS Code (commands, edits, reviewed changes), without a
// vscode import so it is unit tested with plain mocha. The modal renders plain text, but the title
// and detail are untrusted (model-chosen commands, descriptions, diffs of workspace files): both are
// rendered inert (src/base) and a command is shown whole with its size, never the title's shortened
// form alone.
import { approvalView, type ApprovalText } from '../../base/common/approval';

/** Columns the command is wrapped to: a modal is narrow, and native dialogs wrap long words badly. */
const DIALOG_WIDTH = 72;

export interface ApprovalDialog {
  /** The modal's message (one line). */
  message: string;
  /** The modal's detail: the whole command or the change, inert. */
  detail: string;
  /** The accepting button's label. */
  accept: string;
}

export function approvalDialog(request: ApprovalText, acceptLabel?: string): ApprovalDialog {
  const view = approvalView(request, DIALOG_WIDTH);
  return { message: view.title, detail: view.detail, accept: acceptLabel ?? (request.kind === 'command' ? 'Run' : 'Apply') };
}
