/*
 * Runs against the real local cluster (scripts/stack): hello installed with
 * helm, its pod made to crash as a kubelet reports it, read as the
 * namespace-limited deployer.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { ManifestObject } from '../targets/namespaceBoundary';
import { adminAccess, limitedAccess } from '../__testUtils__/clusterAccess';
import { makePodCrashLoop } from '../__testUtils__/failingPods';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { ClusterConnection } from './ClusterConnection';
import {
  DIAGNOSIS_LIMITS,
  LogTailCache,
  readRolloutDiagnosis,
  showsProblems,
} from './RolloutDiagnosis';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const suffix = randomBytes(3).toString('hex');
const namespace = stack.limitedNamespace;
const release = `t-diag-${suffix}`;
const admin = ClusterConnection.fromAccess(adminAccess(stack));
const deployer = ClusterConnection.fromAccess(limitedAccess(stack));
// KWOK's containers all log the stack's fixture lines; the previous
// instance ends with 'level=error msg="out of memory, exiting" code=137'.
// The release's Secret holds part of that line: it must not be shown.
const SECRET_IN_LOG = 'out of memory';
const chart = [
  `oci://${stack.registry}/charts/hello`,
  '--version',
  '0.1.0',
  '--plain-http',
  '--set-string',
  `apiToken=${SECRET_IN_LOG}`,
];

describe('readRolloutDiagnosis', () => {
  let objects: ManifestObject[];
  let pod: { name: string; uid?: string };

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
    const pods = await admin.makeApiClient(CoreV1Api).listNamespacedPod({
      namespace,
      labelSelector: `app.kubernetes.io/instance=${release}`,
    });
    const [first] = pods.items;
    if (!first?.metadata?.name) throw new Error('hello has no pod');
    pod = { name: first.metadata.name, uid: first.metadata.uid };
  });

  afterAll(async () => {
    await runHelm(['uninstall', release, '-n', namespace], {
      kubeconfig: stack.adminKubeconfigPath,
    }).catch(() => undefined);
  });

  it('shows a healthy release as healthy, without logs', async () => {
    const diagnosis = await readRolloutDiagnosis({
      connection: deployer,
      namespace,
      releaseName: release,
      objects,
    });
    expect(diagnosis.pods).toEqual([
      expect.objectContaining({
        name: pod.name,
        phase: 'Running',
        ready: true,
        healthy: true,
      }),
    ]);
    expect(diagnosis.logs).toEqual([]);
    expect(showsProblems(diagnosis)).toBe(false);
  });

  it('shows a crashing container: its state, the BackOff event and its previous logs, the release Secret redacted', async () => {
    await makePodCrashLoop(admin, namespace, { ...pod, container: 'web' });
    const cache: LogTailCache = new Map();
    const diagnosis = await readRolloutDiagnosis({
      connection: deployer,
      namespace,
      releaseName: release,
      objects,
      logCache: cache,
      since: new Date(Date.now() - 60_000),
    });

    expect(diagnosis.pods).toEqual([
      {
        name: pod.name,
        phase: 'Running',
        ready: false,
        restarts: 4,
        healthy: false,
        health: 'container web: CrashLoopBackOff',
        containers: [
          {
            name: 'web',
            init: false,
            ready: false,
            restartCount: 4,
            state: 'waiting',
            reason: 'CrashLoopBackOff',
            message: expect.stringContaining('back-off'),
            lastTermination: 'OOMKilled (exit code 137)',
          },
        ],
      },
    ]);
    // Event times have whole seconds: the BackOff is among the newest.
    expect(diagnosis.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          object: `Pod/${pod.name}`,
          type: 'Warning',
          reason: 'BackOff',
          count: 4,
        }),
      ]),
    );
    expect(diagnosis.logs).toEqual([
      {
        pod: pod.name,
        container: 'web',
        previous: true,
        lines: [
          'level=info msg="starting" version=previous',
          'level=error msg="[redacted], exiting" code=137',
        ],
        truncated: false,
      },
    ]);
    expect(JSON.stringify(diagnosis)).not.toContain(SECRET_IN_LOG);
    expect(diagnosis.warnings).toEqual([]);
    expect(showsProblems(diagnosis)).toBe(true);
    // A crash's log does not change: the next picture reuses it.
    expect([...cache.keys()]).toEqual([`${pod.name}/web/4/true`]);
  });

  it('leaves out events from before `since`, and keeps within its bounds', async () => {
    const diagnosis = await readRolloutDiagnosis({
      connection: deployer,
      namespace,
      releaseName: release,
      objects,
      since: new Date(Date.now() + 60_000),
    });
    expect(diagnosis.events).toEqual([]);
    expect(diagnosis.pods.length).toBeLessThanOrEqual(DIAGNOSIS_LIMITS.pods);
  });
});
