// @ts-check

/**
 * The operations page lists operations across plans newest first, paged by
 * (created_at, id); without this index every page sorts the whole table.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('deployments_operations', table => {
    table.index(['created_at', 'id'], 'deployments_operations_created_id_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('deployments_operations', table => {
    table.dropIndex(
      ['created_at', 'id'],
      'deployments_operations_created_id_idx',
    );
  });
};
