// The built-in workflows, written in exactly the format a user puts in `.baton/workflows/*.json`
// (a user file with the same id replaces one). Each is checked by the same validator on load.
import type { WorkflowInput } from './schema';

/** A selection or file excerpt as the editor passes it: { path, text, startLine?, endLine?, language? }. */
const selection = { type: 'object', required: true, description: 'The code the command runs on: { path, text, startLine?, endLine?, language? }' } as const;

/**
 * `baton ask`: retrieval puts the likely code in front of the agent, which may search and read
 * more with tools (side effects only with the user's approval) before it answers.
 */
const ask: WorkflowInput = {
  id: 'ask',
  name: 'Ask',
  description: 'Answers a question about the workspace from the code retrieval finds, using tools to look further.',
  state: {
    question: { type: 'string', required: true },
    history: { type: 'array', default: [], description: 'Earlier turns of the conversation, oldest first.' },
    context: { type: 'array' },
    memory: { type: 'array', default: [], description: 'Facts and past answers recalled from long-term memory, as context items.' },
    editor: { type: 'array', default: [], description: 'What the user has selected in the editor, as context items (first in the prompt).' },
    answer: { type: 'string' },
    agent: { type: 'object', description: 'How the agent ended: stopReason, note, steps, toolCalls, usage.' },
  },
  start: 'retrieve',
  nodes: [
    { id: 'retrieve', kind: 'retrieve', query: '{{question}}', k: 8, output: 'context' },
    {
      id: 'answer', kind: 'agent', question: '{{question}}', context: ['editor', 'context', 'memory'], history: 'history', task: 'chat', stream: true,
      output: 'answer', details: 'agent',
      // The prompt builder appends the rule that fenced workspace text is data, not instructions.
      system: [
        'You are Baton, a coding assistant working inside the user\'s workspace.',
        'Answer the question about this codebase precisely and concisely. Use the tools to search and read code when the retrieved context is not enough.',
        'Cite the code you rely on as path:start-end (workspace-relative paths, 1-based lines), e.g. src/app.ts:10-24.',
        'Propose edits or commands only when the user asks for a change; the user must approve them.',
      ].join('\n'),
    },
  ],
  edges: [{ from: 'retrieve', to: 'answer' }],
  outputs: ['answer', 'context', 'agent'],
};

const explain: WorkflowInput = {
  id: 'explain',
  name: 'Explain',
  description: 'Explains the selected code, with related workspace code as background.',
  state: {
    selection,
    question: { type: 'string', default: 'Explain what this code does, how it works, and anything surprising about it.' },
    context: { type: 'array' },
    messages: { type: 'array' },
    answer: { type: 'string' },
  },
  start: 'retrieve',
  nodes: [
    { id: 'retrieve', kind: 'retrieve', query: '{{selection.text}}', k: 5, output: 'context' },
    {
      id: 'prompt', kind: 'prompt', context: ['selection', 'context'], output: 'messages',
      system: 'You are Baton, a coding assistant. Explain code clearly and concisely for a developer who is about to change it.',
      user: '{{question}}\n\nThe code in question is the excerpt of {{selection.path}} in the context above; the other excerpts are related code.',
    },
    { id: 'answer', kind: 'llm', messages: 'messages', task: 'chat', stream: true, output: 'answer' },
  ],
  edges: [{ from: 'retrieve', to: 'prompt' }, { from: 'prompt', to: 'answer' }],
  outputs: ['answer', 'context'],
};

const generate: WorkflowInput = {
  id: 'generate',
  name: 'Generate',
  description: 'Writes new code for a request, in the style of the workspace.',
  state: {
    request: { type: 'string', required: true },
    context: { type: 'array' },
    messages: { type: 'array' },
    answer: { type: 'string' },
    code: { type: 'string' },
  },
  start: 'retrieve',
  nodes: [
    { id: 'retrieve', kind: 'retrieve', query: '{{request}}', k: 6, output: 'context' },
    {
      id: 'prompt', kind: 'prompt', context: 'context', user: '{{request}}', output: 'messages',
      system: 'You are Baton, a coding assistant. Write the code the user asks for, following the conventions of the retrieved ' +
        'workspace code. Reply with the complete code in one fenced code block, then at most three sentences about it.',
    },
    { id: 'answer', kind: 'llm', messages: 'messages', task: 'edit', stream: true, output: 'answer' },
    { id: 'extract', kind: 'code', fn: 'extractCodeBlock', args: { text: '{{answer}}' }, output: 'code' },
  ],
  edges: [{ from: 'retrieve', to: 'prompt' }, { from: 'prompt', to: 'answer' }, { from: 'answer', to: 'extract' }],
  outputs: ['answer', 'code', 'context'],
};

const fix: WorkflowInput = {
  id: 'fix',
  name: 'Fix',
  description: 'Proposes a corrected version of the selected code, as a validated { explanation, code } object.',
  state: {
    selection,
    problem: { type: 'string', default: 'Find and fix the bugs in this code.' },
    diagnostics: { type: 'string', default: '(none reported)', description: 'Compiler or linter messages for the selection.' },
    context: { type: 'array' },
    messages: { type: 'array' },
    fix: { type: 'object', description: 'The codeFix output: explanation, and the corrected selection as code.' },
  },
  start: 'retrieve',
  nodes: [
    { id: 'retrieve', kind: 'retrieve', query: '{{selection.text}}', k: 5, output: 'context' },
    {
      id: 'prompt', kind: 'prompt', context: ['selection', 'context'], output: 'messages',
      system: 'You are Baton, a coding assistant. Fix the selected code with the smallest change that solves the problem. ' +
        'Give the complete corrected selection (it replaces the selection as is) and a brief explanation of the fix.',
      user: 'Fix the excerpt of {{selection.path}} shown first above.\n\nProblem: {{problem}}\n\nDiagnostics:\n{{diagnostics}}',
    },
    // Structured: the surface turns `fix.code` into a diff to review, so it must be exactly the code.
    { id: 'answer', kind: 'llm', messages: 'messages', task: 'edit', schema: 'codeFix', output: 'fix' },
  ],
  edges: [{ from: 'retrieve', to: 'prompt' }, { from: 'prompt', to: 'answer' }],
  outputs: ['fix', 'context'],
};

/** Same shape as `fix` (a codeFix object under `fix`): the surface shows the documented selection
 * as a diff against the original and applies it the same way. */
const document: WorkflowInput = {
  id: 'document',
  name: 'Document',
  description: 'Writes a doc comment or docstring for the selected symbol, as the selection with its documentation added.',
  state: {
    selection,
    style: { type: 'string', default: 'the usual documentation convention of the language (JSDoc/TSDoc, a Python docstring, Javadoc, ...) as the workspace uses it' },
    context: { type: 'array' },
    messages: { type: 'array' },
    fix: { type: 'object', description: 'The codeFix output: explanation, and the selection with its documentation added as code.' },
  },
  start: 'retrieve',
  nodes: [
    // Callers and neighbours tell the model what the symbol is for, beyond its own body.
    { id: 'retrieve', kind: 'retrieve', query: '{{selection.text}}', k: 4, output: 'context' },
    {
      id: 'prompt', kind: 'prompt', context: ['selection', 'context'], output: 'messages',
      system: 'You are Baton, a coding assistant. Document the selected symbol: what it does, its parameters, its return value and ' +
        'the errors it raises, briefly and accurately. Add or replace only the documentation (a doc comment above the symbol, or a ' +
        'docstring inside it where the language puts it there); change no code. Give the complete selection with the documentation ' +
        '(it replaces the selection as is) and a one-sentence explanation.',
      user: 'Document the symbol in the excerpt of {{selection.path}} shown first above, following {{style}}.',
    },
    { id: 'answer', kind: 'llm', messages: 'messages', task: 'edit', schema: 'codeFix', output: 'fix' },
  ],
  edges: [{ from: 'retrieve', to: 'prompt' }, { from: 'prompt', to: 'answer' }],
  outputs: ['fix', 'context'],
};

/** Existing tests and related code are looked up in parallel; the prompt joins both. */
const tests: WorkflowInput = {
  id: 'tests',
  name: 'Generate tests',
  description: 'Writes unit tests for the selected code, following the workspace\'s existing tests.',
  state: {
    selection,
    framework: { type: 'string', default: 'the test framework the workspace already uses' },
    name: { type: 'string' },
    existingTests: { type: 'array' },
    related: { type: 'array' },
    messages: { type: 'array' },
    answer: { type: 'string' },
    code: { type: 'string' },
  },
  start: 'name',
  nodes: [
    { id: 'name', kind: 'code', fn: 'baseName', args: { path: '{{selection.path}}' }, output: 'name' },
    { id: 'existingTests', kind: 'retrieve', query: '{{name}} test describe it expect assert', k: 4, output: 'existingTests' },
    { id: 'related', kind: 'retrieve', query: '{{selection.text}}', k: 4, output: 'related' },
    {
      id: 'prompt', kind: 'prompt', context: ['selection', 'existingTests', 'related'], output: 'messages',
      system: 'You are Baton, a coding assistant. Write focused unit tests that check behaviour, including edge cases and ' +
        'failures, in the style of the existing tests shown. Reply with one fenced code block holding the test file, then a short note.',
      user: 'Write tests for the excerpt of {{selection.path}} shown first above, using {{framework}}.',
    },
    { id: 'answer', kind: 'llm', messages: 'messages', task: 'edit', stream: true, output: 'answer' },
    { id: 'extract', kind: 'code', fn: 'extractCodeBlock', args: { text: '{{answer}}' }, output: 'code' },
  ],
  edges: [
    { from: 'name', to: ['existingTests', 'related'] },
    { from: 'existingTests', to: 'prompt' },
    { from: 'related', to: 'prompt' },
    { from: 'prompt', to: 'answer' },
    { from: 'answer', to: 'extract' },
  ],
  outputs: ['answer', 'code'],
};

/** The built-in definitions, unvalidated (the loader parses them like any file). */
export const BUILTIN_WORKFLOWS: readonly WorkflowInput[] = [ask, explain, generate, fix, tests, document];
