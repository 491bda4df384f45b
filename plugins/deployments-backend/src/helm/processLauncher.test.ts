import { readFileSync } from 'node:fs';
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

  it('closes what was running when the launcher dies, and starts a new one on the next use', async () => {
    const sleeper = shell('exec sleep 30');
    const sleeperPid = await started(sleeper);
    const launcherPid = parentOf(sleeperPid);
    const outcome = finished(sleeper);
    process.kill(launcherPid, 'SIGKILL');
    expect(await outcome).toMatchObject({ code: null, signal: 'SIGKILL' });
    process.kill(sleeperPid, 'SIGTERM');

    const next = shell('echo again');
    expect(await finished(next)).toMatchObject({ code: 0, stdout: 'again\n' });
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
