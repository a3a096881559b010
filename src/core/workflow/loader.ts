// Finds the workflows a workspace can run: the built-ins, then `.baton/workflows/*.json|yaml|yml`.
// A user file whose id matches a built-in replaces it (with a notice). A broken file never hides
// the others: its problems are returned as errors naming the file, and the rest still load.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { BUILTIN_WORKFLOWS } from './builtins';
import { BUILTIN_FUNCTIONS } from './nodes';
import { parseWorkflow, WorkflowValidationError, type WorkflowDefinition } from './schema';
import { errorMessage, errorCode } from '../../base/common/errors';

/** Relative to the workspace root, with `/` so messages read the same on every platform. */
export const WORKFLOWS_DIR = '.baton/workflows';
/** A workflow file is a small document; anything bigger is a mistake. */
const MAX_FILE_BYTES = 1024 * 1024;

export interface LoadedWorkflow {
  definition: WorkflowDefinition;
  /** 'builtin', or the file's path relative to the workspace root. */
  source: string;
}

export interface WorkflowSet {
  /** By id. */
  workflows: Map<string, LoadedWorkflow>;
  /** Overrides of built-ins, unsupported files. */
  notices: string[];
  /** One per file that could not be loaded, naming the file (and the node and field). */
  errors: WorkflowValidationError[];
}

export interface LoadOptions {
  /** Code function names `code` nodes may use; default the built-in functions. */
  functions?: Iterable<string>;
  /** When given, `tool` nodes naming another tool are errors at load time. */
  tools?: Iterable<string>;
}

export interface WorkspaceLoadOptions extends LoadOptions {
  /** The user trusts this workspace's own files (security/workspaceTrust.ts); otherwise only the
   * built-ins load: a cloned repository's workflow could run commands. */
  trusted: boolean;
}

export function loadBuiltinWorkflows(opts: LoadOptions = {}): Map<string, LoadedWorkflow> {
  const functions = [...(opts.functions ?? BUILTIN_FUNCTIONS.keys())];
  return new Map(BUILTIN_WORKFLOWS.map((raw) => {
    const definition = parseWorkflow(raw, { file: `built-in workflow "${raw.id}"`, functions, tools: opts.tools });
    return [definition.id, { definition, source: 'builtin' }];
  }));
}

/** Parses one file's text; `file` is the name used in messages. Throws WorkflowValidationError. */
export function parseWorkflowText(file: string, text: string, opts: LoadOptions = {}): WorkflowDefinition {
  const ext = extname(file).toLowerCase();
  let raw: unknown;
  text = text.replace(/^\uFEFF/, ''); // editors on Windows may save a byte-order mark
  if (ext === '.yaml' || ext === '.yml') {
    raw = parseYamlText(file, text);
  } else {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new WorkflowValidationError([{ file, message: `invalid JSON: ${jsonErrorWhere(text, errorMessage(err))}` }], file);
    }
  }
  // A file may leave out its id: the file name is the natural one.
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !('id' in raw)) {
    raw = { ...raw, id: basename(file, extname(file)) };
  }
  return parseWorkflow(raw, { file, functions: [...(opts.functions ?? BUILTIN_FUNCTIONS.keys())], tools: opts.tools });
}

/** YAML 1.2 core schema only: no custom tags, so a file cannot construct anything but plain data. */
function parseYamlText(file: string, text: string): unknown {
  try {
    return parseYaml(text, { schema: 'core', uniqueKeys: true });
  } catch (err) {
    if (!(err instanceof YAMLParseError)) throw err;
    const at = err.linePos?.[0];
    const where = at ? ` (line ${at.line}, column ${at.col})` : '';
    throw new WorkflowValidationError([{ file, message: `invalid YAML: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}${where}` }], file);
  }
}

/** Built-ins plus, in a trusted workspace, its own workflows, overriding built-ins by id. */
export async function loadWorkflows(root: string, opts: WorkspaceLoadOptions): Promise<WorkflowSet> {
  const workflows = loadBuiltinWorkflows(opts);
  const notices: string[] = [];
  const errors: WorkflowValidationError[] = [];
  if (!opts.trusted) return { workflows, notices, errors };
  const dir = join(root, ...WORKFLOWS_DIR.split('/'));
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { workflows, notices, errors };
    errors.push(new WorkflowValidationError([{ file: WORKFLOWS_DIR, message: `cannot read the folder: ${errorMessage(err)}` }]));
    return { workflows, notices, errors };
  }
  const fromFile = new Map<string, string>();
  for (const name of names) {
    const ext = extname(name).toLowerCase();
    if (!['.json', '.yaml', '.yml'].includes(ext)) continue;
    const file = `${WORKFLOWS_DIR}/${name}`;
    try {
      const full = join(dir, name);
      const info = await stat(full);
      if (!info.isFile()) continue;
      if (info.size > MAX_FILE_BYTES) throw new WorkflowValidationError([{ file, message: `the file is larger than ${MAX_FILE_BYTES} bytes` }], file);
      const definition = parseWorkflowText(file, await readFile(full, 'utf8'), opts);
      const earlier = fromFile.get(definition.id);
      if (earlier) {
        throw new WorkflowValidationError([{ file, field: 'id', message: `workflow id "${definition.id}" is already defined by ${earlier}` }], file);
      }
      if (workflows.get(definition.id)?.source === 'builtin') notices.push(`${file} overrides the built-in workflow "${definition.id}"`);
      fromFile.set(definition.id, file);
      workflows.set(definition.id, { definition, source: file });
    } catch (err) {
      errors.push(err instanceof WorkflowValidationError ? err : new WorkflowValidationError([{ file, message: errorMessage(err) }], file));
    }
  }
  return { workflows, notices, errors };
}

/** JSON.parse's message on one line, with a line and column an editor can jump to. */
function jsonErrorWhere(text: string, message: string): string {
  const oneLine = message.replace(/\r?\n/g, '\\n');
  if (/line \d+/.test(message)) return oneLine;
  // Node 20 gives a position for some errors and only a snippet for others: find it ourselves.
  const m = /at position (\d+)/.exec(message);
  const offset = m ? Number(m[1]) : syntaxErrorOffset(text);
  if (offset === null) return oneLine;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${oneLine} (line ${line}, column ${column})`;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Offset of the first JSON syntax error, by a minimal recursive-descent scan; null if none found. */
function syntaxErrorOffset(text: string): number | null {
  let i = 0;
  const ws = () => { while (/[ \t\r\n]/.test(text[i] ?? '')) i++; };
  const fail = (): never => { throw i; };
  const literal = (word: string) => { if (text.startsWith(word, i)) i += word.length; else fail(); };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) { i++; return; }
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          string();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === close) { i++; return; }
        fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    token(NUMBER);
  };
  const string = () => token(STRING);
  const token = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    return i < text.length ? i : null;
  } catch (at) {
    return typeof at === 'number' ? at : null;
  }
}
