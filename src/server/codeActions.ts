// Code actions: Baton commands offered on problems and selections. The server only offers them;
// the extension runs the command with the attached CodeActionArgs. Requests are validated first
// (codeActionParamsSchema), like Baton's own.
import { CodeActionKind, type CodeAction, type CodeActionParams, type Diagnostic, type Range } from 'vscode-languageserver/node';
import { z } from 'zod';
import { COMMANDS, MAX_PATH_CHARS, type CodeActionArgs } from '../protocol';

type CodeActionRequest = Pick<CodeActionParams, 'textDocument' | 'range'> & { context: Pick<CodeActionParams['context'], 'diagnostics' | 'only'> };

const positionSchema = z.object({ line: z.number().int().min(0), character: z.number().int().min(0) });
const rangeSchema = z.object({ start: positionSchema, end: positionSchema });

/** The parts of CodeActionParams Baton reads, each checked (the annotation has the compiler check
 * that what it parses to will do). Diagnostics go back to the client in the actions as it sent
 * them, so their other fields are kept. */
export const codeActionParamsSchema: z.ZodType<CodeActionRequest> = z.looseObject({
  textDocument: z.looseObject({ uri: z.string().min(1).max(MAX_PATH_CHARS) }),
  range: rangeSchema,
  context: z.looseObject({
    diagnostics: z.array(z.looseObject({
      range: rangeSchema,
      message: z.union([z.string(), z.looseObject({ kind: z.enum(['plaintext', 'markdown']), value: z.string() })]),
    })).max(10_000),
    only: z.array(z.string().max(200)).max(100).optional(),
  }),
});

export function codeActionsFor(params: CodeActionRequest): CodeAction[] {
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
