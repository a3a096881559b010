// Code actions: Baton commands offered on problems and selections. The server only offers them;
// the extension runs the command with the attached CodeActionArgs.
import { CodeActionKind, type CodeAction, type CodeActionParams, type Diagnostic, type Range } from 'vscode-languageserver/node';
import { COMMANDS, type CodeActionArgs } from '../protocol';

export function codeActionsFor(params: CodeActionParams): CodeAction[] {
  const { textDocument, range, context } = params;
  const wanted = (kind: string) => !context.only?.length || context.only.some((k) => kind === k || kind.startsWith(`${k}.`));
  const action = (title: string, kind: string, command: string, args: CodeActionArgs, diagnostic?: Diagnostic): CodeAction => ({
    title,
    kind,
    ...(diagnostic ? { diagnostics: [diagnostic] } : {}),
    command: { title, command, arguments: [args] },
  });
  const actions: CodeAction[] = [];
  if (wanted(CodeActionKind.QuickFix)) {
    for (const d of context.diagnostics ?? []) {
      if (!overlaps(d.range, range)) continue;
      const args: CodeActionArgs = { uri: textDocument.uri, range: d.range, diagnostic: typeof d.message === 'string' ? d.message : d.message.value };
      actions.push(
        action('Fix with Baton', CodeActionKind.QuickFix, COMMANDS.fixProblem, args, d),
        action('Explain problem', CodeActionKind.QuickFix, COMMANDS.explainProblem, args, d),
      );
    }
  }
  if (!isEmpty(range) && wanted(CodeActionKind.Refactor)) {
    const args: CodeActionArgs = { uri: textDocument.uri, range };
    actions.push(
      action('Explain', CodeActionKind.Refactor, COMMANDS.explainSelection, args),
      action('Generate tests', CodeActionKind.Refactor, COMMANDS.generateTests, args),
      action('Document', CodeActionKind.Refactor, COMMANDS.documentSymbol, args),
    );
  }
  return actions;
}

function isEmpty(r: Range): boolean {
  return r.start.line === r.end.line && r.start.character === r.end.character;
}

function before(a: Range['start'], b: Range['start']): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** Touching counts: a cursor at either end of a diagnostic is on it. */
function overlaps(a: Range, b: Range): boolean {
  return !before(a.end, b.start) && !before(b.end, a.start);
}
