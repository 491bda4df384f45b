/*
 * Who may deploy where and when: a target can be marked production, map its
 * namespaces to owning groups, require a second person's approval for
 * changes, and restrict changes to windows (JSON settings).
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('deployments_targets', table => {
    table.boolean('production').notNullable().defaultTo(false);
    table.text('namespace_owners').notNullable().defaultTo('[]');
    table.boolean('require_approval').notNullable().defaultTo(false);
    table.text('change_windows').nullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('deployments_targets', table => {
    table.dropColumn('production');
    table.dropColumn('namespace_owners');
    table.dropColumn('require_approval');
    table.dropColumn('change_windows');
  });
};
