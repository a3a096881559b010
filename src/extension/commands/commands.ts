// Registers every command of protocol.ts COMMANDS; failures surface as one error message each.
import * as vscode from 'vscode';
import { COMMANDS } from '../../protocol';
import { rebuildIndex, showIndexStatus } from './indexCommands';
import { configureModel, setApiKey } from './modelCommands';
import { searchCodebase } from './searchPick';
import type { Services } from '../services';
import { explainProblemCommand, fixProblemCommand, generateCommand, selectionCommand } from './workflowCommands';
import { errorMessage } from '../../base/common/errors';

type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

async function ask(svc: Services): Promise<void> {
  const question = await vscode.window.showInputBox({ title: 'Baton: Ask', prompt: 'Ask about this workspace', ignoreFocusOut: true });
  if (question?.trim()) await svc.chat.ask(question.trim());
}

async function showTrace(svc: Services): Promise<void> {
  svc.output.show(true);
  await vscode.commands.executeCommand('baton.trace.focus');
}

export function registerCommands(svc: Services): vscode.Disposable[] {
  const handlers: Record<CommandId, (args: unknown) => unknown> = {
    [COMMANDS.ask]: () => ask(svc),
    [COMMANDS.explainSelection]: (args) => selectionCommand(svc, 'explain', args),
    [COMMANDS.generateTests]: (args) => selectionCommand(svc, 'tests', args),
    [COMMANDS.documentSymbol]: (args) => selectionCommand(svc, 'document', args),
    [COMMANDS.generateCode]: () => generateCommand(svc),
    [COMMANDS.fixProblem]: (args) => fixProblemCommand(svc, args),
    [COMMANDS.explainProblem]: (args) => explainProblemCommand(svc, args),
    [COMMANDS.searchCodebase]: () => searchCodebase(svc),
    [COMMANDS.rebuildIndex]: () => rebuildIndex(svc),
    [COMMANDS.showTrace]: () => showTrace(svc),
    [COMMANDS.configureModel]: () => configureModel(svc, 'chat'),
    [COMMANDS.configureEmbeddings]: () => configureModel(svc, 'embed'),
    [COMMANDS.setApiKey]: () => setApiKey(svc),
    [COMMANDS.showIndexStatus]: () => showIndexStatus(svc),
  };
  return Object.entries(handlers).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (args: unknown) => {
      try {
        await handler(args);
      } catch (err) {
        const message = errorMessage(err);
        svc.output.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(`Baton: ${message}`);
      }
    }),
  );
}
