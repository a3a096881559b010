// The trace view's model: finished orchestrations newest first, capped, and how each run and event
// reads as a tree node and as output-channel lines. Pure, so it is unit-tested without VS Code.
import type { TraceEventDto } from '../../protocol';

export interface TraceRun {
  runId: string;
  title: string;
  startedAt: string;
  events: TraceEventDto[];
}

/** Where the finished runs are kept between reloads (the workspace's state in VS Code). */
export interface TraceKeeper {
  load(): unknown;
  save(runs: readonly TraceRun[]): void;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isEvent(v: unknown): v is TraceEventDto {
  return isRecord(v) && typeof v.kind === 'string' && typeof v.at === 'number'
    && (v.name === undefined || typeof v.name === 'string') && (v.data === undefined || isRecord(v.data));
}

/** Runs saved by an earlier session, as far as they still have the shape of a run. */
export function restoredRuns(saved: unknown): TraceRun[] {
  if (!Array.isArray(saved)) return [];
  return saved.filter((r): r is TraceRun => isRecord(r) && typeof r.runId === 'string' && typeof r.title === 'string'
    && typeof r.startedAt === 'string' && Array.isArray(r.events) && r.events.every(isEvent));
}

export class TraceStore {
  private runs: TraceRun[];
  private readonly listeners = new Set<() => void>();

  constructor(private max: number, private readonly keeper?: TraceKeeper) {
    this.runs = restoredRuns(keeper?.load()).slice(0, max);
  }

  add(run: TraceRun): void {
    this.runs = [run, ...this.runs].slice(0, this.max);
    this.changed();
  }

  setMax(max: number): void {
    this.max = Math.max(1, Math.floor(max));
    if (this.runs.length > this.max) {
      this.runs = this.runs.slice(0, this.max);
      this.changed();
    }
  }

  /** Newest first. */
  list(): readonly TraceRun[] {
    return this.runs;
  }

  onChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    this.keeper?.save(this.runs);
    for (const listener of this.listeners) listener();
  }
}

/** Events are stamped in ms since the run started, so the last one bounds the run. */
export function totalMs(run: TraceRun): number {
  return run.events.reduce((max, e) => Math.max(max, e.at), 0);
}

function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The run's start in the user's locale and time zone, for tooltips. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function runDescription(run: TraceRun): string {
  return `${clock(run.startedAt)} · ${totalMs(run)} ms`;
}

export function eventLabel(e: TraceEventDto): string {
  return e.name ? `${e.kind} ${e.name}` : e.kind;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The few data fields worth a glance: latency, tokens, retries, status, outcome, errors. */
export function eventDetails(e: TraceEventDto): string[] {
  const d = e.data ?? {};
  const parts: string[] = [];
  const latency = num(d.latencyMs) ?? num(d.ms);
  if (latency !== undefined) parts.push(`${latency} ms`);
  const tokensIn = num(d.promptTokens);
  const tokensOut = num(d.completionTokens);
  if (tokensIn !== undefined || tokensOut !== undefined) parts.push(`tokens ${tokensIn ?? '?'}→${tokensOut ?? '?'}`);
  const attempts = num(d.attempts) ?? num(d.attempt);
  if (attempts !== undefined && attempts > 1) parts.push(`retries ${attempts - 1}`);
  const delayMs = num(d.delayMs);
  if (delayMs !== undefined) parts.push(`wait ${delayMs} ms`);
  const results = num(d.results);
  if (results !== undefined) parts.push(`${results} results`);
  const status = str(d.status) ?? str(d.outcome) ?? (num(d.status) !== undefined ? String(d.status) : undefined);
  if (status) parts.push(status);
  const problem = str(d.error) ?? str(d.message) ?? str(d.reason);
  if (problem) parts.push(problem.length > 120 ? `${problem.slice(0, 119)}…` : problem);
  return parts;
}

export function eventDescription(e: TraceEventDto): string {
  return [`+${e.at} ms`, ...eventDetails(e)].join(' · ');
}

/** The run as readable log lines: a header, then one indented line per event. */
export function traceLines(run: TraceRun): string[] {
  return [
    `${run.title} (${run.runId}) started ${run.startedAt}, ${totalMs(run)} ms, ${run.events.length} events`,
    ...run.events.map((e) => [`  +${e.at} ms`, eventLabel(e), ...eventDetails(e)].join('  ')),
  ];
}
