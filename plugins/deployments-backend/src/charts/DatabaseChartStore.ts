import { ConflictError } from '@backstage/errors';
import { Knex } from 'knex';
import { ChartMetadata } from './archive/readChartArchive';

/** A registered chart version. Immutable once stored. */
export interface StoredChart {
  id: string;
  sourceKind: 'oci' | 'http';
  reference: string;
  name: string;
  version: string;
  chartDigest: string;
  manifestDigest?: string;
  metadata: ChartMetadata;
  defaultValues?: string;
  valuesSchema?: Record<string, unknown>;
  readme?: string;
  archiveSize: number;
  registeredAt: string;
  registeredBy: string;
}

const TABLE = 'deployments_charts';
const SUMMARY_COLUMNS = [
  'id',
  'source_kind',
  'reference',
  'name',
  'version',
  'chart_digest',
  'manifest_digest',
  'metadata',
  'default_values',
  'values_schema',
  'readme',
  'archive_size',
  'registered_at',
  'registered_by',
];

function fromRow(row: Record<string, any>): StoredChart {
  return {
    id: row.id,
    sourceKind: row.source_kind,
    reference: row.reference,
    name: row.name,
    version: row.version,
    chartDigest: row.chart_digest,
    manifestDigest: row.manifest_digest ?? undefined,
    metadata: JSON.parse(row.metadata),
    defaultValues: row.default_values ?? undefined,
    valuesSchema: row.values_schema ? JSON.parse(row.values_schema) : undefined,
    readme: row.readme ?? undefined,
    archiveSize: Number(row.archive_size),
    registeredAt: row.registered_at,
    registeredBy: row.registered_by,
  };
}

/** Registered charts in the plugin's database; rows are never updated. */
export class DatabaseChartStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseChartStore {
    return new DatabaseChartStore(db);
  }

  async list(options: { limit: number; offset: number; name?: string }) {
    const query = this.db(TABLE);
    if (options.name) query.where({ name: options.name });
    const [{ count }] = await query.clone().count({ count: '*' });
    const rows = await query
      .select(SUMMARY_COLUMNS)
      .orderBy([{ column: 'name' }, { column: 'registered_at', order: 'desc' }])
      .limit(options.limit)
      .offset(options.offset);
    return { items: rows.map(fromRow), totalCount: Number(count) };
  }

  async get(id: string): Promise<StoredChart | undefined> {
    const row = await this.db(TABLE)
      .select(SUMMARY_COLUMNS)
      .where({ id })
      .first();
    return row ? fromRow(row) : undefined;
  }

  async find(
    reference: string,
    version: string,
  ): Promise<StoredChart | undefined> {
    const row = await this.db(TABLE)
      .select(SUMMARY_COLUMNS)
      .where({ reference, version })
      .first();
    return row ? fromRow(row) : undefined;
  }

  /** The pinned archive bytes, for Helm runs. */
  async getArchive(id: string): Promise<Buffer | undefined> {
    const row = await this.db(TABLE).select('archive').where({ id }).first();
    return row ? Buffer.from(row.archive) : undefined;
  }

  async insert(chart: StoredChart, archive: Buffer): Promise<void> {
    try {
      await this.db(TABLE).insert({
        id: chart.id,
        source_kind: chart.sourceKind,
        reference: chart.reference,
        name: chart.name,
        version: chart.version,
        chart_digest: chart.chartDigest,
        manifest_digest: chart.manifestDigest ?? null,
        metadata: JSON.stringify(chart.metadata),
        default_values: chart.defaultValues ?? null,
        values_schema: chart.valuesSchema
          ? JSON.stringify(chart.valuesSchema)
          : null,
        readme: chart.readme ?? null,
        archive,
        archive_size: archive.length,
        registered_at: chart.registeredAt,
        registered_by: chart.registeredBy,
      });
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if (
        e.code === '23505' ||
        /UNIQUE constraint failed/.test(e.message ?? '')
      ) {
        throw new ConflictError(
          `${chart.reference}:${chart.version} is already registered`,
        );
      }
      throw error;
    }
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db(TABLE).where({ id }).delete()) > 0;
  }
}
