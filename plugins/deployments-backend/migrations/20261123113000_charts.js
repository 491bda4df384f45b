/*
 * The chart catalog: every registered chart version, pinned by digest, with
 * the archive kept so later Helm runs use exactly these bytes.
 * Migrations are append-only: never edit this file once it has landed.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('deployments_charts', table => {
    table.string('id', 36).primary();
    // 'oci' today; classic HTTP Helm repositories come as 'http'.
    table.string('source_kind', 8).notNullable();
    // e.g. oci://registry.example:5000/charts/hello (no tag, no digest)
    table.string('reference', 1024).notNullable();
    table.string('name', 255).notNullable();
    table.string('version', 128).notNullable();
    table.string('chart_digest', 71).notNullable();
    table.string('manifest_digest', 71);
    table.text('metadata').notNullable();
    table.text('default_values');
    table.text('values_schema');
    table.text('readme');
    table.binary('archive').notNullable();
    table.integer('archive_size').notNullable();
    table.string('registered_at', 32).notNullable();
    table.string('registered_by', 255).notNullable();
    table.unique(['reference', 'version']);
    table.index(['name']);
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('deployments_charts');
};
