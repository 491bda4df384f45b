import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { createHash } from 'node:crypto';
import { DEFAULT_CHART_ARCHIVE_LIMITS } from '../archive/readChartArchive';
import type { LookupFunction } from 'node:net';
import {
  fetchOutbound,
  OutboundDeadline,
  OutboundResponse,
} from '../fetchOutbound';
import { RegistryCredentials } from '../oci/OciRegistryClient';
import { RepositoryReference } from './parseRepositoryReference';
import {
  DEFAULT_REPOSITORY_INDEX_LIMITS,
  readRepositoryIndex,
  RepositoryIndexEntry,
  RepositoryIndexLimits,
} from './readRepositoryIndex';

/** Options for {@link HelmRepositoryClient.create}. */
export interface HelmRepositoryClientOptions {
  /** For the repository's own origin only; never sent anywhere else. */
  credentials?: RegistryCredentials;
  /** Whether plain http may be used for a host[:port] (loopback or configured-insecure). */
  allowPlainHttp: (host: string) => boolean;
  /** One time limit for everything this client fetches (e.g. one registration). */
  deadline?: OutboundDeadline;
  /** Outbound policy hook, called before every request including redirects. */
  checkUrl?: (url: URL) => Promise<void>;
  /** The policy's resolver for the connections themselves (see fetchOutbound). */
  connectLookup?: LookupFunction;
  /** Checks the address each connection reached (the policy's `checkConnection`). */
  connectCheck?: (address: string, port: number) => Promise<string | undefined>;
  timeoutMs?: number;
  maxIndexBytes?: number;
  maxArchiveBytes?: number;
  indexLimits?: RepositoryIndexLimits;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_INDEX_BYTES = 20 * 1024 * 1024;

/** A URL for messages: a query may hold a signed token, so it is left out. */
function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * A client for classic HTTP Helm repositories: reads `index.yaml` and
 * downloads chart archives, with the same outbound policy, plain-http rule
 * and caps as the OCI client. Stored credentials go, as HTTP basic auth, only
 * to the repository's origin: a chart URL or redirect elsewhere gets none.
 */
export class HelmRepositoryClient {
  private readonly credentials: RegistryCredentials;
  private readonly allowPlainHttp: (host: string) => boolean;
  private readonly checkUrl?: (url: URL) => Promise<void>;
  private readonly deadline?: OutboundDeadline;
  private readonly connectLookup?: LookupFunction;
  private readonly connectCheck?: (
    address: string,
    port: number,
  ) => Promise<string | undefined>;
  private readonly timeoutMs: number;
  private readonly maxIndexBytes: number;
  private readonly maxArchiveBytes: number;
  private readonly indexLimits: RepositoryIndexLimits;

  static create(options: HelmRepositoryClientOptions): HelmRepositoryClient {
    return new HelmRepositoryClient(options);
  }

  private constructor(options: HelmRepositoryClientOptions) {
    this.credentials = options.credentials ?? { kind: 'anonymous' };
    this.allowPlainHttp = options.allowPlainHttp;
    this.deadline = options.deadline;
    this.checkUrl = options.checkUrl;
    this.connectLookup = options.connectLookup;
    this.connectCheck = options.connectCheck;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxIndexBytes = options.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES;
    this.maxArchiveBytes =
      options.maxArchiveBytes ??
      DEFAULT_CHART_ARCHIVE_LIMITS.maxCompressedBytes;
    this.indexLimits = options.indexLimits ?? DEFAULT_REPOSITORY_INDEX_LIMITS;
  }

  /** Every version the index lists for the chart, in the index's order. */
  async listVersions(repo: RepositoryReference): Promise<string[]> {
    return (await this.getEntries(repo)).map(entry => entry.version);
  }

  /** The index entry of one version of the chart. */
  async getEntry(
    repo: RepositoryReference,
    version: string,
  ): Promise<RepositoryIndexEntry> {
    const entry = (await this.getEntries(repo)).find(
      e => e.version === version,
    );
    if (!entry) {
      throw new NotFoundError(
        `The index of ${repo.url} has no version ${version} of ${repo.chart}`,
      );
    }
    return entry;
  }

  /**
   * Downloads the archive of an index entry from its first URL (relative
   * URLs are resolved against the repository, as Helm does) and checks it
   * against the digest the index gives; an entry without one is accepted and
   * pinned by the digest of what was downloaded.
   */
  async download(
    repo: RepositoryReference,
    entry: RepositoryIndexEntry,
  ): Promise<Buffer> {
    const what = `${repo.chart} ${entry.version} archive`;
    if (entry.urls.length === 0) {
      throw new InputError(
        `The index of ${repo.url} lists no URL for ${repo.chart} ${entry.version}`,
      );
    }
    let url: URL;
    try {
      url = new URL(entry.urls[0], `${repo.url}/`);
    } catch {
      throw new InputError(
        `The index of ${repo.url} lists an invalid URL for ${repo.chart} ${entry.version}`,
      );
    }
    if (entry.digest !== undefined && !/^[a-f0-9]{64}$/.test(entry.digest)) {
      throw new InputError(
        `The index of ${repo.url} gives ${repo.chart} ${entry.version} a digest that is not sha256; it cannot be verified`,
      );
    }
    const response = await this.send(repo, url, this.maxArchiveBytes, what);
    const digest = createHash('sha256').update(response.body).digest('hex');
    if (entry.digest !== undefined && digest !== entry.digest) {
      throw new ConflictError(
        `The ${what} downloaded from ${describeUrl(
          response.url,
        )} has digest sha256:${digest}, but the index of ${
          repo.url
        } lists sha256:${entry.digest}`,
      );
    }
    return response.body;
  }

  private async getEntries(
    repo: RepositoryReference,
  ): Promise<RepositoryIndexEntry[]> {
    const url = new URL(repo.url);
    // The user chose the scheme here (OCI picks it): say so as bad input.
    if (url.protocol === 'http:' && !this.allowPlainHttp(url.host)) {
      throw new InputError(
        `Plain http is not allowed for ${url.host}; use https://, or configure deployments.registries.plainHttpHosts`,
      );
    }
    const response = await this.send(
      repo,
      new URL(`${repo.url}/index.yaml`),
      this.maxIndexBytes,
      `index of ${repo.url}`,
    );
    const entries = readRepositoryIndex(
      response.body,
      repo.chart,
      this.indexLimits,
    );
    if (!entries) {
      throw new NotFoundError(`The index of ${repo.url} has no ${repo.chart}`);
    }
    return entries;
  }

  /** A GET whose status is 2xx, credentials on hops to the repository's origin. */
  private async send(
    repo: RepositoryReference,
    url: URL,
    maxBytes: number,
    what: string,
  ): Promise<OutboundResponse> {
    const origin = new URL(repo.url).origin;
    const response = await fetchOutbound(url, {
      allowPlainHttp: this.allowPlainHttp,
      checkUrl: this.checkUrl,
      connectLookup: this.connectLookup,
      connectCheck: this.connectCheck,
      timeoutMs: this.timeoutMs,
      deadline: this.deadline,
      maxBytes,
      what,
      authorization:
        this.credentials.kind === 'basic'
          ? {
              header: `Basic ${Buffer.from(
                `${this.credentials.username}:${this.credentials.password}`,
              ).toString('base64')}`,
              origin,
            }
          : undefined,
    });
    const { status } = response;
    if (status === 401 || status === 403) {
      throw this.refusal(repo, response, what);
    }
    if (status === 404) {
      throw new NotFoundError(
        `${describeUrl(response.url)} does not exist (the ${what})`,
      );
    }
    if (status < 200 || status >= 300) {
      throw new ServiceUnavailableError(
        `${describeUrl(response.url)} answered HTTP ${status} for the ${what}`,
      );
    }
    return response;
  }

  private refusal(
    repo: RepositoryReference,
    response: OutboundResponse,
    what: string,
  ): NotAllowedError {
    const repoUrl = new URL(repo.url);
    const status = `HTTP ${response.status}`;
    if (response.url.origin !== repoUrl.origin) {
      return new NotAllowedError(
        `${response.url.origin} answered ${status} for the ${what}; credentials stored for ${repoUrl.host} are never sent to another origin`,
      );
    }
    return new NotAllowedError(
      this.credentials.kind === 'anonymous'
        ? `Repository ${repo.url} requires credentials for the ${what} (${status})`
        : `Repository ${repo.url} refused the credentials for the ${what} (${status})`,
    );
  }
}
