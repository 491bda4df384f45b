import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import knexFactory, { Knex } from 'knex';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { FaultRelay, startFaultRelay } from './faultRelay';
import { LocalStack } from './localStack';
import { createTestDatabases } from './testDatabases';

type Server = Parameters<typeof request>[0];

const API = '/api/deployments';

/**
 * The deployments backend whose PostgreSQL connections go through a fault
 * relay (to cut the database away mid-request), with a bootstrapped keyring
 * and a token target `token` on the local cluster.
 */
export async function startRelayedDatabaseBackend(options: {
  stack: LocalStack;
  databases: ReturnType<typeof createTestDatabases>;
  passphrase: string;
}): Promise<{
  server: Server;
  relay: FaultRelay;
  /** The same database, not through the relay, for checking rows. */
  direct: Knex;
  close(): Promise<void>;
}> {
  const { stack, databases } = options;
  const direct = await databases.init(databases.eachSupportedId()[0][0]);
  // The stack's server and credentials, the test's own database.
  const url = new URL(
    process.env[
      `BACKSTAGE_TEST_DATABASE_${(
        process.env.KUBEDEPLOY_POSTGRES_ID ?? 'POSTGRES_15'
      ).replace('_', '')}_CONNECTION_STRING`
    ]!,
  );
  const connection = {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: (await direct.raw('select current_database() as name')).rows[0]
      .name as string,
  };
  const relay = await startFaultRelay({
    host: connection.host,
    port: connection.port,
  });
  const relayed: Knex = knexFactory({
    client: 'pg',
    connection: { ...connection, host: relay.host, port: relay.port },
    pool: { min: 0, max: 5 },
    acquireConnectionTimeout: 10_000,
  });
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      mockServices.database.factory({ knex: relayed }),
    ],
  });
  await request(server)
    .post(`${API}/keyring/bootstrap`)
    .send({ passphrase: options.passphrase })
    .expect(201);
  await request(server)
    .post(`${API}/targets`)
    .send({
      name: 'token',
      apiServerUrl: stack.apiServerUrl,
      caData: stack.caPem,
      allowedNamespaces: ['team-a'],
      credentials: { authKind: 'token', token: stack.limitedToken },
    })
    .expect(201);
  return {
    server,
    relay,
    direct,
    close: async () => {
      await relayed.destroy();
      await relay.close();
    },
  };
}
