/*
 * Values profiles and their revisions. A revision is never changed once
 * written: plans pin the revision they were dry-run and applied with.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('deployments_profiles', table => {
    table.string('id', 36).primary();
    table
      .string('chart_id', 36)
      .notNullable()
      .references('id')
      .inTable('deployments_charts');
    table.string('name', 255).notNullable();
    table.text('description');
    table.integer('revision').notNullable();
    table.string('created_at', 32).notNullable();
    table.string('created_by', 255).notNullable();
    table.string('updated_at', 32).notNullable();
    table.string('updated_by', 255).notNullable();
    table.unique(['chart_id', 'name']);
  });
  await knex.schema.createTable('deployments_profile_revisions', table => {
    table
      .string('profile_id', 36)
      .notNullable()
      .references('id')
      .inTable('deployments_profiles')
      .onDelete('CASCADE');
    table.integer('revision').notNullable();
    table.string('chart_id', 36).notNullable();
    // JSON of the values without secrets.
    table.text('values').notNullable();
    // JSON list of JSON pointers whose values are in secrets_sealed.
    table.text('secret_paths').notNullable();
    // Sealed JSON map pointer -> value, bound to (profile, revision).
    table.text('secrets_sealed');
    table.string('values_hash', 71).notNullable();
    table.string('created_at', 32).notNullable();
    table.string('created_by', 255).notNullable();
    table.primary(['profile_id', 'revision']);
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('deployments_profile_revisions');
  await knex.schema.dropTable('deployments_profiles');
};
