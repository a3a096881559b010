// What each language looks like: its id by file path, and which syntax nodes are declarations.
// No parser is loaded here (types only), so the walker and the CLI can ask "what is this file?"
// cheaply.
import type { Node } from './treeSitter';

const BY_EXTENSION: Record<string, string> = {
  ts: 'typescript', mts: 'typescript', cts: 'typescript',
  tsx: 'tsx',
  js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'javascript',
  py: 'python', pyi: 'python', pyw: 'python',
  go: 'go',
  java: 'java',
  rs: 'rust',
  c: 'c', h: 'c',
  cc: 'cpp', cpp: 'cpp', cxx: 'cpp', 'c++': 'cpp', hh: 'cpp', hpp: 'cpp', hxx: 'cpp', 'h++': 'cpp', ipp: 'cpp', inl: 'cpp',
  cs: 'csharp', csx: 'csharp',
  rb: 'ruby', rake: 'ruby', gemspec: 'ruby', ru: 'ruby',
  php: 'php', phtml: 'php',
  md: 'markdown', markdown: 'markdown', mdx: 'markdown',
  sh: 'shellscript', bash: 'shellscript', zsh: 'shellscript',
  ps1: 'powershell', psm1: 'powershell',
  kt: 'kotlin', kts: 'kotlin',
  swift: 'swift',
  scala: 'scala',
  lua: 'lua',
  dart: 'dart',
  m: 'objective-c', mm: 'objective-cpp',
  sql: 'sql',
  html: 'html', htm: 'html', vue: 'vue', svelte: 'svelte',
  css: 'css', scss: 'scss', less: 'less',
  json: 'json', jsonc: 'json',
  yaml: 'yaml', yml: 'yaml',
  toml: 'toml',
  xml: 'xml',
  ini: 'ini', cfg: 'ini',
  r: 'r',
  ex: 'elixir', exs: 'elixir',
  hs: 'haskell',
  ml: 'ocaml', mli: 'ocaml',
  zig: 'zig',
  sol: 'solidity',
  proto: 'proto',
  graphql: 'graphql', gql: 'graphql',
  tf: 'terraform',
  txt: 'text', rst: 'restructuredtext',
};

/** Extension-less or special file names. */
const BY_NAME: Record<string, string> = {
  makefile: 'makefile', gnumakefile: 'makefile',
  dockerfile: 'dockerfile',
  gemfile: 'ruby', rakefile: 'ruby', podfile: 'ruby', vagrantfile: 'ruby',
  '.bashrc': 'shellscript', '.zshrc': 'shellscript', '.profile': 'shellscript',
};

/** VS Code-style language id of a workspace file, 'text' when unknown. */
export function languageForPath(relPath: string): string {
  const base = relPath.slice(relPath.lastIndexOf('/') + 1).toLowerCase();
  const byName = BY_NAME[base];
  if (byName) return byName;
  if (base.startsWith('dockerfile')) return 'dockerfile';
  const dot = base.lastIndexOf('.');
  if (dot < 0) return 'text';
  return BY_EXTENSION[base.slice(dot + 1)] ?? 'text';
}

// ---------------------------------------------------------------------------------------------
// Syntax rules: which tree-sitter nodes are declarations worth a chunk of their own, per language.

export type DeclarationKind =
  'function' | 'class' | 'method' | 'interface' | 'type' | 'enum' | 'struct' | 'impl' | 'module';

export interface Declaration {
  kind: DeclarationKind;
  name: string;
  /** Node whose children are the members, for declarations split into members when too large. */
  body: Node | null;
  /** Members are named `${name}.${member}` and functions among them become methods. */
  scoped: boolean;
}

export interface SyntaxRules {
  /** The declaration `node` is (looking through wrappers such as `export`), or null. */
  declaration(node: Node): Declaration | null;
  /** Nodes whose children are examined in their place: preprocessor conditionals, extern "C" {...}. */
  transparent: ReadonlySet<string>;
  /** Nodes that belong to the declaration directly below them: comments, decorators, attributes. */
  attached: ReadonlySet<string>;
}

interface Rule {
  kind: DeclarationKind;
  /** 'class': split into scoped members; 'module': split into unscoped members. */
  container?: 'class' | 'module';
  /** Only a declaration when it has a body (C `struct x;` or Rust `mod x;` are not). */
  needsBody?: boolean;
  name?: (node: Node) => string | null;
  /** The node whose children are the members; default: the `body` field. */
  members?: (node: Node) => Node | null;
}

type Special = (node: Node, rules: SyntaxRules) => Declaration | null | undefined;

const ATTACHED = new Set(['comment', 'line_comment', 'block_comment', 'attribute_item', 'decorator']);
const FUNCTION_VALUES = new Set([
  'arrow_function', 'function_expression', 'function', 'generator_function',
]);
const CLASS_VALUES = new Set(['class', 'class_expression']);

function children(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

/** A display name: whitespace collapsed, bounded (C++ templates can be long). */
function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function fieldText(node: Node, field: string): string | null {
  const child = node.childForFieldName(field);
  return child ? clean(child.text) : null;
}

function makeRules(table: Record<string, Rule>, special: Special | null, transparent: string[]): SyntaxRules {
  const rules: SyntaxRules = {
    transparent: new Set(['ERROR', ...transparent]),
    attached: ATTACHED,
    declaration(node) {
      const found = special?.(node, rules);
      if (found !== undefined) return found;
      const rule = table[node.type];
      if (!rule) return null;
      const name = rule.name ? rule.name(node) : fieldText(node, 'name');
      const body = rule.members ? rule.members(node) : node.childForFieldName('body');
      if (!name || (rule.needsBody && !body)) return null;
      return { kind: rule.kind, name, body: rule.container ? body : null, scoped: rule.container === 'class' };
    },
  };
  return rules;
}

// --- JavaScript / TypeScript -------------------------------------------------------------------

const JS_TABLE: Record<string, Rule> = {
  function_declaration: { kind: 'function' },
  generator_function_declaration: { kind: 'function' },
  method_definition: { kind: 'function' },
  class_declaration: { kind: 'class', container: 'class' },
  abstract_class_declaration: { kind: 'class', container: 'class' },
  class: { kind: 'class', container: 'class' },
  interface_declaration: { kind: 'interface', container: 'class' },
  enum_declaration: { kind: 'enum' },
  type_alias_declaration: { kind: 'type' },
  internal_module: { kind: 'module', container: 'module' },
  module: { kind: 'module', container: 'module', name: (n) => fieldText(n, 'name')?.replace(/^['"]|['"]$/g, '') ?? null },
};

/** `const foo = () => {}`, `let Bar = class {}`: the first declarator whose value is a function/class. */
function variableDeclaration(node: Node): Declaration | null {
  for (const declarator of children(node)) {
    const value = declarator.childForFieldName('value');
    const name = fieldText(declarator, 'name');
    if (!value || !name) continue;
    if (FUNCTION_VALUES.has(value.type)) return { kind: 'function', name, body: null, scoped: false };
    if (CLASS_VALUES.has(value.type)) {
      return { kind: 'class', name, body: value.childForFieldName('body'), scoped: true };
    }
  }
  return null;
}

/** `module.exports.foo = function`, `exports.foo = () =>`, `Foo.prototype.bar = function`. */
function assignmentDeclaration(node: Node): Declaration | null {
  const left = node.childForFieldName('left');
  const right = node.childForFieldName('right');
  if (!left || !right || left.type !== 'member_expression') return null;
  const isFunction = FUNCTION_VALUES.has(right.type);
  if (!isFunction && !CLASS_VALUES.has(right.type)) return null;
  const target = clean(left.text);
  let name = target.replace(/^(module\.)?exports\./, '').replace('.prototype.', '.');
  if (name === 'module.exports') name = fieldText(right, 'name') ?? name;
  return isFunction
    ? { kind: target.includes('.prototype.') ? 'method' : 'function', name, body: null, scoped: false }
    : { kind: 'class', name, body: right.childForFieldName('body'), scoped: true };
}

const jsSpecial: Special = (node, rules) => {
  switch (node.type) {
    case 'export_statement': {
      // The export keyword, and decorators before it, belong to the exported declaration.
      const inner = node.childForFieldName('declaration') ?? node.childForFieldName('value');
      if (!inner) return null;
      const found = rules.declaration(inner);
      if (found) return found;
      if (FUNCTION_VALUES.has(inner.type)) return { kind: 'function', name: 'default', body: null, scoped: false };
      if (CLASS_VALUES.has(inner.type)) {
        return { kind: 'class', name: 'default', body: inner.childForFieldName('body'), scoped: true };
      }
      return null;
    }
    case 'ambient_declaration': {
      const inner = children(node)[0];
      return inner ? rules.declaration(inner) : null;
    }
    case 'expression_statement': {
      const inner = children(node)[0];
      if (!inner) return null;
      if (inner.type === 'internal_module') return rules.declaration(inner);
      return inner.type === 'assignment_expression' ? assignmentDeclaration(inner) : null;
    }
    case 'lexical_declaration':
    case 'variable_declaration':
      return variableDeclaration(node);
    case 'public_field_definition':
    case 'field_definition': {
      // Class fields holding arrow functions are methods in all but name.
      const value = node.childForFieldName('value');
      const name = fieldText(node, 'name') ?? fieldText(node, 'property');
      return value && name && FUNCTION_VALUES.has(value.type) ? { kind: 'function', name, body: null, scoped: false } : null;
    }
    default:
      return undefined;
  }
};

// --- Python ------------------------------------------------------------------------------------

const PYTHON_TABLE: Record<string, Rule> = {
  function_definition: { kind: 'function' },
  class_definition: { kind: 'class', container: 'class' },
};

const pythonSpecial: Special = (node, rules) => {
  if (node.type !== 'decorated_definition') return undefined;
  const inner = node.childForFieldName('definition');
  return inner ? rules.declaration(inner) : null;
};

// --- Go ----------------------------------------------------------------------------------------

const GO_TABLE: Record<string, Rule> = {
  function_declaration: { kind: 'function' },
};

const goSpecial: Special = (node) => {
  if (node.type === 'method_declaration') {
    // `func (s *Server[T]) Start()` is named Server.Start, like a method in a class.
    const receiver = node.childForFieldName('receiver');
    let type = receiver ? children(receiver)[0]?.childForFieldName('type') : null;
    while (type && (type.type === 'pointer_type' || type.type === 'generic_type' || type.type === 'parenthesized_type')) {
      type = type.type === 'generic_type' ? type.childForFieldName('type') : children(type)[0];
    }
    const name = fieldText(node, 'name');
    if (!name) return null;
    return { kind: 'method', name: type ? `${clean(type.text)}.${name}` : name, body: null, scoped: false };
  }
  if (node.type === 'type_declaration') {
    const spec = children(node).find((c) => c.type === 'type_spec' || c.type === 'type_alias');
    const name = spec && fieldText(spec, 'name');
    if (!spec || !name) return null;
    const type = spec.childForFieldName('type')?.type;
    const kind = type === 'struct_type' ? 'struct' : type === 'interface_type' ? 'interface' : 'type';
    return { kind, name, body: null, scoped: false };
  }
  return undefined;
};

// --- Java --------------------------------------------------------------------------------------

const JAVA_TABLE: Record<string, Rule> = {
  class_declaration: { kind: 'class', container: 'class' },
  record_declaration: { kind: 'class', container: 'class' },
  enum_declaration: { kind: 'enum', container: 'class' },
  interface_declaration: { kind: 'interface', container: 'class' },
  annotation_type_declaration: { kind: 'interface', container: 'class' },
  method_declaration: { kind: 'function' },
  constructor_declaration: { kind: 'function' },
  compact_constructor_declaration: { kind: 'function' },
};

// --- Rust --------------------------------------------------------------------------------------

const RUST_TABLE: Record<string, Rule> = {
  function_item: { kind: 'function' },
  struct_item: { kind: 'struct' },
  union_item: { kind: 'struct' },
  enum_item: { kind: 'enum' },
  trait_item: { kind: 'interface', container: 'class' },
  mod_item: { kind: 'module', container: 'module', needsBody: true },
  type_item: { kind: 'type' },
  macro_definition: { kind: 'function' },
};

const rustSpecial: Special = (node) => {
  if (node.type !== 'impl_item') return undefined;
  // `impl<T> Display for Foo<T>` is named Foo: its methods read as Foo.fmt.
  const type = node.childForFieldName('type');
  const base = type?.type === 'generic_type' ? type.childForFieldName('type') : type;
  if (!base) return null;
  return { kind: 'impl', name: clean(base.text), body: node.childForFieldName('body'), scoped: true };
};

// --- C / C++ -----------------------------------------------------------------------------------

const C_TABLE: Record<string, Rule> = {
  class_specifier: { kind: 'class', container: 'class', needsBody: true },
  struct_specifier: { kind: 'struct', container: 'class', needsBody: true },
  union_specifier: { kind: 'struct', container: 'class', needsBody: true },
  enum_specifier: { kind: 'enum', needsBody: true },
  namespace_definition: { kind: 'module', container: 'module', name: (n) => fieldText(n, 'name') ?? '(anonymous)' },
};

/** The identifier inside a C declarator: `*(*foo)(int)` -> foo, `Foo::bar` -> Foo::bar. */
function declaratorName(node: Node): string | null {
  let current: Node | null = node.childForFieldName('declarator');
  for (let depth = 0; current && depth < 16; depth++) {
    const inner: Node | null =
      current.childForFieldName('declarator') ??
      (current.type.endsWith('declarator') ? children(current).at(-1) ?? null : null);
    if (!inner) break;
    current = inner;
  }
  return current ? clean(current.text) : null;
}

const cSpecial: Special = (node, rules) => {
  switch (node.type) {
    case 'function_definition': {
      const name = declaratorName(node);
      if (!name) return null;
      // Out-of-line member definitions (`void Foo::bar()`) are methods named Foo.bar.
      const qualified = name.includes('::');
      return { kind: qualified ? 'method' : 'function', name: name.replace(/::/g, '.'), body: null, scoped: false };
    }
    case 'type_definition': {
      // `typedef struct { ... } Foo;` is the struct Foo; plain typedefs stay with surrounding code.
      const type = node.childForFieldName('type');
      const body = type?.childForFieldName('body');
      const name = declaratorName(node);
      if (!type || !body || !name) return null;
      const inner = C_TABLE[type.type];
      return { kind: inner?.kind ?? 'type', name, body: inner?.container ? body : null, scoped: true };
    }
    case 'template_declaration': {
      for (const child of children(node)) {
        const found = rules.declaration(child);
        if (found) return found;
      }
      return null;
    }
    default:
      return undefined;
  }
};

const C_TRANSPARENT = [
  'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef',
  'linkage_specification', 'declaration_list',
];

// --- C# ----------------------------------------------------------------------------------------

const CSHARP_TABLE: Record<string, Rule> = {
  class_declaration: { kind: 'class', container: 'class' },
  record_declaration: { kind: 'class', container: 'class' },
  struct_declaration: { kind: 'struct', container: 'class' },
  record_struct_declaration: { kind: 'struct', container: 'class' },
  interface_declaration: { kind: 'interface', container: 'class' },
  enum_declaration: { kind: 'enum' },
  namespace_declaration: { kind: 'module', container: 'module' },
  method_declaration: { kind: 'function' },
  constructor_declaration: { kind: 'function' },
  destructor_declaration: { kind: 'function' },
  local_function_statement: { kind: 'function' },
  delegate_declaration: { kind: 'type' },
};

// --- Ruby --------------------------------------------------------------------------------------

// A comment above a class's first member is a child of the class, not of its body_statement:
// members are read from the class itself, with body_statement transparent.
const RUBY_TABLE: Record<string, Rule> = {
  method: { kind: 'function' },
  singleton_method: { kind: 'function' },
  class: { kind: 'class', container: 'class', members: (n) => n },
  module: { kind: 'module', container: 'module', members: (n) => n },
};

// --- PHP ---------------------------------------------------------------------------------------

const PHP_TABLE: Record<string, Rule> = {
  function_definition: { kind: 'function' },
  method_declaration: { kind: 'function' },
  class_declaration: { kind: 'class', container: 'class' },
  trait_declaration: { kind: 'class', container: 'class' },
  interface_declaration: { kind: 'interface', container: 'class' },
  enum_declaration: { kind: 'enum', container: 'class' },
  namespace_definition: { kind: 'module', container: 'module', needsBody: true },
};

// --- Shell -------------------------------------------------------------------------------------

const SHELL_TABLE: Record<string, Rule> = {
  function_definition: { kind: 'function' },
};

const JS_RULES = makeRules(JS_TABLE, jsSpecial, []);
const C_RULES = makeRules(C_TABLE, cSpecial, C_TRANSPARENT);

const SYNTAX_RULES: Record<string, SyntaxRules> = {
  typescript: JS_RULES,
  tsx: JS_RULES,
  javascript: JS_RULES,
  python: makeRules(PYTHON_TABLE, pythonSpecial, []),
  go: makeRules(GO_TABLE, goSpecial, []),
  java: makeRules(JAVA_TABLE, null, ['enum_body_declarations']),
  rust: makeRules(RUST_TABLE, rustSpecial, []),
  c: C_RULES,
  cpp: C_RULES,
  csharp: makeRules(CSHARP_TABLE, null, []),
  ruby: makeRules(RUBY_TABLE, null, ['singleton_class', 'body_statement']),
  php: makeRules(PHP_TABLE, null, []),
  shellscript: makeRules(SHELL_TABLE, null, []),
};

/** Declaration rules for a language id, undefined when it is not parsed with tree-sitter. */
export function syntaxRules(language: string): SyntaxRules | undefined {
  return SYNTAX_RULES[language];
}
