/*
 * Values profiles have owners: an entity ref (usually a group) that
 * permission policies match to decide who may read, change and use a
 * profile and its sealed secrets. Existing profiles stay unowned.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('deployments_profiles', table => {
    table.string('owner', 255).nullable();
    table.index(['owner']);
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('deployments_profiles', table => {
    table.dropIndex(['owner']);
    table.dropColumn('owner');
  });
};
