/*
 * Runs against the real local cluster (scripts/stack), whose KWOK pods serve
 * the same current and previous log lines for every container.
 */
import {
  CoreV1Api,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ManifestObject } from '../targets/namespaceBoundary';
import { adminAccess, limitedAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { ClusterConnection } from './ClusterConnection';
import { LogStreamLimiter } from './LogStreamLimiter';
import { followLogs, listPods, readLogs } from './PodLogs';

jest.setTimeout(180_000);

const execFileAsync = promisify(execFile);
const stack = requireLocalStack();
const suffix = randomBytes(3).toString('hex');
const namespace = stack.limitedNamespace;
const release = `t-cllog-${suffix}`;
const strayPod = `t-cllog-stray-${suffix}`;
const otherNamespacePod = `t-cllog-other-${suffix}`;
/** May read pods and deployments in the namespace, but not logs. */
const noLogsRole = `t-cllog-nologs-${suffix}`;
const admin = { kubeconfig: stack.adminKubeconfigPath };
const adminCore = () =>
  ClusterConnection.fromAccess(adminAccess(stack)).makeApiClient(CoreV1Api);
const adminRbac = () =>
  ClusterConnection.fromAccess(adminAccess(stack)).makeApiClient(
    RbacAuthorizationV1Api,
  );

async function kubectlLogs(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    'kubectl',
    [
      '--kubeconfig',
      stack.adminKubeconfigPath,
      'logs',
      '-n',
      namespace,
      ...args,
    ],
    { env: { PATH: process.env.PATH, HOME: tmpdir() }, timeout: 30_000 },
  );
  return stdout;
}

function barePod(name: string, podNamespace: string) {
  return {
    namespace: podNamespace,
    body: {
      metadata: { name, labels: { app: 'stray' } },
      spec: { containers: [{ name: 'web', image: 'nginx' }] },
    },
  };
}

/** Resolves with the first chunk the stream yields. */
/** What the stream delivers until it holds `text`: lines may arrive in one chunk or several. */
function textUntil(stream: Readable, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (received.includes(text)) {
        stream.off('data', onData);
        resolve(received);
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

/** Fails instead of hanging when something that should happen does not. */
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

/** Captures the requests this process starts to the pod log endpoint. */
function watchLogRequests(): { requests: ClientRequest[]; stop: () => void } {
  const requests: ClientRequest[] = [];
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    if (request.path.includes('/log?')) {
      requests.push(request);
    }
  };
  subscribe('http.client.request.start', onStart);
  return {
    requests,
    stop: () => unsubscribe('http.client.request.start', onStart),
  };
}

describe('pod logs', () => {
  const connection = ClusterConnection.fromAccess(limitedAccess(stack));
  let objects: ManifestObject[];
  let pod: string;

  beforeAll(async () => {
    await runHelm(
      [
        'upgrade',
        '--install',
        release,
        `oci://${stack.registry}/charts/hello`,
        '--version',
        '0.1.0',
        '-n',
        namespace,
        '--wait=watcher',
        '--timeout',
        '120s',
        '--plain-http',
      ],
      admin,
    );
    const { stdout } = await runHelm(
      ['get', 'manifest', release, '-n', namespace],
      admin,
    );
    objects = parseAllDocuments(stdout)
      .map(document => document.toJS() as ManifestObject | null)
      .filter((object): object is ManifestObject => Boolean(object?.kind));
    const core = adminCore();
    const rbac = adminRbac();
    await Promise.all([
      core.createNamespacedPod(barePod(strayPod, namespace)),
      core.createNamespacedPod(barePod(otherNamespacePod, 'team-b')),
      rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name: noLogsRole },
          rules: [
            { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
            { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
          ],
        },
      }),
      rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: noLogsRole },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'Role',
            name: noLogsRole,
          },
          subjects: [
            {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'User',
              name: noLogsRole,
            },
          ],
        },
      }),
    ]);
    const pods = await listPods(connection, namespace, release, objects);
    pod = pods[0].name;
  });

  afterAll(async () => {
    const core = adminCore();
    const rbac = adminRbac();
    await Promise.all([
      runHelm(['uninstall', release, '-n', namespace], admin).catch(
        () => undefined,
      ),
      rbac
        .deleteNamespacedRole({ name: noLogsRole, namespace })
        .catch(() => undefined),
      rbac
        .deleteNamespacedRoleBinding({ name: noLogsRole, namespace })
        .catch(() => undefined),
      core
        .deleteNamespacedPod({
          name: strayPod,
          namespace,
          gracePeriodSeconds: 0,
        })
        .catch(() => undefined),
      core
        .deleteNamespacedPod({
          name: otherNamespacePod,
          namespace: 'team-b',
          gracePeriodSeconds: 0,
        })
        .catch(() => undefined),
    ]);
  });

  it('lists the release pods with their containers and previous instances', async () => {
    const before = await listPods(connection, namespace, release, objects);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({
      name: pod,
      namespace,
      phase: 'Running',
      ready: true,
      containers: [
        { name: 'web', init: false, restartCount: 0, hasPrevious: false },
      ],
    });

    // KWOK never restarts a container, so record one the way the kubelet would.
    await adminCore().patchNamespacedPodStatus(
      {
        name: pod,
        namespace,
        body: [
          {
            op: 'replace',
            path: '/status/containerStatuses/0/restartCount',
            value: 1,
          },
        ],
      },
      setHeaderOptions('Content-Type', 'application/json-patch+json'),
    );
    const after = await listPods(connection, namespace, release, objects);
    expect(after[0]).toMatchObject({
      restarts: 1,
      containers: [{ name: 'web', restartCount: 1, hasPrevious: true }],
    });
  });

  it('reads current and previous logs as kubectl shows them', async () => {
    const scope = { connection, namespace, releaseName: release, objects };
    const current = await readLogs({ ...scope, pod, container: 'web' });
    expect(current).toBe(await kubectlLogs([pod, '-c', 'web']));
    expect(current).toContain('msg="request served"');
    expect(current.trim().split('\n')).toHaveLength(41);

    const tail = await readLogs({
      ...scope,
      pod,
      container: 'web',
      tailLines: 2,
    });
    expect(tail).toBe(await kubectlLogs([pod, '--tail', '2']));
    expect(tail).toContain('slow upstream');

    const previous = await readLogs({
      ...scope,
      pod,
      container: 'web',
      previous: true,
    });
    expect(previous).toBe(await kubectlLogs([pod, '--previous']));
    expect(previous).toContain('out of memory');

    const capped = await readLogs({
      ...scope,
      pod,
      container: 'web',
      tailLines: 'all',
      limitBytes: 100,
    });
    expect(Buffer.byteLength(capped)).toBe(100);
    expect(capped).toBe(
      await kubectlLogs([pod, '--tail=-1', '--limit-bytes=100']),
    );

    // Logs older than the window are left out.
    const recent = await readLogs({
      ...scope,
      pod,
      container: 'web',
      sinceSeconds: 1,
    });
    expect(recent).toBe(await kubectlLogs([pod, '--since=1s']));
  });

  it('reads and follows with timestamps, as kubectl --timestamps shows them', async () => {
    const scope = { connection, namespace, releaseName: release, objects };
    const timed = await readLogs({
      ...scope,
      pod,
      container: 'web',
      tailLines: 2,
      timestamps: true,
    });
    expect(timed).toBe(await kubectlLogs([pod, '--tail', '2', '--timestamps']));
    for (const line of timed.trim().split('\n')) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /);
    }
    const controller = new AbortController();
    const stream = await followLogs({
      ...scope,
      pod,
      container: 'web',
      tailLines: 1,
      timestamps: true,
      signal: controller.signal,
    });
    const first = await new Promise<string>((resolve, reject) => {
      stream.once('data', chunk => resolve(String(chunk)));
      stream.once('error', reject);
    });
    controller.abort();
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT[^ ]+Z .*slow upstream/);
  });

  it('refuses invalid options', async () => {
    const scope = { connection, namespace, releaseName: release, objects };
    for (const options of [
      { tailLines: 'all' as const },
      { tailLines: 0 },
      { tailLines: 10_001 },
      { tailLines: 1.5 },
      { limitBytes: 17 * 1024 * 1024 },
      { sinceSeconds: -1 },
    ]) {
      await expect(
        readLogs({ ...scope, pod, container: 'web', ...options }),
      ).rejects.toMatchObject({ name: 'InputError' });
    }
    for (const [podName, container] of [
      [`team-b/${otherNamespacePod}`, 'web'],
      [`../${pod}`, 'web'],
      [pod, 'web/../x'],
    ]) {
      await expect(
        readLogs({ ...scope, pod: podName, container }),
      ).rejects.toMatchObject({ name: 'InputError' });
    }
  });

  it('refuses pods outside the release or its namespace, even to the admin', async () => {
    const scope = {
      connection: ClusterConnection.fromAccess(adminAccess(stack)),
      namespace,
      releaseName: release,
      objects,
    };
    // Pods that exist and that the admin could read, but are not the release's.
    for (const request of [
      { ...scope, pod: otherNamespacePod },
      { ...scope, namespace: 'team-b', pod: otherNamespacePod },
      { ...scope, pod: strayPod },
      { ...scope, pod: `t-cllog-missing-${suffix}` },
    ]) {
      await expect(
        readLogs({ ...request, container: 'web' }),
      ).rejects.toMatchObject({
        name: 'NotFoundError',
        message: expect.stringContaining('is not part of release'),
      });
      const controller = new AbortController();
      await expect(
        followLogs({ ...request, container: 'web', signal: controller.signal }),
      ).rejects.toMatchObject({ name: 'NotFoundError' });
    }
    await expect(
      readLogs({ ...scope, pod, container: 'sidecar' }),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      message: `pod ${pod} has no container sidecar`,
    });
  });

  it('passes on a refusal by the API server to read logs (403)', async () => {
    // The admin impersonating a user who may see the pod but not its logs.
    const scope = {
      connection: ClusterConnection.fromAccess({
        ...adminAccess(stack),
        impersonate: { user: noLogsRole },
      }),
      namespace,
      releaseName: release,
      objects,
      pod,
      container: 'web',
    };
    const refusal = {
      name: 'ClusterRequestError',
      kind: 'forbidden',
      statusCode: 403,
      message: expect.stringMatching(/refused the request \(403\).*pods\/log/),
    };
    await expect(readLogs(scope)).rejects.toMatchObject(refusal);
    await expect(
      followLogs({ ...scope, signal: new AbortController().signal }),
    ).rejects.toMatchObject(refusal);
  });

  it('follows a log and closes the request to the API server on abort', async () => {
    const watcher = watchLogRequests();
    const controller = new AbortController();
    let stream: Readable;
    try {
      stream = await followLogs({
        connection,
        namespace,
        releaseName: release,
        objects,
        pod,
        container: 'web',
        tailLines: 2,
        signal: controller.signal,
      });
    } finally {
      watcher.stop();
    }
    expect(
      await within(textUntil(stream, 'slow upstream'), 'the last line'),
    ).toContain('slow upstream');
    expect(watcher.requests).toHaveLength(1);
    const [upstream] = watcher.requests;
    expect(upstream.path).toContain('follow=true');
    expect(upstream.socket?.destroyed).toBe(false);

    const late: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => late.push(chunk));
    const ended = new Promise<void>(resolve => stream.once('end', resolve));
    controller.abort();
    await within(ended, 'the stream ends after abort');
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(upstream.destroyed).toBe(true);
    expect(upstream.socket === null || upstream.socket.destroyed).toBe(true);
    expect(late).toEqual([]);
  });

  it('closes the request when the consumer stops reading', async () => {
    const watcher = watchLogRequests();
    const controller = new AbortController();
    const stream = await followLogs({
      connection,
      namespace,
      releaseName: release,
      objects,
      pod,
      container: 'web',
      tailLines: 1,
      signal: controller.signal,
    }).finally(() => watcher.stop());

    const chunks: string[] = [];
    for await (const chunk of stream) {
      chunks.push(String(chunk));
      break; // Destroys the stream, as a closed HTTP response would.
    }
    expect(chunks.join('')).toContain('slow upstream');
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(watcher.requests[0].destroyed).toBe(true);
    controller.abort();
  });

  it('follows at most five logs per user at once and frees a slot on release', async () => {
    const limiter = LogStreamLimiter.create({ maxPerUser: 5 });
    const user = 'user:default/alice';
    const open: Array<{ stream: Readable; controller: AbortController }> = [];
    try {
      for (let i = 0; i < 5; i++) {
        const releaseSlot = limiter.acquire(user);
        const controller = new AbortController();
        const stream = await followLogs({
          connection,
          namespace,
          releaseName: release,
          objects,
          pod,
          container: 'web',
          tailLines: 1,
          signal: controller.signal,
        });
        stream.on('close', releaseSlot);
        open.push({ stream, controller });
        expect(
          await within(textUntil(stream, 'slow upstream'), 'the last line'),
        ).toContain('slow upstream');
      }
      expect(() => limiter.acquire(user)).toThrow(
        expect.objectContaining({
          name: 'TooManyLogStreamsError',
          statusCode: 429,
        }),
      );
      expect(limiter.activeStreams(user)).toBe(5);

      // Aborting one stream (the client went away) frees its slot.
      const first = open.shift()!;
      const closed = new Promise(resolve =>
        first.stream.once('close', resolve),
      );
      first.controller.abort();
      await within(closed, 'the aborted stream closes');
      expect(limiter.activeStreams(user)).toBe(4);
      const again = limiter.acquire(user);
      again();
    } finally {
      for (const { controller } of open) {
        controller.abort();
      }
    }
  });
});
