/*
 * Credentials for OCI registries, sealed under the keyring like target
 * credentials. Migrations are append-only: never edit this file once landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('deployments_registries', table => {
    table.string('id', 36).primary();
    // host[:port], as in chart references
    table.string('host', 255).notNullable().unique();
    table.string('auth_kind', 16).notNullable();
    table.text('credentials_sealed').notNullable();
    table.integer('credentials_version').notNullable();
    table.string('credentials_fingerprint', 64).notNullable();
    table.string('created_at', 32).notNullable();
    table.string('created_by', 255).notNullable();
    table.string('updated_at', 32).notNullable();
    table.string('updated_by', 255).notNullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('deployments_registries');
};
