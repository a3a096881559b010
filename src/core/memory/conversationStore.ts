// Conversations on disk: `<ws>/.baton/conversations/<id>.json`, one whole-file JSON document each,
// plus `index.json` listing id/title/updatedAt for the history list.
//
// Writes are atomic (writeFileAtomic), so a reader or a restarted process sees a whole old or a
// whole new file, never a torn one. Two writers (CLI and editor) saving the same conversation:
// last writer wins for that file. The index is only a cache: list() reconciles it with the
// directory (a file newer than its entry, or missing from it, is read again), so an index entry
// lost to a concurrent writer heals on the next list.
//
// Bounded: at most `maxConversations` are kept (the least recently updated are pruned on save;
// unreadable files are never pruned, so nothing is deleted that could not be read), and each
// file stays under `maxFileBytes` (long tool outputs are cut on save with a marker, then other
// long texts, then the oldest turns).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ensureBatonDir, isTempFile, writeFileAtomic } from '../../base/node/atomicFile';
import { Conversation, validateConversationData, type ConversationData, type ConversationOptions, type Turn } from './conversation';
import { redactValue } from '../security/secrets';
import { errorMessage, errorCode } from '../../base/common/errors';

export const CONVERSATIONS_DIR = 'conversations';
const INDEX_FILE = 'index.json';
const INDEX_VERSION = 1;
/** Conversation ids become file names: nothing that could climb out of the folder. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
/** Marker appended to text cut on save. */
export const TRUNCATION_MARKER = '[… truncated by Baton on save:';
/** No text is cut below this many characters before the oldest turns are dropped instead. */
const MIN_TEXT_CHARS = 200;

export interface ConversationInfo {
  id: string;
  title: string;
  updatedAt: string;
  turns: number;
  /** Set when the file cannot be read: that conversation cannot be opened, the others can. */
  error?: string;
}

export interface ConversationStoreOptions extends ConversationOptions {
  /** Default 200. */
  maxConversations?: number;
  /** Default 2 MiB. */
  maxFileBytes?: number;
  /** A tool result longer than this is cut on save. Default 20,000 characters. */
  maxToolOutputChars?: number;
}

export class ConversationNotFoundError extends Error {
  override name = 'ConversationNotFoundError';
  constructor(readonly id: string) {
    super(`no conversation ${id}`);
  }
}

export class ConversationCorruptError extends Error {
  override name = 'ConversationCorruptError';
  constructor(readonly id: string, readonly file: string, reason: string) {
    super(`conversation ${id} cannot be read (${file}): ${reason}; delete or restore that file (other conversations are unaffected)`);
  }
}

interface IndexEntry extends ConversationInfo {
  /** mtime of the file when this entry was made: a newer file was written by someone else. */
  mtimeMs: number;
}

export class ConversationStore {
  readonly dir: string;
  private readonly batonDir: string;
  private readonly maxConversations: number;
  private readonly maxFileBytes: number;
  private readonly maxToolOutputChars: number;
  /** Index updates in this process run one at a time. */
  private indexQueue: Promise<unknown> = Promise.resolve();

  constructor(workspaceRoot: string, private readonly opts: ConversationStoreOptions = {}) {
    this.batonDir = path.join(workspaceRoot, '.baton');
    this.dir = path.join(this.batonDir, CONVERSATIONS_DIR);
    this.maxConversations = Math.max(1, opts.maxConversations ?? 200);
    this.maxFileBytes = opts.maxFileBytes ?? 2 * 1024 * 1024;
    this.maxToolOutputChars = opts.maxToolOutputChars ?? 20_000;
  }

  /** A new, empty conversation (written on its first save). */
  create(): Conversation {
    return new Conversation(undefined, this.opts);
  }

  fileOf(id: string): string {
    if (!ID_PATTERN.test(id)) throw new Error(`invalid conversation id ${JSON.stringify(id)}`);
    return path.join(this.dir, `${id}.json`);
  }

  async open(id: string): Promise<Conversation> {
    return new Conversation(await this.read(id), this.opts);
  }

  /** Writes the conversation (bounded in size), updates the index and prunes the oldest. */
  async save(conversation: Conversation): Promise<void> {
    const file = this.fileOf(conversation.id);
    await ensureBatonDir(this.batonDir);
    await fsp.mkdir(this.dir, { recursive: true });
    // On disk a conversation holds no secret: not one the user typed, nor one a model quoted back.
    const d = await redactValue(conversation.data);
    await writeFileAtomic(file, this.serialize(d));
    const mtimeMs = (await fsp.stat(file)).mtimeMs;
    await this.updateIndex(async (entries) => {
      const rest = entries.filter((e) => e.id !== d.id);
      rest.push({ id: d.id, title: d.title, updatedAt: d.updatedAt, turns: d.turns.length, mtimeMs });
      return this.prune(rest, d.id);
    });
  }

  async delete(id: string): Promise<void> {
    await fsp.rm(this.fileOf(id), { force: true });
    await this.updateIndex(async (entries) => entries.filter((e) => e.id !== id));
  }

  /** Every conversation, most recently updated first; unreadable ones carry `error`. */
  async list(): Promise<ConversationInfo[]> {
    const entries = await this.updateIndex(async (e) => e);
    return entries
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .map(({ mtimeMs: _mtime, ...info }) => info);
  }

  private async read(id: string): Promise<ConversationData> {
    const file = this.fileOf(id);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') throw new ConversationNotFoundError(id);
      throw err;
    }
    let data: ConversationData;
    try {
      data = validateConversationData(JSON.parse(text));
    } catch (err) {
      throw new ConversationCorruptError(id, file, errorMessage(err));
    }
    if (data.id !== id) throw new ConversationCorruptError(id, file, `it holds conversation ${JSON.stringify(data.id)}`);
    return data;
  }

  /** Reads the index, reconciles it with the directory, applies `change`, and rewrites it when
   * anything differs. Returns the resulting entries. */
  private updateIndex(change: (entries: IndexEntry[]) => Promise<IndexEntry[]>): Promise<IndexEntry[]> {
    const run = this.indexQueue.then(async () => {
      const before = await this.readIndex();
      const reconciled = await this.reconcile(before);
      const after = await change(reconciled);
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        await fsp.mkdir(this.dir, { recursive: true });
        await writeFileAtomic(path.join(this.dir, INDEX_FILE), JSON.stringify({ version: INDEX_VERSION, conversations: after }, null, 1));
      }
      return after;
    });
    this.indexQueue = run.catch(() => undefined);
    return run;
  }

  private async readIndex(): Promise<IndexEntry[]> {
    try {
      const parsed = JSON.parse(await fsp.readFile(path.join(this.dir, INDEX_FILE), 'utf8')) as { version?: unknown; conversations?: unknown };
      if (parsed.version !== INDEX_VERSION || !Array.isArray(parsed.conversations)) return [];
      return parsed.conversations.filter((e: Partial<IndexEntry>) =>
        typeof e?.id === 'string' && ID_PATTERN.test(e.id) && typeof e.title === 'string' &&
        typeof e.updatedAt === 'string' && typeof e.mtimeMs === 'number' && typeof e.turns === 'number') as IndexEntry[];
    } catch {
      return []; // missing or damaged: the directory scan rebuilds it
    }
  }

  /** The directory is the truth: drop entries without a file, (re)read files the index does not
   * describe as they are now. */
  private async reconcile(entries: IndexEntry[]): Promise<IndexEntry[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    const known = new Map(entries.map((e) => [e.id, e]));
    const out: IndexEntry[] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || name === INDEX_FILE || isTempFile(name)) continue;
      const id = name.slice(0, -'.json'.length);
      if (!ID_PATTERN.test(id)) continue;
      let mtimeMs: number;
      try {
        mtimeMs = (await fsp.stat(path.join(this.dir, name))).mtimeMs;
      } catch {
        continue; // deleted meanwhile
      }
      const entry = known.get(id);
      if (entry && entry.mtimeMs === mtimeMs) {
        out.push(entry);
        continue;
      }
      try {
        const d = await this.read(id);
        out.push({ id, title: d.title, updatedAt: d.updatedAt, turns: d.turns.length, mtimeMs });
      } catch (err) {
        if (err instanceof ConversationNotFoundError) continue;
        out.push({ id, title: entry?.title ?? '', updatedAt: entry?.updatedAt ?? new Date(mtimeMs).toISOString(), turns: entry?.turns ?? 0, mtimeMs, error: errorMessage(err) });
      }
    }
    return out;
  }

  /** Keeps the newest readable conversations (and `keep`); deletes the files of the rest. */
  private async prune(entries: IndexEntry[], keep: string): Promise<IndexEntry[]> {
    const readable = entries.filter((e) => !e.error).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    const excess = readable.length - this.maxConversations;
    if (excess <= 0) return entries;
    const doomed = new Set(readable.filter((e) => e.id !== keep).slice(-excess).map((e) => e.id));
    for (const id of doomed) await fsp.rm(this.fileOf(id), { force: true });
    return entries.filter((e) => !doomed.has(e.id));
  }

  /** JSON of the conversation within maxFileBytes; the conversation in memory is left whole. */
  private serialize(data: ConversationData): string {
    const capped = (cap: number): Turn[] => data.turns.map((t) => capTurn(t, t.role === 'tool' ? Math.min(cap, this.maxToolOutputChars) : cap));
    let copy: ConversationData = { ...data, turns: capped(Infinity) };
    let text = JSON.stringify(copy);
    // Halve the cap on every text until the file fits or the floor is reached.
    for (let cap = Math.min(this.maxToolOutputChars, longestText(data.turns)); Buffer.byteLength(text) > this.maxFileBytes && cap > MIN_TEXT_CHARS;) {
      cap = Math.max(MIN_TEXT_CHARS, Math.floor(cap / 2));
      copy = { ...data, turns: capped(cap) };
      text = JSON.stringify(copy);
    }
    // Still too big (a very long conversation): drop the oldest turns, keeping the summary aligned.
    while (Buffer.byteLength(text) > this.maxFileBytes && copy.turns.length > 1) {
      const drop = Math.max(1, Math.ceil(copy.turns.length / 10));
      const summary = copy.summary ? { ...copy.summary, coveredTurns: Math.max(0, copy.summary.coveredTurns - drop) } : undefined;
      const lost = copy.summary ? Math.max(0, drop - copy.summary.coveredTurns) : drop; // dropped without being summarised
      copy = { ...copy, turns: copy.turns.slice(drop), omittedTurns: (copy.omittedTurns ?? 0) + lost };
      if (summary) copy.summary = summary;
      text = JSON.stringify(copy);
    }
    return text;
  }
}

function capTurn(turn: Turn, maxChars: number): Turn {
  if (turn.content.length <= maxChars) return turn;
  const cut = turn.content.length - maxChars;
  return { ...turn, content: `${turn.content.slice(0, maxChars)}\n${TRUNCATION_MARKER} ${cut} more characters]` };
}

function longestText(turns: Turn[]): number {
  return turns.reduce((m, t) => Math.max(m, t.content.length), 0);
}
