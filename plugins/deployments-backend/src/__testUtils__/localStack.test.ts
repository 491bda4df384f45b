/*
 * Proves that the local stack is real: a kube-apiserver with RBAC, KWOK pods
 * that become Ready and serve logs, an OCI registry that keeps digests, and
 * helm 4 installing from it. Every later integration test relies on this.
 */
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { requireLocalStack, runHelm } from './localStack';

jest.setTimeout(240_000);

const stack = requireLocalStack();
const suffix = randomBytes(3).toString('hex');

function adminConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(stack.adminKubeconfigPath);
  return kc;
}

function tokenConfig(token: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'local',
        server: stack.apiServerUrl,
        caData: Buffer.from(stack.caPem).toString('base64'),
      },
    ],
    users: [{ name: 'limited', token }],
    contexts: [{ name: 'local', cluster: 'local', user: 'limited' }],
    currentContext: 'local',
  });
  return kc;
}

async function readyPods(
  core: k8s.CoreV1Api,
  namespace: string,
  release: string,
) {
  const pods = await core.listNamespacedPod({
    namespace,
    labelSelector: `app.kubernetes.io/instance=${release}`,
  });
  return pods.items;
}

describe('local stack', () => {
  const core = adminConfig().makeApiClient(k8s.CoreV1Api);
  const namespace = `stack-${suffix}`;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('serves the pinned Kubernetes version', async () => {
    const version = await adminConfig().makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe(process.env.KUBEDEPLOY_KUBERNETES_VERSION);
  });

  it('pulls the chart with the digest that was pushed', async () => {
    const { stdout, stderr } = await runHelm([
      'pull',
      `oci://${stack.registry}/charts/hello`,
      '--version',
      '0.1.0',
      '--plain-http',
      '--destination',
      require('node:os').tmpdir(),
    ]);
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(stdout + stderr)?.[1];
    expect(digest).toBe(stack.pushedDigests.get(`${stack.registry}/hello`));
  });

  it('installs hello from the registry: deployed, pods Ready, logs served', async () => {
    const release = `hello-${suffix}`;
    await runHelm(
      [
        'upgrade',
        '--install',
        release,
        `oci://${stack.registry}/charts/hello`,
        '--version',
        '0.1.0',
        '--plain-http',
        '--namespace',
        namespace,
        '--set',
        'replicaCount=2',
        '--wait=watcher',
        '--timeout',
        '120s',
      ],
      { kubeconfig: stack.adminKubeconfigPath },
    );

    const { stdout } = await runHelm(
      ['status', release, '--namespace', namespace, '-o', 'json'],
      { kubeconfig: stack.adminKubeconfigPath },
    );
    expect(JSON.parse(stdout).info.status).toBe('deployed');

    const pods = await readyPods(core, namespace, release);
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status?.phase).toBe('Running');
      expect(
        pod.status?.conditions?.find(c => c.type === 'Ready')?.status,
      ).toBe('True');
    }

    const current = await core.readNamespacedPodLog({
      name: pods[0].metadata!.name!,
      namespace,
      container: 'web',
      tailLines: 5,
    });
    expect(current).toContain('request served');
    const previous = await core.readNamespacedPodLog({
      name: pods[0].metadata!.name!,
      namespace,
      container: 'web',
      previous: true,
    });
    expect(previous).toContain('out of memory');
  });

  it('rolls a failing upgrade back with --rollback-on-failure', async () => {
    const release = `broken-${suffix}`;
    const kubeconfig = stack.adminKubeconfigPath;
    const broken = [
      release,
      `oci://${stack.registry}/charts/broken`,
      '--version',
      '0.1.0',
      '--plain-http',
      '--namespace',
      namespace,
    ];
    // Revision 1 has no pods, so it is trivially ready.
    await runHelm(
      [
        'upgrade',
        '--install',
        ...broken,
        '--set',
        'replicaCount=0',
        '--wait=watcher',
        '--timeout',
        '60s',
      ],
      { kubeconfig },
    );

    // Revision 2 asks for a pod that never becomes Ready.
    await expect(
      runHelm(
        [
          'upgrade',
          ...broken,
          '--set',
          'replicaCount=1',
          '--rollback-on-failure',
          '--wait=watcher',
          '--timeout',
          '10s',
        ],
        { kubeconfig },
      ),
    ).rejects.toThrow(/rolled back|context deadline|timed out|timeout/i);

    const { stdout } = await runHelm(
      ['history', release, '--namespace', namespace, '-o', 'json'],
      { kubeconfig },
    );
    const history = JSON.parse(stdout) as Array<{
      revision: number;
      status: string;
      description: string;
    }>;
    expect(history.map(h => h.status)).toEqual([
      'superseded',
      'failed',
      'deployed',
    ]);
    expect(history[2].description).toMatch(/Rollback to 1/);
  });

  it('enforces RBAC for the limited ServiceAccount', async () => {
    const authz = tokenConfig(stack.limitedToken).makeApiClient(
      k8s.AuthorizationV1Api,
    );
    const review = (ns: string) =>
      authz.createSelfSubjectAccessReview({
        body: {
          spec: {
            resourceAttributes: {
              namespace: ns,
              group: 'apps',
              resource: 'deployments',
              verb: 'create',
            },
          },
        },
      });

    expect((await review(stack.limitedNamespace)).status?.allowed).toBe(true);
    expect((await review('team-b')).status?.allowed).toBe(false);
  });

  it('rejects an invalid object in a server-side dry-run', async () => {
    const apps = adminConfig().makeApiClient(k8s.AppsV1Api);
    const invalid: k8s.V1Deployment = {
      metadata: { name: 'invalid' },
      spec: {
        replicas: -1,
        selector: { matchLabels: { app: 'x' } },
        template: {
          metadata: { labels: { app: 'y' } },
          spec: { containers: [{ name: 'c', image: 'i' }] },
        },
      },
    };
    await expect(
      apps.createNamespacedDeployment({
        namespace,
        body: invalid,
        dryRun: 'All',
      }),
    ).rejects.toMatchObject({ code: 422 });
    const after = await apps.listNamespacedDeployment({
      namespace,
      fieldSelector: 'metadata.name=invalid',
    });
    expect(after.items).toHaveLength(0);
  });
});
