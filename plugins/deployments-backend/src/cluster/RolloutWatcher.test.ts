/*
 * Runs against the real local cluster (scripts/stack): watches hello being
 * installed and scaled, as the namespace-limited deployer.
 */
import { randomBytes } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { ManifestObject } from '../targets/namespaceBoundary';
import { limitedAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { ClusterConnection } from './ClusterConnection';
import { watchRollout } from './RolloutWatcher';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const suffix = randomBytes(3).toString('hex');
const namespace = stack.limitedNamespace;
const release = `t-clroll-${suffix}`;
const admin = { kubeconfig: stack.adminKubeconfigPath };
const chart = [
  `oci://${stack.registry}/charts/hello`,
  '--version',
  '0.1.0',
  '--plain-http',
];

function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} within ${ms} ms`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

async function waitForLine(lines: string[], line: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!lines.includes(line)) {
    if (Date.now() > deadline) {
      throw new Error(`no line "${line}" in ${JSON.stringify(lines)}`);
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

/** Watches for `ms`, then aborts and returns the lines. */
async function watchFor(
  options: Omit<Parameters<typeof watchRollout>[0], 'onLine' | 'signal'>,
  ms: number,
): Promise<string[]> {
  const lines: string[] = [];
  const controller = new AbortController();
  const watching = watchRollout({
    ...options,
    onLine: line => lines.push(line),
    signal: controller.signal,
  });
  await new Promise(resolve => setTimeout(resolve, ms));
  controller.abort();
  await within(watching, 'the watch stops after abort', 2_000);
  return lines;
}

describe('watchRollout', () => {
  const connection = ClusterConnection.fromAccess(limitedAccess(stack));
  let objects: ManifestObject[];

  beforeAll(async () => {
    const { stdout } = await runHelm([
      'template',
      release,
      ...chart,
      '-n',
      namespace,
    ]);
    objects = parseAllDocuments(stdout)
      .map(document => document.toJS() as ManifestObject | null)
      .filter((object): object is ManifestObject => Boolean(object?.kind));
  });

  afterAll(async () => {
    await runHelm(['uninstall', release, '-n', namespace], admin).catch(
      () => undefined,
    );
  });

  it('reports progress lines only when the rollout changes, until aborted', async () => {
    const lines: string[] = [];
    const controller = new AbortController();
    const watching = watchRollout({
      connection,
      namespace,
      objects,
      onLine: line => lines.push(line),
      signal: controller.signal,
      intervalMs: 200,
    });

    const install = (replicas: number) =>
      runHelm(
        [
          'upgrade',
          '--install',
          release,
          ...chart,
          '-n',
          namespace,
          '--set',
          `replicaCount=${replicas}`,
          '--wait=watcher',
          '--timeout',
          '120s',
        ],
        admin,
      );
    await install(2);
    await waitForLine(lines, `Deployment ${release}: 2/2 ready, 2 updated`);
    await install(3);
    await waitForLine(lines, `Deployment ${release}: 3/3 ready, 3 updated`);
    // Nothing changes any more, so nothing more is said.
    const settled = lines.length;
    await new Promise(resolve => setTimeout(resolve, 1_000));
    expect(lines).toHaveLength(settled);

    controller.abort();
    await within(watching, 'the watch stops after abort', 2_000);

    for (const line of lines) {
      expect(line).toMatch(
        new RegExp(`^Deployment ${release}: \\d+/\\d ready, \\d+ updated`),
      );
    }
    for (let i = 1; i < lines.length; i++) {
      expect(lines[i]).not.toBe(lines[i - 1]);
    }
  });

  it('reports a failure once, however often it recurs', async () => {
    // The deployer may not read team-b.
    const forbidden = await watchFor(
      { connection, namespace: 'team-b', objects, intervalMs: 100 },
      1_000,
    );
    expect(forbidden).toHaveLength(1);
    expect(forbidden[0]).toMatch(
      /^Could not read the rollout status: the API server refused the request \(403\)/,
    );
    expect(forbidden[0]).not.toContain(stack.limitedToken);

    const unreachable = await watchFor(
      {
        connection: ClusterConnection.fromAccess({
          ...limitedAccess(stack),
          server: 'https://127.0.0.1:1',
        }),
        namespace,
        objects,
        intervalMs: 100,
      },
      1_000,
    );
    expect(unreachable).toEqual([
      expect.stringMatching(/^Could not read the rollout status: .*refused/),
    ]);
  });

  it('never throws into the caller', async () => {
    // The release from the first test is still there, so there is a line to emit.
    let calls = 0;
    const controller = new AbortController();
    const watching = watchRollout({
      connection,
      namespace,
      objects,
      onLine: () => {
        calls += 1;
        throw new Error('listener failed');
      },
      signal: controller.signal,
      intervalMs: 100,
    });
    await new Promise(resolve => setTimeout(resolve, 500));
    controller.abort();
    await expect(
      within(watching, 'the watch stops after abort', 2_000),
    ).resolves.toBeUndefined();
    expect(calls).toBe(1);

    // Nothing to watch, or already aborted: resolves at once.
    const aborted = new AbortController();
    aborted.abort();
    const lines: string[] = [];
    await within(
      watchRollout({
        connection,
        namespace,
        objects,
        onLine: line => lines.push(line),
        signal: aborted.signal,
      }),
      'an aborted watch resolves',
      500,
    );
    await within(
      watchRollout({
        connection,
        namespace,
        objects: objects.filter(o => o.kind !== 'Deployment'),
        onLine: line => lines.push(line),
        signal: new AbortController().signal,
      }),
      'a watch with nothing to watch resolves',
      500,
    );
    expect(lines).toEqual([]);
  });
});
