// What an editor command runs on: the code-action arguments the server attached, else the editor's
// selection; an empty selection means the symbol at the cursor (or its line).
import * as vscode from 'vscode';
import type { CodeActionArgs } from '../../protocol';
import type { EditorTracker } from '../editorTracker';

export interface EditorTarget {
  document: vscode.TextDocument;
  range: vscode.Range;
  /** The problem's message, when a diagnostic code action invoked the command. */
  diagnostic?: string;
}

function isPosition(v: unknown): v is { line: number; character: number } {
  return typeof v === 'object' && v !== null && typeof (v as { line?: unknown }).line === 'number' && typeof (v as { character?: unknown }).character === 'number';
}

export function isCodeActionArgs(v: unknown): v is CodeActionArgs {
  if (typeof v !== 'object' || v === null) return false;
  const { uri, range, diagnostic } = v as Record<string, unknown>;
  const r = range as Record<string, unknown> | undefined;
  return typeof uri === 'string' && typeof r === 'object' && r !== null && isPosition(r.start) && isPosition(r.end)
    && (diagnostic === undefined || typeof diagnostic === 'string');
}

/** The command's target, or undefined when there is no editor (the caller says so). */
export async function commandTarget(args: unknown, editors: EditorTracker): Promise<EditorTarget | undefined> {
  if (isCodeActionArgs(args)) {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(args.uri));
    const { start, end } = args.range;
    const range = document.validateRange(new vscode.Range(start.line, start.character, end.line, end.character));
    return { document, range, diagnostic: args.diagnostic };
  }
  const editor = editors.current();
  return editor ? { document: editor.document, range: editor.selection } : undefined;
}

type AnySymbol = vscode.DocumentSymbol | vscode.SymbolInformation;

function symbolRange(s: AnySymbol): vscode.Range {
  return 'location' in s ? s.location.range : s.range;
}

function flatten(symbols: readonly AnySymbol[]): AnySymbol[] {
  return symbols.flatMap((s) => ['children' in s ? flatten(s.children) : [], s].flat());
}

/** The smallest symbol containing the position (providers return trees or flat lists). */
export async function symbolRangeAt(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Range | undefined> {
  let symbols: AnySymbol[] | undefined;
  try {
    symbols = await vscode.commands.executeCommand<AnySymbol[] | undefined>('vscode.executeDocumentSymbolProvider', document.uri);
  } catch {
    return undefined; // no provider for this language
  }
  const span = (r: vscode.Range) => r.end.line - r.start.line;
  return flatten(symbols ?? []).map(symbolRange).filter((r) => r.contains(position))
    .reduce<vscode.Range | undefined>((best, r) => (!best || span(r) < span(best) ? r : best), undefined);
}

/** The selection, or when it is empty the symbol at the cursor, or the cursor's line. */
export async function selectionOrSymbol(target: EditorTarget): Promise<vscode.Range> {
  if (!target.range.isEmpty) return target.range;
  return (await symbolRangeAt(target.document, target.range.start)) ?? target.document.lineAt(target.range.start.line).range;
}

/** The diagnostic the command is about: the one under the cursor, else the first on its line. */
export function diagnosticAt(document: vscode.TextDocument, range: vscode.Range, message?: string): vscode.Diagnostic | undefined {
  const all = vscode.languages.getDiagnostics(document.uri);
  const byMessage = message !== undefined ? all.filter((d) => d.message === message) : all;
  const candidates = byMessage.length ? byMessage : all;
  return candidates.find((d) => d.range.intersection(range) !== undefined)
    ?? candidates.find((d) => d.range.start.line <= range.start.line && range.start.line <= d.range.end.line);
}
