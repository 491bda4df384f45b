import { InputError } from '@backstage/errors';
import {
  ApiException,
  ApiType,
  Configuration,
  HttpMethod,
} from '@kubernetes/client-node';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { ManifestChange } from '../operations/manifest/diffManifests';
import { canonicalJson } from '../operations/manifest/inputsHash';
import {
  RedactionOptions,
  redactSecretObject,
  secretMarker,
} from '../operations/manifest/redactSecretObject';
import { ClusterConnection, ClusterRequestError } from './ClusterConnection';
import { ClusterDiscovery } from './ClusterDiscovery';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';

/** One rendered object to validate. */
export interface ServerDryRunObject {
  /** The caller's name for the object, returned unchanged; see serverDryRunKey. */
  key: string;
  object: Record<string, unknown>;
}

/** What the API server said about one object. */
export interface ServerDryRunOutcome {
  key: string;
  /** The server would accept the object as it is. */
  ok: boolean;
  /** Why not: the API server's Status message (e.g. an immutable field, a Pod Security violation), or why the object was not sent. */
  error?: string;
  /** The API server's Status reason when it answered with one, e.g. 'Invalid', 'Forbidden'. */
  reason?: string;
  /** The object as it exists now; undefined when it does not exist or could not be read. */
  live?: Record<string, unknown>;
  /** What the server says the object would become. */
  after?: Record<string, unknown>;
  /** The server's Warning headers (deprecated APIs, unknown fields, Pod Security warnings). */
  warnings: string[];
}

export interface ServerDryRunOptions {
  /** The field manager of the apply; use the one the real apply uses, so conflicts and removals show the same way. */
  fieldManager: string;
  /** The release namespace, for namespaced objects that declare none. */
  namespace: string;
  /** Aborting stops the batch: serverDryRun then rejects with a 'cancelled' ClusterRequestError. */
  signal?: AbortSignal;
  /** Objects in flight at once; 4 by default. */
  concurrency?: number;
  /** Per request; 30 s by default, since admission webhooks may take a while. */
  timeoutMs?: number;
  /** How the server treats unknown or duplicate fields; the server's default (Warn) when unset. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Key of the markers that replace Secret values. */
  redaction?: RedactionOptions;
}

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 16;
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_MESSAGE_LENGTH = 2000;
const MAX_WARNINGS = 20;
const MAX_WARNING_LENGTH = 500;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Kept out of the diff: bookkeeping the server does, not something a chart asked for. */
const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'selfLink',
];
/** Failures that will be the same for every object: no point sending the rest. */
const BATCH_FAILURES = new Set(['unreachable', 'tls', 'unauthorized']);

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Receives the connection's configuration, so that every request goes
 * through the connection's transport: deadline, size limit, credentials and
 * impersonation.
 */
class RawObjectClient implements ApiType {
  readonly #configuration: Configuration;

  constructor(configuration: Configuration) {
    this.#configuration = configuration;
  }

  async send(
    method: HttpMethod,
    path: string,
    options: {
      query?: Record<string, string>;
      body?: string;
      contentType?: string;
      signal?: AbortSignal;
    } = {},
  ): Promise<RawResponse> {
    const configuration = this.#configuration;
    const request = configuration.baseServer.makeRequestContext(path, method);
    request.setHeaderParam('Accept', 'application/json');
    for (const [name, value] of Object.entries(options.query ?? {})) {
      request.setQueryParam(name, value);
    }
    if (options.body !== undefined) {
      request.setHeaderParam(
        'Content-Type',
        options.contentType ?? 'application/json',
      );
      request.setBody(options.body);
    }
    if (options.signal) {
      request.setSignal(options.signal);
    }
    await configuration.authMethods.default?.applySecurityAuthentication(
      request,
    );
    const response = await configuration.httpApi.send(request).toPromise();
    return {
      status: response.httpStatusCode,
      headers: response.headers,
      body: await response.body.text(),
    };
  }
}

/**
 * Validates rendered objects on the API server without changing anything:
 * for each object, reads the live object, then sends the object as a
 * server-side apply with dryRun=All through the connection's identity (and
 * impersonation), so that schema, admission (Pod Security, webhooks,
 * quota), RBAC and immutable-field errors show per object.
 *
 * Namespaced objects without a namespace go to `options.namespace`; the
 * namespace of a cluster-scoped object is dropped, as Helm does. Failures
 * are reported per object, in the order of `objects`; only an abort rejects.
 * `live` and `after` never hold managedFields, nor the values of a core
 * Secret (replaced by markers, as in redactSecretObject).
 *
 * @throws InputError when the options are invalid
 * @throws ClusterRequestError (kind 'cancelled') when `options.signal` aborts
 */
export async function serverDryRun(
  connection: ClusterConnection,
  discovery: ClusterDiscovery,
  objects: ReadonlyArray<ServerDryRunObject>,
  options: ServerDryRunOptions,
): Promise<ServerDryRunOutcome[]> {
  checkOptions(options);
  const { signal } = options;
  const client = connection.makeApiClient(RawObjectClient, {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  let batchFailure: ClusterRequestError | undefined;

  const outcomes = await mapWithConcurrency(
    objects,
    Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, MAX_CONCURRENCY),
    async ({ key, object }): Promise<ServerDryRunOutcome> => {
      throwIfAborted(signal);
      if (batchFailure) {
        return { key, ok: false, error: batchFailure.message, warnings: [] };
      }
      try {
        return await dryRunOne(client, discovery, key, object, options);
      } catch (error) {
        throwIfAborted(signal);
        const described = connection.describeError(error);
        if (described.kind === 'cancelled') {
          throw described;
        }
        if (BATCH_FAILURES.has(described.kind)) {
          batchFailure = described;
        }
        return { key, ok: false, error: described.message, warnings: [] };
      }
    },
  );
  throwIfAborted(signal);
  return outcomes;
}

/**
 * A readable name for an object: 'group/version Kind namespace/name' ('v1
 * ConfigMap team-a/hello', 'rbac.authorization.k8s.io/v1 ClusterRole
 * viewer'). `namespace` is used when the object declares none; leave it
 * out for cluster-scoped kinds.
 */
export function serverDryRunKey(
  object: Record<string, unknown>,
  namespace?: string,
): string {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const objectNamespace = text(metadata.namespace) ?? namespace;
  const name = text(metadata.name) ?? '<unnamed>';
  return `${text(object.apiVersion) ?? '<no apiVersion>'} ${
    text(object.kind) ?? '<no kind>'
  } ${objectNamespace ? `${objectNamespace}/${name}` : name}`;
}

/**
 * The change a dry-run outcome shows, as a unified diff of the live object
 * against what the server says it would become, in YAML. Server bookkeeping
 * (managedFields, uid, resourceVersion, creationTimestamp, generation) and
 * `status` are left out, so that only what the apply would change shows.
 * Returns undefined for a failed outcome: there is nothing to compare.
 *
 * Outcomes of serverDryRun are already redacted; other input is shown as
 * it is given, except core Secrets, whose values are replaced by markers.
 */
export function diffServerDryRun(
  outcome: ServerDryRunOutcome,
  options: RedactionOptions = {},
): ManifestChange | undefined {
  if (!outcome.ok || outcome.after === undefined) {
    return undefined;
  }
  const before =
    outcome.live === undefined ? undefined : comparable(outcome.live, options);
  const after = comparable(outcome.after, options);
  if (before !== undefined && canonicalJson(before) === canonicalJson(after)) {
    return { key: outcome.key, change: 'unchanged' };
  }
  const diff = createTwoFilesPatch(
    outcome.key,
    outcome.key,
    before === undefined ? '' : stringify(before, { lineWidth: 0 }),
    stringify(after, { lineWidth: 0 }),
    'live',
    'dry-run',
    { context: 3 },
  ).replace(/^={10,}\n/m, '');
  return {
    key: outcome.key,
    change: before === undefined ? 'added' : 'changed',
    diff,
  };
}

async function dryRunOne(
  client: RawObjectClient,
  discovery: ClusterDiscovery,
  key: string,
  object: Record<string, unknown>,
  options: ServerDryRunOptions,
): Promise<ServerDryRunOutcome> {
  const refused = (error: string): ServerDryRunOutcome => ({
    key,
    ok: false,
    error,
    warnings: [],
  });
  if (!isRecord(object)) {
    return refused('the object is not a mapping');
  }
  const apiVersion = text(object.apiVersion);
  const kind = text(object.kind);
  const metadata = isRecord(object.metadata) ? object.metadata : undefined;
  const name = text(metadata?.name);
  if (!apiVersion || !kind || !metadata) {
    return refused('the object needs apiVersion, kind and metadata');
  }
  if (!name) {
    // Server-side apply identifies an object by its name; generateName cannot be applied.
    return refused('the object has no metadata.name');
  }
  if (!isPathSegment(name)) {
    return refused(`metadata.name ${JSON.stringify(name)} is not a valid name`);
  }
  const groupVersion = apiVersion.split('/');
  if (groupVersion.length > 2 || groupVersion.some(part => part === '')) {
    return refused(`apiVersion ${JSON.stringify(apiVersion)} is not valid`);
  }
  const [group, version] =
    groupVersion.length === 2 ? groupVersion : ['', groupVersion[0]];
  const resource = discovery.resourceOf(group, version, kind);
  if (!resource) {
    return refused(`the cluster does not serve ${kind} in ${apiVersion}`);
  }
  if (resource.verbs.length > 0 && !resource.verbs.includes('patch')) {
    return refused(`the cluster does not allow patching ${resource.resource}`);
  }

  const body: Record<string, unknown> = { ...object };
  let path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  if (resource.namespaced) {
    const namespace = text(metadata.namespace) ?? options.namespace;
    if (!isNamespaceName(namespace)) {
      return refused(
        `metadata.namespace ${JSON.stringify(
          namespace,
        )} is not a valid namespace`,
      );
    }
    body.metadata = { ...metadata, namespace };
    path += `/namespaces/${namespace}`;
  } else if ('namespace' in metadata) {
    const { namespace: _ignored, ...clusterMetadata } = metadata;
    body.metadata = clusterMetadata;
  }
  path += `/${resource.resource}/${encodeURIComponent(name)}`;

  const secrets = secretStrings(object);
  const scrub = (message: string) =>
    secrets.reduce(
      (scrubbed, secret) => scrubbed.split(secret).join('[redacted]'),
      message,
    );
  const display = (value: Record<string, unknown>) =>
    forDisplay(value, options.redaction);

  const read = await client.send(HttpMethod.GET, path, {
    signal: options.signal,
  });
  checkAuthenticated(read, path);
  const warnings = new Set(readWarnings(read.headers).map(scrub));
  let live: Record<string, unknown> | undefined;
  if (read.status === 200) {
    live = display(parseObject(read.body, path));
  } else if (read.status !== 404) {
    const failure = readFailure(read);
    return {
      key,
      ok: false,
      error: scrub(`cannot read the live object: ${failure.message}`),
      ...(failure.reason && { reason: failure.reason }),
      warnings: [...warnings],
    };
  }

  const applied = await client.send(HttpMethod.PATCH, path, {
    query: {
      dryRun: 'All',
      fieldManager: options.fieldManager,
      force: 'true',
      ...(options.fieldValidation && {
        fieldValidation: options.fieldValidation,
      }),
    },
    body: JSON.stringify(body),
    contentType: 'application/apply-patch+yaml',
    signal: options.signal,
  });
  checkAuthenticated(applied, path);
  for (const warning of readWarnings(applied.headers)) {
    warnings.add(scrub(warning));
  }
  if (applied.status === 200 || applied.status === 201) {
    return {
      key,
      ok: true,
      ...(live && { live }),
      after: display(parseObject(applied.body, path)),
      warnings: [...warnings].slice(0, MAX_WARNINGS),
    };
  }
  const failure = readFailure(applied);
  return {
    key,
    ok: false,
    error: scrub(failure.message),
    ...(failure.reason && { reason: failure.reason }),
    ...(live && { live }),
    warnings: [...warnings].slice(0, MAX_WARNINGS),
  };
}

function checkOptions(options: ServerDryRunOptions): void {
  if (
    typeof options.fieldManager !== 'string' ||
    !/^[\x20-\x7e]{1,128}$/.test(options.fieldManager)
  ) {
    throw new InputError(
      'fieldManager must be 1 to 128 printable ASCII characters',
    );
  }
  if (!isNamespaceName(options.namespace)) {
    throw new InputError('namespace must be a valid namespace name');
  }
  const { concurrency } = options;
  if (
    concurrency !== undefined &&
    (!Number.isInteger(concurrency) || concurrency < 1)
  ) {
    throw new InputError('concurrency must be a positive integer');
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ClusterRequestError(
      'the server dry-run was cancelled',
      'cancelled',
    );
  }
}

/**
 * The Status message (bounded) and reason of a refusal, or a plain
 * description when the body is not a Status.
 */
function readFailure(response: RawResponse): {
  message: string;
  reason?: string;
} {
  let status: unknown;
  try {
    status = JSON.parse(response.body);
  } catch {
    status = undefined;
  }
  const message = isRecord(status) ? text(status.message) : undefined;
  const reason = isRecord(status) ? text(status.reason) : undefined;
  return {
    message: message
      ? bound(message, MAX_MESSAGE_LENGTH)
      : `the API server answered ${response.status}`,
    ...(reason && { reason }),
  };
}

/** Rejected credentials fail every object alike; thrown so the batch reports them once, in the connection's words. */
function checkAuthenticated(response: RawResponse, path: string): void {
  if (response.status === 401) {
    throw new ApiException(
      401,
      `${path} failed`,
      response.body,
      response.headers,
    );
  }
}

function parseObject(body: string, path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) {
    throw new ClusterRequestError(
      `the API server answered ${path} with something that is not a JSON object`,
      'response',
    );
  }
  return parsed;
}

/**
 * Warning headers ('299 - "text"', RFC 7234), which the transport joins with
 * ', ' when there are several.
 */
export function readWarnings(headers: Record<string, string>): string[] {
  const header = Object.entries(headers).find(
    ([name]) => name.toLowerCase() === 'warning',
  )?.[1];
  if (!header) {
    return [];
  }
  const warnings: string[] = [];
  for (const match of header.matchAll(/\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)) {
    const warning = match[1].replace(/\\(.)/g, '$1').trim();
    if (warning && !warnings.includes(warning)) {
      warnings.push(bound(warning, MAX_WARNING_LENGTH));
    }
    if (warnings.length >= MAX_WARNINGS) {
      break;
    }
  }
  return warnings;
}

/** A copy without managedFields and with the values of a core Secret replaced by markers. */
function forDisplay(
  object: Record<string, unknown>,
  redaction: RedactionOptions | undefined,
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...object };
  if (isRecord(object.metadata)) {
    const { managedFields: _dropped, ...metadata } = object.metadata;
    const annotations = isRecord(metadata.annotations)
      ? metadata.annotations
      : undefined;
    if (isSecret(object) && typeof annotations?.[LAST_APPLIED] === 'string') {
      // kubectl apply keeps the whole Secret, values included, in this annotation.
      metadata.annotations = {
        ...annotations,
        [LAST_APPLIED]: secretMarker(
          Buffer.from(annotations[LAST_APPLIED], 'utf8'),
          redaction,
        ),
      };
    }
    copy.metadata = metadata;
  }
  return redactSecretObject(copy, redaction);
}

/** Without server bookkeeping and status, for comparing desired state. */
function comparable(
  object: Record<string, unknown>,
  redaction: RedactionOptions,
): Record<string, unknown> {
  const { status: _status, ...copy } = object;
  if (isRecord(object.metadata)) {
    const metadata: Record<string, unknown> = { ...object.metadata };
    for (const field of SERVER_METADATA) {
      delete metadata[field];
    }
    copy.metadata = metadata;
  }
  return redactSecretObject(copy, redaction);
}

/** Every value of a core Secret, in the forms an error message could echo. */
function secretStrings(object: Record<string, unknown>): string[] {
  if (!isSecret(object)) {
    return [];
  }
  const found: string[] = [];
  for (const field of ['data', 'stringData'] as const) {
    const values = object[field];
    if (!isRecord(values)) {
      continue;
    }
    for (const value of Object.values(values)) {
      if (typeof value !== 'string') {
        continue;
      }
      found.push(value);
      if (field === 'data') {
        found.push(Buffer.from(value, 'base64').toString('utf8'));
      }
    }
  }
  // Longest first, so that a value containing another is replaced whole.
  return found
    .filter(value => value.length >= 4)
    .sort((a, b) => b.length - a.length);
}

function isSecret(object: Record<string, unknown>): boolean {
  return object.apiVersion === 'v1' && object.kind === 'Secret';
}

/** Names go into the URL: nothing that could change the path. */
function isPathSegment(name: string): boolean {
  return (
    name.length <= 253 &&
    name !== '.' &&
    name !== '..' &&
    !/[/%\s\p{Cc}]/u.test(name)
  );
}

function isNamespaceName(namespace: unknown): namespace is string {
  return (
    typeof namespace === 'string' &&
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)
  );
}

function bound(message: string, limit: number): string {
  return message.length > limit ? `${message.slice(0, limit)}…` : message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
