import { readFileSync, readlinkSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { sep } from 'node:path';

/*
 * Small, dependency-free helpers for the processes helm runs in: whether a
 * pid still runs, killing a process group, and who owns a run directory.
 * Linux answers through /proc; elsewhere signal 0 is the fallback.
 */

/** The fields of /proc/<pid>/stat after the command, or undefined when there is no such process. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command may contain spaces and parentheses; the fields after the last ')' are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const hasProc = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/**
 * Whether a process runs. A zombie (exited, not yet reaped: its parent died
 * and nobody reaps orphans, as when node is pid 1 in a container) counts as
 * gone: it holds no memory and writes nothing.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) {
    return false;
  }
  if (hasProc) {
    const state = statFields(pid)?.[0];
    return state !== undefined && state !== 'Z' && state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends a signal to a whole process group (helm leads its own); false when there was none. */
export function killProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 1) {
    return false;
  }
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true once none of the processes runs, false when they still do after `timeoutMs`. */
export async function waitUntilGone(
  pids: number[],
  timeoutMs: number,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (!pids.some(isProcessAlive)) {
      return true;
    }
    if (Date.now() >= until) {
      return false;
    }
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

/** The inode of a process's pid namespace: pids mean something only within one. */
function pidNamespace(pid: number | 'self'): string | undefined {
  try {
    return /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/pid`))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * A process as `<pid>.<start time>.<pid namespace>` (Linux; elsewhere the
 * pid alone): the start time tells it from a later process that got the
 * same pid, the namespace from a process of another container sharing the
 * directory.
 */
export function processTag(pid: number = process.pid): string | undefined {
  if (!hasProc) {
    return isProcessAlive(pid) ? `${pid}` : undefined;
  }
  // Field 22 of stat is the start time; index 19 after the command.
  const started = statFields(pid)?.[19];
  const namespace = pidNamespace(pid);
  return started === undefined || namespace === undefined
    ? undefined
    : `${pid}.${started}.${namespace}`;
}

/**
 * Whether the process a {@link processTag} names has certainly ended; false
 * while it runs, and for a process of another pid namespace, which this
 * process cannot see.
 */
export function isTaggedProcessGone(tag: string): boolean {
  const [pidText, started, namespace] = tag.split('.');
  const pid = Number(pidText);
  if (namespace !== undefined && namespace !== pidNamespace('self')) {
    return false;
  }
  if (!isProcessAlive(pid)) {
    return true;
  }
  return hasProc && started !== undefined && statFields(pid)?.[19] !== started;
}

/**
 * SIGKILLs every process of this user whose working directory is `dir` or
 * below it (helm runs in its run directory), with its process group.
 * Linux only; elsewhere nothing is found. Returns the pids killed.
 */
export async function killProcessesWorkingIn(dir: string): Promise<number[]> {
  if (!hasProc) {
    return [];
  }
  const killed: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) {
      continue;
    }
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== undefined && (cwd === dir || cwd.startsWith(dir + sep))) {
      killProcessGroup(pid, 'SIGKILL');
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
      killed.push(pid);
    }
  }
  return killed;
}
