/*
 * Release plans, the durable operations run on them, the per-release lock
 * that lets one operation run at a time across replicas, the release records
 * of applies, and the scheduled reachability of targets.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('deployments_plans', table => {
    table.string('id', 36).primary();
    table.string('entity_ref', 255).notNullable();
    table.string('entity_owner', 255);
    table
      .string('chart_id', 36)
      .notNullable()
      .references('id')
      .inTable('deployments_charts');
    table
      .string('target_id', 36)
      .notNullable()
      .references('id')
      .inTable('deployments_targets');
    // Target names never change; kept here so permission filters run in SQL.
    table.string('target_name', 63).notNullable();
    table.string('namespace', 63).notNullable();
    table.string('release_name', 53).notNullable();
    table
      .string('profile_id', 36)
      .references('id')
      .inTable('deployments_profiles');
    // Pinned profile revision; null follows the newest revision.
    table.integer('profile_revision');
    table.text('options').notNullable();
    table.integer('revision').notNullable();
    table.string('status', 32).notNullable();
    table.text('status_message');
    table.string('status_changed_at', 32).notNullable();
    table.string('status_changed_by', 255).notNullable();
    // JSON gates: the latest dry-run and preflight outcome with inputs hash.
    table.text('last_dry_run');
    table.text('last_preflight');
    table.string('created_at', 32).notNullable();
    table.string('created_by', 255).notNullable();
    table.string('updated_at', 32).notNullable();
    table.string('updated_by', 255).notNullable();
    table.unique(['target_id', 'namespace', 'release_name']);
    table.index(['entity_ref']);
  });

  await knex.schema.createTable('deployments_plan_revisions', table => {
    table
      .string('plan_id', 36)
      .notNullable()
      .references('id')
      .inTable('deployments_plans')
      .onDelete('CASCADE');
    table.integer('revision').notNullable();
    // JSON snapshot of the plan's inputs at this revision.
    table.text('snapshot').notNullable();
    table.string('created_at', 32).notNullable();
    table.string('created_by', 255).notNullable();
    table.primary(['plan_id', 'revision']);
  });

  // Operations outlive their plan: they are the record of what happened.
  await knex.schema.createTable('deployments_operations', table => {
    table.string('id', 36).primary();
    table.string('plan_id', 36).notNullable();
    table.integer('plan_revision').notNullable();
    table.string('kind', 16).notNullable();
    table.string('status', 16).notNullable();
    table.string('actor', 255).notNullable();
    table.string('inputs_hash', 71);
    table.string('target_id', 36).notNullable();
    table.string('target_name', 63).notNullable();
    table.string('namespace', 63).notNullable();
    table.string('release_name', 53).notNullable();
    table.integer('line_count').notNullable().defaultTo(0);
    table.text('error');
    table.text('result');
    // Which backend process runs it, and when it last proved it is alive.
    table.string('runner_id', 64).notNullable();
    table.string('heartbeat_at', 32).notNullable();
    table.boolean('cancel_requested').notNullable().defaultTo(false);
    table.string('created_at', 32).notNullable();
    table.string('finished_at', 32);
    table.integer('duration_ms');
    table.index(['plan_id', 'created_at']);
    table.index(['status']);
  });

  await knex.schema.createTable('deployments_operation_lines', table => {
    table.string('operation_id', 36).notNullable();
    table.integer('seq').notNullable();
    table.string('at', 32).notNullable();
    table.text('text').notNullable();
    table.primary(['operation_id', 'seq']);
  });

  // The primary key is the lock: inserting a second row for a release fails.
  await knex.schema.createTable('deployments_release_locks', table => {
    table.string('target_id', 36).notNullable();
    table.string('namespace', 63).notNullable();
    table.string('release_name', 53).notNullable();
    table.string('operation_id', 36).notNullable();
    table.string('acquired_at', 32).notNullable();
    table.primary(['target_id', 'namespace', 'release_name']);
  });

  await knex.schema.createTable('deployments_releases', table => {
    table.string('id', 36).primary();
    table.string('plan_id', 36).notNullable();
    table.integer('plan_revision').notNullable();
    table.string('operation_id', 36).notNullable();
    table.string('target_id', 36).notNullable();
    table.string('namespace', 63).notNullable();
    table.string('release_name', 53).notNullable();
    table.integer('helm_revision');
    table.string('chart_digest', 71);
    table.string('values_hash', 71);
    table.string('inputs_hash', 71);
    table.string('actor', 255).notNullable();
    table.string('outcome', 32).notNullable();
    table.string('created_at', 32).notNullable();
    table.index(['target_id', 'namespace', 'release_name']);
  });

  await knex.schema.createTable('deployments_target_health', table => {
    table.string('target_id', 36).primary();
    table.boolean('reachable').notNullable();
    table.text('error');
    table.string('server_version', 64);
    table.string('checked_at', 32).notNullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('deployments_target_health');
  await knex.schema.dropTable('deployments_releases');
  await knex.schema.dropTable('deployments_release_locks');
  await knex.schema.dropTable('deployments_operation_lines');
  await knex.schema.dropTable('deployments_operations');
  await knex.schema.dropTable('deployments_plan_revisions');
  await knex.schema.dropTable('deployments_plans');
};
