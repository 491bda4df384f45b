/*
 * Backup, restore and rotation of the keyring on real PostgreSQL and SQLite,
 * with credentials stored through the targets service. Uses 2048-bit keys to
 * keep the suite fast; production keys are 4096 bits (see OpenPgpKeyEngine).
 */
import { mockServices } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { migrateDatabase } from '../database/migrateDatabase';
import { generateDataKey } from '../secrets/EnvelopeCipher';
import { SecretsService } from '../secrets/SecretsService';
import { DatabaseTargetStore } from '../targets/DatabaseTargetStore';
import { TargetService } from '../targets/TargetService';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabaseKeyringStore } from './DatabaseKeyringStore';
import { KeyringService } from './KeyringService';
import { OpenPgpKeyEngine } from './OpenPgpKeyEngine';

jest.setTimeout(180_000);

const databases = createTestDatabases();
const engine = OpenPgpKeyEngine.create({ rsaBits: 2048 });
const PASSPHRASE = 'Keyring-service passphrase 2026';
const BACKUP_PASSPHRASE = 'Backup file passphrase 2026!';
const FAKE_CA =
  '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

async function install(knex: Knex) {
  const db = await migrateDatabase(mockServices.database({ knex }));
  const keyring = KeyringService.create({
    store: DatabaseKeyringStore.create(db),
    engine,
    logger: mockServices.logger.mock(),
  });
  const targets = TargetService.create({
    store: DatabaseTargetStore.create(db),
    secrets: SecretsService.create({ keyring }),
  });
  return { db, keyring, targets };
}

async function addTargets(targets: TargetService, count: number, from = 0) {
  for (let i = from; i < count; i++) {
    await targets.create(
      {
        name: `cluster-${i}`,
        apiServerUrl: 'https://127.0.0.1:6443',
        caData: FAKE_CA,
        allowedNamespaces: ['team-a'],
        credentials: { authKind: 'token', token: `token-${i}-secret` },
      },
      'user:default/admin',
    );
  }
}

async function decryptAll(targets: TargetService, count: number) {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const access = await targets.clusterAccess(
      await targets.getStored(`cluster-${i}`),
    );
    tokens.push((access.credentials as { token: string }).token);
  }
  return tokens;
}

const expected = (count: number) =>
  Array.from({ length: count }, (_, i) => `token-${i}-secret`);

describe.each(databases.eachSupportedId())(
  'KeyringService (%p)',
  databaseId => {
    it('backs up, and restores into a fresh database where every credential decrypts', async () => {
      const source = await install(await databases.init(databaseId));
      await source.keyring.bootstrap(PASSPHRASE, 'user:default/admin');
      await addTargets(source.targets, 3);
      const { file, fingerprint } = await source.keyring.exportBackup(
        BACKUP_PASSPHRASE,
      );

      const verified = await source.keyring.verifyBackup(
        file,
        BACKUP_PASSPHRASE,
      );
      expect(verified).toMatchObject({
        fingerprint,
        matchesCurrent: true,
        keyCount: 1,
        dataKeyCount: 1,
      });
      expect(JSON.stringify(verified)).not.toMatch(/PRIVATE KEY|PGP/);

      // A fresh install that received the targets' rows (a database restore),
      // but not the keyring: nothing decrypts until the backup is restored.
      const fresh = await install(await databases.init(databaseId));
      for (const row of await source.db('deployments_targets').select()) {
        await fresh.db('deployments_targets').insert(row);
      }
      await expect(fresh.keyring.unlock(PASSPHRASE)).rejects.toThrow(
        /bootstrap/,
      );

      await expect(
        fresh.keyring.restoreBackup(file, 'wrong backup passphrase'),
      ).rejects.toMatchObject({
        name: 'BackupPassphraseError',
      });
      expect(await fresh.db('deployments_keyring_keys')).toHaveLength(0);

      const corrupted = Buffer.from(file);
      corrupted[Math.floor(corrupted.length / 2)] ^= 0x01;
      await expect(
        fresh.keyring.restoreBackup(corrupted, BACKUP_PASSPHRASE),
      ).rejects.toThrow();
      expect(await fresh.db('deployments_keyring_keys')).toHaveLength(0);
      expect(await fresh.db('deployments_data_keys')).toHaveLength(0);

      const restored = await fresh.keyring.restoreBackup(
        file,
        BACKUP_PASSPHRASE,
      );
      expect(restored).toMatchObject({ state: 'sealed', fingerprint });
      await fresh.keyring.unlock(PASSPHRASE);
      expect(await decryptAll(fresh.targets, 3)).toEqual(expected(3));

      // Restore is only for an install without a keyring.
      await expect(
        source.keyring.restoreBackup(file, BACKUP_PASSPHRASE),
      ).rejects.toMatchObject({
        name: 'ConflictError',
      });
    });

    it('resumes a rotation interrupted halfway; every credential decrypts throughout', async () => {
      const knex = await databases.init(databaseId);
      const first = await install(knex);
      await first.keyring.bootstrap(PASSPHRASE, 'user:default/admin');
      // Several data keys, so there is a "halfway".
      await addTargets(first.targets, 2);
      const store = DatabaseKeyringStore.create(first.db);
      for (let i = 0; i < 3; i++) {
        const active = (await store.listKeys())[0];
        const unlocked = await engine.unlock(
          active.armoredPrivateKey,
          PASSPHRASE,
        );
        const dataKey = generateDataKey();
        await store.addDataKey({
          id: `extra-${i}`,
          createdAt: new Date(Date.now() + i + 1).toISOString(),
          wraps: [
            {
              fingerprint: active.fingerprint,
              wrapped: await unlocked.wrapDataKey(dataKey),
            },
          ],
        });
      }
      await addTargets(first.targets, 4, 2); // cluster-2 and cluster-3 use the newest data key
      const oldFingerprint = (await first.keyring.status()).fingerprint;

      // "Crash" after the second data key was rewrapped.
      await expect(
        first.keyring.rotate(PASSPHRASE, 'user:default/admin', {
          afterRewrap: (_id, index) => {
            if (index === 1) throw new Error('backend killed');
          },
        }),
      ).rejects.toThrow('backend killed');

      const midway = await first.keyring.status();
      expect(midway.fingerprint).toBe(oldFingerprint);
      expect(midway.rotation?.pendingFingerprint).toBeDefined();

      // A new process: sealed, unlocks with the same passphrase, resumes.
      const second = await install(knex);
      const resumed = await second.keyring.unlock(PASSPHRASE);
      expect(resumed.rotation).toBeUndefined();
      expect(resumed.fingerprint).toBe(midway.rotation!.pendingFingerprint);
      expect(await decryptAll(second.targets, 4)).toEqual(expected(4));

      const keys = await knex('deployments_keyring_keys');
      expect(keys.map(k => k.state)).toEqual(['active']);
      const wraps = await knex('deployments_data_key_wraps');
      expect(new Set(wraps.map(w => w.key_fingerprint))).toEqual(
        new Set([resumed.fingerprint]),
      );
    });

    it('detects tampered ciphertexts, wrapped keys and swapped ciphertexts', async () => {
      const knex = await databases.init(databaseId);
      const { keyring, targets, db } = await install(knex);
      await keyring.bootstrap(PASSPHRASE, 'user:default/admin');
      await addTargets(targets, 2);
      const rows = await db('deployments_targets').orderBy('name');

      // A flipped byte inside the ciphertext part.
      const sealed: string = rows[0].credentials_sealed;
      const flipped = `${sealed.slice(0, -30)}${
        sealed.at(-30) === 'A' ? 'B' : 'A'
      }${sealed.slice(-29)}`;
      await db('deployments_targets')
        .where({ id: rows[0].id })
        .update({ credentials_sealed: flipped });
      await expect(
        targets.clusterAccess(await targets.getStored('cluster-0')),
      ).rejects.toMatchObject({
        name: 'SecretIntegrityError',
      });

      // Another target's ciphertext moved into this row.
      await db('deployments_targets')
        .where({ id: rows[0].id })
        .update({ credentials_sealed: rows[1].credentials_sealed });
      await expect(
        targets.clusterAccess(await targets.getStored('cluster-0')),
      ).rejects.toMatchObject({
        name: 'SecretIntegrityError',
      });

      // An older ciphertext of the same row put back after a replacement.
      await db('deployments_targets')
        .where({ id: rows[0].id })
        .update({ credentials_sealed: sealed });
      await targets.replaceCredentials(
        'cluster-0',
        { authKind: 'token', token: 'newer' },
        'user:default/admin',
      );
      await db('deployments_targets')
        .where({ id: rows[0].id })
        .update({ credentials_sealed: sealed });
      await expect(
        targets.clusterAccess(await targets.getStored('cluster-0')),
      ).rejects.toMatchObject({
        name: 'SecretIntegrityError',
      });

      // A tampered wrapped data key, seen by a fresh process that must unwrap it.
      const [wrap] = await db('deployments_data_key_wraps');
      const lines = String(wrap.wrapped).split('\n');
      const body = lines.findIndex(l => l.length > 40);
      lines[body] = `${lines[body].slice(0, 10)}${
        lines[body][10] === 'Q' ? 'R' : 'Q'
      }${lines[body].slice(11)}`;
      await db('deployments_data_key_wraps').update({
        wrapped: lines.join('\n'),
      });
      const other = await install(knex);
      await other.keyring.unlock(PASSPHRASE);
      await expect(
        other.targets.clusterAccess(await other.targets.getStored('cluster-1')),
      ).rejects.toMatchObject({
        name: 'SecretIntegrityError',
      });
    });

    it('rate-limits wrong passphrases', async () => {
      const { keyring } = await install(await databases.init(databaseId));
      await keyring.bootstrap(PASSPHRASE, 'user:default/admin');
      await keyring.seal();
      for (let i = 0; i < 5; i++) {
        await expect(
          keyring.unlock(`wrong passphrase ${i}`),
        ).rejects.toMatchObject({ name: 'NotAllowedError' });
      }
      await expect(keyring.unlock(PASSPHRASE)).rejects.toMatchObject({
        name: 'TooManyUnlockAttemptsError',
        statusCode: 429,
      });
    });
  },
);
