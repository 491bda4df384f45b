import {
  ApiConstructor,
  ApiType,
  AuthenticationV1Api,
  AuthorizationV1Api,
  Cluster,
  KubeConfig,
  User,
  VersionApi,
} from '@kubernetes/client-node';
import { InputError, NotFoundError } from '@backstage/errors';
import { readFileSync } from 'node:fs';
import { isIPv6, LookupFunction } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createRedactor } from '../lib/redaction';
import { credentialStrategy } from './credentials';
import { AccessAttributes, ClusterAccess } from './clusterTypes';
import {
  ClusterRequestError,
  apiStatusCode,
  describeNetworkError,
  statusMessage,
} from './clusterErrors';
import { InMemoryKubeConfig, NAME } from './clusterTransport';
import {
  checkImpersonation,
  checkServer,
  checkTimeout,
  checkTls,
} from './clusterAccessChecks';

export type { ClusterCredentials } from './credentials';
export type { AccessAttributes, ClusterAccess } from './clusterTypes';
export { ClusterRequestError } from './clusterErrors';
export type { ClusterErrorKind } from './clusterErrors';

/** The user name Kubernetes gives requests whose credentials it does not recognise. */
export const ANONYMOUS_USER = 'system:anonymous';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

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

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
