/*
 * Audit writes fail closed for mutations: when the trail cannot be written
 * the change is refused with 503 and nothing is stored; reads go on.
 * Through the HTTP API on real PostgreSQL and SQLite, with the audit table
 * moved away underneath the running plugin.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { createPlanPrerequisites } from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { AuditTrail } from './AuditTrail';
import { DatabaseAuditStore } from './DatabaseAuditStore';

jest.setTimeout(180_000);

const databases = createTestDatabases();
const AUDIT = 'deployments_audit_events';
const MOVED = 'deployments_audit_events_moved';

function trailOver(store: Partial<DatabaseAuditStore>) {
  const logger = mockServices.logger.mock();
  const audit = AuditTrail.create({
    auditor: mockServices.auditor.mock(),
    store: store as DatabaseAuditStore,
    logger,
  });
  return { audit, logger };
}

const action = {
  eventId: 'target-create',
  severityLevel: 'high' as const,
  request: undefined,
  credentials: mockCredentials.user(),
  subject: 'dev',
};

describe('AuditTrail with a failing store', () => {
  const broken = async () => {
    throw new Error('relation "deployments_audit_events" does not exist');
  };

  it('refuses a mutation before it runs when its entry cannot be written', async () => {
    const { audit } = trailOver({ begin: broken, settle: broken });
    const mutation = jest.fn(async () => 'changed');

    await expect(audit.run(action, mutation)).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
    });
    expect(mutation).not.toHaveBeenCalled();
  });

  it('runs reads, logging a denied read it cannot store', async () => {
    const { audit, logger } = trailOver({
      begin: broken,
      settle: broken,
      append: broken,
    });

    await expect(
      audit.run({ ...action, kind: 'read' }, async () => 'read'),
    ).resolves.toBe('read');
    const denied = Object.assign(new Error('no'), { name: 'NotAllowedError' });
    await expect(
      audit.run({ ...action, kind: 'read' }, async () => {
        throw denied;
      }),
    ).rejects.toBe(denied);
    // Ids are log fields, not part of the message, so log queries can filter on them.
    expect(logger.error).toHaveBeenCalledWith(
      'Could not store an audit entry',
      {
        eventId: 'target-create',
        subject: action.subject,
        error: expect.any(String),
      },
    );
  });

  it('keeps a committed mutation when only its outcome cannot be stored', async () => {
    const { audit, logger } = trailOver({
      begin: async () => 7,
      settle: broken,
    });

    await expect(audit.run(action, async () => 'changed')).resolves.toBe(
      'changed',
    );
    expect(logger.error).toHaveBeenCalledWith(
      'Could not store the outcome of an audit entry',
      { auditEntryId: 7, eventId: 'target-create', error: expect.any(String) },
    );
  });
});

describe.each(databases.eachSupportedId())(
  'audit writes fail closed (%p)',
  databaseId => {
    let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
    let knex: Knex;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      // Targets `dev` and `prod`, written directly: no keyring is needed.
      await createPlanPrerequisites(knex);
      ({ server } = await startTestBackend({
        features: [deploymentsPlugin, mockServices.database.factory({ knex })],
      }));
    });

    const api = () => request(server);
    const targetNames = async () =>
      (await knex('deployments_targets').select('name').orderBy('name')).map(
        row => row.name,
      );

    it('refuses mutations with 503 and changes nothing while the trail cannot be written; reads go on', async () => {
      await knex.schema.renameTable(AUDIT, MOVED);
      try {
        const remove = await api().delete('/api/deployments/targets/dev');
        expect(remove.status).toBe(503);
        expect(remove.body.error.name).toBe('ServiceUnavailableError');
        expect(remove.body.error.message).toMatch(
          /audit trail cannot be written, so target-delete was refused/,
        );
        expect(await targetNames()).toEqual(['dev', 'prod']);

        const bootstrap = await api()
          .post('/api/deployments/keyring/bootstrap')
          .send({ passphrase: 'Audit fail-closed passphrase 2026' });
        expect(bootstrap.status).toBe(503);
        expect(await knex('deployments_keyring_keys')).toHaveLength(0);

        const list = await api().get('/api/deployments/targets');
        expect(list.status).toBe(200);
        expect(list.body.totalCount).toBe(2);
      } finally {
        await knex.schema.renameTable(MOVED, AUDIT);
      }
      expect(await knex(AUDIT)).toHaveLength(0);

      const again = await api().delete('/api/deployments/targets/dev');
      expect(again.status).toBe(204);
      expect(await targetNames()).toEqual(['prod']);
      expect(await knex(AUDIT).where({ event_id: 'target-delete' })).toEqual([
        expect.objectContaining({
          subject: 'dev',
          outcome: 'succeeded',
          message: null,
          actor: 'user:default/mock',
        }),
      ]);
    });

    it('settles the entry written before the action with its outcome', async () => {
      const missing = await api().delete('/api/deployments/targets/nowhere');
      expect(missing.status).toBe(404);
      expect(
        await knex(AUDIT).where({
          event_id: 'target-delete',
          subject: 'nowhere',
        }),
      ).toEqual([
        expect.objectContaining({
          outcome: 'failed',
          message: expect.stringMatching(/^NotFoundError: /),
        }),
      ]);
    });
  },
);
