/*
 * What a replica allows helm: how many at a time (the rest queue and say
 * where they are), how much memory, and one writer per release. A helm 3
 * stand-in that waits for the test to let it finish shows what ran when.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalGuard } from '../__testUtils__/canonicalGuard';
import { HelmChart, HelmRunner, HelmTarget } from './HelmRunner';

jest.setTimeout(60_000);

const logger = mockServices.logger.mock();
const scratch = mkdtempSync(join(tmpdir(), 'kd-helm-limits-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const target = (releaseName: string): HelmTarget => ({
  access: {
    server: 'https://127.0.0.1:1',
    insecureSkipTlsVerify: true,
    credentials: { kind: 'token', token: 'not-a-real-token' },
  },
  namespace: 'team-a',
  releaseName,
});

const chart: HelmChart = (() => {
  const archive = Buffer.from('any bytes; the stand-in never reads them');
  return {
    archive,
    digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
  };
})();

const upgradeOptions = {
  timeoutSeconds: 30,
  createNamespace: false,
  historyMax: 3,
  guard: canonicalGuard,
  rollbackOnFailure: false,
  wait: false,
};

/**
 * A helm 3 stand-in: logs `start <release>` and its GOMEMLIMIT, waits until
 * `<dir>/go-<release>` exists, logs `end <release>` and reports a deployed
 * release.
 */
function standIn(): {
  binary: string;
  log: string;
  finish(release: string): void;
} {
  const dir = mkdtempSync(join(scratch, 'bin-'));
  const log = join(dir, 'log');
  writeFileSync(log, '');
  const binary = join(dir, 'helm');
  writeFileSync(
    binary,
    `#!/bin/sh
if [ "$1" = version ]; then echo v3.15.4; exit 0; fi
release=$3
echo "start $release GOMEMLIMIT=\${GOMEMLIMIT:-none}" >> ${log}
for arg in "$@"; do
  case "$arg" in
    --post-renderer=*) printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: fake}\\n' | "\${arg#--post-renderer=}" >/dev/null || exit 1 ;;
  esac
done
while [ ! -e ${dir}/go-$release ]; do sleep 0.05; done
echo "end $release" >> ${log}
echo '{"version":1,"info":{"status":"deployed","description":"Install complete"}}'
`,
  );
  chmodSync(binary, 0o700);
  return {
    binary,
    log,
    finish: release => writeFileSync(join(dir, `go-${release}`), ''),
  };
}

const logOf = (log: string) =>
  readFileSync(log, 'utf8').split('\n').filter(Boolean);

async function until(condition: () => boolean) {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise(resolve => setTimeout(resolve, 25));
  }
  throw new Error('condition not met in time');
}

describe('HelmRunner limits', () => {
  it('runs at most maxConcurrent helm processes; the others wait in order and say where they are', async () => {
    const helm = standIn();
    const workRoot = mkdtempSync(join(scratch, 'runs-'));
    const runner = await HelmRunner.create({
      logger,
      helmBinary: helm.binary,
      workRoot,
      maxConcurrent: 1,
      memoryLimitMiB: 256,
    });
    const lines: Record<string, string[]> = { a: [], b: [], c: [] };
    const run = (release: 'a' | 'b' | 'c', signal?: AbortSignal) =>
      runner.upgrade(
        target(release),
        chart,
        {},
        {
          ...upgradeOptions,
          signal,
          onLine: line => lines[release].push(line),
        },
      );

    const a = run('a');
    await until(() => logOf(helm.log).length === 1);
    const cancelB = new AbortController();
    const b = run('b', cancelB.signal);
    const c = run('c');
    await until(() => lines.c.length === 1);
    expect(lines).toEqual({
      a: [],
      b: ['waiting for a helm slot (position 1)'],
      c: ['waiting for a helm slot (position 2)'],
    });
    // Nothing of a waiting run is on disk yet: one run directory, a's.
    expect(readdirSync(workRoot)).toHaveLength(1);

    // Cancelled while waiting: it never runs, and c moves up.
    cancelB.abort();
    await expect(b).rejects.toMatchObject({ reason: 'cancelled' });
    expect(lines.c).toEqual([
      'waiting for a helm slot (position 2)',
      'waiting for a helm slot (position 1)',
    ]);

    helm.finish('a');
    await expect(a).resolves.toMatchObject({ status: 'deployed' });
    helm.finish('c');
    await expect(c).resolves.toMatchObject({ status: 'deployed' });
    expect(logOf(helm.log)).toEqual([
      'start a GOMEMLIMIT=256MiB',
      'end a',
      'start c GOMEMLIMIT=256MiB',
      'end c',
    ]);
    expect(readdirSync(workRoot)).toEqual([]);
  });

  it('sets no memory limit unless configured, and refuses a limit or cap that is not a positive integer', async () => {
    const helm = standIn();
    const runner = await HelmRunner.create({
      logger,
      helmBinary: helm.binary,
      workRoot: mkdtempSync(join(scratch, 'runs-')),
    });
    helm.finish('plain');
    await runner.upgrade(target('plain'), chart, {}, upgradeOptions);
    expect(logOf(helm.log)[0]).toBe('start plain GOMEMLIMIT=none');

    for (const limits of [
      { memoryLimitMiB: 0 },
      { memoryLimitMiB: 1.5 },
      { maxConcurrent: 0 },
    ]) {
      await expect(
        HelmRunner.create({ logger, helmBinary: helm.binary, ...limits }),
      ).rejects.toMatchObject({ name: 'InputError' });
    }
  });

  it('refuses a second writer on a release while helm still writes it, and lets other releases run', async () => {
    const helm = standIn();
    const runner = await HelmRunner.create({
      logger,
      helmBinary: helm.binary,
      workRoot: mkdtempSync(join(scratch, 'runs-')),
    });
    const first = runner.upgrade(target('one'), chart, {}, upgradeOptions);
    await until(() => logOf(helm.log).length === 1);

    await expect(
      runner.upgrade(target('one'), chart, {}, upgradeOptions),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringMatching(
        /an earlier helm process \(pid \d+\) still runs on release team-a\/one/,
      ),
    });
    await expect(
      runner.uninstall(target('one'), { timeoutSeconds: 30 }),
    ).rejects.toMatchObject({ name: 'ConflictError' });

    helm.finish('two');
    await expect(
      runner.upgrade(target('two'), chart, {}, upgradeOptions),
    ).resolves.toMatchObject({ status: 'deployed' });

    helm.finish('one');
    await first;
    // Once helm has exited, the release is free again.
    await expect(
      runner.upgrade(target('one'), chart, {}, upgradeOptions),
    ).resolves.toMatchObject({ status: 'deployed' });
  });
});
