/*
 * Two replicas of the backend, as two KeyringService instances on one
 * database (real PostgreSQL and SQLite): an unlock, a seal and a rotation
 * made on one reach the other within seconds, and wrong passphrases count
 * against one limit whichever replica they are tried on. 2048-bit keys keep
 * it fast; production keys are 4096 bits.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createMessage,
  encrypt,
  generateKey,
  readKey,
  readPrivateKey,
} from 'openpgp';
import { migrateDatabase } from '../database/migrateDatabase';
import { SecretsService } from '../secrets/SecretsService';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabaseKeyringStore } from './DatabaseKeyringStore';
import { KeyringService } from './KeyringService';
import { encodeKeyringBackup } from './keyringBackup';
import { OpenPgpKeyEngine } from './OpenPgpKeyEngine';

jest.setTimeout(240_000);

const databases = createTestDatabases();
const engine = OpenPgpKeyEngine.create({ rsaBits: 2048 });
const PASSPHRASE = 'Replicated keyring passphrase 2026';
const ADMIN = 'user:default/admin';
/** What the issue promises: a replica follows within seconds. */
const FOLLOW_WITHIN_MS = 5000;

const replicas: KeyringService[] = [];

afterEach(async () => {
  await Promise.all(replicas.splice(0).map(r => r.stop()));
});

async function replica(
  knex: Knex,
  options: { passphrase?: string; checkIntervalMs?: number } = {},
) {
  const db = await migrateDatabase(mockServices.database({ knex }));
  const keyring = KeyringService.create({
    store: DatabaseKeyringStore.create(db),
    engine,
    logger: mockServices.logger.mock(),
    passphrase: options.passphrase,
    checkIntervalMs: options.checkIntervalMs,
    pollIntervalMs: 250,
  });
  keyring.start();
  replicas.push(keyring);
  return { keyring, secrets: SecretsService.create({ keyring }) };
}

const identity = (id: string) => ({ type: 'test', id, version: 1 });

/** Polls until `probe` resolves; returns how long that took. */
async function within(
  ms: number,
  probe: () => Promise<unknown>,
): Promise<number> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < ms) {
    try {
      await probe();
      return Date.now() - started;
    } catch (error) {
      last = error;
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  throw new Error(`Not within ${ms} ms; last: ${last}`);
}

async function sealedError(promise: Promise<unknown>) {
  return promise.then(
    () => {
      throw new Error('expected the keyring to be sealed');
    },
    (error: Error) => {
      if (error.name !== 'KeyringSealedError') throw error;
      return error;
    },
  );
}

describe.each(databases.eachSupportedId())(
  'KeyringService replicas (%p)',
  databaseId => {
    it('an unlock on A reaches B (configured passphrase) within seconds; a B without one says so', async () => {
      const knex = await databases.init(databaseId);
      const a = await replica(knex);
      await a.keyring.bootstrap(PASSPHRASE, ADMIN);
      await a.keyring.seal();
      const b = await replica(knex, { passphrase: PASSPHRASE });
      const c = await replica(knex);
      await sealedError(b.secrets.seal(identity('b'), 'from b'));

      await a.keyring.unlock(PASSPHRASE);
      const tookMs = await within(FOLLOW_WITHIN_MS, async () => {
        const sealed = await b.secrets.seal(identity('b'), 'from b');
        expect(
          (await a.secrets.open(identity('b'), sealed.sealed)).toString(),
        ).toBe('from b');
      });
      expect(tookMs).toBeLessThanOrEqual(FOLLOW_WITHIN_MS);
      const fromA = await a.secrets.seal(identity('a'), 'from a');
      expect(
        (await b.secrets.open(identity('a'), fromA.sealed)).toString(),
      ).toBe('from a');
      expect(await b.keyring.status()).toMatchObject({
        state: 'unlocked',
        unlockedBy: 'configuration',
      });

      // C has no passphrase: it cannot follow, and says why, not obscurely.
      const error = await sealedError(
        c.secrets.open(identity('a'), fromA.sealed),
      );
      expect(error.message).toMatch(
        /holds no key material.*deployments\.keyring\.passphrase/,
      );
      expect((await c.keyring.status()).state).toBe('sealed');
    });

    it('a configured passphrase does not undo a seal, on start or on following', async () => {
      const knex = await databases.init(databaseId);
      const a = await replica(knex);
      await a.keyring.bootstrap(PASSPHRASE, ADMIN);
      await a.keyring.seal();
      const b = await replica(knex, { passphrase: PASSPHRASE });
      await expect(
        b.keyring.unlock(PASSPHRASE, 'configuration'),
      ).rejects.toMatchObject({ name: 'KeyringSealedError' });
      await new Promise(resolve => setTimeout(resolve, 1500));
      expect((await b.keyring.status()).state).toBe('sealed');
    });

    it('a rotation on A reaches B (unlocked by hand, no configured passphrase): B opens what is sealed after it', async () => {
      const knex = await databases.init(databaseId);
      const a = await replica(knex);
      await a.keyring.bootstrap(PASSPHRASE, ADMIN);
      const b = await replica(knex);
      await b.keyring.unlock(PASSPHRASE);
      const before = await a.secrets.seal(identity('before'), 'before');

      const rotated = await a.keyring.rotate(PASSPHRASE, ADMIN);
      const after = await a.secrets.seal(identity('after'), 'after');

      const tookMs = await within(FOLLOW_WITHIN_MS, async () => {
        expect((await b.keyring.status()).fingerprint).toBe(
          rotated.fingerprint,
        );
        expect(
          (await b.secrets.open(identity('after'), after.sealed)).toString(),
        ).toBe('after');
      });
      expect(tookMs).toBeLessThanOrEqual(FOLLOW_WITHIN_MS);
      expect(
        (await b.secrets.open(identity('before'), before.sealed)).toString(),
      ).toBe('before');
      expect(await b.keyring.status()).toMatchObject({
        state: 'unlocked',
        fingerprint: rotated.fingerprint,
      });
      // B holds the new private key itself: its self-test wraps and unwraps with it.
      expect(await b.keyring.selfTest()).toMatchObject({
        ok: true,
        fingerprint: rotated.fingerprint,
      });
      // A fresh replica (no cached data keys) unlocks the rotated keyring too.
      const c = await replica(knex);
      await c.keyring.unlock(PASSPHRASE);
      expect(
        (await c.secrets.open(identity('after'), after.sealed)).toString(),
      ).toBe('after');
    });

    it('right after a rotation on A, B opens at once: a missing wrap makes it look again instead of failing', async () => {
      const knex = await databases.init(databaseId);
      const a = await replica(knex);
      await a.keyring.bootstrap(PASSPHRASE, ADMIN);
      // B would otherwise trust what it read for a minute.
      const b = await replica(knex, { checkIntervalMs: 60_000 });
      await b.keyring.unlock(PASSPHRASE);
      await b.keyring.stop();
      const rotated = await a.keyring.rotate(PASSPHRASE, ADMIN);
      const after = await a.secrets.seal(identity('after'), 'after');
      expect(
        (await b.secrets.open(identity('after'), after.sealed)).toString(),
      ).toBe('after');
      expect((await b.keyring.selfTest()).fingerprint).toBe(
        rotated.fingerprint,
      );
    });

    it('a handover not signed by the old key is refused: B seals itself instead', async () => {
      const knex = await databases.init(databaseId);
      const a = await replica(knex);
      await a.keyring.bootstrap(PASSPHRASE, ADMIN);
      const b = await replica(knex);
      await b.keyring.unlock(PASSPHRASE);
      const [{ armored_public_key: oldPublicKey }] = await knex(
        'deployments_keyring_keys',
      );
      await b.keyring.stop();
      await a.keyring.rotate(PASSPHRASE, ADMIN);

      // Someone who can write to the database puts in a key of their own as
      // the active one, with a handover encrypted to the old public key
      // (which anyone can read), hoping B adopts it and seals under it.
      const forged = await generateKey({
        type: 'rsa',
        rsaBits: 2048,
        userIDs: [{ name: 'forger' }],
        format: 'object',
      });
      const forgedFingerprint = forged.privateKey.getFingerprint();
      await knex('deployments_keyring_keys')
        .where({ state: 'active' })
        .update({ state: 'retired' });
      await knex('deployments_keyring_keys').insert({
        fingerprint: forgedFingerprint,
        state: 'active',
        armored_public_key: forged.publicKey.armor(),
        armored_private_key: forged.privateKey.armor(),
        created_at: new Date().toISOString(),
        created_by: 'forger',
      });
      await knex('deployments_keyring_handovers').update({
        to_fingerprint: forgedFingerprint,
        sealed_key: await encrypt({
          message: await createMessage({
            binary: forged.privateKey.write(),
            format: 'binary',
          }),
          encryptionKeys: await readKey({ armoredKey: oldPublicKey }),
          format: 'armored',
        }),
      });

      await within(FOLLOW_WITHIN_MS, () =>
        sealedError(b.secrets.seal(identity('x'), 'secret')),
      );
      const error = await sealedError(b.secrets.seal(identity('x'), 'secret'));
      expect(error.message).toMatch(/cannot follow without the passphrase/);
      expect((await b.keyring.status()).state).toBe('sealed');
    });

    it('a seal on A reaches B within seconds: B forgets its keys and answers sealed', async () => {
      const knex = await databases.init(databaseId);
      const a = await replica(knex);
      await a.keyring.bootstrap(PASSPHRASE, ADMIN);
      const b = await replica(knex);
      await b.keyring.unlock(PASSPHRASE);
      const sealed = await a.secrets.seal(identity('s'), 'secret');
      // B has the data key in memory before the seal.
      expect(
        (await b.secrets.open(identity('s'), sealed.sealed)).toString(),
      ).toBe('secret');

      await a.keyring.seal();
      const tookMs = await within(FOLLOW_WITHIN_MS, () =>
        sealedError(b.secrets.open(identity('s'), sealed.sealed)),
      );
      expect(tookMs).toBeLessThanOrEqual(FOLLOW_WITHIN_MS);
      // Also when idle: the background poll dropped the keys.
      expect(b.keyring.isUnlocked()).toBe(false);
      expect((await b.keyring.status()).state).toBe('sealed');
      await sealedError(b.secrets.seal(identity('t'), 'another'));

      // A seal and unlock between two looks still reaches B.
      await b.keyring.unlock(PASSPHRASE);
      await b.keyring.stop();
      await a.keyring.seal();
      await a.keyring.unlock(PASSPHRASE);
      await new Promise(resolve => setTimeout(resolve, 1100));
      await sealedError(b.secrets.open(identity('s'), sealed.sealed));
    });

    it('wrong passphrases on A and B count against one limit, on the database clock', async () => {
      const knex = await databases.init(databaseId);
      const a = await replica(knex);
      await a.keyring.bootstrap(PASSPHRASE, ADMIN);
      await a.keyring.seal();
      const b = await replica(knex);

      // One after another: three wrong on A and two on B use up the limit.
      for (const [r, i] of [
        [a, 0],
        [b, 1],
        [a, 2],
        [b, 3],
        [a, 4],
      ] as const) {
        await expect(
          r.keyring.unlock(`wrong passphrase number ${i}`),
        ).rejects.toMatchObject({ name: 'NotAllowedError' });
      }
      for (const r of [a, b]) {
        await expect(r.keyring.unlock(PASSPHRASE)).rejects.toMatchObject({
          name: 'TooManyUnlockAttemptsError',
        });
      }
      await knex('deployments_keyring_unlock_attempts').delete();

      // Eight at once, spread over both replicas: five are tried, three refused.
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).keyring.unlock(`wrong passphrase number ${i}`),
        ),
      );
      const names = results.map(r =>
        r.status === 'rejected' ? (r.reason as Error).name : 'fulfilled',
      );
      expect(names.filter(n => n === 'NotAllowedError')).toHaveLength(5);
      expect(
        names.filter(n => n === 'TooManyUnlockAttemptsError'),
      ).toHaveLength(3);
      for (const r of [a, b]) {
        await expect(r.keyring.unlock(PASSPHRASE)).rejects.toMatchObject({
          name: 'TooManyUnlockAttemptsError',
          statusCode: 429,
          message: expect.stringMatching(/try again in \d+ s/),
        });
      }

      // The window is measured by the database's clock: once the attempts
      // are older than a minute there, the right passphrase opens again.
      await knex('deployments_keyring_unlock_attempts').update({
        attempted_at: knex.raw(
          databaseId.startsWith('SQLITE')
            ? `datetime('now', '-61 seconds')`
            : `now() - interval '61 seconds'`,
        ),
      });
      await b.keyring.unlock(PASSPHRASE);
      expect(await knex('deployments_keyring_unlock_attempts')).toEqual([]);
    });

    it('refuses a backup whose keys ask for Argon2 costs out of range, before storing anything', async () => {
      const knex = await databases.init(databaseId);
      const a = await replica(knex);
      const pair = await engine.generate(PASSPHRASE);
      const key = await readPrivateKey({ armoredKey: pair.armoredPrivateKey });
      (key.keyPacket as unknown as { s2k: { t: number } }).s2k.t = 200;
      const file = await encodeKeyringBackup(
        {
          formatVersion: 1,
          fingerprint: pair.fingerprint,
          capturedAt: new Date().toISOString(),
          keys: [
            {
              fingerprint: pair.fingerprint,
              armoredPublicKey: pair.armoredPublicKey,
              armoredPrivateKey: key.armor(),
              state: 'active',
              createdAt: new Date().toISOString(),
            },
          ],
          dataKeys: [],
        },
        'Backup passphrase for the test 2026',
      );
      await expect(
        a.keyring.restoreBackup(file, 'Backup passphrase for the test 2026'),
      ).rejects.toMatchObject({
        name: 'InputError',
        message: expect.stringMatching(/Argon2 passes is 200, outside 1 to 4/),
      });
      expect(await knex('deployments_keyring_keys')).toEqual([]);
    });
  },
);
