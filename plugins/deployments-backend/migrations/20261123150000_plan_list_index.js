/*
 * Plans are listed in (entity_ref, release_name, id) order with keyset
 * pagination; this index serves both the order and the cursor, so a page
 * deep in 100k plans costs what the first page costs.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('deployments_plans', table => {
    table.index(
      ['entity_ref', 'release_name', 'id'],
      'deployments_plans_list_order_idx',
    );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('deployments_plans', table => {
    table.dropIndex(
      ['entity_ref', 'release_name', 'id'],
      'deployments_plans_list_order_idx',
    );
  });
};
