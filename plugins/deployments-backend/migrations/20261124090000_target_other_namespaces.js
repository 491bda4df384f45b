/*
 * A target may let a chart's namespaced objects live in other namespaces of
 * its allowlist, not only in the release namespace (opt-in; existing targets
 * keep refusing them).
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('deployments_targets', table => {
    table
      .boolean('allow_objects_in_other_allowed_namespaces')
      .notNullable()
      .defaultTo(false);
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('deployments_targets', table => {
    table.dropColumn('allow_objects_in_other_allowed_namespaces');
  });
};
