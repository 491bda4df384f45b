/*
 * The keyring's state as a fact every replica reads: a generation that moves
 * on bootstrap, rotation, restore and seal, and whether an administrator
 * sealed it; unlock failures counted across replicas on the database's
 * clock; and the handover a rotation leaves for replicas still holding the
 * old key.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  // Exactly one row (id 1).
  await knex.schema.createTable('deployments_keyring_state', table => {
    table.integer('id').primary();
    table.bigInteger('generation').notNullable().defaultTo(0);
    table.boolean('sealed').notNullable().defaultTo(false);
    table.timestamp('updated_at', { useTz: true }).defaultTo(knex.fn.now());
  });
  await knex('deployments_keyring_state').insert({
    id: 1,
    generation: 0,
    sealed: false,
  });

  // One row per unlock attempt that failed (or is being tried) within the
  // rate-limit window; older rows are deleted as new attempts come in.
  await knex.schema.createTable(
    'deployments_keyring_unlock_attempts',
    table => {
      table.bigIncrements('id').primary();
      table
        .timestamp('attempted_at', { useTz: true })
        .notNullable()
        .defaultTo(knex.fn.now())
        .index();
    },
  );

  // The new keyring private key of a rotation, encrypted to and signed by
  // the old key, so replicas unlocked with the old key can follow. Deleted
  // a few minutes after the rotation.
  await knex.schema.createTable('deployments_keyring_handovers', table => {
    table.bigInteger('generation').primary();
    table.string('from_fingerprint', 64).notNullable();
    table.string('to_fingerprint', 64).notNullable();
    table.text('sealed_key').notNullable();
    table
      .timestamp('created_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now())
      .index();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('deployments_keyring_handovers');
  await knex.schema.dropTable('deployments_keyring_unlock_attempts');
  await knex.schema.dropTable('deployments_keyring_state');
};
