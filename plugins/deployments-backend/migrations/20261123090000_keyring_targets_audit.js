/*
 * The keyring, envelope data keys, targets and the audit trail.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  // OpenPGP keypairs. The private key is stored encrypted under the unlock
  // passphrase by OpenPGP itself; the passphrase is never stored.
  await knex.schema.createTable('deployments_keyring_keys', table => {
    table.string('fingerprint', 64).primary();
    // active: opens every data key; pending: a rotation in progress;
    // retired: kept until its wraps are removed.
    table.string('state', 16).notNullable();
    table.text('armored_public_key').notNullable();
    table.text('armored_private_key').notNullable();
    table.string('created_at', 32).notNullable();
    table.string('created_by', 255).notNullable();
  });

  await knex.schema.createTable('deployments_data_keys', table => {
    table.string('id', 36).primary();
    table.string('created_at', 32).notNullable();
  });

  // A data key wrapped (OpenPGP-encrypted) to one keyring key. During a
  // rotation a data key has a wrap for the old and for the new key.
  await knex.schema.createTable('deployments_data_key_wraps', table => {
    table
      .string('data_key_id', 36)
      .notNullable()
      .references('id')
      .inTable('deployments_data_keys')
      .onDelete('CASCADE');
    table
      .string('key_fingerprint', 64)
      .notNullable()
      .references('fingerprint')
      .inTable('deployments_keyring_keys')
      .onDelete('CASCADE');
    table.text('wrapped').notNullable();
    table.primary(['data_key_id', 'key_fingerprint']);
  });

  await knex.schema.createTable('deployments_targets', table => {
    table.string('id', 36).primary();
    table.string('name', 63).notNullable().unique();
    table.string('display_name', 255).notNullable();
    table.text('description');
    table.string('owner', 255);
    table.string('api_server_url', 2048).notNullable();
    table.text('ca_data');
    table.string('auth_kind', 16).notNullable();
    // Envelope ciphertext; the record id and credentials_version are its
    // associated data, so it cannot be moved to another row or rolled back.
    table.text('credentials_sealed');
    table.integer('credentials_version').notNullable().defaultTo(0);
    table.string('credentials_fingerprint', 64);
    table.string('credentials_updated_at', 32);
    table.text('allowed_namespaces').notNullable();
    table.text('allowed_cluster_kinds').notNullable();
    table.string('impersonate_user', 255);
    table.text('impersonate_groups');
    table.boolean('allow_insecure_tls').notNullable().defaultTo(false);
    table.integer('revision').notNullable();
    table.string('created_at', 32).notNullable();
    table.string('created_by', 255).notNullable();
    table.string('updated_at', 32).notNullable();
    table.string('updated_by', 255).notNullable();
  });

  // What the admin page's audit trail shows. Every entry is also sent to
  // Backstage's auditor service. Never holds secret values.
  await knex.schema.createTable('deployments_audit_events', table => {
    table.bigIncrements('id').primary();
    table.string('occurred_at', 32).notNullable().index();
    table.string('actor', 255).notNullable().index();
    table.string('event_id', 64).notNullable().index();
    table.string('subject', 255).index();
    table.string('outcome', 16).notNullable();
    table.text('message');
    table.text('meta');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('deployments_audit_events');
  await knex.schema.dropTable('deployments_targets');
  await knex.schema.dropTable('deployments_data_key_wraps');
  await knex.schema.dropTable('deployments_data_keys');
  await knex.schema.dropTable('deployments_keyring_keys');
};
