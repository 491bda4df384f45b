/*
 * Retention: finished operations remember when their progress lines were
 * removed and when their large stored output was compacted, so each pass
 * of the retention task picks up only what is left to do, through indexes
 * instead of scanning every operation ever run.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('deployments_operations', table => {
    table.string('lines_pruned_at', 32).nullable();
    table.string('output_compacted_at', 32).nullable();
    table.index(
      ['lines_pruned_at', 'finished_at'],
      'deployments_operations_lines_retention_idx',
    );
    table.index(
      ['kind', 'output_compacted_at', 'finished_at'],
      'deployments_operations_output_retention_idx',
    );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('deployments_operations', table => {
    table.dropIndex(
      ['kind', 'output_compacted_at', 'finished_at'],
      'deployments_operations_output_retention_idx',
    );
    table.dropIndex(
      ['lines_pruned_at', 'finished_at'],
      'deployments_operations_lines_retention_idx',
    );
    table.dropColumn('output_compacted_at');
    table.dropColumn('lines_pruned_at');
  });
};
