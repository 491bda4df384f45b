import {
  ApiConstructor,
  ApiType,
  Cluster,
  createConfiguration,
  KubeConfig,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  User,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { LookupFunction } from 'node:net';
import { inspect } from 'node:util';

import { ClusterRequestError, describeNetworkError } from './clusterErrors';

/** Every request's time limit unless the caller sets another. */
export const DEFAULT_TIMEOUT_MS = 10_000;
// A hostile or broken server must not be able to fill the backend's memory.
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** The one cluster, user and context name of an in-memory kubeconfig. */
export const NAME = 'target';

/** What the transport needs beyond what KubeConfig applies to each request. */
interface TransportSettings {
  server: string;
  impersonate?: { user: string; groups: string[] };
  redact: (text: string) => string;
  /** Resolves the server's name for each new connection to a port. */
  lookup?: (port: number) => LookupFunction;
}

/**
 * A KubeConfig that exists only in memory and sends every API client request
 * through a transport that enforces a deadline and sets impersonation headers.
 * client-node can carry only one value per header, which would merge several
 * impersonated groups into one, so the transport sets them itself.
 */
export class InMemoryKubeConfig extends KubeConfig {
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
