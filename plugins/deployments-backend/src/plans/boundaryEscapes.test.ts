/*
 * The namespace boundary against charts written to walk around it, through
 * the HTTP API against the local stack (real kube-apiserver, helm, OCI
 * registry, PostgreSQL). Every escape is first shown to be real (Go's YAML
 * reading, which helm and the API server use, sees the other namespace or
 * kind); then the dry-run, or where a chart can look harmless at the
 * dry-run the apply, must refuse it; and the cluster, listed with the admin
 * kubeconfig afterwards, must hold nothing outside the release namespace.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  API,
  TestServer as Server,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const execFileAsync = promisify(execFile);
const stack = requireLocalStack();
const databases = createTestDatabases();
const ENTITY = 'component:default/escapes';
const CHARTS = resolve(__dirname, '../../../../examples/charts');
const suffix = randomBytes(3).toString('hex');
const installed: string[] = [];

async function kubectl(args: string[], input?: string): Promise<string> {
  const child = execFileAsync('kubectl', [
    `--kubeconfig=${stack.adminKubeconfigPath}`,
    ...args,
  ]);
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  return (await child).stdout;
}

/** Every ConfigMap outside team-a, and every ClusterRoleBinding, whose name carries this run's suffix. */
async function leftovers(): Promise<string[]> {
  const configMaps = JSON.parse(
    await kubectl(['get', 'configmaps', '--all-namespaces', '-o', 'json']),
  ).items as Array<{ metadata: { name: string; namespace: string } }>;
  const bindings = JSON.parse(
    await kubectl(['get', 'clusterrolebindings', '-o', 'json']),
  ).items as Array<{ metadata: { name: string } }>;
  return [
    ...configMaps
      .filter(
        c =>
          c.metadata.name.includes(suffix) && c.metadata.namespace !== 'team-a',
      )
      .map(c => `ConfigMap ${c.metadata.namespace}/${c.metadata.name}`),
    ...bindings
      .filter(b => b.metadata.name.includes(suffix))
      .map(b => `ClusterRoleBinding ${b.metadata.name}`),
  ];
}

/** How Go's YAML (kubectl's client-side reading, as helm's) reads what the chart renders. */
/** Removes the ConfigMap that flips escape-flip, so later tests see the harmless chart. */
async function unflip(): Promise<void> {
  await kubectl([
    'delete',
    'configmap',
    'flip',
    '-n',
    'team-a',
    '--ignore-not-found',
  ]);
}

async function goReading(chart: string, values: string[]): Promise<string> {
  const { stdout } = await runHelm([
    'template',
    `t-go-${suffix}`,
    resolve(CHARTS, chart),
    '--namespace=team-a',
    ...values.flatMap(v => ['--set', v]),
  ]);
  return kubectl(
    [
      'create',
      '--dry-run=client',
      '-o',
      'go-template={{if .items}}{{range .items}}{{.kind}} {{.metadata.namespace}}/{{.metadata.name}};{{end}}{{else}}{{.kind}} {{.metadata.namespace}}/{{.metadata.name}}{{end}}',
      '-f',
      '-',
    ],
    stdout,
  );
}

async function waitFor(server: Server, operationId: string) {
  for (let i = 0; i < 600; i++) {
    const response = await request(server).get(
      `${API}/operations/${operationId}`,
    );
    if (response.body.status !== 'running') return response.body;
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

async function run(server: Server, planId: string, step: string) {
  const started = await request(server)
    .post(`${API}/plans/${planId}/${step}`)
    .send({});
  expect({ step, status: started.status, body: started.body }).toMatchObject({
    status: 202,
  });
  return waitFor(server, started.body.id);
}

/**
 * Rewrites one stored revision of a release the way anyone who may write
 * Secrets in the release namespace can: helm keeps it there as
 * base64(gzip(JSON)), inside the Secret's base64 data.
 */
async function forgeRevision(
  release: string,
  revision: number,
  edit: (manifest: string) => string,
): Promise<void> {
  const name = `sh.helm.release.v1.${release}.v${revision}`;
  const secret = JSON.parse(
    await kubectl(['get', 'secret', name, '-n', 'team-a', '-o', 'json']),
  );
  const record = JSON.parse(
    gunzipSync(
      Buffer.from(
        Buffer.from(secret.data.release, 'base64').toString(),
        'base64',
      ),
    ).toString(),
  );
  record.manifest = edit(record.manifest);
  const data = Buffer.from(
    gzipSync(Buffer.from(JSON.stringify(record))).toString('base64'),
  ).toString('base64');
  await kubectl([
    'patch',
    'secret',
    name,
    '-n',
    'team-a',
    '--type=merge',
    `--patch=${JSON.stringify({ data: { release: data } })}`,
  ]);
}

describe('the boundary holds for what helm sends (POSTGRES)', () => {
  let server: Server;
  const charts: Record<string, string> = {};

  async function plan(
    chart: string,
    values: Record<string, unknown>,
    name: string,
    options: { runTests?: boolean } = {},
  ): Promise<string> {
    const releaseName = `t-${name}-${suffix}`;
    installed.push(releaseName);
    let profileId: string | undefined;
    if (Object.keys(values).length > 0) {
      const profile = await request(server)
        .post(`${API}/profiles`)
        .send({ chartId: charts[chart], name: releaseName, values });
      expect(profile.status).toBe(201);
      profileId = profile.body.id;
    }
    const created = await request(server)
      .post(`${API}/plans`)
      .send({
        entityRef: ENTITY,
        chartId: charts[chart],
        target: 'local',
        namespace: 'team-a',
        releaseName,
        ...(profileId && { profileId }),
        options: { timeoutSeconds: 60, ...options },
      });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  beforeAll(async () => {
    const knex = await databases.init(databases.eachSupportedId()[0][0]);
    ({ server } = await startTestBackend({
      features: [
        deploymentsPlugin,
        mockServices.database.factory({ knex }),
        mockServices.rootConfig.factory({
          data: {
            deployments: {
              registries: { allowLoopback: true },
              operations: { heartbeatSeconds: 1 },
            },
          },
        }),
        catalogServiceMock.factory({
          entities: [
            {
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: { name: 'escapes', namespace: 'default' },
              spec: { type: 'service', lifecycle: 'test', owner: 'team' },
            },
          ],
        }),
      ],
    }));
    await request(server)
      .post(`${API}/keyring/bootstrap`)
      .send({ passphrase: 'Boundary holds for real 2026!' })
      .expect(201);
    // The admin credential: only the boundary stands between a chart and the cluster.
    await request(server)
      .post(`${API}/targets`)
      .send({
        name: 'local',
        allowedNamespaces: ['team-a', 'team-b'],
        credentials: {
          authKind: 'kubeconfig',
          kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
        },
      })
      .expect(201);
    for (const name of ['escape-yaml', 'escape-flip', 'escape-lookup']) {
      const chart = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/charts/${name}`,
          version: '0.1.0',
        });
      if (chart.status !== 201) {
        throw new Error(`registering ${name}: ${chart.status}`);
      }
      charts[name] = chart.body.id;
    }
  });

  afterAll(async () => {
    for (const release of installed) {
      await runHelm(
        ['uninstall', release, '-n', 'team-a', '--ignore-not-found'],
        { kubeconfig: stack.adminKubeconfigPath },
      ).catch(() => undefined);
    }
    await unflip().catch(() => undefined);
  });

  // helm 4 re-reads templates with Go's YAML before its post-renderer, so a
  // hidden line arrives as a real one: the guard then names the object helm
  // would have sent. helm 3 hands the text over as rendered: refused as such.
  const HIDDEN =
    /U\+(2028|000D) at line|ConfigMap team-b\/t-[a-z]+-[0-9a-f]+-(hidden|ghost|cr)/;
  it.each([
    ['merge-namespace', /ConfigMap team-b\//, /merge key/],
    ['merge-kind', /ClusterRoleBinding /, /merge key/],
    ['hidden-line', /ConfigMap team-b\//, HIDDEN],
    ['hidden-document', /ConfigMap team-b\//, HIDDEN],
    ['lone-cr', /ConfigMap team-b\//, HIDDEN],
    ['escaped-break', /ConfigMap default\/t-go/, /string with U\+2028/],
  ])(
    'refuses the %s YAML trick at the dry-run, naming why',
    async (attack, goSees, reason) => {
      // The trick is real: Go's reading puts the object elsewhere (or makes it another kind).
      expect(
        await goReading('escape-yaml', [
          `attack=${attack}`,
          `otherNamespace=team-b`,
        ]),
      ).toMatch(goSees);

      const planId = await plan(
        'escape-yaml',
        { attack },
        attack.replace(/[^a-z]/g, '').slice(0, 12),
      );
      const dryRun = await run(server, planId, 'dry-run');
      expect(dryRun.status).toBe('failed');
      expect(dryRun.error).toMatch(reason);
      const apply = await request(server).post(`${API}/plans/${planId}/apply`);
      expect(apply.status).toBe(409);
      expect(await leftovers()).toEqual([]);
    },
  );

  it('refuses at apply a chart that renders elsewhere once the cluster changes, before anything is sent', async () => {
    const planId = await plan('escape-flip', {}, 'flip');
    const dryRun = await run(server, planId, 'dry-run');
    expect(dryRun.status).toBe('succeeded');
    // Identities only: digests of content that may hold secrets stay in the backend.
    expect(dryRun.result.rendered.objects).toEqual([
      {
        identity: expect.stringMatching(/^v1 ConfigMap team-a\/t-flip-/),
        hook: false,
      },
    ]);
    expect(JSON.stringify(dryRun.result.rendered)).not.toMatch(/sha256/);
    expect((await run(server, planId, 'preflight')).status).toBe('succeeded');

    // Someone with write access to team-a flips the chart between dry-run and apply.
    await kubectl(['create', 'configmap', 'flip', '-n', 'team-a']);
    const apply = await run(server, planId, 'apply');
    expect(apply.status).toBe('failed');
    expect(apply.error).toMatch(
      /ConfigMap team-b\/t-flip-.*outside the release namespace/,
    );
    expect(await leftovers()).toEqual([]);
    // helm stopped before it wrote a release record.
    const history = await request(server).get(`${API}/plans/${planId}/history`);
    expect(history.body.items).toEqual([]);
    await unflip();
  });

  it('applies a chart whose lookup changes content but not identity, and says what differed', async () => {
    // The same template, pointed at the release namespace: once "flip"
    // exists only its data changes, as when a chart reuses a stored password.
    const planId = await plan(
      'escape-flip',
      { otherNamespace: 'team-a' },
      'reuse',
      // helm test runs the stored revision's test hooks: checked against what the guard let through.
      { runTests: true },
    );
    await kubectl(['create', 'configmap', 'flip', '-n', 'team-a']).catch(
      () => undefined,
    );
    expect((await run(server, planId, 'dry-run')).status).toBe('succeeded');
    expect((await run(server, planId, 'preflight')).status).toBe('succeeded');
    const apply = await run(server, planId, 'apply');
    expect({ status: apply.status, error: apply.error }).toEqual({
      status: 'succeeded',
      error: undefined,
    });
    expect(apply.result.testsPassed).toBe(true);
    expect(apply.result.differsFromDryRun).toEqual([
      expect.stringMatching(/^v1 ConfigMap team-a\/t-reuse-/),
    ]);
    const lines = await request(server).get(
      `${API}/operations/${apply.id}/lines`,
    );
    expect(JSON.stringify(lines.body)).toMatch(
      /different content than at the dry-run/,
    );
    await unflip();
  });

  it('renders the dry-run without reading the cluster: lookup finds nothing', async () => {
    const secretName = `kd-probe-${suffix}`;
    await kubectl([
      'create',
      'secret',
      'generic',
      secretName,
      '-n',
      'kube-system',
      '--from-literal=k=v',
    ]);
    try {
      const planId = await plan('escape-lookup', {}, 'lookup');
      const dryRun = await run(server, planId, 'dry-run');
      expect({ status: dryRun.status, error: dryRun.error }).toEqual({
        status: 'succeeded',
        error: undefined,
      });
      expect(JSON.stringify(dryRun)).not.toContain(secretName);
      expect(dryRun.result.notes).toMatch(/Secrets of kube-system: *$/m);
    } finally {
      await kubectl([
        'delete',
        'secret',
        secretName,
        '-n',
        'kube-system',
        '--ignore-not-found',
      ]);
    }
  });

  it("refuses to act on release records forged in the team's namespace", async () => {
    const planId = await plan('escape-flip', {}, 'forge');
    const release = installed[installed.length - 1];
    for (let revision = 1; revision <= 2; revision++) {
      expect((await run(server, planId, 'dry-run')).status).toBe('succeeded');
      expect((await run(server, planId, 'preflight')).status).toBe('succeeded');
      const apply = await run(server, planId, 'apply');
      expect({ status: apply.status, error: apply.error }).toEqual({
        status: 'succeeded',
        error: undefined,
      });
    }

    // Revision 1 now also lists a ConfigMap in team-b: a rollback would create it.
    const outside = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${release}-forged\n  namespace: team-b\n`;
    await forgeRevision(release, 1, manifest => `${manifest}\n---\n${outside}`);
    const intoTeamB = await request(server)
      .post(`${API}/plans/${planId}/rollback`)
      .send({ revision: 1 });
    expect(intoTeamB.status).toBe(202);
    const refused = await waitFor(server, intoTeamB.body.id);
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatch(/ConfigMap team-b\/.*-forged/);

    // Inside the boundary but not what the portal applied: refused too.
    await forgeRevision(release, 1, manifest =>
      manifest.replace(`${outside}`, '').replace(/harmless/g, 'tampered'),
    );
    const tampered = await request(server)
      .post(`${API}/plans/${planId}/rollback`)
      .send({ revision: 1 });
    const refusedAgain = await waitFor(server, tampered.body.id);
    expect(refusedAgain.status).toBe('failed');
    expect(refusedAgain.error).toMatch(/not what any apply of this plan sent/);

    // The current revision lists a kube-system object: uninstall would delete it.
    await forgeRevision(
      release,
      2,
      manifest =>
        `${manifest}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-root-ca.crt\n  namespace: kube-system\n`,
    );
    const uninstall = await request(server)
      .post(`${API}/plans/${planId}/uninstall`)
      .send({ confirmReleaseName: release });
    expect(uninstall.status).toBe(202);
    const kept = await waitFor(server, uninstall.body.id);
    expect(kept.status).toBe('failed');
    expect(kept.error).toMatch(/ConfigMap kube-system\/kube-root-ca.crt/);
    expect(
      await kubectl([
        'get',
        'configmap',
        'kube-root-ca.crt',
        '-n',
        'kube-system',
        '-o',
        'name',
      ]),
    ).toContain('kube-root-ca.crt');
    expect(await leftovers()).toEqual([]);
  });
});
