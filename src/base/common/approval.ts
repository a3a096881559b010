// What an approval shows, the same on a terminal (the CLI's NodeHost) and in VS Code's modal: the
// title on one inert line, and for a command the whole command (formatCommand) followed by the
// rest of the detail; for an edit the detail (a diff) inert, its lines kept.
import { formatCommand, inertBlock, inertLine, type CommandView } from './inert';

/** The fields of an approval request that are shown (the core's ApprovalRequest and the protocol's params). */
export interface ApprovalText {
  kind: 'edit' | 'command';
  title: string;
  detail: string;
  /** Commands: the exact command line, shown whole (a title shortens it). */
  command?: string;
}

export interface ApprovalView {
  title: string;
  /** The body under the title, inert; lines separated by "\n", without a trailing newline. */
  detail: string;
  /** For a command: how it was laid out (its summary belongs next to the question when not compact). */
  command?: CommandView;
}

export function approvalView(request: ApprovalText, width = 80): ApprovalView {
  const title = inertLine(request.title);
  const detail = request.detail.replace(/\n$/, '');
  if (request.kind !== 'command' || request.command === undefined) return { title, detail: inertBlock(detail) };
  const command = formatCommand(request.command, { width });
  // The tool's detail repeats the command as "$ command": show the laid-out one in its place.
  const echoed = `$ ${request.command}`;
  const rest = detail === echoed ? '' : detail.startsWith(`${echoed}\n`) ? detail.slice(echoed.length + 1) : detail;
  return { title, detail: [...command.rows, ...(rest ? [inertBlock(rest)] : [])].join('\n'), command };
}
