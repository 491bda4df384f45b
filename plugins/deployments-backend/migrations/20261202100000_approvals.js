/*
 * Four-eyes approval: a request for another user to approve one apply,
 * rollback or uninstall of a plan, bound to the plan revision, the target
 * revision and, for an apply, the inputs and the objects the dry-run checked.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  // Approvals outlive their plan, like operations: they are the record of who allowed what.
  await knex.schema.createTable('deployments_approvals', table => {
    table.string('id', 36).primary();
    table.string('plan_id', 36).notNullable();
    table.integer('plan_revision').notNullable();
    // A target edited after the request (allowlist, credentials) voids it.
    table.integer('target_revision').notNullable();
    table.string('kind', 16).notNullable();
    table.integer('rollback_revision');
    table.string('inputs_hash', 71);
    table.string('manifest_hash', 71);
    table.string('dry_run_operation_id', 36);
    table.string('status', 16).notNullable();
    table.string('requested_by', 255).notNullable();
    table.string('requested_at', 32).notNullable();
    table.text('comment');
    table.string('decided_by', 255);
    table.string('decided_at', 32);
    table.text('decision_comment');
    // ISO timestamps of one format: compared as strings in SQL.
    table.string('expires_at', 32).notNullable();
    table.string('used_by_operation_id', 36);
    table.index(['plan_id', 'requested_at']);
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('deployments_approvals');
};
