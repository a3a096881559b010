// The editor commands that run a workflow on code: explain, tests, document, generate, and the two
// problem commands (fix, explain). Results go to the chat; code can open in an editor or be
// reviewed as a diff.
import * as vscode from 'vscode';
import type { RunWorkflowResponse, SelectionDto } from '../../protocol';
import { reviewAndApply } from '../edits/diffReview';
import { commandTarget, diagnosticAt, selectionOrSymbol, type EditorTarget } from '../edits/editorTarget';
import { toDiagnosticDto } from '../lsp/editorHost';
import { withRunProgress } from './runProgress';
import type { Services } from '../services';
import { citationsOf, fenceLanguage, isCodeFix, linesOf, padLines, replaceLines, resultMarkdown } from '../edits/textEdits';
import { lineRange, selectionDto } from '../lsp/workspaceFiles';

/** Lines of context around a problem, so the model sees the statement and its surroundings. */
const PROBLEM_CONTEXT_LINES = 3;

async function runWorkflow(svc: Services, title: string, workflow: string, input: Record<string, unknown>): Promise<RunWorkflowResponse | undefined> {
  const response = await withRunProgress(svc, `Baton: ${title}`, (runId) => svc.client.request('baton/runWorkflow', { runId, workflow, input }));
  if (response.cancelled) {
    void vscode.window.showInformationMessage(`Baton: ${title} was cancelled.`);
    return undefined;
  }
  return response;
}

async function showInChat(svc: Services, title: string, response: RunWorkflowResponse, language?: string): Promise<void> {
  await svc.chat.showResult(title, resultMarkdown(response.outputs, response.notices, language), citationsOf(response.outputs.context));
}

/** Offers the generated code in a new untitled editor (tests and generated code are new files). */
async function offerNewEditor(title: string, code: unknown, language: string | undefined): Promise<void> {
  if (typeof code !== 'string' || code.trim() === '') return;
  const open = 'Open in New Editor';
  if ((await vscode.window.showInformationMessage(`Baton: ${title} is ready.`, open)) !== open) return;
  const document = await vscode.workspace.openTextDocument({ content: code, language }).then(undefined, () => vscode.workspace.openTextDocument({ content: code }));
  await vscode.window.showTextDocument(document, { preview: false });
}

/** Reviews `code` as the replacement of the selection's lines, unless the user edited them meanwhile. */
async function proposeReplacement(svc: Services, document: vscode.TextDocument, selection: SelectionDto, code: string, title: string, detail: string): Promise<void> {
  const text = document.getText();
  if (linesOf(text, selection.startLine, selection.endLine) !== selection.text) {
    void vscode.window.showWarningMessage(`Baton: ${selection.path} changed while Baton worked; the proposal was not applied (it is in the chat).`);
    return;
  }
  const newText = replaceLines(text, selection.startLine, selection.endLine, code);
  await reviewAndApply(svc.proposed, { target: document.uri, newText, title, detail });
}

async function requireTarget(svc: Services, args: unknown): Promise<EditorTarget | undefined> {
  const target = await commandTarget(args, svc.editors);
  if (!target) void vscode.window.showInformationMessage('Baton: open a file and place the cursor or select code first.');
  return target;
}

const SELECTION_WORKFLOWS = {
  explain: { verb: 'Explain', newEditor: false },
  tests: { verb: 'Tests for', newEditor: true },
  document: { verb: 'Document', newEditor: false },
} as const;

/** Explain Selection / Generate Tests / Document Symbol. */
export async function selectionCommand(svc: Services, workflow: keyof typeof SELECTION_WORKFLOWS, args: unknown): Promise<void> {
  const target = await requireTarget(svc, args);
  if (!target) return;
  const selection = selectionDto(target.document, await selectionOrSymbol(target));
  const { verb, newEditor } = SELECTION_WORKFLOWS[workflow];
  const title = `${verb} ${selection.path}:${selection.startLine}-${selection.endLine}`;
  const response = await runWorkflow(svc, title, workflow, { selection });
  if (!response) return;
  await showInChat(svc, title, response, selection.language);
  if (newEditor) await offerNewEditor(title, response.outputs.code, selection.language);
  // A documented symbol replaces the original (a codeFix, like fix's), so it is reviewed as a diff.
  else if (workflow === 'document' && isCodeFix(response.outputs.fix)) {
    const review = 'Review as Diff';
    if ((await vscode.window.showInformationMessage(`Baton: ${title} is ready.`, review)) === review) {
      await proposeReplacement(svc, target.document, selection, response.outputs.fix.code, title, response.outputs.fix.explanation);
    }
  }
}

export async function generateCommand(svc: Services): Promise<void> {
  const request = await vscode.window.showInputBox({ title: 'Baton: Generate Code', prompt: 'What should Baton write?', ignoreFocusOut: true });
  if (!request?.trim()) return;
  const title = `Generate: ${request.length > 60 ? `${request.slice(0, 59)}…` : request}`;
  const response = await runWorkflow(svc, title, 'generate', { request });
  if (!response) return;
  const answer = typeof response.outputs.answer === 'string' ? response.outputs.answer : '';
  const language = fenceLanguage(answer) ?? svc.editors.current()?.document.languageId;
  await showInChat(svc, title, response, language);
  await offerNewEditor(title, response.outputs.code, language);
}

interface ProblemContext {
  target: EditorTarget;
  message: string;
  selection: SelectionDto;
  /** Every diagnostic in the selected lines, one per line, as the fix workflow's `diagnostics`. */
  diagnostics: string;
}

async function problemContext(svc: Services, args: unknown): Promise<ProblemContext | undefined> {
  const target = await requireTarget(svc, args);
  if (!target) return undefined;
  const { document } = target;
  const diagnostic = diagnosticAt(document, target.range, target.diagnostic);
  const message = diagnostic?.message ?? target.diagnostic;
  if (!message) {
    void vscode.window.showInformationMessage('Baton: there is no problem at the cursor.');
    return undefined;
  }
  const at = diagnostic?.range ?? target.range;
  const lines = padLines(at.start.line + 1, at.end.line + 1, document.lineCount, PROBLEM_CONTEXT_LINES);
  const selection = selectionDto(document, lineRange(document, lines.startLine - 1, lines.endLine - 1));
  const diagnostics = vscode.languages.getDiagnostics(document.uri)
    .filter((d) => d.range.start.line + 1 <= selection.endLine && d.range.end.line + 1 >= selection.startLine)
    .map((d) => toDiagnosticDto(document.uri, d))
    .map((d) => `line ${d.line}: ${d.severity}: ${d.message}${d.source ? ` (${d.source})` : ''}`);
  return { target, message, selection, diagnostics: diagnostics.join('\n') || `line ${at.start.line + 1}: ${message}` };
}

export async function fixProblemCommand(svc: Services, args: unknown): Promise<void> {
  const problem = await problemContext(svc, args);
  if (!problem) return;
  const { selection } = problem;
  const title = `Fix ${selection.path}:${selection.startLine}-${selection.endLine}`;
  const response = await runWorkflow(svc, title, 'fix', { selection, problem: problem.message, diagnostics: problem.diagnostics });
  if (!response) return;
  const fix = response.outputs.fix;
  if (!isCodeFix(fix)) {
    void vscode.window.showWarningMessage(`Baton: the fix workflow returned no usable fix.${response.notices.length ? ` ${response.notices.join(' ')}` : ''}`);
    return;
  }
  await showInChat(svc, title, response, selection.language);
  await proposeReplacement(svc, problem.target.document, selection, fix.code, `Baton fix: ${problem.message}`, fix.explanation);
}

export async function explainProblemCommand(svc: Services, args: unknown): Promise<void> {
  const problem = await problemContext(svc, args);
  if (!problem) return;
  const { selection } = problem;
  const question = `Explain this problem reported in ${selection.path}: ${problem.message}\n` +
    `Why does it happen, and how can it be fixed?\n\nDiagnostics in these lines:\n${problem.diagnostics}`;
  const title = `Explain problem: ${problem.message.split('\n')[0]}`;
  const response = await runWorkflow(svc, title, 'explain', { selection, question });
  if (response) await showInChat(svc, title, response, selection.language);
}
