/*
 * The helm 3 code path against the real local stack: helm v3.17 (installed
 * by scripts/setup as `helm3`) with --atomic and --wait instead of helm 4's
 * --rollback-on-failure and --wait=watcher.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { adminAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { HelmCommandError } from './HelmCommandError';
import { HelmChart, HelmRunner, HelmTarget } from './HelmRunner';
import { canonicalGuard } from '../__testUtils__/canonicalGuard';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const CHARTS = resolve(__dirname, '../../../../examples/charts');
const scratch = mkdtempSync(join(tmpdir(), 'kd-helm3-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function packageChart(name: string): Promise<HelmChart> {
  const out = mkdtempSync(join(scratch, 'pkg-'));
  await runHelm(['package', join(CHARTS, name), '--destination', out]);
  const archive = readFileSync(join(out, readdirSync(out)[0]));
  return {
    archive,
    digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
  };
}

const options = (timeoutSeconds: number) => ({
  timeoutSeconds,
  createNamespace: false,
  historyMax: 5,
  rollbackOnFailure: true,
  wait: true,
  guard: canonicalGuard,
});

describe('HelmRunner with helm 3', () => {
  const suffix = randomBytes(3).toString('hex');
  const target: HelmTarget = {
    access: adminAccess(stack),
    namespace: 'team-a',
    releaseName: `t-helm3-${suffix}`,
  };
  let runner: HelmRunner;
  let hello: HelmChart;
  let broken: HelmChart;

  beforeAll(async () => {
    [runner, hello, broken] = await Promise.all([
      HelmRunner.create({
        logger: mockServices.logger.mock(),
        helmBinary: process.env.KUBEDEPLOY_HELM3 ?? 'helm3',
        workRoot: mkdtempSync(join(scratch, 'runs-')),
      }),
      packageChart('hello'),
      packageChart('broken'),
    ]);
  });

  afterAll(async () => {
    await runner?.uninstall(target, { timeoutSeconds: 60 }).catch(() => {});
  });

  it('detects helm 3', () => {
    expect(runner.version).toMatchObject({
      major: 3,
      full: expect.stringMatching(/^v3\./),
    });
  });

  it('dry-runs on the server without installing anything', async () => {
    const rendered = await runner.dryRun(
      target,
      hello,
      { greeting: 'h3' },
      options(60),
    );
    expect(rendered).toMatchObject({ chartName: 'hello', revision: 1 });
    // What the guard answered: canonical JSON.
    expect(rendered.manifest).toContain('"kind":"Deployment"');
    expect(rendered.manifest).toContain('"greeting":"h3"');
    expect(await runner.status(target)).toBeUndefined();
  });

  it('installs with --atomic --wait, and a rollout that never becomes ready is rolled back', async () => {
    // Revision 1 has no pods and is ready at once; revision 2 never becomes ready.
    await expect(
      runner.upgrade(target, broken, { replicaCount: 0 }, options(60)),
    ).resolves.toEqual({
      revision: 1,
      status: 'deployed',
      description: 'Install complete',
    });
    const error = await runner
      .upgrade(target, broken, { replicaCount: 1 }, options(20))
      .catch(e => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect(error).toMatchObject({ reason: 'timeout', rolledBack: true });
    expect(error.message).toMatch(
      /timed out after 20 s: .*rolled the release back/,
    );
    expect(error.message).not.toMatch(/\[debug\]|helm\.sh\/helm\/v3\/pkg/);
    expect(await runner.status(target)).toEqual({
      revision: 3,
      status: 'deployed',
      description: 'Rollback to 1',
    });
    expect((await runner.history(target)).map(h => h.status)).toEqual([
      'superseded',
      'failed',
      'deployed',
    ]);
  });

  it('rolls back to a chosen revision and uninstalls', async () => {
    await runner.upgrade(target, broken, { replicaCount: 0 }, options(60));
    await expect(
      runner.rollback(target, 1, { timeoutSeconds: 60, wait: true }),
    ).resolves.toMatchObject({ revision: 5, status: 'deployed' });
    await runner.uninstall(target, { timeoutSeconds: 60 });
    expect(await runner.status(target)).toBeUndefined();
  });
});
