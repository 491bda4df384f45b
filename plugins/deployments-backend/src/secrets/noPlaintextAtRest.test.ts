/*
 * "No plaintext secret at rest": a known token goes in through the API; then
 * every table of both databases and every log line is searched for it.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { createCapturingRootLogger } from '../__testUtils__/capturingLogger';
import { requireLocalStack } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const databases = createTestDatabases();

async function dumpEveryTable(knex: import('knex').Knex): Promise<string> {
  const client = knex.client.config.client as string;
  const tables: string[] =
    client === 'pg'
      ? (
          await knex.raw(
            `select tablename from pg_tables where schemaname = current_schema()`,
          )
        ).rows.map((r: { tablename: string }) => r.tablename)
      : (
          await knex.raw(`select name from sqlite_master where type = 'table'`)
        ).map((r: { name: string }) => r.name);
  const dumps: string[] = [];
  for (const table of tables) {
    dumps.push(JSON.stringify(await knex(table).select()));
  }
  expect(tables).toContain('deployments_targets');
  return dumps.join('\n');
}

describe.each(databases.eachSupportedId())(
  'no plaintext at rest (%p)',
  databaseId => {
    it('stores a token only as ciphertext, and never logs it', async () => {
      // A token-shaped secret nobody else will ever print.
      const token = `kd-test-${randomBytes(24).toString('hex')}`;
      const forms = [
        token,
        Buffer.from(token).toString('base64'),
        Buffer.from(token).toString('base64url'),
        Buffer.from(token).toString('hex'),
      ];
      const knex = await databases.init(databaseId);
      const logs = createCapturingRootLogger();
      const { server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          mockServices.database.factory({ knex }),
          logs.factory,
        ],
      });

      await request(server)
        .post('/api/deployments/keyring/bootstrap')
        .send({ passphrase: 'No plaintext at rest 2026!' })
        .expect(201);
      const created = await request(server)
        .post('/api/deployments/targets')
        .send({
          name: 'secretive',
          apiServerUrl: stack.apiServerUrl,
          caData: stack.caPem,
          allowedNamespaces: ['team-a'],
          credentials: { authKind: 'token', token },
        });
      expect(created.status).toBe(201);
      // Use it, so decryption paths run and could log.
      await request(server)
        .post('/api/deployments/targets/secretive/test-connection')
        .expect(200);
      await request(server)
        .put('/api/deployments/targets/secretive/credentials')
        .send({ authKind: 'token', token: `${token}-2` })
        .expect(200);

      const dump = await dumpEveryTable(knex);
      const logText = logs.lines.join('\n');
      expect(dump.length).toBeGreaterThan(1000);
      expect(logs.lines.length).toBeGreaterThan(5);
      for (const form of forms) {
        expect(dump).not.toContain(form);
        expect(logText).not.toContain(form);
      }
      expect(dump).not.toContain('No plaintext at rest 2026!');
      expect(logText).not.toContain('No plaintext at rest 2026!');
    });
  },
);
