import { InputError, NotFoundError } from '@backstage/errors';
import { ApiException, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import * as http from 'node:http';
import * as https from 'node:https';
import { PassThrough, Readable, finished } from 'node:stream';
import { isDns1123Label, ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection, ClusterRequestError } from './ClusterConnection';
import { findReleasePods, readReleaseSelectors } from './releasePods';
import { checkRelease } from './releaseObjects';
import { matchesSelector } from './labelSelectors';
import { ReleasePod } from './releaseResourceTypes';

export const DEFAULT_TAIL_LINES = 500;
export const MAX_TAIL_LINES = 10_000;
/** Applied to every read unless the caller asks for less (or more, up to the maximum). */
export const DEFAULT_LOG_LIMIT_BYTES = 2 * 1024 * 1024;
export const MAX_LOG_LIMIT_BYTES = 16 * 1024 * 1024;

const READ_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const DNS1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Which release a log request is about; pods outside it are refused. */
export interface ReleaseLogScope {
  connection: ClusterConnection;
  namespace: string;
  releaseName: string;
  /** The release's objects, e.g. parsed from `helm get manifest`. */
  objects: ReadonlyArray<ManifestObject>;
}

export interface PodLogRequest extends ReleaseLogScope {
  pod: string;
  container: string;
  /** The container's previous instance, e.g. before a crash. */
  previous?: boolean;
  /** Lines from the end; 500 by default, at most 10000. 'all' requires limitBytes. */
  tailLines?: number | 'all';
  sinceSeconds?: number;
  /** A cap on the bytes returned; 2 MiB by default, at most 16 MiB. */
  limitBytes?: number;
  /** Each line starts with its RFC 3339 time, for merging several logs. */
  timestamps?: boolean;
}

/**
 * How a followed log finds out that its API server stopped answering. A
 * quiet container sends nothing for hours, and so does a connection whose
 * server hangs (accepts, never answers) without closing it: only asking the
 * server tells them apart.
 */
export interface QuietStreamCheck {
  /** After this long without a byte, the API server is asked about the pod. */
  afterMs: number;
  /** The answer must come within this long, or the stream ends with an error. */
  timeoutMs: number;
}

/** One minute of silence, then 15 s for the API server to answer. */
export const DEFAULT_QUIET_STREAM_CHECK: QuietStreamCheck = {
  afterMs: 60_000,
  timeoutMs: 15_000,
};

/**
 * The pods of a release with their containers (init containers too) and
 * whether each has a previous instance whose logs can be read.
 *
 * @throws ClusterRequestError
 */
export async function listPods(
  connection: ClusterConnection,
  namespace: string,
  releaseName: string,
  objects: ReadonlyArray<ManifestObject>,
): Promise<ReleasePod[]> {
  return findReleasePods({ connection, namespace, releaseName, objects });
}

/**
 * Reads the logs of one container of a release pod.
 *
 * @throws InputError when the options are invalid
 * @throws NotFoundError when the pod is not part of the release in this namespace, or has no such container (instance)
 * @throws ClusterRequestError for other failures talking to the cluster
 */
export async function readLogs(request: PodLogRequest): Promise<string> {
  const query = checkRequest(request);
  await assertReleaseContainer(request);
  const { connection } = request;
  const core = connection.makeApiClient(CoreV1Api, {
    timeoutMs: READ_TIMEOUT_MS,
  });
  try {
    return await core.readNamespacedPodLog({
      name: request.pod,
      namespace: request.namespace,
      container: request.container,
      previous: query.previous,
      limitBytes: query.limitBytes,
      ...(request.timestamps && { timestamps: true }),
      ...(query.tailLines !== undefined && { tailLines: query.tailLines }),
      ...(query.sinceSeconds !== undefined && {
        sinceSeconds: query.sinceSeconds,
      }),
    });
  } catch (error) {
    throw logError(connection.describeError(error), request);
  }
}

/**
 * Follows the logs of one container of a release pod: the returned stream
 * yields chunks as the API server sends them and ends when the container's
 * log ends or `signal` aborts, which also closes the request to the API
 * server. Destroying the stream closes it too.
 *
 * @throws InputError when the options are invalid
 * @throws NotFoundError when the pod is not part of the release in this namespace, or has no such container (instance)
 * @throws ClusterRequestError when the stream cannot be opened
 */
export async function followLogs(
  request: Omit<PodLogRequest, 'limitBytes'> & {
    /** Without it the stream is not capped; with tailLines 'all' it is required. */
    limitBytes?: number;
    signal: AbortSignal;
    /** DEFAULT_QUIET_STREAM_CHECK unless given. */
    quietCheck?: QuietStreamCheck;
  },
): Promise<Readable> {
  const query = checkRequest(request, { follow: true });
  await assertReleaseContainer(request);
  const { connection, signal } = request;
  if (signal.aborted) {
    throw new ClusterRequestError('the log stream was cancelled', 'cancelled');
  }

  const url = new URL(
    `${connection.server}/api/v1/namespaces/${encodeURIComponent(
      request.namespace,
    )}/pods/${encodeURIComponent(request.pod)}/log`,
  );
  url.searchParams.set('container', request.container);
  url.searchParams.set('follow', 'true');
  if (query.previous) url.searchParams.set('previous', 'true');
  if (request.timestamps) url.searchParams.set('timestamps', 'true');
  if (query.tailLines !== undefined) {
    url.searchParams.set('tailLines', String(query.tailLines));
  }
  if (query.sinceSeconds !== undefined) {
    url.searchParams.set('sinceSeconds', String(query.sinceSeconds));
  }
  if (query.limitBytes !== undefined) {
    url.searchParams.set('limitBytes', String(query.limitBytes));
  }

  // The connection's KubeConfig adds TLS settings, credentials and impersonation.
  const options: https.RequestOptions = {
    method: 'GET',
    headers: { Accept: '*/*' },
  };
  await connection.kubeConfig.applyToHTTPSOptions(options);
  const transport = url.protocol === 'https:' ? https : http;

  return new Promise<Readable>((resolve, reject) => {
    const upstream = transport.request(url, options);
    // Only until the server answers: a followed log may stay quiet for hours.
    const connectTimer = setTimeout(
      () =>
        upstream.destroy(
          new ClusterRequestError(
            `the API server did not answer within ${
              CONNECT_TIMEOUT_MS / 1000
            } s`,
            'timeout',
          ),
        ),
      CONNECT_TIMEOUT_MS,
    );
    const onAbort = () =>
      upstream.destroy(
        new ClusterRequestError('the log stream was cancelled', 'cancelled'),
      );
    const cleanup = () => {
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
    };
    let settled = false;
    const fail = (error: unknown) => {
      if (!settled) {
        settled = true;
        cleanup();
        reject(logError(connection.describeError(error), request));
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    upstream.on('error', fail);

    upstream.on('response', response => {
      clearTimeout(connectTimer);
      if (response.statusCode !== 200) {
        readErrorBody(response).then(body =>
          fail(
            new ApiException(
              response.statusCode ?? 500,
              'log request failed',
              body,
              {},
            ),
          ),
        );
        return;
      }
      settled = true;
      const output = new PassThrough();
      const watchdog = watchQuietStream({
        ...request,
        check: request.quietCheck ?? DEFAULT_QUIET_STREAM_CHECK,
        onUnanswered: error => {
          if (!output.destroyed) output.destroy(error);
          upstream.destroy();
        },
      });
      response.on('data', watchdog.activity);
      response.pipe(output, { end: false });
      finished(response, error => {
        cleanup();
        watchdog.stop();
        if (output.destroyed) {
          return;
        }
        if (error && !signal.aborted) {
          output.destroy(connection.describeError(error));
        } else {
          // Aborted by the caller or ended by the server: a normal end either way.
          output.end();
        }
      });
      // The consumer went away: stop reading from the API server.
      output.on('close', () => {
        cleanup();
        watchdog.stop();
        upstream.destroy();
      });
      resolve(output);
    });
    upstream.end();
  });
}

/**
 * Arms a timer that each byte of the stream resets; when it fires, the pod is
 * read with a short timeout. An answer (even "not found": the log then ends
 * by itself) re-arms it; no answer ends the stream through `onUnanswered`.
 */
function watchQuietStream(options: {
  connection: ClusterConnection;
  namespace: string;
  pod: string;
  check: QuietStreamCheck;
  onUnanswered: (error: Error) => void;
}): { activity(): void; stop(): void } {
  const { connection, namespace, pod, check } = options;
  const core = connection.makeApiClient(CoreV1Api, {
    timeoutMs: check.timeoutMs,
  });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let probe: () => Promise<void> = async () => {};
  const arm = () => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(probe, check.afterMs);
    timer.unref?.();
  };
  probe = async () => {
    try {
      await core.readNamespacedPod({ name: pod, namespace });
    } catch (error) {
      if (!connection.describeError(error).serverAnswered && !stopped) {
        stopped = true;
        options.onUnanswered(
          new ClusterRequestError(
            `the API server stopped answering: the log was quiet for ${Math.round(
              check.afterMs / 1000,
            )} s and a check of pod ${pod} got no answer within ${Math.round(
              check.timeoutMs / 1000,
            )} s`,
            'timeout',
          ),
        );
        return;
      }
    }
    arm();
  };
  arm();
  return {
    activity: arm,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

interface CheckedQuery {
  previous: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
}

function checkRequest(
  request: Omit<PodLogRequest, 'limitBytes'> & { limitBytes?: number },
  mode: { follow?: boolean } = {},
): CheckedQuery {
  checkRelease(request.namespace, request.releaseName);
  if (!DNS1123_SUBDOMAIN.test(request.pod) || request.pod.length > 253) {
    throw new InputError('pod is not a valid pod name');
  }
  if (!isDns1123Label(request.container)) {
    throw new InputError('container is not a valid container name');
  }

  const { limitBytes } = request;
  if (
    limitBytes !== undefined &&
    !isPositiveInteger(limitBytes, MAX_LOG_LIMIT_BYTES)
  ) {
    throw new InputError(
      `limitBytes must be a whole number from 1 to ${MAX_LOG_LIMIT_BYTES}`,
    );
  }
  let tailLines: number | undefined;
  if (request.tailLines === 'all') {
    if (limitBytes === undefined) {
      throw new InputError("tailLines 'all' requires limitBytes");
    }
  } else if (request.tailLines === undefined) {
    tailLines = DEFAULT_TAIL_LINES;
  } else if (isPositiveInteger(request.tailLines, MAX_TAIL_LINES)) {
    tailLines = request.tailLines;
  } else {
    throw new InputError(
      `tailLines must be a whole number from 1 to ${MAX_TAIL_LINES}, or 'all'`,
    );
  }
  const { sinceSeconds } = request;
  if (
    sinceSeconds !== undefined &&
    !isPositiveInteger(sinceSeconds, Number.MAX_SAFE_INTEGER)
  ) {
    throw new InputError('sinceSeconds must be a positive whole number');
  }
  return {
    previous: request.previous === true,
    ...(tailLines !== undefined && { tailLines }),
    ...(sinceSeconds !== undefined && { sinceSeconds }),
    // A plain read is always capped; a followed stream only when asked.
    ...(limitBytes !== undefined
      ? { limitBytes }
      : !mode.follow && { limitBytes: DEFAULT_LOG_LIMIT_BYTES }),
  };
}

function isPositiveInteger(value: unknown, max: number): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 1 &&
    value <= max
  );
}

/**
 * Refuses pods that are not part of the release in its namespace, and
 * containers the pod does not have, the same way: as not found.
 */
async function assertReleaseContainer(
  request: ReleaseLogScope & { pod: string; container: string },
): Promise<void> {
  const { connection, namespace, pod: name, container } = request;
  const core = connection.makeApiClient(CoreV1Api);
  const notFound = () =>
    new NotFoundError(
      `pod ${name} is not part of release ${request.releaseName} in namespace ${namespace}`,
    );
  let pod: V1Pod;
  try {
    pod = await core.readNamespacedPod({ name, namespace });
  } catch (error) {
    const described = connection.describeError(error);
    if (described.statusCode === 404) {
      throw notFound();
    }
    throw described;
  }
  if (pod.metadata?.namespace !== namespace) {
    throw notFound();
  }
  const selectors = await readReleaseSelectors(request);
  if (!selectors.some(s => matchesSelector(pod.metadata?.labels, s.selector))) {
    throw notFound();
  }
  const containers = [
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.containers ?? []),
  ];
  if (!containers.some(c => c.name === container)) {
    throw new NotFoundError(`pod ${name} has no container ${container}`);
  }
}

/** The API server answers 400 when a container (instance) has no logs to show. */
function logError(
  error: ClusterRequestError,
  request: { pod: string; container: string; previous?: boolean },
): Error {
  if (error.statusCode === 404) {
    return new NotFoundError(`pod ${request.pod} was not found`);
  }
  if (error.statusCode === 400) {
    if (/not found|previous terminated container/i.test(error.message)) {
      return new NotFoundError(
        request.previous
          ? `container ${request.container} of pod ${request.pod} has no previous instance`
          : `container ${request.container} of pod ${request.pod} has no logs`,
      );
    }
    // e.g. a container still waiting to start; the server's words are safe (describeError redacts).
    return new InputError(error.message);
  }
  return error;
}

async function readErrorBody(response: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > MAX_ERROR_BODY_BYTES) {
        response.destroy();
        break;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    // Whatever arrived is enough to explain the status.
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
