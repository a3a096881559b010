// The chat webview's entry point: wires the static page (chatHtml.ts) to the state reducer and the
// renderer. Every message from the extension is validated (parseToWebview) before it touches state;
// every message to it is one of the typed FromWebview shapes.
import './zodConfig'; // before anything that builds a zod schema
import { MAX_QUESTION_CHARS, parseToWebview, type FromWebview } from '../protocol';
import { isValidCitation } from '../base/common/citations';
import { MessageList } from './render';
import { initialState, reduce, restoreState, streamingId, type ChatState } from './state';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (message: FromWebview): void => vscode.postMessage(message);

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`chat page is missing #${id}`);
  return el as T;
}

const ui = {
  log: byId<HTMLElement>('baton-messages'),
  input: byId<HTMLTextAreaElement>('baton-input'),
  send: byId<HTMLButtonElement>('baton-send'),
  stop: byId<HTMLButtonElement>('baton-stop'),
  model: byId<HTMLSelectElement>('baton-model'),
  history: byId<HTMLSelectElement>('baton-history'),
  newChat: byId<HTMLButtonElement>('baton-new'),
  status: byId<HTMLElement>('baton-status'),
  context: byId<HTMLElement>('baton-context'),
  contextLabel: byId<HTMLElement>('baton-context-label'),
  contextDrop: byId<HTMLButtonElement>('baton-context-drop'),
};

let state: ChatState = restoreState(vscode.getState()) ?? initialState();
const list = new MessageList(ui.log);

// ----- rendering, batched into one animation frame however many deltas arrive -----

const changed = new Set<string>();
let replaceAll = true;
let frame = 0;

function schedule(): void {
  if (frame === 0) frame = requestAnimationFrame(flush);
}

function nearBottom(): boolean {
  return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
}

/** Rebuilds a select's options only when they changed, so an open dropdown is not disturbed. */
function setOptions(select: HTMLSelectElement, options: ReadonlyArray<[value: string, label: string]>, selected: string): void {
  const key = JSON.stringify(options);
  if (select.dataset.options !== key) {
    select.dataset.options = key;
    select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  }
  select.value = selected;
}

function renderChrome(): void {
  const streaming = streamingId(state) !== null;
  ui.stop.hidden = !streaming;
  ui.send.hidden = streaming;
  ui.status.textContent = state.status;
  const { current, available } = state.models;
  const models = current && !available.includes(current) ? [current, ...available] : available;
  setOptions(ui.model, models.length ? models.map((m) => [m, m]) : [['', 'No model']], current ?? models[0] ?? '');
  ui.model.disabled = models.length === 0;
  setOptions(ui.history, [['', 'History…'], ...state.history.map((h): [string, string] => [h.id, h.title || h.id])], '');
  ui.history.disabled = state.history.length === 0;
  ui.context.hidden = state.context === null;
  ui.contextLabel.textContent = state.context?.label ?? '';
  ui.context.title = state.context?.title ?? '';
}

function flush(): void {
  frame = 0;
  const stick = replaceAll || nearBottom();
  if (replaceAll) list.reset(state.messages);
  else list.update(state.messages, changed);
  replaceAll = false;
  changed.clear();
  renderChrome();
  if (stick) ui.log.scrollTop = ui.log.scrollHeight;
  persist();
}

// vscode.setState lets a re-shown view restore instantly. It serialises the whole conversation, so
// while an answer streams it runs at most every PERSIST_MS rather than on every frame.
const PERSIST_MS = 500;
let persistTimer: ReturnType<typeof setTimeout> | undefined;

function persist(): void {
  if (streamingId(state) === null) {
    clearTimeout(persistTimer);
    persistTimer = undefined;
    vscode.setState(state);
  } else {
    persistTimer ??= setTimeout(() => {
      persistTimer = undefined;
      vscode.setState(state);
    }, PERSIST_MS);
  }
}

window.addEventListener('message', (event: MessageEvent) => {
  const message = parseToWebview(event.data);
  if (!message) {
    console.warn('Baton chat: ignored an invalid message');
    return;
  }
  state = reduce(state, message);
  if (message.type === 'conversation') replaceAll = true;
  else if ('id' in message) changed.add(message.id);
  schedule();
});

// ----- user input -----

function send(): void {
  const question = ui.input.value.trim();
  if (!question || streamingId(state) !== null) return;
  if (question.length > MAX_QUESTION_CHARS) {
    ui.status.textContent = `The question is too long (over ${MAX_QUESTION_CHARS} characters).`;
    return;
  }
  post(ui.model.value ? { type: 'ask', question, model: ui.model.value } : { type: 'ask', question });
  ui.input.value = '';
}

ui.input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
ui.send.addEventListener('click', send);
ui.stop.addEventListener('click', () => post({ type: 'stop' }));
ui.newChat.addEventListener('click', () => post({ type: 'newConversation' }));
ui.contextDrop.addEventListener('click', () => post({ type: 'dropContext' }));
ui.model.addEventListener('change', () => {
  if (ui.model.value) post({ type: 'pickModel', model: ui.model.value });
});
ui.history.addEventListener('change', () => {
  const id = ui.history.value;
  ui.history.value = '';
  if (/^[\w-]{1,100}$/.test(id)) post({ type: 'openConversation', id });
});

const COPIED_MS = 1500;

/** The Copy button says "Copied" for a moment, so the click visibly did something. */
function confirmCopied(button: HTMLButtonElement): void {
  const label = button.textContent;
  button.textContent = 'Copied';
  button.disabled = true;
  setTimeout(() => {
    button.textContent = label;
    button.disabled = false;
  }, COPIED_MS);
}

// Citation chips and code-block buttons are rendered as markup, so their clicks are delegated.
ui.log.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest('button');
  if (!button || !ui.log.contains(button)) return;
  if (button.classList.contains('baton-citation')) {
    const citation = { path: button.dataset.path ?? '', startLine: Number(button.dataset.start), endLine: Number(button.dataset.end) };
    if (isValidCitation(citation)) post({ type: 'openCitation', citation });
    return;
  }
  const block = button.closest<HTMLElement>('.baton-code');
  const text = block?.querySelector('code')?.textContent;
  if (text == null) return;
  const language = block?.dataset.lang || undefined;
  switch (button.dataset.action) {
    case 'copy':
      post({ type: 'copy', text });
      return confirmCopied(button);
    case 'insert': return post({ type: 'insert', text });
    case 'apply': return post(language ? { type: 'apply', text, language } : { type: 'apply', text });
  }
});

flush();
post({ type: 'ready' });
