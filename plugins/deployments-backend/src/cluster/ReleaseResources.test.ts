/*
 * Runs against the real local cluster (scripts/stack): one hello release and
 * one broken release, read as a deployer and as the admin.
 */
import { V1Deployment, V1LabelSelector } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ManifestObject } from '../targets/namespaceBoundary';
import { adminAccess, limitedAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { ClusterConnection, ClusterRequestError } from './ClusterConnection';
import { getReleaseResources } from './ReleaseResources';
import { matchesSelector, selectorToString } from './labelSelectors';
import { workloadHealth } from './workloadHealth';

jest.setTimeout(180_000);

const execFileAsync = promisify(execFile);
const stack = requireLocalStack();
const suffix = randomBytes(3).toString('hex');
const namespace = stack.limitedNamespace;
const release = `t-clres-${suffix}`;
const brokenRelease = `t-clres-broken-${suffix}`;
const apiToken = `token-${randomBytes(12).toString('hex')}`;
const admin = { kubeconfig: stack.adminKubeconfigPath };

async function kubectlJson(args: string[]): Promise<any> {
  const { stdout } = await execFileAsync(
    'kubectl',
    ['--kubeconfig', stack.adminKubeconfigPath, ...args, '-o', 'json'],
    { env: { PATH: process.env.PATH, HOME: tmpdir() }, timeout: 30_000 },
  );
  return JSON.parse(stdout);
}

async function manifestOf(name: string): Promise<ManifestObject[]> {
  const { stdout } = await runHelm(
    ['get', 'manifest', name, '-n', namespace],
    admin,
  );
  return parseAllDocuments(stdout)
    .map(document => document.toJS() as ManifestObject | null)
    .filter((object): object is ManifestObject => Boolean(object?.kind));
}

/** Polls until the check passes, for things controllers do a moment later (events). */
async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) {
      return value;
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}

/** Every HTTP request this process sends while `body` runs, as path and Accept header. */
async function recordRequests<T>(
  body: () => Promise<T>,
): Promise<{ result: T; requests: Array<{ path: string; accept: string }> }> {
  const requests: Array<{ path: string; accept: string }> = [];
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    requests.push({
      path: request.path,
      accept: String(request.getHeader('accept') ?? ''),
    });
  };
  subscribe('http.client.request.start', onStart);
  try {
    return { result: await body(), requests };
  } finally {
    unsubscribe('http.client.request.start', onStart);
  }
}

function isNewestFirst(times: Array<string | undefined>): boolean {
  const millis = times.map(t => (t ? Date.parse(t) : 0));
  return millis.every((t, i) => i === 0 || millis[i - 1] >= t);
}

describe('getReleaseResources', () => {
  let objects: ManifestObject[];
  let brokenObjects: ManifestObject[];

  beforeAll(async () => {
    await Promise.all([
      runHelm(
        [
          'upgrade',
          '--install',
          release,
          `oci://${stack.registry}/charts/hello`,
          '--version',
          '0.1.0',
          '-n',
          namespace,
          '--set',
          'replicaCount=2',
          '--set',
          `apiToken=${apiToken}`,
          '--wait=watcher',
          '--timeout',
          '120s',
          '--plain-http',
        ],
        admin,
      ),
      // Never becomes ready, so it is installed without waiting.
      runHelm(
        [
          'upgrade',
          '--install',
          brokenRelease,
          `oci://${stack.registry}/charts/broken`,
          '--version',
          '0.1.0',
          '-n',
          namespace,
          '--plain-http',
        ],
        admin,
      ),
    ]);
    [objects, brokenObjects] = await Promise.all([
      manifestOf(release),
      manifestOf(brokenRelease),
    ]);
  });

  afterAll(async () => {
    await Promise.all(
      [release, brokenRelease].map(name =>
        runHelm(['uninstall', name, '-n', namespace], admin).catch(
          () => undefined,
        ),
      ),
    );
  });

  it('shows the Deployment ready, its pods running, and events newest first', async () => {
    const connection = ClusterConnection.fromAccess(adminAccess(stack));
    const resources = await eventually(
      () =>
        getReleaseResources({
          connection,
          namespace,
          releaseName: release,
          objects,
        }),
      r =>
        r.pods.length === 2 &&
        r.pods.every(p => p.events.length > 0) &&
        r.objects.some(o => o.kind === 'Deployment' && o.events.length > 0),
    );

    expect(resources.summary).toEqual({
      healthy: true,
      message: '2/2 replicas ready',
    });
    expect(resources.warnings).toEqual([]);
    expect(resources.objects.map(o => `${o.kind}/${o.name}`).sort()).toEqual(
      objects.map(o => `${o.kind}/${o.metadata!.name}`).sort(),
    );
    for (const object of resources.objects) {
      expect(object).toMatchObject({ state: 'present', namespace });
      expect(object.health?.healthy).toBe(true);
    }

    const deployment = resources.objects.find(o => o.kind === 'Deployment')!;
    expect(deployment.replicas).toEqual({
      desired: 2,
      ready: 2,
      updated: 2,
      available: 2,
    });
    expect(deployment.health).toEqual({
      healthy: true,
      message: '2/2 replicas ready',
    });
    expect(deployment.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Available', status: 'True' }),
      ]),
    );
    expect(deployment.events[0]).toMatchObject({
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      count: expect.any(Number),
      lastSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(isNewestFirst(deployment.events.map(e => e.lastSeen))).toBe(true);

    // The same pods, nodes and Service address that kubectl shows.
    const [pods, service] = await Promise.all([
      kubectlJson([
        'get',
        'pods',
        '-n',
        namespace,
        '-l',
        `app.kubernetes.io/instance=${release}`,
      ]),
      kubectlJson(['get', 'service', release, '-n', namespace]),
    ]);
    expect(resources.pods.map(p => [p.name, p.node]).sort()).toEqual(
      pods.items.map((p: any) => [p.metadata.name, p.spec.nodeName]).sort(),
    );
    for (const pod of resources.pods) {
      expect(pod).toMatchObject({
        namespace,
        phase: 'Running',
        ready: true,
        restarts: 0,
        workloads: [`Deployment/${deployment.name}`],
        health: { healthy: true, message: 'running' },
        containers: [
          {
            name: 'web',
            init: false,
            image: 'nginxinc/nginx-unprivileged:1.27',
            ready: true,
            restartCount: 0,
            state: 'running',
            hasPrevious: false,
          },
        ],
      });
      expect(pod.events.map(e => e.reason)).toContain('Scheduled');
    }
    expect(resources.objects.find(o => o.kind === 'Service')?.service).toEqual({
      type: 'ClusterIP',
      clusterIP: service.spec.clusterIP,
    });

    // Plain JSON, and no Secret value in it: the Secret is read as metadata only.
    const { requests } = await recordRequests(() =>
      getReleaseResources({
        connection,
        namespace,
        releaseName: release,
        objects,
      }),
    );
    const secretReads = requests.filter(r =>
      r.path.startsWith(`/api/v1/namespaces/${namespace}/secrets/`),
    );
    expect(secretReads).toEqual([
      {
        path: `/api/v1/namespaces/${namespace}/secrets/${release}`,
        accept: expect.stringContaining('as=PartialObjectMetadata'),
      },
    ]);
    const json = JSON.stringify(resources);
    expect(JSON.parse(json)).toEqual(resources);
    expect(resources.objects.find(o => o.kind === 'Secret')?.state).toBe(
      'present',
    );
    expect(json).not.toContain(apiToken);
    expect(json).not.toContain(Buffer.from(apiToken).toString('base64'));
  });

  it('reads the same as the namespace-limited deployer, and never outside the namespace', async () => {
    const connection = ClusterConnection.fromAccess(limitedAccess(stack));
    const extra: ManifestObject[] = [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${release}-gone` },
      },
      // The deployer may not read team-b: had it been read, it would show a 403.
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'anything', namespace: 'team-b' },
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'cluster-admin' },
      },
      {
        apiVersion: 'widgets.example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w' },
      },
    ];
    const { result: resources, requests } = await recordRequests(() =>
      getReleaseResources({
        connection,
        namespace,
        releaseName: release,
        objects: [...objects, ...extra],
      }),
    );
    // Discovery, and otherwise only the release namespace.
    for (const { path } of requests) {
      expect(path).toMatch(
        new RegExp(
          `^/(api/v1|apis/[^/]+/[^/]+)(/namespaces/${namespace}/.*)?$`,
        ),
      );
    }
    expect(requests.some(r => r.path.includes('/namespaces/'))).toBe(true);
    expect(resources.warnings).toEqual([]);
    expect(resources.pods).toHaveLength(2);
    expect(
      resources.objects.find(o => o.kind === 'Deployment')?.replicas?.ready,
    ).toBe(2);

    const byName = (kind: string, name: string) =>
      resources.objects.find(o => o.kind === kind && o.name === name);
    expect(byName('ConfigMap', `${release}-gone`)).toMatchObject({
      state: 'missing',
      namespace,
      health: { healthy: false, message: 'missing' },
    });
    expect(byName('ConfigMap', 'anything')).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'anything',
      namespace: 'team-b',
      state: 'skipped',
      detail: 'in namespace team-b, outside the release namespace',
      conditions: [],
      events: [],
    });
    expect(byName('ClusterRole', 'cluster-admin')).toMatchObject({
      state: 'skipped',
      detail: 'cluster-scoped, outside the release namespace',
    });
    expect(byName('ClusterRole', 'cluster-admin')?.namespace).toBeUndefined();
    expect(byName('Widget', 'w')).toMatchObject({
      state: 'error',
      health: { healthy: false },
      detail: 'the cluster does not serve widgets.example.com/v1 Widget',
    });
    expect(resources.summary).toEqual({
      healthy: false,
      message: `ConfigMap ${release}-gone: missing (and 1 more)`,
    });
  });

  it('explains a Deployment whose pods cannot be scheduled', async () => {
    const connection = ClusterConnection.fromAccess(limitedAccess(stack));
    const resources = await eventually(
      () =>
        getReleaseResources({
          connection,
          namespace,
          releaseName: brokenRelease,
          objects: brokenObjects,
        }),
      r => r.pods.length === 1 && r.pods[0].events.length > 0,
    );
    expect(resources.summary).toEqual({
      healthy: false,
      message: `Deployment ${brokenRelease}: 0/1 replicas ready`,
    });
    expect(resources.objects[0].replicas).toMatchObject({
      desired: 1,
      ready: 0,
      available: 0,
    });
    const [pod] = resources.pods;
    expect(pod).toMatchObject({
      phase: 'Pending',
      ready: false,
      health: { healthy: false, message: 'not scheduled: Unschedulable' },
      containers: [{ name: 'app', state: 'unknown', ready: false }],
    });
    expect(pod.node).toBeUndefined();
    expect(pod.events[0]).toMatchObject({
      type: 'Warning',
      reason: 'FailedScheduling',
    });
  });

  it('throws once when the cluster cannot be reached', async () => {
    const connection = ClusterConnection.fromAccess({
      ...limitedAccess(stack),
      server: 'https://127.0.0.1:1',
    });
    const reading = getReleaseResources({
      connection,
      namespace,
      releaseName: release,
      objects,
    });
    await expect(reading).rejects.toBeInstanceOf(ClusterRequestError);
    await expect(reading).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('refuses an invalid namespace or release name', async () => {
    const connection = ClusterConnection.fromAccess(limitedAccess(stack));
    for (const [ns, name] of [
      ['team-a/../team-b', release],
      [namespace, 'Not_A_Release'],
    ]) {
      await expect(
        getReleaseResources({
          connection,
          namespace: ns,
          releaseName: name,
          objects,
        }),
      ).rejects.toMatchObject({ name: 'InputError' });
    }
  });
});

describe('label selectors', () => {
  const selector: V1LabelSelector = {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['a', 'b'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'zone', operator: 'NotIn', values: ['x'] },
      { key: 'owner', operator: 'Exists' },
    ],
  };

  it('serializes like kubectl and matches locally the same way', () => {
    expect(selectorToString(selector)).toBe(
      'app=web,tier in (a,b),!canary,zone notin (x),owner',
    );
    expect(
      matchesSelector({ app: 'web', tier: 'a', owner: 'me' }, selector),
    ).toBe(true);
    expect(
      matchesSelector({ app: 'web', tier: 'c', owner: 'me' }, selector),
    ).toBe(false);
    expect(
      matchesSelector(
        { app: 'web', tier: 'a', owner: 'me', canary: '' },
        selector,
      ),
    ).toBe(false);
    expect(
      matchesSelector(
        { app: 'web', tier: 'a', owner: 'me', zone: 'x' },
        selector,
      ),
    ).toBe(false);
  });

  it('treats empty and unknown selectors as matching nothing', () => {
    expect(selectorToString({})).toBeUndefined();
    expect(matchesSelector({ app: 'web' }, {})).toBe(false);
    const odd = {
      matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }],
    };
    expect(selectorToString(odd)).toBeUndefined();
    expect(matchesSelector({ a: '2' }, odd)).toBe(false);
  });
});

describe('workloadHealth', () => {
  const deployment = (status: V1Deployment['status']): V1Deployment => ({
    metadata: { name: 'web', generation: 3 },
    spec: {
      replicas: 2,
      selector: {},
      template: {},
    },
    status: { observedGeneration: 3, ...status },
  });

  it('says what holds a rollout up', () => {
    expect(
      workloadHealth(
        'Deployment',
        deployment({
          replicas: 3,
          readyReplicas: 2,
          updatedReplicas: 2,
          availableReplicas: 2,
        }),
      ).health,
    ).toEqual({
      healthy: false,
      message: '2/2 replicas ready; 1 old replica terminating',
    });
    expect(
      workloadHealth(
        'Deployment',
        deployment({
          replicas: 2,
          readyReplicas: 1,
          updatedReplicas: 1,
          availableReplicas: 1,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
            },
          ],
        }),
      ).health,
    ).toEqual({
      healthy: false,
      message: '1/2 replicas ready, 1 updated; progress deadline exceeded',
    });
    expect(
      workloadHealth(
        'Deployment',
        deployment({ observedGeneration: 2, readyReplicas: 2 }),
      ).health.message,
    ).toContain('waiting for the controller to see the new spec');
  });
});
