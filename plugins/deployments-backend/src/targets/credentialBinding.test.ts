/*
 * A target's credential is bound to where it may go and as whom: changing
 * the API server, CA, insecure TLS or impersonation needs the credential
 * again, and a row changed behind the portal's back fails closed. On real
 * PostgreSQL and SQLite, against the local cluster and a local listener that
 * stands for an attacker's server.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ClusterConnection } from '../cluster/ClusterConnection';
import { migrateDatabase } from '../database/migrateDatabase';
import { HealthService } from '../health/HealthService';
import { DatabaseKeyringStore } from '../keyring/DatabaseKeyringStore';
import { KeyringService } from '../keyring/KeyringService';
import { OpenPgpKeyEngine } from '../keyring/OpenPgpKeyEngine';
import { DatabaseOperationStore } from '../operations/DatabaseOperationStore';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import { deploymentsPlugin } from '../plugin';
import { SecretsService } from '../secrets/SecretsService';
import { requireLocalStack } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabaseTargetStore } from './DatabaseTargetStore';
import { TargetService } from './TargetService';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const PASSPHRASE = 'Binding-test passphrase 2026';
const ADMIN = 'user:default/admin';

/** A plain HTTP server on 127.0.0.1 that records every request it gets. */
async function startListener() {
  const requests: Array<{ url?: string; headers: IncomingHttpHeaders }> = [];
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url, headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ major: '1', minor: '99', gitVersion: 'v1.99.0' }));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

type Listener = Awaited<ReturnType<typeof startListener>>;

describe.each(databases.eachSupportedId())(
  'target credential binding (%p)',
  databaseId => {
    let listener: Listener;
    beforeAll(async () => {
      listener = await startListener();
    });
    afterAll(() => listener.close());

    describe('through the API', () => {
      let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
      let knex: Knex;
      const api = () => request(server);
      const target = async (name: string) =>
        (await api().get(`/api/deployments/targets/${name}`).expect(200)).body;

      beforeAll(async () => {
        knex = await databases.init(databaseId);
        ({ server } = await startTestBackend({
          features: [
            deploymentsPlugin,
            mockServices.database.factory({ knex }),
          ],
        }));
        await api()
          .post('/api/deployments/keyring/bootstrap')
          .send({ passphrase: PASSPHRASE })
          .expect(201);
        for (const name of ['token', 'victim']) {
          await api()
            .post('/api/deployments/targets')
            .send({
              name,
              apiServerUrl: stack.apiServerUrl,
              caData: stack.caPem,
              allowedNamespaces: ['team-a'],
              credentials: { authKind: 'token', token: stack.limitedToken },
            })
            .expect(201);
        }
        await api()
          .post('/api/deployments/targets')
          .send({
            name: 'kubeconfig',
            allowedNamespaces: ['team-a'],
            credentials: {
              authKind: 'kubeconfig',
              kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
            },
          })
          .expect(201);
      });

      it.each([
        [
          'a new API server',
          () => ({ apiServerUrl: listener.url }),
          /apiServerUrl/,
        ],
        [
          'dropping the CA for insecure TLS',
          () => ({ caData: '', allowInsecureTls: true }),
          /caData, allowInsecureTls/,
        ],
        [
          'insecure TLS',
          () => ({ allowInsecureTls: true }),
          /allowInsecureTls/,
        ],
        [
          'impersonation',
          () => ({ impersonate: { user: 'system:admin' } }),
          /impersonate/,
        ],
      ])(
        'refuses %s without the credential and changes nothing',
        async (_, patch, fields) => {
          const before = await target('token');
          const response = await api()
            .patch('/api/deployments/targets/token')
            .send(patch());
          expect(response.status).toBe(400);
          expect(response.body.error.name).toBe('InputError');
          expect(response.body.error.message).toMatch(fields);
          expect(response.body.error.message).toMatch(
            /re-enter the credential/,
          );
          expect(await target('token')).toEqual(before);
        },
      );

      it('accepts the unchanged connection settings the edit form sends back', async () => {
        const before = await target('token');
        const response = await api()
          .patch('/api/deployments/targets/token')
          .send({
            displayName: 'Renamed',
            apiServerUrl: before.apiServerUrl,
            caData: `${before.caData.trim()}\n\n`,
            allowInsecureTls: false,
            impersonate: { groups: [] },
            expectedRevision: before.revision,
          });
        expect(response.status).toBe(200);
        expect(response.body.displayName).toBe('Renamed');
        expect(response.body.caData).toBe(before.caData);
        expect(response.body.credentials).toEqual(before.credentials);
      });

      it('never lets a kubeconfig target lose its CA, credential or not', async () => {
        const before = await target('kubeconfig');
        for (const patch of [
          { caData: '' },
          { caData: '', allowInsecureTls: true },
          {
            caData: '',
            credentials: {
              authKind: 'kubeconfig',
              kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
            },
          },
        ]) {
          const response = await api()
            .patch('/api/deployments/targets/kubeconfig')
            .send(patch);
          expect(response.status).toBe(400);
          expect(response.body.error.message).toMatch(
            /never loses its CA|caData/,
          );
        }
        const refused = await api()
          .patch('/api/deployments/targets/kubeconfig')
          .send({ allowInsecureTls: true });
        expect(refused.status).toBe(400);
        expect(await target('kubeconfig')).toEqual(before);
      });

      it('changes the connection settings together with a new credential', async () => {
        const before = await target('token');
        const response = await api()
          .patch('/api/deployments/targets/token')
          .send({
            apiServerUrl: listener.url,
            caData: '',
            allowInsecureTls: true,
            credentials: { authKind: 'token', token: 'token-for-the-listener' },
          });
        expect(response.status).toBe(200);
        expect(response.body.apiServerUrl).toBe(listener.url);
        expect(response.body.caData).toBeUndefined();
        expect(response.body.credentials.fingerprint).not.toBe(
          before.credentials.fingerprint,
        );

        const tested = await api().post(
          '/api/deployments/targets/token/test-connection',
        );
        expect(tested.status).toBe(200);
        expect(tested.body.reachable).toBe(true);
        expect(listener.requests.length).toBeGreaterThan(0);
        expect(
          listener.requests.every(
            r => r.headers.authorization === 'Bearer token-for-the-listener',
          ),
        ).toBe(true);
        listener.requests.length = 0;
      });

      it.each([
        [
          'repointed to another server',
          () => ({
            api_server_url: listener.url,
            ca_data: null,
            allow_insecure_tls: true,
          }),
        ],
        ['changed impersonation', () => ({ impersonate_user: 'system:admin' })],
      ])(
        'fails closed on a row %s directly in the database: nothing is sent',
        async (_, change) => {
          const original = await knex('deployments_targets')
            .where({ name: 'victim' })
            .first();
          await knex('deployments_targets')
            .where({ name: 'victim' })
            .update(change());
          try {
            const tested = await api().post(
              '/api/deployments/targets/victim/test-connection',
            );
            expect(tested.status).toBe(409);
            expect(tested.body.error.name).toBe('SecretIntegrityError');
            expect(tested.body.error.message).toMatch(
              /credential of target "victim" does not open with the target's stored connection settings.*re-enter the credential/,
            );
            expect(listener.requests).toEqual([]);
          } finally {
            await knex('deployments_targets')
              .where({ name: 'victim' })
              .update(original);
          }
          // Put back, the row works again: it is the binding that refused.
          const tested = await api().post(
            '/api/deployments/targets/victim/test-connection',
          );
          expect(tested.body.reachable).toBe(true);
        },
      );
    });

    describe('in the service', () => {
      async function install() {
        const db = await migrateDatabase(
          mockServices.database({ knex: await databases.init(databaseId) }),
        );
        const keyring = KeyringService.create({
          store: DatabaseKeyringStore.create(db),
          engine: OpenPgpKeyEngine.create({ rsaBits: 2048 }),
          logger: mockServices.logger.mock(),
        });
        await keyring.bootstrap(PASSPHRASE, ADMIN);
        const secrets = SecretsService.create({ keyring });
        const targets = TargetService.create({
          store: DatabaseTargetStore.create(db),
          secrets,
        });
        const health = HealthService.create({
          db,
          keyring,
          targets,
          plans: DatabasePlanStore.create(db),
          operations: DatabaseOperationStore.create(db),
          logger: mockServices.logger.mock(),
        });
        await targets.create(
          {
            name: 'victim',
            apiServerUrl: stack.apiServerUrl,
            caData: stack.caPem,
            allowedNamespaces: ['team-a'],
            credentials: { authKind: 'token', token: stack.limitedToken },
          },
          ADMIN,
        );
        return { db, secrets, targets, health };
      }

      it('the health probe never sends the credential to a server written into the row', async () => {
        const { db, targets, health } = await install();
        await db('deployments_targets').where({ name: 'victim' }).update({
          api_server_url: listener.url,
          ca_data: null,
          allow_insecure_tls: true,
        });
        await health.probeTargets();
        const row = await db('deployments_target_health').first();
        expect(Boolean(row.reachable)).toBe(false);
        expect(row.error).toMatch(/does not open/);
        await expect(
          targets.clusterAccess(await targets.getStored('victim')),
        ).rejects.toThrow(/does not open with the target's stored connection/);
        expect(listener.requests).toEqual([]);
      });

      it('opens a credential sealed before the binding once, and re-seals it bound', async () => {
        const { db, secrets, targets } = await install();
        const stored = await targets.getStored('victim');
        // What an earlier version wrote: the record id and version only.
        const legacy = await secrets.seal(
          {
            type: 'target-credentials',
            id: stored.id,
            version: stored.credentialsVersion,
          },
          JSON.stringify({ kind: 'token', token: stack.limitedToken }),
        );
        expect(legacy.sealed).toMatch(/^kd1\./);
        await db('deployments_targets')
          .where({ name: 'victim' })
          .update({ credentials_sealed: legacy.sealed });

        const access = await targets.clusterAccess(
          await targets.getStored('victim'),
        );
        expect(access.credentials).toEqual({
          kind: 'token',
          token: stack.limitedToken,
        });
        const version = await ClusterConnection.fromAccess(access).getVersion();
        expect(version.gitVersion).toBe(
          process.env.KUBEDEPLOY_KUBERNETES_VERSION,
        );

        const rebound = await targets.getStored('victim');
        expect(rebound.credentialsSealed).toMatch(/^kd2\./);
        expect(rebound.credentialsVersion).toBe(stored.credentialsVersion + 1);
        expect(rebound.revision).toBe(stored.revision);
        expect(rebound.credentialsFingerprint).toBe(
          stored.credentialsFingerprint,
        );

        // From now on a changed row fails closed, and the unbound ciphertext
        // put back does not open at the new version either.
        await db('deployments_targets')
          .where({ name: 'victim' })
          .update({ api_server_url: listener.url, allow_insecure_tls: true });
        await expect(
          targets.clusterAccess(await targets.getStored('victim')),
        ).rejects.toThrow(/does not open/);
        await db('deployments_targets')
          .where({ name: 'victim' })
          .update({ credentials_sealed: legacy.sealed });
        await expect(
          targets.clusterAccess(await targets.getStored('victim')),
        ).rejects.toThrow(/integrity/);
        expect(listener.requests).toEqual([]);
      });

      it('binds an in-cluster target to its impersonation: a changed row fails closed, an old row is bound on first use', async () => {
        const { db, secrets } = await install();
        const serviceAccountDir = mkdtempSync(join(tmpdir(), 'kd-sa-'));
        writeFileSync(join(serviceAccountDir, 'token'), stack.limitedToken);
        writeFileSync(join(serviceAccountDir, 'ca.crt'), stack.caPem);
        const apiServer = new URL(stack.apiServerUrl);
        const env = process.env;
        const saved = [
          env.KUBERNETES_SERVICE_HOST,
          env.KUBERNETES_SERVICE_PORT,
        ];
        env.KUBERNETES_SERVICE_HOST = apiServer.hostname;
        env.KUBERNETES_SERVICE_PORT = apiServer.port;
        try {
          const targets = TargetService.create({
            store: DatabaseTargetStore.create(db),
            secrets,
            inClusterServiceAccountDir: serviceAccountDir,
          });
          await targets.create(
            {
              name: 'in-cluster',
              allowedNamespaces: ['team-a'],
              impersonate: { user: 'deployer' },
              credentials: { authKind: 'inCluster' },
            },
            ADMIN,
          );
          const stored = await targets.getStored('in-cluster');
          // A marker is sealed, bound to the settings; it is not a secret.
          expect(stored.credentialsSealed).toMatch(/^kd2\./);
          expect(stored.credentialsFingerprint).toBeUndefined();
          expect((await targets.get('in-cluster')).credentials.set).toBe(true);
          const access = await targets.clusterAccess(stored);
          expect(access.impersonate).toEqual({ user: 'deployer' });
          expect(access.credentials).toEqual({
            kind: 'token',
            token: stack.limitedToken,
          });

          // Someone with database access drops the impersonation.
          await db('deployments_targets')
            .where({ name: 'in-cluster' })
            .update({ impersonate_user: null });
          await expect(
            targets.clusterAccess(await targets.getStored('in-cluster')),
          ).rejects.toThrow(
            /does not open with the target's stored connection/,
          );

          // A row written before the marker existed is bound on first use.
          await db('deployments_targets')
            .where({ name: 'in-cluster' })
            .update({ credentials_sealed: null, impersonate_user: 'deployer' });
          await targets.clusterAccess(await targets.getStored('in-cluster'));
          const bound = await targets.getStored('in-cluster');
          expect(bound.credentialsSealed).toMatch(/^kd2\./);
          expect(bound.credentialsVersion).toBe(stored.credentialsVersion + 1);
          await db('deployments_targets')
            .where({ name: 'in-cluster' })
            .update({ impersonate_groups: JSON.stringify(['system:masters']) });
          await expect(
            targets.clusterAccess(await targets.getStored('in-cluster')),
          ).rejects.toThrow(/does not open/);
        } finally {
          [env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT] = saved;
          rmSync(serviceAccountDir, { recursive: true, force: true });
        }
      });
    });
  },
);
