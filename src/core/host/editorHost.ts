// Everything the orchestrator needs from an editor goes through this one interface, implemented by
// each surface (the CLI now; the language server / VS Code extension later).

export interface Diagnostic {
  path: string;
  /** 1-based. */
  line: number;
  column: number;
  severity: 'error' | 'warning' | 'info' | 'hint';
  message: string;
  source?: string;
}

export interface FileEdit {
  path: string;
  /** The whole new content of the file (the host shows it as a diff before applying). */
  newText: string;
  description: string;
}

export interface ApprovalRequest {
  kind: 'edit' | 'command';
  title: string;
  /** What will happen, shown to the user (a diff, a command line), rendered inert by the host. */
  detail: string;
  /** Commands: the exact command line, which the host shows whole (the title shortens it). */
  command?: string;
  /** Edits: the file (workspace-relative) and its proposed whole content, so an editor can show a real diff. */
  path?: string;
  newText?: string;
}

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCommandOptions {
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Variables the command must not inherit (Baton's own keys; names or `PREFIX_*`). */
  withholdEnv?: string[];
}

export interface EditorHost {
  /** Absolute path of the workspace root. */
  readonly root: string;
  /** Current text of a file, including unsaved editor changes where the host has them. */
  readFile(path: string): Promise<string>;
  getDiagnostics(path?: string): Promise<Diagnostic[]>;
  /** Asks the user; resolves false when denied or when no one can be asked. */
  requestApproval(request: ApprovalRequest): Promise<boolean>;
  /** Applies an approved edit. */
  applyEdit(edit: FileEdit): Promise<void>;
  /** Runs an approved command in the workspace. */
  runCommand(command: string, opts: RunCommandOptions): Promise<CommandResult>;
}
