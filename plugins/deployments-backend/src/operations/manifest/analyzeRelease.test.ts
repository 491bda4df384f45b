import { resolve } from 'node:path';
import { ClusterConnection } from '../../cluster/ClusterConnection';
import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import { adminAccess } from '../../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../../__testUtils__/localStack';
import { analyzeRelease, ReleaseWarning } from './analyzeRelease';
import { parseRenderedRelease, RenderedObject } from './parseRenderedRelease';

jest.setTimeout(60_000);

const charts = resolve(__dirname, '../../../../../examples/charts');
const boundary = {
  allowedNamespaces: ['team-a'],
  allowedClusterScopedKinds: [],
};

async function render(chart: string, release: string): Promise<string> {
  const { stdout } = await runHelm([
    'template',
    release,
    resolve(charts, chart),
    '--namespace',
    'team-a',
  ]);
  return stdout;
}

describe('analyzeRelease against the real cluster', () => {
  const stack = requireLocalStack();
  let discovery: ClusterDiscovery;

  beforeAll(async () => {
    discovery = await ClusterDiscovery.create({
      connection: ClusterConnection.fromAccess(adminAccess(stack)),
    });
  });

  it('finds nothing wrong with the hello chart', async () => {
    const objects = parseRenderedRelease({
      manifest: await render('hello', 't-analyze-hello'),
      hooks: [],
    });
    expect(
      analyzeRelease({
        objects,
        boundary,
        releaseNamespace: 'team-a',
        discovery,
      }),
    ).toEqual({ violations: [], warnings: [] });
  });

  it('refuses the escape chart: its ClusterRole and its ConfigMap in another namespace', async () => {
    const objects = parseRenderedRelease({
      manifest: await render('escape', 't-analyze-escape'),
      hooks: [],
    });
    const { violations } = analyzeRelease({
      objects,
      boundary,
      releaseNamespace: 'team-a',
      discovery,
    });
    expect(violations).toEqual(
      expect.arrayContaining([
        {
          object:
            'rbac.authorization.k8s.io/v1 ClusterRole t-analyze-escape-escalate',
          reason: expect.stringContaining(
            'cluster-scoped kind rbac.authorization.k8s.io/ClusterRole is not allowed',
          ),
        },
        {
          object: 'v1 ConfigMap kube-system/t-analyze-escape-outside',
          reason: expect.stringContaining('outside the release namespace'),
        },
      ]),
    );
    expect(violations).toHaveLength(2);
  });

  it('lets the escape chart through a target that allows its kinds and other namespaces, listing the object in kube-system', async () => {
    const objects = parseRenderedRelease({
      manifest: await render('escape', 't-analyze-escape'),
      hooks: [],
    });
    const platform = {
      allowedNamespaces: ['team-a', 'kube-system'],
      allowedClusterScopedKinds: ['rbac.authorization.k8s.io/ClusterRole'],
      allowObjectsInOtherAllowedNamespaces: true,
    };
    const analysis = analyzeRelease({
      objects,
      boundary: platform,
      releaseNamespace: 'team-a',
      discovery,
    });
    expect(analysis.violations).toEqual([]);
    expect(
      analysis.warnings.filter(w => w.code === 'other-allowed-namespace'),
    ).toEqual([
      {
        object: 'v1 ConfigMap kube-system/t-analyze-escape-outside',
        code: 'other-allowed-namespace',
        message: expect.stringMatching(
          /^in namespace "kube-system", not the release namespace "team-a": allowed because the target/,
        ),
      },
    ]);

    // Without the setting, or without kube-system in the allowlist, it is refused.
    for (const refusing of [
      { ...platform, allowObjectsInOtherAllowedNamespaces: false },
      { ...platform, allowedNamespaces: ['team-a'] },
    ]) {
      const refused = analyzeRelease({
        objects,
        boundary: refusing,
        releaseNamespace: 'team-a',
        discovery,
      });
      expect(refused.violations).toEqual([
        {
          object: 'v1 ConfigMap kube-system/t-analyze-escape-outside',
          reason: expect.stringContaining('outside the release namespace'),
        },
      ]);
      expect(refused.warnings.map(w => w.code)).not.toContain(
        'other-allowed-namespace',
      );
    }
  });

  it('checks hooks as well, and refuses kinds the cluster does not serve', () => {
    const objects = parseRenderedRelease({
      manifest:
        '# Source: x/templates/widget.yaml\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n',
      hooks: [
        {
          name: 'grant',
          kind: 'ClusterRoleBinding',
          path: 'x/templates/grant.yaml',
          manifest:
            'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: grant\n',
          events: ['pre-install'],
        },
      ],
    });
    const { violations } = analyzeRelease({
      objects,
      boundary,
      releaseNamespace: 'team-a',
      discovery,
    });
    expect(violations).toEqual([
      {
        object: 'example.com/v1 Widget w',
        reason: expect.stringContaining('unknown kind Widget'),
      },
      {
        object: 'rbac.authorization.k8s.io/v1 ClusterRoleBinding grant',
        reason: expect.stringContaining('is not allowed by this target'),
      },
    ]);
  });
});

describe('analyzeRelease warnings', () => {
  const discovery = ClusterDiscovery.fromResources([]);

  const podSpec = (overrides: Record<string, unknown> = {}) => ({
    securityContext: { runAsNonRoot: true },
    containers: [
      {
        name: 'web',
        image: 'registry.example:5000/team/web:1.2.3',
        readinessProbe: { httpGet: { path: '/', port: 8080 } },
        resources: { limits: { memory: '128Mi' } },
      },
    ],
    ...overrides,
  });

  function warningsOf(...objects: Record<string, unknown>[]): ReleaseWarning[] {
    const rendered: RenderedObject[] = objects.map(object => ({
      source: 'test',
      object,
    }));
    return analyzeRelease({
      objects: rendered,
      boundary,
      releaseNamespace: 'team-a',
      discovery,
    }).warnings;
  }

  const deployment = (spec: Record<string, unknown>) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec,
  });
  const codes = (warnings: ReleaseWarning[]) =>
    warnings.map(warning => warning.code);

  it('is silent for a careful workload', () => {
    expect(warningsOf(deployment({ template: { spec: podSpec() } }))).toEqual(
      [],
    );
  });

  it('names the object and container', () => {
    expect(
      warningsOf(
        deployment({
          template: {
            spec: podSpec({
              containers: [{ name: 'web', image: 'nginx:1.27' }],
            }),
          },
        }),
      ),
    ).toEqual([
      {
        object: 'apps/v1 Deployment team-a/web',
        code: 'no-readiness-probe',
        message: expect.stringContaining(
          'container "web" has no readinessProbe',
        ),
      },
      {
        object: 'apps/v1 Deployment team-a/web',
        code: 'no-resource-limits',
        message: expect.stringContaining(
          'container "web" sets no resource limits',
        ),
      },
    ]);
  });

  it.each([
    [undefined, 1, []],
    ['25%', 1, []],
    ['99%', 1, []],
    ['100%', 1, ['max-unavailable']],
    [1, 1, ['max-unavailable']],
    [0, 1, []],
    [1, 2, []],
    ['50%', 2, []],
    [2, 2, ['max-unavailable']],
  ])(
    'maxUnavailable %p with %p replicas warns %p',
    (maxUnavailable, replicas, expected) => {
      expect(
        codes(
          warningsOf(
            deployment({
              replicas,
              strategy:
                maxUnavailable === undefined
                  ? undefined
                  : { rollingUpdate: { maxUnavailable } },
              template: { spec: podSpec() },
            }),
          ),
        ),
      ).toEqual(expected);
    },
  );

  it('takes an absent replica count as one, and ignores Recreate', () => {
    const strategy = { rollingUpdate: { maxUnavailable: 1 } };
    expect(
      codes(
        warningsOf(deployment({ strategy, template: { spec: podSpec() } })),
      ),
    ).toEqual(['max-unavailable']);
    expect(
      codes(
        warningsOf(
          deployment({
            strategy: { type: 'Recreate' },
            template: { spec: podSpec() },
          }),
        ),
      ),
    ).toEqual([]);
  });

  it.each([
    ['nginx', ['image-tag-missing']],
    ['nginx:latest', ['image-tag-latest']],
    ['localhost:5000/nginx', ['image-tag-missing']],
    ['localhost:5000/nginx:1.27', []],
    ['nginx:latest@sha256:0123456789abcdef', []],
  ])('image %s warns %p', (image, expected) => {
    expect(
      codes(
        warningsOf(
          deployment({
            template: {
              spec: podSpec({
                containers: [{ ...podSpec().containers[0], image }],
              }),
            },
          }),
        ),
      ),
    ).toEqual(expected);
  });

  it.each([
    [{}, {}, ['may-run-as-root']],
    [{ runAsNonRoot: true }, {}, []],
    [{}, { runAsNonRoot: true }, []],
    [{ runAsUser: 1000 }, {}, []],
    [{ runAsNonRoot: true }, { runAsNonRoot: false }, ['may-run-as-root']],
    [{ runAsNonRoot: true }, { runAsUser: 0 }, ['may-run-as-root']],
    [{ runAsUser: 1000 }, { runAsUser: 0 }, ['may-run-as-root']],
  ])(
    'pod security %p and container security %p warn %p',
    (pod, container, expected) => {
      expect(
        codes(
          warningsOf(
            deployment({
              template: {
                spec: podSpec({
                  securityContext: pod,
                  containers: [
                    { ...podSpec().containers[0], securityContext: container },
                  ],
                }),
              },
            }),
          ),
        ),
      ).toEqual(expected);
    },
  );

  it('says plainly when a container runs as root', () => {
    const [warning] = warningsOf(
      deployment({
        template: {
          spec: podSpec({ securityContext: { runAsUser: 0 } }),
        },
      }),
    );
    expect(warning.message).toBe('container "web" runs as root (runAsUser: 0)');
  });

  it('flags privileged containers, init containers included, and host access', () => {
    expect(
      warningsOf(
        deployment({
          template: {
            spec: podSpec({
              hostNetwork: true,
              hostPID: true,
              hostIPC: true,
              volumes: [
                { name: 'docker', hostPath: { path: '/var/run/docker.sock' } },
                { name: 'scratch', emptyDir: {} },
              ],
              initContainers: [
                {
                  name: 'setup',
                  image: 'busybox:1.36',
                  securityContext: { privileged: true },
                },
              ],
            }),
          },
        }),
      ).map(({ code, message }) => [code, message]),
    ).toEqual([
      [
        'privileged',
        'container "setup" runs privileged: it has full access to its node',
      ],
      [
        'host-path',
        'volume "docker" mounts "/var/run/docker.sock" from the node\'s file system (hostPath)',
      ],
      ['host-network', expect.stringContaining('hostNetwork')],
      ['host-pid', expect.stringContaining('hostPID')],
      ['host-ipc', expect.stringContaining('hostIPC')],
    ]);
  });

  it('finds pod templates in every workload kind', () => {
    const bare = { containers: [{ name: 'c', image: 'app' }] };
    const template = { template: { spec: bare } };
    const objects = [
      { apiVersion: 'apps/v1', kind: 'Deployment', spec: template },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', spec: template },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', spec: template },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', spec: template },
      { apiVersion: 'v1', kind: 'ReplicationController', spec: template },
      { apiVersion: 'v1', kind: 'Pod', spec: bare },
      { apiVersion: 'batch/v1', kind: 'Job', spec: template },
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        spec: { jobTemplate: { spec: template } },
      },
    ].map((object, index) => ({ ...object, metadata: { name: `w${index}` } }));
    const byObject = new Map<string, string[]>();
    for (const warning of warningsOf(...objects)) {
      byObject.set(warning.object, [
        ...(byObject.get(warning.object) ?? []),
        warning.code,
      ]);
    }
    const longRunning = [
      'no-readiness-probe',
      'no-resource-limits',
      'image-tag-missing',
      'may-run-as-root',
    ];
    // Batch pods finish; a readiness probe means nothing for them.
    const batch = [
      'no-resource-limits',
      'image-tag-missing',
      'may-run-as-root',
    ];
    expect(Object.fromEntries(byObject)).toEqual({
      'apps/v1 Deployment team-a/w0': longRunning,
      'apps/v1 StatefulSet team-a/w1': longRunning,
      'apps/v1 DaemonSet team-a/w2': longRunning,
      'apps/v1 ReplicaSet team-a/w3': longRunning,
      'v1 ReplicationController team-a/w4': longRunning,
      'v1 Pod team-a/w5': longRunning,
      'batch/v1 Job team-a/w6': batch,
      'batch/v1 CronJob team-a/w7': batch,
    });
  });

  it('ignores kinds without pods and malformed objects', () => {
    expect(
      warningsOf(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } },
        { apiVersion: 'apps/v1', kind: 'Deployment', spec: 'nonsense' },
        { apiVersion: 'example.com/v1', kind: 'Deployment', spec: {} },
      ),
    ).toEqual([]);
  });
});
