import { Knex } from 'knex';

/**
 * The database's clock, as an ISO 8601 instant. Leases and heartbeats are
 * compared across replicas, so they are stamped by the one clock every
 * replica shares rather than each process's own.
 */
export async function databaseNow(db: Knex): Promise<Date> {
  const client = String(db.client.config.client);
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') {
    const result = await db.raw(
      `select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`,
    );
    return new Date(result.rows[0].now);
  }
  if (client === 'better-sqlite3' || client === 'sqlite3') {
    const [row] = await db.raw(
      `select strftime('%Y-%m-%dT%H:%M:%fZ', 'now') as now`,
    );
    return new Date(row.now);
  }
  // Other databases: knex's portable CURRENT_TIMESTAMP.
  const row = await db.select(db.fn.now()).first();
  return new Date(Object.values(row as object)[0] as string);
}
