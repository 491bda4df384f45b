import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { createHash, randomUUID } from 'node:crypto';
import { readChartArchive } from './archive/readChartArchive';
import { DatabaseChartStore, StoredChart } from './DatabaseChartStore';
import {
  OciRegistryClient,
  RegistryCredentials,
} from './oci/OciRegistryClient';
import { outboundDeadline, OutboundDeadline } from './fetchOutbound';
import { OutboundPolicy } from './oci/outboundPolicy';
import { parseChartReference } from './oci/parseChartReference';
import { HelmRepositoryClient } from './repo/HelmRepositoryClient';
import { parseRepositoryReference } from './repo/parseRepositoryReference';

const HELM_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART_MEDIA_TYPE =
  'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

export interface ChartServiceOptions {
  store: DatabaseChartStore;
  /** Outbound policy: refuses link-local, metadata and disallowed hosts, before each request and at connect. */
  outboundPolicy: OutboundPolicy;
  /** Hosts (host[:port]) that may be reached over plain http, registries and repositories alike. */
  allowPlainHttp: (host: string) => boolean;
  /** Stored credentials for a registry or repository host[:port]; anonymous when none. */
  credentialsFor?: (host: string) => Promise<RegistryCredentials>;
  /** What uses a chart (profiles, plans), described for a person; in-use charts stay. */
  usage?: (chartId: string) => Promise<string[]>;
  /**
   * The time one registration may take in all (every request of it
   * together); each request also has its own limit. 120 s by default.
   */
  registrationTimeoutMs?: number;
}

const DEFAULT_REGISTRATION_TIMEOUT_MS = 120_000;

/** What to register: a chart in an OCI registry or a classic HTTP Helm repository. */
export interface RegisterChartInput {
  /**
   * `oci://host[:port]/path/name[:tag|@digest]`, or a repository URL
   * `https://host/path` (with `chart`, or with the chart's name appended).
   */
  reference: string;
  /** The chart's name in the repository, when `reference` names the repository only. */
  chart?: string;
  version?: string;
}

/** Where a reference points: an OCI registry or an HTTP Helm repository. */
function sourceKindOf(reference: string): StoredChart['sourceKind'] {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(reference)?.[1];
  switch (scheme?.toLowerCase()) {
    case 'oci':
      return 'oci';
    case 'https':
    case 'http':
      return 'http';
    default:
      throw new InputError(
        'A chart reference starts with oci:// (an OCI registry) or https:// (a Helm repository with an index.yaml)',
      );
  }
}

/** An OCI reference with the chart's name appended, when it is given apart. */
function ociReference(input: { reference: string; chart?: string }): string {
  return input.chart === undefined
    ? input.reference
    : `${input.reference.replace(/\/+$/, '')}/${input.chart}`;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * The chart catalog's rules: register from OCI registries and HTTP Helm
 * repositories, pinned by the archive's digest, immutably.
 */
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

  /** The versions a repository offers, to help a user pick one. */
  async listVersions(reference: string, chart?: string): Promise<string[]> {
    if (sourceKindOf(reference) === 'http') {
      const repo = parseRepositoryReference(reference, chart);
      return (await this.repositoryClient(repo.url)).listVersions(repo);
    }
    const ref = parseChartReference(ociReference({ reference, chart }));
    const client = await this.client(ref.registry);
    return client.listTags({
      ...ref,
      tag: undefined,
      digest: undefined,
    });
  }

  /**
   * Registers one chart version, pinned by the sha256 of its archive. The
   * same version again is fine only with the same digest; a different digest
   * means the version moved, which is a conflict.
   */
  async register(
    input: RegisterChartInput,
    actor: string,
  ): Promise<{ chart: StoredChart; created: boolean }> {
    const ms =
      this.options.registrationTimeoutMs ?? DEFAULT_REGISTRATION_TIMEOUT_MS;
    const deadline = outboundDeadline(
      ms,
      `registering ${input.reference}${
        input.version ? ` ${input.version}` : ''
      }`,
      `${ms / 1000} s (deployments.registries.registrationTimeoutSeconds)`,
    );
    return sourceKindOf(input.reference) === 'http'
      ? this.registerFromRepository(input, actor, deadline)
      : this.registerFromRegistry(input, actor, deadline);
  }

  /**
   * From OCI: fetches the manifest, checks it is a Helm chart, downloads and
   * verifies the chart layer.
   */
  private async registerFromRegistry(
    input: RegisterChartInput,
    actor: string,
    deadline: OutboundDeadline,
  ): Promise<{ chart: StoredChart; created: boolean }> {
    const ref = parseChartReference(ociReference(input), {
      version: input.version,
    });
    if (!ref.tag) {
      throw new InputError(
        'Register a chart by version (a tag), e.g. oci://host/charts/hello with version 0.1.0',
      );
    }
    const client = await this.client(ref.registry, deadline);
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
    const reference = `oci://${ref.registry}/${ref.repository}`;
    const version = ref.tag.replace(/_/g, '+');
    return this.pin(
      {
        sourceKind: 'oci',
        reference,
        name: ref.name,
        version,
        archive,
        manifestDigest,
        moved: digest =>
          `the registry now serves ${digest}: the tag moved. Registered versions never change; publish a new version instead.`,
      },
      actor,
    );
  }

  /**
   * From a classic HTTP Helm repository: reads `index.yaml`, downloads the
   * version's archive and checks it against the digest the index lists.
   */
  private async registerFromRepository(
    input: RegisterChartInput,
    actor: string,
    deadline: OutboundDeadline,
  ): Promise<{ chart: StoredChart; created: boolean }> {
    const repo = parseRepositoryReference(input.reference, input.chart);
    if (!input.version) {
      throw new InputError(
        `Register a chart from a Helm repository by version, e.g. ${repo.url} with chart ${repo.chart} and version 0.1.0`,
      );
    }
    const client = await this.repositoryClient(repo.url, deadline);
    const entry = await client.getEntry(repo, input.version);
    const archive = await client.download(repo, entry);
    return this.pin(
      {
        sourceKind: 'http',
        reference: repo.reference,
        name: repo.chart,
        version: input.version,
        archive,
        moved: digest =>
          `the repository now serves ${digest}: the archive of this version changed. Registered versions never change; publish a new version instead.`,
      },
      actor,
    );
  }

  /**
   * Stores a downloaded archive, or answers the registration that already
   * pins the same bytes. The archive is read with limits and must say it is
   * the chart and version asked for.
   */
  private async pin(
    source: {
      sourceKind: StoredChart['sourceKind'];
      reference: string;
      name: string;
      version: string;
      archive: Buffer;
      manifestDigest?: string;
      /** Why a different digest for a registered version is refused. */
      moved: (digest: string) => string;
    },
    actor: string,
  ): Promise<{ chart: StoredChart; created: boolean }> {
    const { reference, version, archive } = source;
    const chartDigest = sha256(archive);
    const existing = await this.options.store.find(reference, version);
    if (existing) {
      if (existing.chartDigest === chartDigest) {
        return { chart: existing, created: false };
      }
      throw new ConflictError(
        `${reference} version ${version} was registered with digest ${
          existing.chartDigest
        }, but ${source.moved(chartDigest)}`,
      );
    }

    const contents = await readChartArchive(archive);
    if (
      contents.metadata.name !== source.name ||
      contents.metadata.version !== version
    ) {
      throw new InputError(
        `The archive says ${contents.metadata.name} ${contents.metadata.version}, not ${source.name} ${version}`,
      );
    }
    const chart: StoredChart = {
      id: randomUUID(),
      sourceKind: source.sourceKind,
      reference,
      name: contents.metadata.name,
      version,
      chartDigest,
      manifestDigest: source.manifestDigest,
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
    if (!archive || sha256(archive) !== chart.chartDigest) {
      throw new ConflictError(
        `The stored archive of ${chart.name} ${chart.version} does not match its digest`,
      );
    }
    return archive;
  }

  async delete(id: string): Promise<void> {
    const chart = await this.get(id);
    const users = (await this.options.usage?.(id)) ?? [];
    if (users.length > 0) {
      throw new ConflictError(
        `${chart.name} ${chart.version} is used by ${users
          .slice(0, 5)
          .join(', ')}; remove those first`,
      );
    }
    if (!(await this.options.store.delete(id))) {
      throw new NotFoundError(`Chart ${id} not found`);
    }
  }

  /** A client for one repository; stored credentials for its host go to its origin only. */
  private async repositoryClient(
    url: string,
    deadline?: OutboundDeadline,
  ): Promise<HelmRepositoryClient> {
    return HelmRepositoryClient.create({
      deadline,
      credentials: await this.options.credentialsFor?.(new URL(url).host),
      allowPlainHttp: this.options.allowPlainHttp,
      checkUrl: target => this.options.outboundPolicy.check(target),
      connectLookup: this.options.outboundPolicy.lookup,
      connectCheck: this.options.outboundPolicy.checkConnection,
    });
  }

  /**
   * A client for any OCI repository on a host (images too), under the same
   * outbound policy, plain-http rule and stored credentials as registration.
   */
  registryClient(host: string): Promise<OciRegistryClient> {
    return this.client(host);
  }

  private async client(
    host: string,
    deadline?: OutboundDeadline,
  ): Promise<OciRegistryClient> {
    return OciRegistryClient.create({
      deadline,
      credentials: await this.options.credentialsFor?.(host),
      allowPlainHttp: this.options.allowPlainHttp,
      checkUrl: target => this.options.outboundPolicy.check(target),
      connectLookup: this.options.outboundPolicy.lookup,
      connectCheck: this.options.outboundPolicy.checkConnection,
    });
  }
}
