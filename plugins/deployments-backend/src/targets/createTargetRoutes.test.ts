/*
 * The keyring and targets through the HTTP API, on real PostgreSQL and
 * SQLite, against the local cluster: nothing here is mocked but the user.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const PASSPHRASE = 'Deploy-Keyring passphrase 2026';

describe.each(databases.eachSupportedId())('targets API (%p)', databaseId => {
  let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
  let knex: Knex;

  beforeAll(async () => {
    knex = await databases.init(databaseId);
    ({ server } = await startTestBackend({
      features: [deploymentsPlugin, mockServices.database.factory({ knex })],
    }));
  });

  const api = () => request(server);

  it('answers 503 sealed-style errors until a keyring exists and is unlocked', async () => {
    const status = await api().get('/api/deployments/keyring');
    expect(status.body).toEqual({ state: 'uninitialized', dataKeyCount: 0 });

    const create = await api()
      .post('/api/deployments/targets')
      .send({
        name: 'early',
        apiServerUrl: stack.apiServerUrl,
        caData: stack.caPem,
        allowedNamespaces: ['team-a'],
        credentials: { authKind: 'token', token: stack.limitedToken },
      });
    expect(create.status).toBe(503);
    expect(create.body.error.name).toBe('KeyringUninitializedError');
  });

  it('refuses a weak passphrase, saying the rule', async () => {
    const response = await api()
      .post('/api/deployments/keyring/bootstrap')
      .send({ passphrase: 'short' });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/too weak.*at least/);
  });

  it('bootstraps once; a second bootstrap is a conflict', async () => {
    const first = await api()
      .post('/api/deployments/keyring/bootstrap')
      .send({ passphrase: PASSPHRASE });
    expect(first.status).toBe(201);
    expect(first.body.state).toBe('unlocked');
    expect(first.body.fingerprint).toMatch(/^[0-9a-f]{40,64}$/);

    const second = await api()
      .post('/api/deployments/keyring/bootstrap')
      .send({ passphrase: PASSPHRASE });
    expect(second.status).toBe(409);
  });

  it('self-tests the whole chain with timings', async () => {
    const response = await api().post('/api/deployments/keyring/self-test');
    expect(response.status).toBe(200);
    expect(response.body.ok).toBe(true);
    expect(
      response.body.steps.map((s: { step: string }) => s.step),
    ).toHaveLength(4);
  });

  it('creates a token target and an admin kubeconfig target; never returns credentials', async () => {
    const limited = await api()
      .post('/api/deployments/targets')
      .send({
        name: 'limited',
        displayName: 'Limited SA',
        owner: 'group:default/payments',
        apiServerUrl: stack.apiServerUrl,
        caData: stack.caPem,
        allowedNamespaces: ['team-a', 'team-b'],
        credentials: { authKind: 'token', token: stack.limitedToken },
      });
    expect(limited.status).toBe(201);
    expect(limited.body.credentials).toEqual({
      set: true,
      fingerprint: expect.stringMatching(/^hmac-sha256:[0-9a-f]{16}$/),
      updatedAt: expect.any(String),
    });
    expect(JSON.stringify(limited.body)).not.toContain(stack.limitedToken);

    const admin = await api()
      .post('/api/deployments/targets')
      .send({
        name: 'admin',
        allowedNamespaces: ['team-*'],
        credentials: {
          authKind: 'kubeconfig',
          kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
        },
      });
    expect(admin.status).toBe(201);
    expect(admin.body.apiServerUrl).toBe(stack.apiServerUrl);
    expect(JSON.stringify(admin.body)).not.toMatch(/client-key|PRIVATE KEY/);

    const list = await api().get('/api/deployments/targets');
    expect(list.body.totalCount).toBe(2);
    expect(list.body.items.map((t: { name: string }) => t.name)).toEqual([
      'admin',
      'limited',
    ]);
  });

  it('refuses a kubeconfig that runs code, naming the field', async () => {
    const hostile = [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", certificate-authority-data: "eA=="}}]',
      'users: [{name: u, user: {exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n');
    const response = await api()
      .post('/api/deployments/targets')
      .send({
        name: 'hostile',
        allowedNamespaces: ['x'],
        credentials: { authKind: 'kubeconfig', kubeconfig: hostile },
      });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/exec/);
  });

  it('tests connections: the admin reaches both namespaces, the limited SA only team-a', async () => {
    const admin = await api().post(
      '/api/deployments/targets/admin/test-connection',
    );
    expect(admin.status).toBe(200);
    expect(admin.body.reachable).toBe(true);
    expect(admin.body.serverVersion).toBe(
      process.env.KUBEDEPLOY_KUBERNETES_VERSION,
    );

    const limited = await api().post(
      '/api/deployments/targets/limited/test-connection',
    );
    expect(limited.body.reachable).toBe(true);
    const allowedIn = (ns: string) =>
      limited.body.rbac
        .find((r: { namespace: string }) => r.namespace === ns)
        .checks.every((c: { allowed: boolean }) => c.allowed);
    expect(allowedIn('team-a')).toBe(true);
    expect(allowedIn('team-b')).toBe(false);
    expect(limited.body.summary).toMatch(/team-b/);
  });

  it('never contacts a link-local or cloud-metadata address as a cluster', async () => {
    for (const [name, apiServerUrl] of [
      ['metadata', 'https://169.254.169.254'],
      ['gce-metadata', 'https://metadata.google.internal'],
      ['link-local', 'https://[fe80::1]:6443'],
    ]) {
      const created = await api()
        .post('/api/deployments/targets')
        .send({
          name,
          apiServerUrl,
          caData: readFileSync(process.env.KUBEDEPLOY_CA_FILE!, 'utf8'),
          allowedNamespaces: ['team-a'],
          credentials: { authKind: 'token', token: 'abc' },
        });
      // Refused when stored, naming the address class.
      expect({ name, status: created.status }).toEqual({ name, status: 400 });
      expect(created.body.error.message).toMatch(
        /Refusing to contact .*(link-local|metadata)/i,
      );
      const stored = await api().get(`/api/deployments/targets/${name}`);
      expect(stored.status).toBe(404);
    }
  });

  it('validates the allowlist and keeps the target unchanged on a bad update', async () => {
    const bad = await api()
      .patch('/api/deployments/targets/limited')
      .send({ allowedNamespaces: ['team-a', 'Team_B', '**'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/Team_B/);

    const after = await api().get('/api/deployments/targets/limited');
    expect(after.body.allowedNamespaces).toEqual(['team-a', 'team-b']);
    expect(after.body.revision).toBe(1);
  });

  it('refuses an allowed cluster-scoped kind without its group at create, with the expected form', async () => {
    const response = await api()
      .post('/api/deployments/targets')
      .send({
        name: 'platform',
        allowedNamespaces: ['team-a', 'kube-system'],
        allowedClusterScopedKinds: ['Namespace', 'ClusterRole'],
        credentials: {
          authKind: 'kubeconfig',
          kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
        },
      });
    expect(response.status).toBe(400);
    expect(response.body.error.name).toBe('InputError');
    expect(response.body.error.message).toBe(
      'Invalid allowed cluster-scoped kinds: "ClusterRole" is not a core kind; write it as group/Kind, e.g. rbac.authorization.k8s.io/ClusterRole',
    );
    await api().get('/api/deployments/targets/platform').expect(404);
  });

  it('creates a platform target that allows other allowed namespaces; the setting defaults to off', async () => {
    const created = await api()
      .post('/api/deployments/targets')
      .send({
        name: 'platform',
        allowedNamespaces: ['team-a', 'kube-system'],
        allowedClusterScopedKinds: [
          'Namespace',
          'rbac.authorization.k8s.io/ClusterRole',
        ],
        allowObjectsInOtherAllowedNamespaces: true,
        credentials: {
          authKind: 'kubeconfig',
          kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
        },
      });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      allowedClusterScopedKinds: [
        'Namespace',
        'rbac.authorization.k8s.io/ClusterRole',
      ],
      allowObjectsInOtherAllowedNamespaces: true,
    });
    expect(created.body.warnings).toBeUndefined();

    const admin = await api().get('/api/deployments/targets/admin');
    expect(admin.body.allowObjectsInOtherAllowedNamespaces).toBe(false);
  });

  it('refuses unknown forms of cluster-scoped kinds at update and keeps the target unchanged', async () => {
    const bad = await api()
      .patch('/api/deployments/targets/platform')
      .send({
        allowedClusterScopedKinds: [
          'ClusterRoleBinding',
          'v1/Namespace',
          'rbac.authorization.k8s.io/clusterrole',
        ],
        allowObjectsInOtherAllowedNamespaces: false,
      });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain(
      '"ClusterRoleBinding" is not a core kind; write it as group/Kind, e.g. rbac.authorization.k8s.io/ClusterRoleBinding',
    );
    expect(bad.body.error.message).toMatch(/"v1" is a version/);
    expect(bad.body.error.message).toMatch(/"clusterrole" is not a/);

    const after = await api().get('/api/deployments/targets/platform');
    expect(after.body).toMatchObject({
      revision: 1,
      allowedClusterScopedKinds: [
        'Namespace',
        'rbac.authorization.k8s.io/ClusterRole',
      ],
      allowObjectsInOtherAllowedNamespaces: true,
    });

    const off = await api()
      .patch('/api/deployments/targets/platform')
      .send({ allowObjectsInOtherAllowedNamespaces: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({
      revision: 2,
      allowObjectsInOtherAllowedNamespaces: false,
    });
  });

  it('reports a stored entry written before validation as a warning until an update fixes it', async () => {
    // A row from before this rule: a bare ClusterRole, which matches nothing.
    await knex('deployments_targets')
      .where({ name: 'platform' })
      .update({
        allowed_cluster_kinds: JSON.stringify(['Namespace', 'ClusterRole']),
      });
    const stored = await api().get('/api/deployments/targets/platform');
    expect(stored.body.warnings).toEqual([
      'allowed cluster-scoped kinds: "ClusterRole" is not a core kind; write it as group/Kind, e.g. rbac.authorization.k8s.io/ClusterRole; it matches nothing',
    ]);
    const listed = await api().get('/api/deployments/targets');
    expect(
      listed.body.items.find((t: { name: string }) => t.name === 'platform')
        .warnings,
    ).toHaveLength(1);

    // An update that leaves the list alone goes through, and still warns.
    const renamed = await api()
      .patch('/api/deployments/targets/platform')
      .send({ displayName: 'Platform charts' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.warnings).toHaveLength(1);

    // Sending the list validates it; the corrected list clears the warning.
    await api()
      .patch('/api/deployments/targets/platform')
      .send({ allowedClusterScopedKinds: ['Namespace', 'ClusterRole'] })
      .expect(400);
    const fixed = await api()
      .patch('/api/deployments/targets/platform')
      .send({
        allowedClusterScopedKinds: [
          'Namespace',
          'rbac.authorization.k8s.io/ClusterRole',
        ],
      });
    expect(fixed.status).toBe(200);
    expect(fixed.body.warnings).toBeUndefined();
    await api().delete('/api/deployments/targets/platform').expect(204);
  });

  it('replaces credentials only through their own call, with a new fingerprint', async () => {
    const before = await api().get('/api/deployments/targets/limited');
    const replaced = await api()
      .put('/api/deployments/targets/limited/credentials')
      .send({ authKind: 'token', token: `${stack.limitedToken}` });
    expect(replaced.status).toBe(200);
    expect(replaced.body.revision).toBe(before.body.revision + 1);

    const tested = await api().post(
      '/api/deployments/targets/limited/test-connection',
    );
    expect(tested.body.reachable).toBe(true);
  });

  it('answers 503 with KeyringSealedError while sealed, and unlocks again', async () => {
    await api().post('/api/deployments/keyring/seal').expect(200);
    const sealed = await api().post(
      '/api/deployments/targets/admin/test-connection',
    );
    expect(sealed.status).toBe(503);
    expect(sealed.body.error.name).toBe('KeyringSealedError');

    const wrong = await api()
      .post('/api/deployments/keyring/unlock')
      .send({ passphrase: 'not the passphrase at all' });
    expect(wrong.status).toBe(403);

    const unlocked = await api()
      .post('/api/deployments/keyring/unlock')
      .send({ passphrase: PASSPHRASE });
    expect(unlocked.body.state).toBe('unlocked');
    const tested = await api().post(
      '/api/deployments/targets/admin/test-connection',
    );
    expect(tested.body.reachable).toBe(true);
  });

  it('deletes a target and records the audit trail', async () => {
    await api().delete('/api/deployments/targets/limited').expect(204);
    await api().get('/api/deployments/targets/limited').expect(404);

    const audit = await api().get(
      '/api/deployments/audit?eventId=keyring-unlock',
    );
    expect(audit.body.items.map((e: { outcome: string }) => e.outcome)).toEqual(
      ['succeeded', 'denied'],
    );
  });
});
