// When a process started, as a string that differs between two processes that were given the same
// pid: a lock file naming a pid is only trusted while that pid still belongs to the process that
// wrote it (pids are recycled, and a long-lived unrelated process may hold an old owner's pid).
// Linux: boot id + start time in clock ticks from /proc; macOS and other Unixes: `ps -o lstart=`;
// elsewhere (Windows) unknown, and the lock falls back to its heartbeat.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let bootId: string | undefined;

function linuxStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  // Field 22, starttime, is the 20th after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  if (!start || !/^\d+$/.test(start)) return null;
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = '';
    }
  }
  return `${bootId}:${start}`;
}

function psStartTime(pid: number): string | null {
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim() || null;
  } catch {
    return null;
  }
}

/** The start identity of `pid`, or null when it cannot be found out (no such process, or no way
 * to ask on this platform). Two calls for the same living process give the same string. */
export function processStartTime(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (process.platform === 'linux') return linuxStartTime(pid);
  if (process.platform === 'win32') return null;
  return psStartTime(pid);
}

let own: string | null | undefined;

/** This process's start identity (computed once). */
export function ownStartTime(): string | null {
  if (own === undefined) own = processStartTime(process.pid);
  return own;
}
