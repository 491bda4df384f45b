/*
 * helm must not outlive what runs it, and what it was given must not
 * outlive a crash. A HelmRunner in a child process starts a real `helm
 * upgrade --install --wait` against the local stack whose pods never become
 * ready (helm would wait for minutes); the test then SIGKILLs only the
 * launcher, or only the process that owns it, never a process group.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import {
  HelmRunnerProcess,
  spawnHelmRunnerProcess,
} from '../__testUtils__/helmRunnerProcess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { HelmRunner } from './HelmRunner';
import { isProcessAlive } from './processGroups';

jest.setTimeout(300_000);

const stack = requireLocalStack();
const suffix = randomBytes(3).toString('hex');
const CHARTS = resolve(__dirname, '../../../../examples/charts');
const scratch = mkdtempSync(join(tmpdir(), 'kd-helm-crash-'));
const releases: string[] = [];
const children: HelmRunnerProcess[] = [];
let chart: { path: string; digest: string };

beforeAll(async () => {
  const out = mkdtempSync(join(scratch, 'pkg-'));
  await runHelm(['package', join(CHARTS, 'broken'), '--destination', out]);
  const [file] = readdirSync(out);
  const path = join(out, file);
  chart = {
    path,
    digest: `sha256:${createHash('sha256')
      .update(readFileSync(path))
      .digest('hex')}`,
  };
});

afterAll(async () => {
  for (const child of children) {
    child.child.kill('SIGKILL');
  }
  for (const release of releases) {
    await runHelm(
      ['uninstall', release, '-n', 'team-a', '--ignore-not-found'],
      { kubeconfig: stack.adminKubeconfigPath },
    ).catch(() => undefined);
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** The processes of this user working in a directory under `root`, by pid. */
function processesWorkingIn(root: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(root + sep)) {
        found.set(pid, readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      }
    } catch {
      // Gone, or not ours.
    }
  }
  return found;
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

async function gone(pids: number[], timeoutMs: number): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isProcessAlive);
    if (alive.length === 0 || Date.now() > until) return alive;
    await new Promise(r => setTimeout(r, 50));
  }
}

/** Starts a long helm run in a child process; resolves once helm waits, with its pid. */
async function startLongRun(waitFor: 'resources' | 'post-renderer'): Promise<{
  runner: HelmRunnerProcess;
  workRoot: string;
  helmPid: number;
}> {
  const workRoot = mkdtempSync(join(scratch, 'runs-'));
  const releaseName = `t-orphan-${suffix}-${releases.length}`;
  releases.push(releaseName);
  const runner = spawnHelmRunnerProcess({
    workRoot,
    chartPath: chart.path,
    digest: chart.digest,
    releaseName,
    namespace: 'team-a',
    values: { replicaCount: 1 },
    waitFor,
  });
  children.push(runner);
  await runner.line('waiting');
  const helm = [...processesWorkingIn(workRoot)].filter(
    ([, comm]) => comm === 'helm',
  );
  expect(helm).toHaveLength(1);
  return { runner, workRoot, helmPid: helm[0][0] };
}

describe('a helm run whose parent dies', () => {
  it('ends with its launcher: SIGKILL to the launcher alone', async () => {
    // helm waits silently for its post-renderer, so no write to a closed pipe ends it either.
    const { runner, workRoot, helmPid } = await startLongRun('post-renderer');
    const launcherPid = parentOf(helmPid);
    expect(parentOf(launcherPid)).toBe(runner.pid);

    process.kill(launcherPid, 'SIGKILL');
    expect(await gone([helmPid], 10_000)).toEqual([]);
    // The run is reported ended only after helm is gone, and its directory is removed.
    expect(await runner.line('ended', 30_000)).toMatch(
      /^ended HelmCommandError: .*/,
    );
    expect(processesWorkingIn(workRoot).size).toBe(0);
    expect(readdirSync(workRoot)).toEqual([]);
    runner.child.kill('SIGKILL');
    await runner.exited;
  });

  it('ends with the process that owns the launcher, and the next start-up removes what it was given', async () => {
    // Waiting for the pods, not the post-renderer: that relay would fail with the runner's socket.
    const { runner, workRoot, helmPid } = await startLongRun('resources');
    const launcherPid = parentOf(helmPid);
    const [left] = readdirSync(workRoot);
    expect(readdirSync(join(workRoot, left))).toEqual(
      expect.arrayContaining(['kubeconfig', 'values.json', 'chart.tgz']),
    );

    // Only the runner's process: its launcher and helm get no signal from the test.
    process.kill(runner.pid, 'SIGKILL');
    await runner.exited;
    expect(await gone([helmPid, launcherPid], 10_000)).toEqual([]);
    expect(processesWorkingIn(workRoot).size).toBe(0);

    // The crash left the decrypted kubeconfig behind; the next runner removes it.
    expect(readdirSync(workRoot)).toEqual([left]);
    await HelmRunner.create({
      logger: mockServices.logger.mock(),
      workRoot,
    });
    expect(readdirSync(workRoot)).toEqual([]);
  });
});
