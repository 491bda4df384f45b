/*
 * Runs against the real local cluster (scripts/stack): hello installed with
 * an API token (a Secret), read as the namespace-limited deployer.
 */
import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ManifestObject } from '../targets/namespaceBoundary';
import { adminAccess, limitedAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { ClusterConnection } from './ClusterConnection';
import { HIDDEN_VALUE, readReleaseObject } from './ReleaseObjectDetail';
import { getReleaseResources } from './ReleaseResources';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const suffix = randomBytes(3).toString('hex');
const namespace = stack.limitedNamespace;
const release = `t-objd-${suffix}`;
const TOKEN = `objd-token-${suffix}-Kp3`;
const admin = ClusterConnection.fromAccess(adminAccess(stack));
const deployer = ClusterConnection.fromAccess(limitedAccess(stack));
const stranger = `t-objd-other-${suffix}`;
const chart = [
  `oci://${stack.registry}/charts/hello`,
  '--version',
  '0.1.0',
  '--plain-http',
  '--set-string',
  `apiToken=${TOKEN}`,
  // The chart copies the greeting into its ConfigMap: a copied secret.
  '--set-string',
  `greeting=hello ${TOKEN}`,
];

describe('readReleaseObject', () => {
  let objects: ManifestObject[];
  const read = (query: { kind: string; name: string }) =>
    readReleaseObject({
      connection: deployer,
      namespace,
      releaseName: release,
      objects,
      query,
    });

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
    await runHelm(
      [
        'install',
        release,
        ...chart,
        '-n',
        namespace,
        '--wait=watcher',
        '--timeout',
        '60s',
      ],
      { kubeconfig: stack.adminKubeconfigPath },
    );
    const core = admin.makeApiClient(CoreV1Api);
    // As `kubectl apply` leaves it: the whole Secret in an annotation.
    await core.patchNamespacedSecret(
      {
        name: release,
        namespace,
        body: {
          metadata: {
            annotations: {
              'kubectl.kubernetes.io/last-applied-configuration':
                JSON.stringify({
                  apiVersion: 'v1',
                  kind: 'Secret',
                  metadata: { name: release },
                  stringData: { apiToken: TOKEN },
                }),
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: stranger }, data: { a: 'b' } },
    });
  });

  afterAll(async () => {
    await runHelm(['uninstall', release, '-n', namespace], {
      kubeconfig: stack.adminKubeconfigPath,
    }).catch(() => undefined);
    await admin
      .makeApiClient(CoreV1Api)
      .deleteNamespacedConfigMap({ name: stranger, namespace })
      .catch(() => undefined);
  });

  it('shows a Secret with every value hidden, also in its last-applied annotation, and no managedFields', async () => {
    const secret = await read({ kind: 'Secret', name: release });
    const shown = parseYaml(secret.yaml);
    expect(shown.data).toEqual({ apiToken: HIDDEN_VALUE });
    expect(shown.metadata.managedFields).toBeUndefined();
    expect(
      JSON.parse(
        shown.metadata.annotations[
          'kubectl.kubernetes.io/last-applied-configuration'
        ],
      ).stringData,
    ).toEqual({ apiToken: HIDDEN_VALUE });
    expect(JSON.stringify(secret)).not.toContain(TOKEN);
    expect(JSON.stringify(secret)).not.toContain(
      Buffer.from(TOKEN).toString('base64'),
    );
  });

  it('redacts a Secret value the chart copied into another object', async () => {
    const configMap = await read({ kind: 'ConfigMap', name: release });
    expect(configMap.yaml).toContain('hello [redacted]');
    expect(configMap.yaml).not.toContain(TOKEN);
  });

  it('shows a Deployment with its conditions; its ReplicaSet and pod through their owners', async () => {
    const deployment = await read({ kind: 'Deployment', name: release });
    expect(parseYaml(deployment.yaml)).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: release, namespace },
    });
    expect(deployment.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Available', status: 'True' }),
      ]),
    );

    const resources = await getReleaseResources({
      connection: deployer,
      namespace,
      releaseName: release,
      objects,
    });
    expect(resources.replicaSets).toEqual([
      expect.objectContaining({
        owner: `Deployment/${release}`,
        revision: 1,
        replicas: expect.objectContaining({ desired: 1, ready: 1 }),
      }),
    ]);
    const [replicaSet] = resources.replicaSets;
    expect(resources.pods).toEqual([
      expect.objectContaining({ owners: [`ReplicaSet/${replicaSet.name}`] }),
    ]);

    const rs = await read({ kind: 'ReplicaSet', name: replicaSet.name });
    expect(rs.owners).toEqual([`Deployment/${release}`]);
    const pod = await read({ kind: 'Pod', name: resources.pods[0].name });
    expect(pod.owners).toEqual([`ReplicaSet/${replicaSet.name}`]);
    expect(pod.events.length).toBeGreaterThan(0);
    expect(parseYaml(pod.yaml).status.phase).toBe('Running');
  });

  it('answers not found for anything that is not the release’s', async () => {
    const otherReplicaSets = await admin
      .makeApiClient(AppsV1Api)
      .listNamespacedReplicaSet({ namespace });
    const foreign = otherReplicaSets.items.find(
      rs => !rs.metadata?.name?.startsWith(release),
    );
    const queries = [
      { kind: 'ConfigMap', name: stranger },
      { kind: 'Secret', name: 'deployer-token' },
      { kind: 'Pod', name: 'kube-apiserver' },
      { kind: 'Namespace', name: namespace },
      ...(foreign
        ? [{ kind: 'ReplicaSet', name: foreign.metadata!.name! }]
        : []),
    ];
    for (const query of queries) {
      await expect(read(query)).rejects.toMatchObject({
        name: 'NotFoundError',
      });
    }
    await expect(read({ kind: 'Secret', name: '../x' })).rejects.toMatchObject({
      name: 'InputError',
    });
  });
});
