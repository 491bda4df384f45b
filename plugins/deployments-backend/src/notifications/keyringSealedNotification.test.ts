/*
 * A backend that comes up with its keyring sealed tells the platform group
 * once, with a link to the keyring page; one that unlocks from its
 * configured passphrase does not. On PostgreSQL and SQLite.
 */
import { createServiceFactory } from '@backstage/backend-plugin-api';
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import {
  NotificationSendOptions,
  notificationService,
} from '@backstage/plugin-notifications-node';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const PASSPHRASE = 'correct horse battery staple 42';

describe.each(databases.eachSupportedId())(
  'the keyring sealed after a restart (%s)',
  (databaseId: TestDatabaseId) => {
    it('is told to the platform group when the backend starts sealed', async () => {
      const knex = await databases.init(databaseId);
      const sent: NotificationSendOptions[] = [];
      const start = (passphrase?: string) =>
        startTestBackend({
          features: [
            deploymentsPlugin,
            mockServices.database.factory({ knex }),
            mockServices.rootConfig.factory({
              data: {
                deployments: {
                  approvals: { notify: ['group:default/platform'] },
                  ...(passphrase && { keyring: { passphrase } }),
                },
              },
            }),
            createServiceFactory({
              service: notificationService,
              deps: {},
              factory: () => ({
                send: async (options: NotificationSendOptions) => {
                  sent.push(options);
                },
              }),
            }),
          ],
        });

      // The first start bootstraps (and so unlocks) the keyring.
      const first = await start();
      const bootstrap = await request(first.server)
        .post('/api/deployments/keyring/bootstrap')
        .send({ passphrase: PASSPHRASE });
      expect(bootstrap.status).toBe(201);
      await first.stop();
      expect(sent).toEqual([]);

      // A restart without the passphrase comes up sealed.
      const second = await start();
      await second.stop();
      expect(sent).toEqual([
        {
          recipients: { type: 'entity', entityRef: ['group:default/platform'] },
          payload: expect.objectContaining({
            title: 'Deployments keyring is sealed',
            link: '/deployments/keyring',
            severity: 'critical',
            topic: 'deployments-keyring',
            scope: 'deployments-keyring:sealed',
          }),
        },
      ]);

      // With the configured passphrase it unlocks: nothing to tell.
      const third = await start(PASSPHRASE);
      await third.stop();
      expect(sent).toHaveLength(1);
    });
  },
);
