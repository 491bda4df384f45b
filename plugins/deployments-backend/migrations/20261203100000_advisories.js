/*
 * Patch advisories: newer versions of the images and charts a deployed
 * release runs, found by the scheduled check, and each release's last check
 * (what runs, and what could not be checked).
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('deployments_advisories', table => {
    table.string('id', 36).primary();
    table.string('plan_id', 36).notNullable();
    // sha256 of plan, subject, what runs, kind and what is available while
    // the advisory is open; null once resolved, so the same finding can open
    // again later as a new advisory. Unique: two checks never store it twice.
    table.string('open_key', 71).unique();
    table.string('subject_kind', 8).notNullable();
    // 'chart', or 'Kind/name/container' of an image.
    table.string('subject', 600).notNullable();
    table.string('workload', 300);
    table.string('container', 253);
    table.boolean('init_container').notNullable().defaultTo(false);
    // What runs: the image as the pod spec names it, or the chart version.
    table.text('running').notNullable();
    table.string('running_digest', 71);
    // Where newer versions were looked for: host/repository, or the chart's reference.
    table.text('source').notNullable();
    table.string('kind', 8).notNullable();
    table.string('available', 255);
    table.string('available_digest', 71);
    table.text('detail');
    // JSON: the exact way to act (a values change, a command, a chart version).
    table.text('remedy');
    // ISO timestamps of one format: compared as strings in SQL.
    table.string('first_seen_at', 32).notNullable();
    table.string('last_seen_at', 32).notNullable();
    table.string('notified_at', 32);
    table.string('dismissed_by', 255);
    table.string('dismissed_at', 32);
    table.text('dismiss_reason');
    table.string('dismissed_until', 32);
    table.string('resolved_at', 32);
    table.text('resolved_reason');
    table.index(['plan_id', 'resolved_at']);
  });
  await knex.schema.createTable('deployments_advisory_checks', table => {
    table.string('plan_id', 36).primary();
    table.string('checked_at', 32).notNullable();
    // JSON: the images and chart version the release ran at the check.
    table.text('running').notNullable();
    // JSON: what could not be checked and why (a registry down, ...).
    table.text('problems').notNullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('deployments_advisory_checks');
  await knex.schema.dropTable('deployments_advisories');
};
