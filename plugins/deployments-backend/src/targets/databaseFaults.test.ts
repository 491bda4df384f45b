/*
 * PostgreSQL goes away under the backend (its connections go through a relay
 * that is cut): a credential write and its audit entry fail closed, with a
 * clear error, and when the database is back the target's credential opens,
 * the old version or the new one, never neither.
 */
import { Knex } from 'knex';
import request from 'supertest';
import { FaultRelay } from '../__testUtils__/faultRelay';
import { startRelayedDatabaseBackend } from '../__testUtils__/relayedDatabaseBackend';
import { requireLocalStack } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const API = '/api/deployments';
const PASSPHRASE = 'Database-fault passphrase 2026';
// A refused or reset connection is reported at once; this is the bound.
const BOUND_MS = 15_000;

type Server = Parameters<typeof request>[0];

/** A clear error: one message, no stack trace, no database password. */
function expectClearError(body: {
  error?: { message?: string; stack?: string };
}) {
  expect(body.error?.message).toEqual(expect.any(String));
  expect(body.error?.stack).toBeUndefined();
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at [\w.<>]+ \(/);
  expect(JSON.stringify(body)).not.toContain('postgres:postgres');
  expect(JSON.stringify(body)).not.toContain(stack.limitedToken.slice(0, 24));
}

describe('PostgreSQL gone (POSTGRES)', () => {
  let server: Server;
  let relay: FaultRelay;
  let direct: Knex;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ server, relay, direct, close } = await startRelayedDatabaseBackend({
      stack,
      databases,
      passphrase: PASSPHRASE,
    }));
  });

  afterEach(() => {
    relay.onChunk(undefined);
    relay.resume();
  });

  afterAll(async () => {
    await close?.();
  });

  /** The target's credential opens and reaches the cluster. */
  async function expectCredentialOpens() {
    const tested = await request(server).post(
      `${API}/targets/token/test-connection`,
    );
    expect({
      status: tested.status,
      ok: tested.body.ok ?? tested.body.success,
    }).toMatchObject({
      status: 200,
    });
    expect(JSON.stringify(tested.body)).not.toMatch(
      /decrypt|cannot open|sealed|tamper/i,
    );
    return tested.body;
  }

  async function revision() {
    return (await request(server).get(`${API}/targets/token`).expect(200)).body
      .revision;
  }

  async function auditEntries(eventId: string) {
    const rows = await direct('deployments_audit_events')
      .where({ event_id: eventId })
      .orderBy('id', 'desc');
    return rows as Array<{ outcome: string; message: string | null }>;
  }

  it('refuses a credential write with 503 while the database is gone (the audit entry cannot be written), changing nothing', async () => {
    const before = await revision();
    relay.cut();
    const startedAt = Date.now();
    const response = await request(server)
      .put(`${API}/targets/token/credentials`)
      .send({ authKind: 'token', token: stack.limitedToken });
    const elapsed = Date.now() - startedAt;
    // eslint-disable-next-line no-console
    console.log(
      'credential write, database cut before:',
      elapsed,
      'ms',
      response.status,
      response.body,
    );
    expect(elapsed).toBeLessThan(BOUND_MS);
    expect(response.status).toBe(503);
    expect(response.body.error.message).toMatch(
      /audit trail cannot be written/,
    );
    expectClearError(response.body);

    relay.resume();
    expect(await revision()).toBe(before);
    await expectCredentialOpens();
  });

  /**
   * A credential write whose database connection is cut when `statement`
   * goes by: 'after' it reached the server (it may or may not have
   * committed, the backend cannot know) or 'before' (dropped with the
   * connection). Returns the answer, the revision before, and the newest
   * audit entry once the database is back.
   */
  async function cutCredentialWrite(
    statement: RegExp,
    when: 'before' | 'after',
  ) {
    const before = await revision();
    const entriesBefore = (await auditEntries('target-credentials-replace'))
      .length;
    let cutAt = 0;
    relay.onChunk((direction, chunk) => {
      if (
        !cutAt &&
        direction === 'up' &&
        statement.test(chunk.toString('latin1'))
      ) {
        cutAt = Date.now();
        if (when === 'before') relay.cut();
        else setImmediate(() => relay.cut());
      }
    });
    const response = await request(server)
      .put(`${API}/targets/token/credentials`)
      .send({ authKind: 'token', token: stack.limitedToken });
    expect(cutAt).toBeGreaterThan(0);
    const elapsed = Date.now() - cutAt;
    // eslint-disable-next-line no-console
    console.log(
      'credential write cut:',
      when,
      statement,
      elapsed,
      'ms',
      response.status,
      response.body.error ?? response.body.revision,
    );
    expect(elapsed).toBeLessThan(BOUND_MS);
    relay.onChunk(undefined);
    relay.resume();
    const entries = await auditEntries('target-credentials-replace');
    expect(entries.length).toBe(entriesBefore + 1);
    return { response, before, entry: entries[0] };
  }

  it('fails closed with 503 when the connection is cut as the target row is written, the credential the old version or the new', async () => {
    const { response, before, entry } = await cutCredentialWrite(
      /update "deployments_targets"/i,
      'after',
    );
    // The outcome is unknown, and the answer says so, without the SQL.
    expect(response.status).toBe(503);
    expect(response.body.error.message).toMatch(
      /database connection failed during target-credentials-replace; the change may or may not have been stored/,
    );
    expect(response.body.error.message).not.toMatch(/update|deployments_/);
    expectClearError(response.body);
    expect(entry.outcome).toBe('failed');
    expect([before, before + 1]).toContain(await revision());
    await expectCredentialOpens();
  });

  it('keeps a committed credential write when the connection is cut before the audit outcome is written, the entry saying so', async () => {
    const { response, before, entry } = await cutCredentialWrite(
      /update "deployments_audit_events"/i,
      'before',
    );
    expect(response.status).toBe(200);
    expect(await revision()).toBe(before + 1);
    expect(entry).toMatchObject({
      outcome: 'failed',
      message: expect.stringMatching(/^Outcome not recorded/),
    });
    await expectCredentialOpens();
  });
});
