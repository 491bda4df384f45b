/*
 * The server dry-run runs against the real local cluster (scripts/stack): the
 * API server's own validation, admission and RBAC decide, no mocks.
 */
import { ApiException, AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { secretMarker } from '../operations/manifest/redactSecretObject';
import { adminAccess, limitedAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack } from '../__testUtils__/localStack';
import { ClusterConnection, ClusterRequestError } from './ClusterConnection';
import { ClusterDiscovery } from './ClusterDiscovery';
import {
  diffServerDryRun,
  readWarnings,
  serverDryRun,
  serverDryRunKey,
  ServerDryRunObject,
  ServerDryRunOutcome,
} from './serverDryRun';

jest.setTimeout(120_000);

const redaction = { key: Buffer.from('a fixed key for tests') };

describe('diffServerDryRun', () => {
  const configMap = (data: Record<string, string>, extra = {}) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'hello', namespace: 'team-a', ...extra },
    data,
  });
  const outcome = (
    live: Record<string, unknown> | undefined,
    after: Record<string, unknown>,
  ): ServerDryRunOutcome => ({
    key: 'v1 ConfigMap team-a/hello',
    ok: true,
    ...(live && { live }),
    after,
    warnings: [],
  });

  it('shows a new object as added, without server bookkeeping', () => {
    const change = diffServerDryRun(
      outcome(
        undefined,
        configMap(
          { greeting: 'hi' },
          { uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z' },
        ),
      ),
    );
    expect(change?.change).toBe('added');
    expect(change?.diff).toContain('--- v1 ConfigMap team-a/hello\tlive');
    expect(change?.diff).toContain('+++ v1 ConfigMap team-a/hello\tdry-run');
    expect(change?.diff).toContain('+  greeting: hi');
    expect(change?.diff).not.toMatch(/uid|creationTimestamp/);
  });

  it('shows only what changes, ignoring resourceVersion, generation and status', () => {
    const change = diffServerDryRun(
      outcome(
        {
          ...configMap(
            { greeting: 'hi', other: 'same' },
            {
              resourceVersion: '1',
              generation: 1,
            },
          ),
          status: { ready: true },
        },
        configMap(
          { greeting: 'hello', other: 'same' },
          {
            resourceVersion: '2',
            generation: 2,
          },
        ),
      ),
    );
    expect(change?.change).toBe('changed');
    expect(change?.diff).toContain('-  greeting: hi\n+  greeting: hello\n');
    expect(change?.diff).not.toMatch(/resourceVersion|generation|ready/);
  });

  it('reports no change when only bookkeeping and key order differ', () => {
    expect(
      diffServerDryRun(
        outcome(configMap({ a: '1', b: '2' }, { resourceVersion: '7' }), {
          data: { b: '2', a: '1' },
          kind: 'ConfigMap',
          apiVersion: 'v1',
          metadata: { namespace: 'team-a', name: 'hello' },
        }),
      ),
    ).toEqual({ key: 'v1 ConfigMap team-a/hello', change: 'unchanged' });
  });

  it('has nothing to show for a refused object', () => {
    expect(
      diffServerDryRun({
        key: 'k',
        ok: false,
        error: 'field is immutable',
        live: configMap({}),
        warnings: [],
      }),
    ).toBeUndefined();
  });

  it('never shows Secret values', () => {
    const secret = (value: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { token: value },
    });
    const change = diffServerDryRun(
      outcome(secret('old-secret-value'), secret('new-secret-value')),
      redaction,
    );
    expect(change?.diff).not.toMatch(/secret-value/);
    expect(change?.diff).toContain(
      `+  token: ${secretMarker(Buffer.from('new-secret-value'), redaction)}`,
    );
  });
});

describe('serverDryRunKey', () => {
  it('names group/version, kind, namespace and name', () => {
    expect(
      serverDryRunKey({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'team-b' },
      }),
    ).toBe('apps/v1 Deployment team-b/web');
    expect(
      serverDryRunKey(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } },
        'team-a',
      ),
    ).toBe('v1 ConfigMap team-a/c');
    expect(
      serverDryRunKey({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'viewer' },
      }),
    ).toBe('rbac.authorization.k8s.io/v1 ClusterRole viewer');
  });
});

describe('readWarnings', () => {
  it('splits the warnings the transport joined, unescaping quotes', () => {
    expect(
      readWarnings({
        warning:
          '299 - "unknown field \\"spec.foo\\"", 299 - "would violate PodSecurity \\"restricted:latest\\": runAsNonRoot != true", 299 - "unknown field \\"spec.foo\\""',
      }),
    ).toEqual([
      'unknown field "spec.foo"',
      'would violate PodSecurity "restricted:latest": runAsNonRoot != true',
    ]);
    expect(readWarnings({ 'content-type': 'application/json' })).toEqual([]);
  });
});

describe('serverDryRun on the local cluster', () => {
  const stack = requireLocalStack();
  const suffix = randomBytes(3).toString('hex');
  const teamA = stack.limitedNamespace;
  const psaNamespace = `t-sdr-psa-${suffix}`;
  const fieldManager = 'kubedeploy-test';
  const admin = ClusterConnection.fromAccess(adminAccess(stack));
  const core = admin.makeApiClient(CoreV1Api);
  const apps = admin.makeApiClient(AppsV1Api);
  let discovery: ClusterDiscovery;

  const dryRun = (
    objects: Array<Record<string, unknown>>,
    options: { connection?: ClusterConnection; namespace?: string } = {},
  ) =>
    serverDryRun(
      options.connection ?? admin,
      discovery,
      objects.map(
        (object): ServerDryRunObject => ({
          key: serverDryRunKey(object, options.namespace ?? teamA),
          object,
        }),
      ),
      { fieldManager, namespace: options.namespace ?? teamA, redaction },
    );

  async function statusOf(read: Promise<unknown>): Promise<number> {
    try {
      await read;
      return 200;
    } catch (error) {
      if (error instanceof ApiException) {
        return error.code;
      }
      throw error;
    }
  }

  const deployment = (name: string, app: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: teamA },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
      },
    },
  });

  beforeAll(async () => {
    discovery = await ClusterDiscovery.create({ connection: admin });
    await core.createNamespace({
      body: {
        metadata: {
          name: psaNamespace,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/warn': 'restricted',
          },
        },
      },
    });
    // Admission looks the pod's ServiceAccount up before Pod Security runs;
    // do not depend on the controller having created it yet.
    await core
      .createNamespacedServiceAccount({
        namespace: psaNamespace,
        body: { metadata: { name: 'default' } },
      })
      .catch((error: unknown) => {
        if (!(error instanceof ApiException && error.code === 409)) {
          throw error;
        }
      });
  });

  afterAll(async () => {
    await Promise.allSettled([
      core.deleteNamespace({ name: psaNamespace }),
      apps.deleteNamespacedDeployment({
        name: `t-sdr-web-${suffix}`,
        namespace: teamA,
      }),
      core.deleteNamespacedSecret({
        name: `t-sdr-secret-${suffix}`,
        namespace: teamA,
      }),
    ]);
  });

  it('validates an object that does not exist without creating it', async () => {
    const name = `t-sdr-cm-${suffix}`;
    const [outcome] = await dryRun([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name },
        data: { greeting: 'hello' },
      },
    ]);
    expect(outcome.error).toBeUndefined();
    expect(outcome.ok).toBe(true);
    expect(outcome.key).toBe(`v1 ConfigMap ${teamA}/${name}`);
    expect(outcome.live).toBeUndefined();
    expect(outcome.after).toMatchObject({
      kind: 'ConfigMap',
      metadata: { name, namespace: teamA },
      data: { greeting: 'hello' },
    });
    expect(outcome.after?.metadata).not.toHaveProperty('managedFields');
    expect(diffServerDryRun(outcome)?.change).toBe('added');

    expect(
      await statusOf(core.readNamespacedConfigMap({ name, namespace: teamA })),
    ).toBe(404);
  });

  it('names the immutable field and leaves the live object alone', async () => {
    const name = `t-sdr-web-${suffix}`;
    const created = await apps.createNamespacedDeployment({
      namespace: teamA,
      body: deployment(name, 'a'),
    });

    const changedSelector = deployment(name, 'b');
    const moreReplicas = deployment(name, 'a');
    moreReplicas.spec.replicas = 3;
    const [refused, accepted] = await serverDryRun(
      admin,
      discovery,
      [
        { key: 'selector', object: changedSelector },
        { key: 'replicas', object: moreReplicas },
      ],
      { fieldManager, namespace: teamA },
    );

    expect(refused.ok).toBe(false);
    expect(refused.reason).toBe('Invalid');
    expect(refused.error).toMatch(/spec\.selector/);
    expect(refused.error).toMatch(/field is immutable/);
    expect(refused.after).toBeUndefined();
    expect(refused.live).toMatchObject({
      spec: { selector: { matchLabels: { app: 'a' } } },
    });

    expect(accepted.ok).toBe(true);
    expect(accepted.after).toMatchObject({ spec: { replicas: 3 } });
    const change = diffServerDryRun(accepted);
    expect(change?.change).toBe('changed');
    expect(change?.diff).toContain('-  replicas: 1\n+  replicas: 3\n');

    const live = await apps.readNamespacedDeployment({
      name,
      namespace: teamA,
    });
    // The controller updates status meanwhile; what the dry-run would change stays as created.
    expect(live.metadata?.uid).toBe(created.metadata?.uid);
    expect(
      live.metadata?.managedFields?.map(entry => entry.manager),
    ).not.toContain(fieldManager);
    expect(live.spec?.selector.matchLabels).toEqual({ app: 'a' });
    expect(live.spec?.replicas).toBe(1);
  });

  it('reports a Pod Security violation, and the warning for a workload', async () => {
    const container = { name: 'app', image: 'busybox:1.36' };
    const [pod, workload] = await dryRun(
      [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `t-sdr-pod-${suffix}` },
          spec: { containers: [container] },
        },
        {
          ...deployment(`t-sdr-psa-web-${suffix}`, 'psa'),
          metadata: { name: `t-sdr-psa-web-${suffix}` },
        },
      ],
      { namespace: psaNamespace },
    );

    expect(pod.ok).toBe(false);
    expect(pod.error).toMatch(/violates PodSecurity "restricted:/);
    expect(pod.error).toMatch(/runAsNonRoot/);
    expect(pod.reason).toBe('Forbidden');

    // Pod Security only warns about workloads; the warning comes back.
    expect(workload.ok).toBe(true);
    expect(workload.warnings.join('\n')).toMatch(
      /would violate PodSecurity "restricted:/,
    );

    const pods = await core.listNamespacedPod({ namespace: psaNamespace });
    expect(pods.items).toEqual([]);
  });

  it('reports a forbidden object alone, for the limited deployer', async () => {
    const deployer = ClusterConnection.fromAccess(limitedAccess(stack));
    const configMap = (namespace: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `t-sdr-rbac-${suffix}`, namespace },
      data: { a: 'b' },
    });
    const [allowed, forbidden] = await dryRun(
      [configMap(teamA), configMap('team-b')],
      { connection: deployer },
    );

    expect(allowed.error).toBeUndefined();
    expect(allowed.ok).toBe(true);
    expect(forbidden.ok).toBe(false);
    expect(forbidden.key).toBe(`v1 ConfigMap team-b/t-sdr-rbac-${suffix}`);
    expect(forbidden.reason).toBe('Forbidden');
    expect(forbidden.error).toMatch(/forbidden/);
    expect(forbidden.error).toContain('system:serviceaccount:team-a:deployer');
    expect(forbidden.error).toContain('"team-b"');
  });

  it('never returns Secret values, live or after', async () => {
    const name = `t-sdr-secret-${suffix}`;
    const oldValue = `old-${randomBytes(8).toString('hex')}`;
    const newValue = `new-${randomBytes(8).toString('hex')}`;
    const secret = (value: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: teamA },
      type: 'Opaque',
      stringData: { token: value },
    });
    await core.createNamespacedSecret({
      namespace: teamA,
      body: {
        ...secret(oldValue),
        metadata: {
          name,
          annotations: {
            'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(
              secret(oldValue),
            ),
          },
        },
      },
    });

    const [outcome] = await dryRun([secret(newValue)]);
    expect(outcome.ok).toBe(true);
    const shown = JSON.stringify(outcome);
    for (const value of [oldValue, newValue]) {
      expect(shown).not.toContain(value);
      expect(shown).not.toContain(Buffer.from(value).toString('base64'));
    }
    expect(outcome.live?.data).toEqual({
      token: secretMarker(Buffer.from(oldValue), redaction),
    });
    expect(outcome.after?.data).toEqual({
      token: secretMarker(Buffer.from(newValue), redaction),
    });
    expect(outcome.live?.metadata).not.toHaveProperty('managedFields');
    expect(outcome.after?.metadata).not.toHaveProperty('managedFields');
    expect(diffServerDryRun(outcome)?.change).toBe('changed');
  });

  it('refuses what it cannot send, per object', async () => {
    const outcomes = await dryRun([
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w' },
      },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'x-' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '..' } },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `t-sdr-fine-${suffix}` },
      },
    ]);
    expect(outcomes.map(({ ok, error }) => [ok, error])).toEqual([
      [false, 'the cluster does not serve Widget in example.com/v1'],
      [false, 'the object has no metadata.name'],
      [false, 'metadata.name ".." is not a valid name'],
      [true, undefined],
    ]);
  });

  it('rejects the whole batch when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await serverDryRun(
      admin,
      discovery,
      [{ key: 'k', object: { apiVersion: 'v1', kind: 'ConfigMap' } }],
      { fieldManager, namespace: teamA, signal: controller.signal },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClusterRequestError);
    expect((error as ClusterRequestError).kind).toBe('cancelled');
  });
});
