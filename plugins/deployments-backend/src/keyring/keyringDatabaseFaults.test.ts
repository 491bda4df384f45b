/*
 * PostgreSQL goes away (the backend's connections go through a relay that is
 * cut) in the middle of a keyring rotation: the rotation fails closed with a
 * clear 503, the keyring is not half-rotated (the old key stays active and
 * opens every credential, the new one waits as pending), and rotating again
 * once the database is back finishes it.
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
const PASSPHRASE = 'Keyring-fault passphrase 2026';
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

describe('PostgreSQL gone during a keyring rotation (POSTGRES)', () => {
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

  it.each([
    [
      'the first data key is rewrapped',
      /insert into "deployments_data_key_wraps"/i,
    ],
    ['the rotation is completed', /delete from "deployments_keyring_keys"/i],
  ])(
    'a rotation cut as %s fails closed, leaves every credential open, and resumes',
    async (_, statement) => {
      const before = (await request(server).get(`${API}/keyring`).expect(200))
        .body;
      expect(before.rotation).toBeUndefined();
      let cutAt = 0;
      relay.onChunk((direction, chunk) => {
        if (
          !cutAt &&
          direction === 'up' &&
          statement.test(chunk.toString('latin1'))
        ) {
          cutAt = Date.now();
          relay.cut();
        }
      });
      const response = await request(server)
        .post(`${API}/keyring/rotate`)
        .send({ passphrase: PASSPHRASE });
      expect(cutAt).toBeGreaterThan(0);
      // eslint-disable-next-line no-console
      console.log(
        'rotation cut at',
        statement,
        Date.now() - cutAt,
        'ms',
        response.status,
        response.body,
      );
      expect(Date.now() - cutAt).toBeLessThan(BOUND_MS);
      expect(response.status).toBe(503);
      expectClearError(response.body);
      expect(response.body.error.message).toMatch(
        /database connection failed during keyring-rotate/,
      );

      relay.onChunk(undefined);
      relay.resume();
      // Not half-rotated: the old key is still the active one and opens
      // every credential; the new one waits as pending.
      const midway = (await request(server).get(`${API}/keyring`).expect(200))
        .body;
      // eslint-disable-next-line no-console
      console.log('keyring after the cut:', midway);
      expect(midway.fingerprint).toBe(before.fingerprint);
      const keys = await direct('deployments_keyring_keys').select('state');
      expect(keys.map(k => k.state).sort()).toEqual(['active', 'pending']);
      await expectCredentialOpens();

      // Resumed by rotating again.
      const resumed = await request(server)
        .post(`${API}/keyring/rotate`)
        .send({ passphrase: PASSPHRASE });
      expect(resumed.status).toBe(200);
      expect(resumed.body.rotation).toBeUndefined();
      expect(resumed.body.fingerprint).not.toBe(before.fingerprint);
      const after = await direct('deployments_keyring_keys').select(
        'state',
        'fingerprint',
      );
      expect(after).toEqual([
        { state: 'active', fingerprint: resumed.body.fingerprint },
      ]);
      const wraps = await direct('deployments_data_key_wraps').select(
        'key_fingerprint',
      );
      expect(new Set(wraps.map(w => w.key_fingerprint))).toEqual(
        new Set([resumed.body.fingerprint]),
      );
      await expectCredentialOpens();
    },
  );
});
