import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { createHash, randomUUID } from 'node:crypto';
import { readChartArchive } from './archive/readChartArchive';
import { DatabaseChartStore, StoredChart } from './DatabaseChartStore';
import {
  OciRegistryClient,
  RegistryCredentials,
} from './oci/OciRegistryClient';
import { parseChartReference } from './oci/parseChartReference';

const HELM_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART_MEDIA_TYPE =
  'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

export interface ChartServiceOptions {
  store: DatabaseChartStore;
  /** Outbound policy: refuses link-local, metadata and disallowed hosts. */
  checkUrl: (url: URL) => Promise<void>;
  /** Hosts (host[:port]) that may be reached over plain http. */
  allowPlainHttp: (host: string) => boolean;
  /** Stored credentials for a registry host; anonymous when none. */
  credentialsFor?: (host: string) => Promise<RegistryCredentials>;
}

/** The chart catalog's rules: register from OCI pinned by digest, immutably. */
export class ChartService {
  private constructor(private readonly options: ChartServiceOptions) {}

  static create(options: ChartServiceOptions): ChartService {
    return new ChartService(options);
  }

  list(options: { limit?: number; offset?: number; name?: string }) {
    return this.options.store.list({
      limit: Math.min(Math.max(options.limit ?? 100, 1), 500),
      offset: Math.max(options.offset ?? 0, 0),
      name: options.name,
    });
  }

  async get(id: string): Promise<StoredChart> {
    const chart = await this.options.store.get(id);
    if (!chart) throw new NotFoundError(`Chart ${id} not found`);
    return chart;
  }

  /** The tags a repository offers, to help a user pick a version. */
  async listVersions(reference: string): Promise<string[]> {
    const ref = parseChartReference(reference);
    const client = await this.client(ref.registry);
    return client.listTags({
      ...ref,
      tag: undefined,
      digest: undefined,
    });
  }

  /**
   * Registers one chart version: fetches the manifest, checks it is a Helm
   * chart, downloads and verifies the chart layer, reads the archive with
   * limits and stores it. The same version again is fine only with the same
   * digest; a different digest means the tag moved, which is a conflict.
   */
  async register(
    input: { reference: string; version?: string },
    actor: string,
  ): Promise<{ chart: StoredChart; created: boolean }> {
    const ref = parseChartReference(input.reference, {
      version: input.version,
    });
    if (!ref.tag) {
      throw new InputError(
        'Register a chart by version (a tag), e.g. oci://host/charts/hello with version 0.1.0',
      );
    }
    const client = await this.client(ref.registry);
    const { manifest, digest: manifestDigest } = await client.getManifest(ref);
    if (manifest.config.mediaType !== HELM_CONFIG_MEDIA_TYPE) {
      throw new InputError(
        `${input.reference} is not a Helm chart: its config media type is ${manifest.config.mediaType}`,
      );
    }
    const layers = manifest.layers.filter(
      l => l.mediaType === HELM_CHART_MEDIA_TYPE,
    );
    if (layers.length !== 1) {
      throw new InputError(
        `${input.reference} must have exactly one Helm chart layer, found ${layers.length}`,
      );
    }
    const archive = await client.getBlob(ref, layers[0]);
    const chartDigest = `sha256:${createHash('sha256')
      .update(archive)
      .digest('hex')}`;

    const reference = `oci://${ref.registry}/${ref.repository}`;
    const version = ref.tag.replace(/_/g, '+');
    const existing = await this.options.store.find(reference, version);
    if (existing) {
      if (existing.chartDigest === chartDigest) {
        return { chart: existing, created: false };
      }
      throw new ConflictError(
        `${reference} version ${version} was registered with digest ${existing.chartDigest}, but the registry now serves ${chartDigest}: the tag moved. Registered versions never change; publish a new version instead.`,
      );
    }

    const contents = await readChartArchive(archive);
    if (
      contents.metadata.name !== ref.name ||
      contents.metadata.version !== version
    ) {
      throw new InputError(
        `The archive says ${contents.metadata.name} ${contents.metadata.version}, not ${ref.name} ${version}`,
      );
    }
    const chart: StoredChart = {
      id: randomUUID(),
      sourceKind: 'oci',
      reference,
      name: contents.metadata.name,
      version,
      chartDigest,
      manifestDigest,
      metadata: contents.metadata,
      defaultValues: contents.valuesYaml,
      valuesSchema: contents.valuesSchema,
      readme: contents.readme,
      archiveSize: archive.length,
      registeredAt: new Date().toISOString(),
      registeredBy: actor,
    };
    await this.options.store.insert(chart, archive);
    return { chart, created: true };
  }

  /** The pinned archive, its digest checked again before anyone uses it. */
  async getVerifiedArchive(id: string): Promise<Buffer> {
    const chart = await this.get(id);
    const archive = await this.options.store.getArchive(id);
    const digest = `sha256:${createHash('sha256')
      .update(archive ?? '')
      .digest('hex')}`;
    if (!archive || digest !== chart.chartDigest) {
      throw new ConflictError(
        `The stored archive of ${chart.name} ${chart.version} does not match its digest`,
      );
    }
    return archive;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.options.store.delete(id))) {
      throw new NotFoundError(`Chart ${id} not found`);
    }
  }

  private async client(host: string): Promise<OciRegistryClient> {
    return OciRegistryClient.create({
      credentials: await this.options.credentialsFor?.(host),
      allowPlainHttp: this.options.allowPlainHttp,
      checkUrl: this.options.checkUrl,
    });
  }
}
