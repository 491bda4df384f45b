/*
 * The keyring routes on two backends sharing one database, as two replicas
 * behind a load balancer: a bootstrap, seal, unlock and rotation made
 * through one reach the other within seconds, with nothing sent to it.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(240_000);

const databases = createTestDatabases();
const PASSPHRASE = 'Two replicas one keyring 2026!';
const FOLLOW_WITHIN_MS = 5000;
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

/** Polls `probe` until it passes; returns how long that took. */
async function within(ms: number, probe: () => Promise<void>) {
  const started = Date.now();
  for (;;) {
    try {
      await probe();
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > ms) throw error;
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

describe.each(databases.eachSupportedId())(
  'keyring routes on two backends (%p)',
  databaseId => {
    it('bootstrap, seal, unlock and rotation through A reach B within seconds', async () => {
      const knex = await databases.init(databaseId);
      const backend = () =>
        startTestBackend({
          features: [
            deploymentsPlugin,
            mockServices.database.factory({ knex }),
            mockServices.rootConfig.factory({
              data: { deployments: { keyring: { passphrase: PASSPHRASE } } },
            }),
          ],
        });
      const a = (await backend()).server;
      const b = (await backend()).server;
      const stateOf = async (server: typeof a) =>
        (await request(server).get('/api/deployments/keyring').expect(200))
          .body;
      let target = 0;
      const createTarget = (server: typeof a) =>
        request(server)
          .post('/api/deployments/targets')
          .send({
            name: `cluster-${target++}`,
            apiServerUrl: 'https://127.0.0.1:6443',
            caData: CA,
            allowedNamespaces: ['team-a'],
            credentials: { authKind: 'token', token: `token-${target}` },
          });

      await request(a)
        .post('/api/deployments/keyring/bootstrap')
        .send({ passphrase: PASSPHRASE })
        .expect(201);
      const took: Record<string, number> = {};
      took.bootstrap = await within(FOLLOW_WITHIN_MS, async () => {
        expect(await stateOf(b)).toMatchObject({ state: 'unlocked' });
      });
      expect((await createTarget(b)).status).toBe(201);

      await request(a).post('/api/deployments/keyring/seal').expect(200);
      took.seal = await within(FOLLOW_WITHIN_MS, async () => {
        expect(await stateOf(b)).toMatchObject({ state: 'sealed' });
      });
      const refused = await createTarget(b);
      expect(refused.status).toBe(503);
      expect(refused.body.error.name).toBe('KeyringSealedError');

      await request(a)
        .post('/api/deployments/keyring/unlock')
        .send({ passphrase: PASSPHRASE })
        .expect(200);
      took.unlock = await within(FOLLOW_WITHIN_MS, async () => {
        expect(await stateOf(b)).toMatchObject({ state: 'unlocked' });
      });

      const rotated = (
        await request(a)
          .post('/api/deployments/keyring/rotate')
          .send({ passphrase: PASSPHRASE })
          .expect(200)
      ).body;
      took.rotation = await within(FOLLOW_WITHIN_MS, async () => {
        expect(await stateOf(b)).toMatchObject({
          state: 'unlocked',
          fingerprint: rotated.fingerprint,
        });
      });
      const afterRotation = await createTarget(b);
      expect(afterRotation.body.error?.message).toBeUndefined();
      expect(afterRotation.status).toBe(201);
      expect(
        (
          await request(b)
            .post('/api/deployments/keyring/self-test')
            .expect(200)
        ).body,
      ).toMatchObject({ ok: true, fingerprint: rotated.fingerprint });

      for (const ms of Object.values(took)) {
        expect(ms).toBeLessThanOrEqual(FOLLOW_WITHIN_MS);
      }
      // eslint-disable-next-line no-console
      console.log(`B followed A within (ms): ${JSON.stringify(took)}`);
    });
  },
);
