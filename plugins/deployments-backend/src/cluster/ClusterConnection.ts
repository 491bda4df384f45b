import {
  ApiConstructor,
  ApiException,
  ApiType,
  AuthenticationV1Api,
  AuthorizationV1Api,
  Cluster,
  createConfiguration,
  KubeConfig,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  User,
  VersionApi,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import { InputError, NotFoundError } from '@backstage/errors';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIPv6, LookupFunction } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { stringify } from 'yaml';
import { OUTBOUND_POLICY_REFUSED } from '../charts/oci/outboundPolicy';
import { createRedactor } from '../lib/redaction';
import { ClusterCredentials, credentialStrategy } from './credentials';

export type { ClusterCredentials } from './credentials';

/** Everything needed to talk to one cluster, decrypted in memory for one operation. */
export interface ClusterAccess {
  /** https URL of the API server; http only together with insecureSkipTlsVerify. */
  server: string;
  /** PEM bundle of the CAs that may sign the server certificate. */
  caData?: string;
  tlsServerName?: string;
  insecureSkipTlsVerify?: boolean;
  credentials: ClusterCredentials;
  /** Applied to every request; groups require a user, as in Kubernetes. */
  impersonate?: { user?: string; groups?: string[] };
}

/**
 * What went wrong talking to the API server. Only 'unauthorized',
 * 'forbidden' and 'response' mean the server answered.
 */
export type ClusterErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'tls'
  | 'cancelled'
  | 'unauthorized'
  | 'forbidden'
  | 'response';

/** An error talking to a cluster whose message is safe to show: it never contains credentials. */
export class ClusterRequestError extends Error {
  readonly kind: ClusterErrorKind;
  /** The HTTP status when the server answered. */
  readonly statusCode?: number;

  constructor(message: string, kind: ClusterErrorKind, statusCode?: number) {
    super(message);
    this.name = 'ClusterRequestError';
    this.kind = kind;
    if (statusCode !== undefined) {
      this.statusCode = statusCode;
    }
  }

  /** Whether the API server answered at all, even if only to refuse. */
  get serverAnswered(): boolean {
    return (
      this.kind === 'unauthorized' ||
      this.kind === 'forbidden' ||
      this.kind === 'response'
    );
  }
}

/** Attributes of a SelfSubjectAccessReview; group '' is the core group. */
export interface AccessAttributes {
  namespace?: string;
  group: string;
  resource: string;
  subresource?: string;
  verb: string;
  name?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// A hostile or broken server must not be able to fill the backend's memory.
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const NAME = 'target';
/** The user name Kubernetes gives requests whose credentials it does not recognise. */
export const ANONYMOUS_USER = 'system:anonymous';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
]);

const NETWORK_ERRORS = new Map<string, string>([
  ['ECONNREFUSED', 'connection refused'],
  ['ENOTFOUND', 'host not found'],
  ['EAI_AGAIN', 'host name lookup failed'],
  ['ECONNRESET', 'connection reset by the server'],
  ['EPIPE', 'connection closed by the server'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['ETIMEDOUT', 'connection timed out'],
  ['ECONNABORTED', 'connection aborted'],
]);

/** What the transport needs beyond what KubeConfig applies to each request. */
interface TransportSettings {
  server: string;
  impersonate?: { user: string; groups: string[] };
  redact: (text: string) => string;
  /** Resolves the server's name for each new connection to a port. */
  lookup?: (port: number) => LookupFunction;
}

/** Options for {@link ClusterConnection.fromAccess}. */
export interface ClusterConnectionOptions {
  /**
   * Resolves the API server's name for each new connection to the given
   * port, refusing addresses the outbound policy refuses (the policy's
   * `lookupFor`), so the connection goes where the policy checked.
   */
  connectLookup?: (port: number) => LookupFunction;
}

/**
 * A KubeConfig that exists only in memory and sends every API client request
 * through a transport that enforces a deadline and sets impersonation headers.
 * client-node can carry only one value per header, which would merge several
 * impersonated groups into one, so the transport sets them itself.
 */
class InMemoryKubeConfig extends KubeConfig {
  readonly #transport: TransportSettings;

  constructor(
    cluster: Cluster,
    user: User,
    transport: TransportSettings,
    groups: string[],
  ) {
    super();
    this.#transport = transport;
    this.loadFromOptions({
      clusters: [cluster],
      users: [user],
      contexts: [{ name: NAME, cluster: NAME, user: NAME }],
      currentContext: NAME,
    });
    if (groups.length > 0) {
      // Covers streaming helpers (Watch, Log, Exec), which use applyToFetchOptions or applyToHTTPSOptions.
      this.addAuthenticator({
        isAuthProvider: candidate => candidate === user,
        applyAuthentication: async (_user, options) => {
          options.headers = { ...options.headers, 'Impersonate-Group': groups };
        },
      });
    }
  }

  override makeApiClient<T extends ApiType>(Api: ApiConstructor<T>): T {
    return this.makeTimedApiClient(Api, DEFAULT_TIMEOUT_MS);
  }

  makeTimedApiClient<T extends ApiType>(
    Api: ApiConstructor<T>,
    timeoutMs: number,
  ): T {
    const transport = this.#transport;
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(transport.server, {}),
      authMethods: { default: this },
      httpApi: wrapHttpLibrary({
        send: request => sendRequest(request, transport, timeoutMs),
      }),
    });
    return new Api(configuration);
  }

  // Keeps credentials out of logs when someone logs the config.
  toJSON(): object {
    return { server: this.#transport.server, credentials: '[redacted]' };
  }

  [inspect.custom](): string {
    return `KubeConfig { server: ${
      this.#transport.server
    }, credentials: [redacted] }`;
  }
}

/**
 * A connection to one cluster built from stored data only: no kubeconfig
 * files, no credential files, no exec plugins. Every request times out, and
 * impersonation, when configured, applies to every request.
 */
export class ClusterConnection {
  readonly #access: ClusterAccess;
  readonly #kubeConfig: InMemoryKubeConfig;
  readonly #server: string;
  readonly #redact: (text: string) => string;

  private constructor(
    access: ClusterAccess,
    kubeConfig: InMemoryKubeConfig,
    server: string,
    redact: (text: string) => string,
  ) {
    this.#access = access;
    this.#kubeConfig = kubeConfig;
    this.#server = server;
    this.#redact = redact;
  }

  /**
   * Validates the access data and builds the connection in memory. Nothing is
   * contacted here.
   *
   * @throws InputError when the access data is unusable; the message never echoes a secret
   */
  static fromAccess(
    access: ClusterAccess,
    options: ClusterConnectionOptions = {},
  ): ClusterConnection {
    const server = checkServer(access);
    checkTls(access);
    const credentials = credentialStrategy(access.credentials);
    credentials.check(access.credentials);
    const impersonate = checkImpersonation(access.impersonate);
    // A last line of defence: every form of the secret is replaced in errors.
    const redact = createRedactor(credentials.secrets(access.credentials));

    const cluster: Cluster = {
      name: NAME,
      server,
      skipTLSVerify: access.insecureSkipTlsVerify === true,
      ...(access.caData !== undefined && {
        caData: Buffer.from(access.caData, 'utf8').toString('base64'),
      }),
      ...(access.tlsServerName !== undefined && {
        tlsServerName: access.tlsServerName,
      }),
    };
    const user: User = {
      name: NAME,
      ...credentials.clientUser(access.credentials),
      ...(impersonate && { impersonateUser: impersonate.user }),
    };
    const kubeConfig = new InMemoryKubeConfig(
      cluster,
      user,
      {
        server,
        redact,
        ...(impersonate && { impersonate }),
        ...(options.connectLookup && { lookup: options.connectLookup }),
      },
      impersonate?.groups ?? [],
    );
    // Copied so that later changes to the caller's object cannot change the identity used.
    const copy: ClusterAccess = {
      ...access,
      credentials: { ...access.credentials },
      ...(impersonate && { impersonate }),
    };
    return new ClusterConnection(copy, kubeConfig, server, redact);
  }

  /**
   * The in-memory KubeConfig, for helpers such as Watch or Log that take one.
   * Its makeApiClient goes through the same transport as this class's.
   * Streaming helpers manage their own lifetime and have no deadline.
   */
  get kubeConfig(): KubeConfig {
    return this.#kubeConfig;
  }

  /** The API server URL, safe to show. */
  get server(): string {
    return this.#server;
  }

  /** An API client whose every request times out (default 10 s) and carries the impersonation. */
  makeApiClient<T extends ApiType>(
    api: ApiConstructor<T>,
    options: { timeoutMs?: number } = {},
  ): T {
    return this.#kubeConfig.makeTimedApiClient(
      api,
      checkTimeout(options.timeoutMs),
    );
  }

  /**
   * Asks the server for its version, which also proves reachability and,
   * since invalid credentials are refused even here, the credentials.
   *
   * @throws ClusterRequestError
   */
  async getVersion(
    options: { timeoutMs?: number } = {},
  ): Promise<{ gitVersion: string; latencyMs: number }> {
    const api = this.makeApiClient(VersionApi, options);
    const started = performance.now();
    try {
      const info = await api.getCode();
      return {
        gitVersion: info.gitVersion,
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      throw this.describeError(error);
    }
  }

  /**
   * Who the API server takes these credentials (and impersonation) for, by a
   * SelfSubjectReview. Credentials the server does not recognise at all, such
   * as basic auth on Kubernetes 1.19+, make the request anonymous rather
   * than rejected; that is reported as 'system:anonymous'.
   *
   * @throws ClusterRequestError
   */
  async whoAmI(
    options: { timeoutMs?: number } = {},
  ): Promise<{ username: string; groups: string[] }> {
    const api = this.makeApiClient(AuthenticationV1Api, options);
    try {
      const review = await api.createSelfSubjectReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'SelfSubjectReview',
        },
      });
      return {
        username: review.status?.userInfo?.username ?? '',
        groups: review.status?.userInfo?.groups ?? [],
      };
    } catch (error) {
      const described = this.describeError(error);
      // Anonymous users may not create the review; the refusal names them.
      if (
        described.kind === 'forbidden' &&
        described.message.includes('User "system:anonymous"')
      ) {
        return {
          username: ANONYMOUS_USER,
          groups: ['system:unauthenticated'],
        };
      }
      throw described;
    }
  }

  /**
   * Whether these credentials, with the impersonation, may do something, by
   * a SelfSubjectAccessReview.
   *
   * @throws ClusterRequestError when the review itself fails
   */
  async canI(
    attributes: AccessAttributes,
    options: { timeoutMs?: number } = {},
  ): Promise<{ allowed: boolean; reason?: string }> {
    const api = this.makeApiClient(AuthorizationV1Api, options);
    try {
      const review = await api.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              group: attributes.group,
              resource: attributes.resource,
              verb: attributes.verb,
              ...(attributes.namespace !== undefined && {
                namespace: attributes.namespace,
              }),
              ...(attributes.subresource !== undefined && {
                subresource: attributes.subresource,
              }),
              ...(attributes.name !== undefined && { name: attributes.name }),
            },
          },
        },
      });
      const status = review.status;
      const reason = status?.reason || status?.evaluationError;
      return {
        allowed: status?.allowed === true && status.denied !== true,
        ...(reason && { reason }),
      };
    } catch (error) {
      throw this.describeError(error);
    }
  }

  /**
   * A kubeconfig holding data only (embedded CA, certificate, key or token,
   * impersonation as `as`/`as-groups`), for tools such as the helm CLI. It
   * contains secrets: write it only to a private (0600) temporary file.
   */
  toKubeconfigYaml(): string {
    const access = this.#access;
    const credentials = access.credentials;
    const cluster: Record<string, unknown> = { server: this.#server };
    if (access.caData !== undefined) {
      cluster['certificate-authority-data'] = base64(access.caData);
    }
    if (access.tlsServerName !== undefined) {
      cluster['tls-server-name'] = access.tlsServerName;
    }
    if (access.insecureSkipTlsVerify) {
      cluster['insecure-skip-tls-verify'] = true;
    }

    const user: Record<string, unknown> =
      credentialStrategy(credentials).kubeconfigUser(credentials);
    const impersonate = access.impersonate;
    if (impersonate?.user !== undefined) {
      user.as = impersonate.user;
      if (impersonate.groups && impersonate.groups.length > 0) {
        user['as-groups'] = [...impersonate.groups];
      }
    }

    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: NAME, cluster }],
      users: [{ name: NAME, user }],
      contexts: [{ name: NAME, context: { cluster: NAME, user: NAME } }],
      'current-context': NAME,
      preferences: {},
    });
  }

  /**
   * Turns anything a request threw into a ClusterRequestError with a message
   * a person can act on and that never contains these credentials.
   */
  describeError(error: unknown): ClusterRequestError {
    if (error instanceof ClusterRequestError) {
      return error;
    }
    const status = apiStatusCode(error);
    if (status !== undefined) {
      const detail = statusMessage(error);
      if (status === 401) {
        return new ClusterRequestError(
          'the API server rejected the credentials (401)',
          'unauthorized',
          401,
        );
      }
      if (status === 403) {
        return new ClusterRequestError(
          this.#redact(
            `the API server refused the request (403)${
              detail ? `: ${detail}` : ''
            }`,
          ),
          'forbidden',
          403,
        );
      }
      return new ClusterRequestError(
        this.#redact(
          `the API server answered ${status}${detail ? `: ${detail}` : ''}`,
        ),
        'response',
        status,
      );
    }
    return describeNetworkError(error, this.#server, this.#redact);
  }

  toJSON(): object {
    return { server: this.#server, credentials: '[redacted]' };
  }
}

/**
 * Access data for the ServiceAccount this process runs as inside a cluster.
 * Reads the token, CA and service environment on every call: projected
 * tokens rotate, so callers must not keep the result.
 *
 * @throws InputError when not running inside Kubernetes
 * @throws NotFoundError when the ServiceAccount files are missing
 */
export function fromInClusterServiceAccount(
  options: { serviceAccountDir?: string; env?: NodeJS.ProcessEnv } = {},
): ClusterAccess {
  const env = options.env ?? process.env;
  const directory = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;

  const host = env.KUBERNETES_SERVICE_HOST?.trim();
  const port = env.KUBERNETES_SERVICE_PORT?.trim();
  if (!host || !port) {
    throw new InputError(
      'not running inside Kubernetes: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set',
    );
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new InputError('KUBERNETES_SERVICE_PORT is not a valid port number');
  }
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) {
    throw new InputError('KUBERNETES_SERVICE_HOST is not a valid host');
  }

  const token = readServiceAccountFile(directory, 'token').trim();
  if (!token) {
    throw new InputError(`the ServiceAccount token in ${directory} is empty`);
  }
  const caData = readServiceAccountFile(directory, 'ca.crt');
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    caData,
    credentials: { kind: 'token', token },
  };
}

function readServiceAccountFile(directory: string, file: string): string {
  const path = join(directory, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new NotFoundError(
        `no ServiceAccount ${file} at ${path}; is a ServiceAccount token mounted into this pod?`,
      );
    }
    throw new InputError(
      `cannot read the ServiceAccount ${file} at ${path} (${code ?? 'error'})`,
    );
  }
}

function checkTimeout(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) {
    return DEFAULT_TIMEOUT_MS;
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InputError('timeoutMs must be a positive number');
  }
  return timeoutMs;
}

/** Returns the server URL without a trailing slash. The URL is never echoed: it may hold a password. */
function checkServer(access: ClusterAccess): string {
  let url: URL;
  try {
    url = new URL(access.server);
  } catch {
    throw new InputError('server is not a valid URL');
  }
  if (url.protocol === 'http:') {
    if (access.insecureSkipTlsVerify !== true) {
      throw new InputError(
        'server must be an https:// URL; http:// is only accepted with insecureSkipTlsVerify',
      );
    }
  } else if (url.protocol !== 'https:') {
    throw new InputError('server must be an https:// URL');
  }
  if (url.username || url.password) {
    throw new InputError('server must not contain a user name or password');
  }
  if (!url.hostname || url.search || url.hash || /\s/.test(access.server)) {
    throw new InputError(
      'server must be a plain URL with a host and no query or fragment',
    );
  }
  return access.server.replace(/\/+$/, '');
}

function checkTls(access: ClusterAccess): void {
  if (access.insecureSkipTlsVerify === true && access.caData !== undefined) {
    // client-go refuses this combination too: it is unclear which one was meant.
    throw new InputError(
      'insecureSkipTlsVerify cannot be combined with caData',
    );
  }
  if (access.caData !== undefined) {
    const certificates = access.caData.match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    );
    if (!certificates) {
      throw new InputError('caData is not a PEM certificate bundle');
    }
    for (const certificate of certificates) {
      try {
        // eslint-disable-next-line no-new
        new X509Certificate(certificate);
      } catch {
        throw new InputError('caData contains an invalid certificate');
      }
    }
  }
  if (
    access.tlsServerName !== undefined &&
    !/^[A-Za-z0-9.:-]{1,253}$/.test(access.tlsServerName)
  ) {
    throw new InputError('tlsServerName is not a host name');
  }
}

function checkImpersonation(
  impersonate: ClusterAccess['impersonate'],
): { user: string; groups: string[] } | undefined {
  if (impersonate === undefined) {
    return undefined;
  }
  const { user, groups = [] } = impersonate;
  const printable = (value: unknown) =>
    typeof value === 'string' && /^[\x20-\x7e]+$/.test(value);
  if (user === undefined) {
    if (groups.length > 0) {
      // Kubernetes refuses group impersonation without a user, so fail here rather than on every request.
      throw new InputError('impersonate.groups requires impersonate.user');
    }
    return undefined;
  }
  if (!printable(user)) {
    throw new InputError('impersonate.user must be non-empty printable text');
  }
  if (!Array.isArray(groups) || !groups.every(printable)) {
    throw new InputError(
      'impersonate.groups must be a list of non-empty printable names',
    );
  }
  return { user, groups: [...groups] };
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function apiStatusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) {
    return error.code;
  }
  // Duck-typed as well, in case two copies of the library are loaded.
  if (typeof error === 'object' && error !== null && 'headers' in error) {
    const code: unknown = (error as { code?: unknown }).code;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

function errorFields(error: unknown): {
  code: string;
  message: string;
  name: string;
} {
  if (typeof error !== 'object' || error === null) {
    return { code: '', message: String(error), name: '' };
  }
  const { code, message, name } = error as Record<string, unknown>;
  return {
    code: typeof code === 'string' ? code : '',
    message: typeof message === 'string' ? message : '',
    name: typeof name === 'string' ? name : '',
  };
}

/** The message of a Kubernetes Status body, which names the refused action, never a credential. */
function statusMessage(error: unknown): string | undefined {
  let body: unknown = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof body === 'object' && body !== null) {
    const message = (body as { message?: unknown }).message;
    if (typeof message === 'string' && message.length > 0) {
      return message.length > 500 ? `${message.slice(0, 500)}…` : message;
    }
  }
  return undefined;
}

function describeNetworkError(
  error: unknown,
  server: string,
  redact: (text: string) => string,
): ClusterRequestError {
  const prefix = `cannot reach ${server}`;
  // Duck-typed: errors from Node's own realm fail instanceof checks under jest.
  const { code, message, name } = errorFields(error);

  if (code === 'ABORT_ERR' || name === 'AbortError') {
    return new ClusterRequestError(
      `${prefix}: the request was cancelled`,
      'cancelled',
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new ClusterRequestError(
      `${prefix}: TLS verification failed: the server certificate is not valid for this host name (set tlsServerName if the certificate names another)`,
      'tls',
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new ClusterRequestError(
      `${prefix}: TLS verification failed: the server certificate is ${
        code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not yet valid'
      }`,
      'tls',
    );
  }
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return new ClusterRequestError(
      `${prefix}: TLS verification failed: the server certificate is not signed by a trusted CA (${code}); check caData`,
      'tls',
    );
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_')) {
    const detail = /alert bad certificate|certificate required/i.test(message)
      ? 'the server refused the client certificate'
      : 'the server does not speak TLS as expected';
    return new ClusterRequestError(
      `${prefix}: TLS handshake failed: ${detail}`,
      'tls',
    );
  }
  if (code === OUTBOUND_POLICY_REFUSED) {
    return new ClusterRequestError(
      redact(`${prefix}: ${message}`),
      'unreachable',
    );
  }
  const network = NETWORK_ERRORS.get(code);
  if (network) {
    return new ClusterRequestError(`${prefix}: ${network}`, 'unreachable');
  }
  return new ClusterRequestError(
    redact(`${prefix}: ${code || message || 'network error'}`),
    'unreachable',
  );
}

// client-node builds a fresh agent for every request, so every API call paid
// for a new TCP connection and TLS handshake (and a new secure context) on
// the event loop. Requests to one server with the same TLS identity share one
// keep-alive agent instead. Idle sockets close after a while and, being
// unref'd by the agent, never hold the process open.
const MAX_POOLED_AGENTS = 64;
const IDLE_SOCKET_TIMEOUT_MS = 30_000;
const MAX_SOCKETS_PER_SERVER = 32;
const TLS_IDENTITY_FIELDS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
] as const;
const pooledAgents = new Map<string, http.Agent>();

function pooledAgent(
  server: string,
  built: http.Agent | undefined,
): http.Agent | undefined {
  if (!built) {
    return undefined;
  }
  const options: https.AgentOptions =
    (built as http.Agent & { options?: https.AgentOptions }).options ?? {};
  const tls: https.AgentOptions = {};
  // The key is a digest: the pool never holds a second copy of key material
  // in a readable form beyond the agent's own options.
  const identity = createHash('sha256').update(server);
  for (const field of TLS_IDENTITY_FIELDS) {
    const value = options[field];
    if (value !== undefined) {
      Object.assign(tls, { [field]: value });
    }
    identity.update(`\0${field}=`);
    identity.update(
      typeof value === 'string' || Buffer.isBuffer(value)
        ? value
        : JSON.stringify(value ?? null),
    );
  }
  const key = identity.digest('hex');
  const found = pooledAgents.get(key);
  if (found) {
    // Most recently used last, so eviction takes the coldest.
    pooledAgents.delete(key);
    pooledAgents.set(key, found);
    return found;
  }
  const Agent = built instanceof https.Agent ? https.Agent : http.Agent;
  const agent = new Agent({
    ...tls,
    keepAlive: true,
    timeout: IDLE_SOCKET_TIMEOUT_MS,
    maxSockets: MAX_SOCKETS_PER_SERVER,
  });
  pooledAgents.set(key, agent);
  if (pooledAgents.size > MAX_POOLED_AGENTS) {
    const [coldestKey, coldest] = pooledAgents.entries().next().value!;
    pooledAgents.delete(coldestKey);
    coldest.destroy();
  }
  return agent;
}

/**
 * Sends one request with a deadline on the whole exchange, including the
 * response body, and with exactly the configured impersonation.
 */
function sendRequest(
  request: RequestContext,
  transport: TransportSettings,
  timeoutMs: number,
): Promise<ResponseContext> {
  const url = new URL(request.getUrl());
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.getHeaders())) {
    // Impersonation comes from the target alone, never from what a caller set.
    if (!/^impersonate-/i.test(name)) {
      headers[name] = value;
    }
  }
  if (transport.impersonate) {
    headers['Impersonate-User'] = transport.impersonate.user;
    if (transport.impersonate.groups.length > 0) {
      // An array becomes one header line per group, which is what Kubernetes reads.
      headers['Impersonate-Group'] = transport.impersonate.groups;
    }
  }

  const body = request.getBody();
  let payload: string | undefined;
  if (typeof body === 'string') {
    payload = body;
  } else if (body !== undefined) {
    // Kubernetes APIs send JSON strings; a stream would be a multipart upload.
    if (typeof (body as { pipe?: unknown }).pipe === 'function') {
      return Promise.reject(
        new ClusterRequestError(
          'multipart request bodies are not supported',
          'response',
        ),
      );
    }
    payload = body.toString();
  }
  if (payload !== undefined) {
    headers['Content-Length'] = Buffer.byteLength(payload);
  }

  // One deadline for the whole exchange; a caller's own signal still cancels too.
  const deadline = new AbortController();
  const callerSignal = request.getSignal();
  const signal = callerSignal
    ? AbortSignal.any([callerSignal, deadline.signal])
    : deadline.signal;

  return new Promise<ResponseContext>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const settle = (outcome: () => void) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        outcome();
      }
    };
    const fail = (error: unknown) =>
      settle(() =>
        reject(
          deadline.signal.aborted
            ? new ClusterRequestError(
                `cannot reach ${
                  transport.server
                }: no answer within ${formatDuration(timeoutMs)}`,
                'timeout',
              )
            : describeNetworkError(error, transport.server, transport.redact),
        ),
      );

    try {
      const send = url.protocol === 'http:' ? http.request : https.request;
      const outgoing = send(
        url,
        {
          method: request.getHttpMethod(),
          headers,
          agent: pooledAgent(transport.server, request.getAgent()),
          ...(transport.lookup && {
            lookup: transport.lookup(
              Number(url.port || (url.protocol === 'http:' ? 80 : 443)),
            ),
          }),
          signal,
        },
        incoming => {
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              settle(() =>
                reject(
                  new ClusterRequestError(
                    `the API server at ${transport.server} sent more than ${
                      MAX_RESPONSE_BYTES / 1024 / 1024
                    } MiB`,
                    'response',
                  ),
                ),
              );
              outgoing.destroy();
              return;
            }
            chunks.push(chunk);
          });
          incoming.on('error', fail);
          incoming.on('end', () =>
            settle(() => {
              const responseHeaders: Record<string, string> = {};
              for (const [name, value] of Object.entries(incoming.headers)) {
                if (value !== undefined) {
                  responseHeaders[name] = Array.isArray(value)
                    ? value.join(', ')
                    : value;
                }
              }
              const data = Buffer.concat(chunks);
              resolve(
                new ResponseContext(incoming.statusCode ?? 0, responseHeaders, {
                  text: async () => data.toString('utf8'),
                  binary: async () => data,
                }),
              );
            }),
          );
        },
      );
      outgoing.on('error', fail);
      outgoing.end(payload);
    } catch (error) {
      // Node validates headers synchronously; report that like any other failure.
      fail(error);
    }
  });
}

function formatDuration(milliseconds: number): string {
  return milliseconds % 1000 === 0
    ? `${milliseconds / 1000} s`
    : `${milliseconds} ms`;
}
