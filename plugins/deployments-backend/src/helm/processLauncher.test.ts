import { readFileSync } from 'node:fs';
import { isProcessAlive } from './processGroups';
import { LaunchedProcess, launchProcess } from './processLauncher';

jest.setTimeout(30_000);

const shell = (script: string) =>
  launchProcess({
    binary: '/bin/sh',
    args: ['-c', script],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: '/',
  });

function finished(
  launched: LaunchedProcess,
): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  let stdout = '';
  launched.on('stdout', chunk => {
    stdout += chunk.toString();
  });
  return new Promise(resolve =>
    launched.on('close', (code, signal) => resolve({ code, signal, stdout })),
  );
}

const started = (launched: LaunchedProcess) =>
  new Promise<number>(resolve =>
    launched.on('spawn', () => resolve(launched.pid!)),
  );

/** The parent of a process, from /proc. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command may contain spaces; the fields after its ')' are fixed.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The process group of a process, from /proc. */
function processGroupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

describe('launchProcess', () => {
  it('starts processes from a launcher, not from the backend process', async () => {
    const launched = shell('echo "$PPID"; exit 3');
    const { code, stdout } = await finished(launched);
    expect(code).toBe(3);
    const parent = Number(stdout.trim());
    expect(parent).not.toBe(process.pid);
    // The launcher itself is ours.
    expect(parentOf(parent)).toBe(process.pid);
  });

  it('kills what was running when the launcher dies, reports it ended only then, and starts a new launcher on the next use', async () => {
    // A child of the program too: the whole process group must go.
    const sleeper = shell('sleep 60 & echo "$!"; wait');
    let grandchild: number | undefined;
    sleeper.on('stdout', chunk => {
      grandchild ??= Number(chunk.toString().trim());
    });
    const sleeperPid = await started(sleeper);
    await waitFor(() => grandchild !== undefined);
    const launcherPid = parentOf(sleeperPid);
    const outcome = finished(sleeper);
    // Only the launcher: the test's (the backend's) process lives on.
    process.kill(launcherPid, 'SIGKILL');
    expect(await outcome).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(isProcessAlive(sleeperPid)).toBe(false);
    await waitFor(() => !isProcessAlive(grandchild!));

    const next = shell('echo again');
    expect(await finished(next)).toMatchObject({ code: 0, stdout: 'again\n' });
  });

  it('runs each program as the leader of its own process group, killed with the group on SIGKILL', async () => {
    const launched = shell('sleep 60 & echo "$!"; wait');
    let grandchild: number | undefined;
    launched.on('stdout', chunk => {
      grandchild ??= Number(chunk.toString().trim());
    });
    const pid = await started(launched);
    await waitFor(() => grandchild !== undefined);
    expect(processGroupOf(pid)).toBe(pid);
    expect(processGroupOf(grandchild!)).toBe(pid);
    // Not the launcher's group, nor the backend's.
    expect(processGroupOf(parentOf(pid))).not.toBe(processGroupOf(process.pid));
    const outcome = finished(launched);
    launched.kill('SIGKILL');
    expect(await outcome).toMatchObject({ signal: 'SIGKILL' });
    await waitFor(() => !isProcessAlive(grandchild!));
  });

  it('reports a program that cannot be started', async () => {
    const launched = launchProcess({
      binary: '/nonexistent/helm',
      args: [],
      env: {},
      cwd: '/',
    });
    const error = await new Promise<Error & { code?: string }>(resolve =>
      launched.on('error', resolve),
    );
    expect(error.code).toBe('ENOENT');
    expect(launched.running).toBe(false);
  });
});
