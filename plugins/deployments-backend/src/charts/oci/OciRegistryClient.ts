import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { createHash } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import {
  fetchOutbound,
  OutboundDeadline,
  OutboundResponse,
} from '../fetchOutbound';
import { ChartReference } from './parseChartReference';

/** How to authenticate to a registry. */
export type RegistryCredentials =
  | { kind: 'anonymous' }
  | { kind: 'basic'; username: string; password: string };

/** An OCI content descriptor. */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An OCI image manifest, as Helm pushes charts. */
export interface OciManifest {
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
}

/** Options for {@link OciRegistryClient.create}. */
export interface OciRegistryClientOptions {
  credentials?: RegistryCredentials;
  /** Whether plain http may be used for a host[:port] (loopback or configured-insecure). */
  allowPlainHttp: (host: string) => boolean;
  timeoutMs?: number;
  maxManifestBytes?: number;
  maxBlobBytes?: number;
  /** One time limit for everything this client fetches (e.g. one registration). */
  deadline?: OutboundDeadline;
  /** Outbound policy hook, called before every request including redirects. */
  checkUrl?: (url: URL) => Promise<void>;
  /** The policy's resolver for the connections themselves (see fetchOutbound). */
  connectLookup?: LookupFunction;
  /** Checks the address each connection reached (the policy's `checkConnection`). */
  connectCheck?: (address: string, port: number) => Promise<string | undefined>;
}

const MANIFEST_ACCEPT =
  'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
// What a tag may point to, multi-platform images included, for its digest.
const ANY_MANIFEST_ACCEPT = `${MANIFEST_ACCEPT}, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json`;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_BLOB_BYTES = 20 * 1024 * 1024;
// Token and tag list responses are small; anything bigger is not a registry.
const MAX_SMALL_RESPONSE_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;
const MAX_TAG_PAGES = 50;
const MAX_TAGS = 10_000;
const TAG_PAGE_SIZE = 1000;
// Registries that send no expires_in promise at least 60 seconds.
const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;

type Challenge = { scheme: string; params: Record<string, string> };

type CachedAuthorization = { header: string; expiresAt: number };

/** Parses one WWW-Authenticate challenge; registries send exactly one. */
function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!match) {
    return undefined;
  }
  const params: Record<string, string> = {};
  const paramPattern = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const param of match[2].matchAll(paramPattern)) {
    params[param[1].toLowerCase()] = (param[2] ?? param[3] ?? '').replace(
      /\\(.)/g,
      '$1',
    );
  }
  return { scheme: match[1].toLowerCase(), params };
}

function describeRef(ref: ChartReference): string {
  const base = `oci://${ref.registry}/${ref.repository}`;
  if (ref.digest) {
    return `${base}@${ref.digest}`;
  }
  return ref.tag ? `${base}:${ref.tag}` : base;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function parseNextLink(header: string | null, base: URL): URL | undefined {
  if (!header) {
    return undefined;
  }
  for (const part of header.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /\brel\s*=\s*"?next"?/i.test(match[2])) {
      return new URL(match[1], base);
    }
  }
  return undefined;
}

function validateDescriptor(value: unknown, what: string): OciDescriptor {
  const descriptor = value as Partial<OciDescriptor> | undefined;
  if (
    !descriptor ||
    typeof descriptor !== 'object' ||
    typeof descriptor.mediaType !== 'string' ||
    typeof descriptor.digest !== 'string' ||
    !DIGEST.test(descriptor.digest) ||
    typeof descriptor.size !== 'number' ||
    !Number.isSafeInteger(descriptor.size) ||
    descriptor.size < 0
  ) {
    throw new InputError(`${what} has an invalid or unsupported descriptor`);
  }
  const result: OciDescriptor = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
  };
  if (descriptor.annotations && typeof descriptor.annotations === 'object') {
    result.annotations = Object.fromEntries(
      Object.entries(descriptor.annotations).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  }
  return result;
}

/**
 * A minimal OCI distribution client for pulling Helm charts: manifests,
 * blobs and tag lists, with anonymous, basic and bearer token auth.
 */
export class OciRegistryClient {
  private readonly credentials: RegistryCredentials;
  private readonly allowPlainHttp: (host: string) => boolean;
  private readonly timeoutMs: number;
  private readonly maxManifestBytes: number;
  private readonly maxBlobBytes: number;
  private readonly checkUrl?: (url: URL) => Promise<void>;
  private readonly deadline?: OutboundDeadline;
  private readonly connectLookup?: LookupFunction;
  private readonly connectCheck?: (
    address: string,
    port: number,
  ) => Promise<string | undefined>;
  // Authorization headers by registry and scope, so each scope authenticates once.
  private readonly authorizations = new Map<string, CachedAuthorization>();

  static create(options: OciRegistryClientOptions): OciRegistryClient {
    return new OciRegistryClient(options);
  }

  private constructor(options: OciRegistryClientOptions) {
    this.credentials = options.credentials ?? { kind: 'anonymous' };
    this.allowPlainHttp = options.allowPlainHttp;
    this.deadline = options.deadline;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxManifestBytes =
      options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.maxBlobBytes = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
    this.checkUrl = options.checkUrl;
    this.connectLookup = options.connectLookup;
    this.connectCheck = options.connectCheck;
  }

  async getManifest(
    ref: ChartReference,
  ): Promise<{ manifest: OciManifest; digest: string; raw: Buffer }> {
    const reference = ref.digest ?? ref.tag;
    if (!reference) {
      throw new InputError(
        `Chart reference ${describeRef(ref)} needs a tag or digest to pull`,
      );
    }
    const url = this.registryUrl(ref, `manifests/${reference}`);
    const raw = await this.fetchBytes(ref, url, {
      accept: MANIFEST_ACCEPT,
      maxBytes: this.maxManifestBytes,
      what: `manifest of ${describeRef(ref)}`,
    });
    const digest = sha256(raw);
    if (ref.digest && digest !== ref.digest) {
      throw new ConflictError(
        `Registry returned a manifest with digest ${digest} for ${describeRef(
          ref,
        )}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new InputError(`Manifest of ${describeRef(ref)} is not valid JSON`);
    }
    const body = parsed as {
      schemaVersion?: unknown;
      mediaType?: unknown;
      config?: unknown;
      layers?: unknown;
    };
    if (!body || typeof body !== 'object' || body.schemaVersion !== 2) {
      throw new InputError(
        `Manifest of ${describeRef(ref)} is not a schema version 2 manifest`,
      );
    }
    if (!Array.isArray(body.layers)) {
      throw new InputError(
        `Manifest of ${describeRef(
          ref,
        )} is not an image manifest (an index or other artifact?)`,
      );
    }
    const what = `Manifest of ${describeRef(ref)}`;
    const manifest: OciManifest = {
      config: validateDescriptor(body.config, what),
      layers: body.layers.map(layer => validateDescriptor(layer, what)),
    };
    if (typeof body.mediaType === 'string') {
      manifest.mediaType = body.mediaType;
    }
    return { manifest, digest, raw };
  }

  async getBlob(
    ref: ChartReference,
    descriptor: OciDescriptor,
  ): Promise<Buffer> {
    if (!DIGEST.test(descriptor.digest)) {
      throw new InputError(
        `Unsupported blob digest "${descriptor.digest}" in ${describeRef(ref)}`,
      );
    }
    const what = `blob ${descriptor.digest} of ${describeRef(ref)}`;
    if (descriptor.size > this.maxBlobBytes) {
      throw new InputError(
        `The ${what} is ${descriptor.size} bytes, over the ${this.maxBlobBytes} byte limit`,
      );
    }
    const url = this.registryUrl(ref, `blobs/${descriptor.digest}`);
    const bytes = await this.fetchBytes(ref, url, {
      maxBytes: descriptor.size,
      what,
    });
    if (bytes.length !== descriptor.size) {
      throw new ConflictError(
        `The ${what} is ${bytes.length} bytes, expected ${descriptor.size}`,
      );
    }
    const actual = sha256(bytes);
    if (actual !== descriptor.digest) {
      throw new ConflictError(`The ${what} has the wrong digest ${actual}`);
    }
    return bytes;
  }

  /**
   * The digest a tag points to now: the registry's Docker-Content-Digest
   * answer to a HEAD of the manifest (an image, or an index of platforms),
   * or, when it sends none, the sha256 of the manifest's bytes.
   */
  async resolveDigest(ref: ChartReference): Promise<string> {
    if (!ref.tag) {
      throw new InputError(`${describeRef(ref)} has no tag to resolve`);
    }
    const url = this.registryUrl(ref, `manifests/${ref.tag}`);
    const what = `manifest of ${describeRef(ref)}`;
    const head = await this.send(ref, url, {
      accept: ANY_MANIFEST_ACCEPT,
      maxBytes: 0,
      what,
      method: 'HEAD',
    });
    const digest = head.headers.get('docker-content-digest') ?? '';
    if (DIGEST.test(digest)) {
      return digest;
    }
    const raw = await this.fetchBytes(ref, url, {
      accept: ANY_MANIFEST_ACCEPT,
      maxBytes: this.maxManifestBytes,
      what,
    });
    return sha256(raw);
  }

  async listTags(ref: ChartReference): Promise<string[]> {
    const tags: string[] = [];
    let url: URL | undefined = this.registryUrl(
      ref,
      `tags/list?n=${TAG_PAGE_SIZE}`,
    );
    const registryOrigin = url.origin;
    for (let page = 0; url && page < MAX_TAG_PAGES; page++) {
      const response = await this.send(ref, url, {
        accept: 'application/json',
        maxBytes: MAX_SMALL_RESPONSE_BYTES,
        what: `tags of ${describeRef(ref)}`,
      });
      let body: { tags?: unknown };
      try {
        body = JSON.parse(response.body.toString('utf8'));
      } catch {
        throw new InputError(
          `Tag list of ${describeRef(ref)} is not valid JSON`,
        );
      }
      if (Array.isArray(body?.tags)) {
        for (const tag of body.tags) {
          if (typeof tag === 'string') {
            tags.push(tag);
          }
        }
      }
      if (tags.length > MAX_TAGS) {
        throw new InputError(
          `Repository ${describeRef(ref)} has more than ${MAX_TAGS} tags`,
        );
      }
      url = parseNextLink(response.headers.get('link'), response.url);
      // Pagination must stay on the registry; a Link elsewhere is not followed.
      if (url && url.origin !== registryOrigin) {
        throw new NotAllowedError(
          `Registry for ${describeRef(
            ref,
          )} sent a tag page link to another origin`,
        );
      }
    }
    if (url) {
      throw new InputError(
        `Repository ${describeRef(
          ref,
        )} has more than ${MAX_TAG_PAGES} pages of tags`,
      );
    }
    return tags;
  }

  private registryUrl(ref: ChartReference, suffix: string): URL {
    const scheme = this.allowPlainHttp(ref.registry) ? 'http' : 'https';
    return new URL(
      `${scheme}://${ref.registry}/v2/${ref.repository}/${suffix}`,
    );
  }

  private async fetchBytes(
    ref: ChartReference,
    url: URL,
    options: { accept?: string; maxBytes: number; what: string },
  ): Promise<Buffer> {
    return (await this.send(ref, url, options)).body;
  }

  /** A registry request with authentication; the response status is 2xx. */
  private async send(
    ref: ChartReference,
    url: URL,
    options: {
      accept?: string;
      maxBytes: number;
      what: string;
      method?: 'GET' | 'HEAD';
    },
  ): Promise<{ body: Buffer; headers: OutboundResponse['headers']; url: URL }> {
    const scope = `repository:${ref.repository}:pull`;
    const cacheKey = `${ref.registry}|${scope}`;
    const cached = this.authorizations.get(cacheKey);
    let authorization =
      cached && cached.expiresAt > Date.now() ? cached.header : undefined;
    let response = await this.request(url, {
      accept: options.accept,
      authorization,
      maxBytes: options.maxBytes,
      what: options.what,
      method: options.method,
    });
    if (response.status === 401 && response.url.origin === url.origin) {
      const challenge = parseChallenge(
        response.headers.get('www-authenticate') ?? '',
      );
      const obtained = await this.authorize(ref, challenge, scope);
      if (obtained) {
        authorization = obtained.header;
        this.authorizations.set(cacheKey, obtained);
        response = await this.request(url, {
          accept: options.accept,
          authorization,
          maxBytes: options.maxBytes,
          what: options.what,
          method: options.method,
        });
      }
    }
    if (response.status === 401 || response.status === 403) {
      this.authorizations.delete(cacheKey);
      throw new NotAllowedError(
        this.credentials.kind === 'anonymous'
          ? `Registry ${ref.registry} requires credentials for ${describeRef(
              ref,
            )} (HTTP ${response.status})`
          : `Registry ${ref.registry} refused the credentials for ${describeRef(
              ref,
            )} (HTTP ${response.status})`,
      );
    }
    if (response.status === 404) {
      throw new NotFoundError(
        `Registry ${ref.registry} has no ${options.what}`,
      );
    }
    if (response.status < 200 || response.status >= 300) {
      throw new ServiceUnavailableError(
        `Registry ${ref.registry} answered HTTP ${response.status} for the ${options.what}`,
      );
    }
    return {
      body: response.body,
      headers: response.headers,
      url: response.url,
    };
  }

  /** Turns a 401 challenge into an Authorization header, or undefined when we cannot. */
  private async authorize(
    ref: ChartReference,
    challenge: Challenge | undefined,
    scope: string,
  ): Promise<CachedAuthorization | undefined> {
    if (!challenge) {
      return undefined;
    }
    const basic =
      this.credentials.kind === 'basic'
        ? `Basic ${Buffer.from(
            `${this.credentials.username}:${this.credentials.password}`,
          ).toString('base64')}`
        : undefined;
    if (challenge.scheme === 'basic') {
      return basic
        ? { header: basic, expiresAt: Number.POSITIVE_INFINITY }
        : undefined;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
      return undefined;
    }
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw new InputError(
        `Registry ${ref.registry} sent an invalid token realm`,
      );
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new InputError(
        `Registry ${ref.registry} sent a token realm that is not http(s)`,
      );
    }
    if (challenge.params.service) {
      realm.searchParams.set('service', challenge.params.service);
    }
    // Ask for the scope we need; the challenge's scope may be broader or absent.
    realm.searchParams.set('scope', scope);
    const response = await this.request(realm, {
      accept: 'application/json',
      authorization: basic,
      maxBytes: MAX_SMALL_RESPONSE_BYTES,
      what: `token for ${describeRef(ref)}`,
    });
    if (response.status === 401 || response.status === 403) {
      return undefined;
    }
    if (response.status < 200 || response.status >= 300) {
      throw new ServiceUnavailableError(
        `Token service for ${ref.registry} answered HTTP ${response.status}`,
      );
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new ServiceUnavailableError(
        `Token service for ${ref.registry} did not answer JSON`,
      );
    }
    const token =
      typeof body?.token === 'string' && body.token
        ? body.token
        : body?.access_token;
    if (typeof token !== 'string' || !token) {
      throw new ServiceUnavailableError(
        `Token service for ${ref.registry} answered without a token`,
      );
    }
    const lifetimeSeconds =
      typeof body.expires_in === 'number' && body.expires_in > 0
        ? body.expires_in
        : DEFAULT_TOKEN_LIFETIME_SECONDS;
    // Renew a little early so a token does not expire mid-request.
    return {
      header: `Bearer ${token}`,
      expiresAt: Date.now() + Math.max(lifetimeSeconds - 10, 1) * 1000,
    };
  }

  /**
   * One request with manual redirects. The Authorization header only ever
   * goes to the origin of the first URL; storage redirects get none.
   */
  private async request(
    start: URL,
    options: {
      accept?: string;
      authorization?: string;
      maxBytes: number;
      what: string;
      method?: 'GET' | 'HEAD';
    },
  ): Promise<OutboundResponse> {
    return fetchOutbound(start, {
      method: options.method,
      allowPlainHttp: this.allowPlainHttp,
      checkUrl: this.checkUrl,
      connectLookup: this.connectLookup,
      connectCheck: this.connectCheck,
      timeoutMs: this.timeoutMs,
      deadline: this.deadline,
      maxBytes: options.maxBytes,
      what: options.what,
      accept: options.accept,
      authorization: options.authorization
        ? { header: options.authorization, origin: start.origin }
        : undefined,
      maxRedirects: MAX_REDIRECTS,
    });
  }
}
