/*
 * The migration that makes the keyring's state a database fact, on real
 * PostgreSQL and SQLite: an install whose keyring predates it keeps working
 * (generation 0, not sealed), the generation moves from there, and the
 * migration can be undone.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { generateDataKey } from '../secrets/EnvelopeCipher';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabaseKeyringStore } from './DatabaseKeyringStore';
import { KeyringService } from './KeyringService';
import { OpenPgpKeyEngine } from './OpenPgpKeyEngine';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const directory = resolvePackagePath(
  '@kubedeploy/plugin-deployments-backend',
  'migrations',
);
const MIGRATION = '20261202133000_keyring_generation.js';
const TABLES = [
  'deployments_keyring_state',
  'deployments_keyring_unlock_attempts',
  'deployments_keyring_handovers',
];
const PASSPHRASE = 'Keyring before the migration 2026';
const engine = OpenPgpKeyEngine.create({ rsaBits: 2048 });

/** Runs every migration before `name`, so the next `up` is `name` itself. */
async function migrateUpTo(knex: Knex, name: string): Promise<void> {
  for (;;) {
    const [, pending] = (await knex.migrate.list({ directory })) as [
      unknown,
      Array<{ file: string }>,
    ];
    if (pending.length === 0) {
      throw new Error(`migration ${name} is not pending`);
    }
    if (pending[0].file === name) {
      return;
    }
    await knex.migrate.up({ directory });
  }
}

describe.each(databases.eachSupportedId())(
  'keyring generation migration (%p)',
  databaseId => {
    it('keeps an existing keyring working, starts at generation 0, and can be undone', async () => {
      const knex = await databases.init(databaseId);
      await migrateUpTo(knex, MIGRATION);

      // A keyring bootstrapped before the migration.
      const pair = await engine.generate(PASSPHRASE);
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const now = new Date().toISOString();
      await knex('deployments_keyring_keys').insert({
        fingerprint: pair.fingerprint,
        state: 'active',
        armored_public_key: pair.armoredPublicKey,
        armored_private_key: pair.armoredPrivateKey,
        created_at: now,
        created_by: 'user:default/admin',
      });
      await knex('deployments_data_keys').insert({
        id: 'dk-1',
        created_at: now,
      });
      await knex('deployments_data_key_wraps').insert({
        data_key_id: 'dk-1',
        key_fingerprint: pair.fingerprint,
        wrapped: await unlocked.wrapDataKey(generateDataKey()),
      });

      await knex.migrate.up({ directory });
      const store = DatabaseKeyringStore.create(knex);
      expect(await store.getGeneration()).toEqual({
        generation: 0,
        sealed: false,
      });
      const keyring = KeyringService.create({
        store,
        engine,
        logger: mockServices.logger.mock(),
      });
      expect(await keyring.unlock(PASSPHRASE)).toMatchObject({
        state: 'unlocked',
        fingerprint: pair.fingerprint,
      });
      await keyring.resolveDataKey('dk-1');
      await keyring.seal();
      expect(await store.getGeneration()).toEqual({
        generation: 1,
        sealed: true,
      });

      await knex.migrate.down({ directory, name: MIGRATION });
      for (const table of TABLES) {
        expect(await knex.schema.hasTable(table)).toBe(false);
      }
      expect(await knex('deployments_keyring_keys')).toHaveLength(1);
    });
  },
);
