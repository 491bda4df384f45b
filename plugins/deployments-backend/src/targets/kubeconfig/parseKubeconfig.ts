import { InputError } from '@backstage/errors';
import { isAlias, isMap, isNode, isScalar, isSeq, parseDocument } from 'yaml';
import { isDns1123Label } from '../namespaceBoundary';

/**
 * What a target needs from a kubeconfig: one API server, how to trust it and
 * one set of credentials. Everything else in the file is refused or ignored.
 */
export interface ParsedKubeconfig {
  /** https URL of the API server (http only when insecure TLS is allowed). */
  server: string;
  /** PEM text of the CA bundle, decoded from certificate-authority-data. */
  caData?: string;
  tlsServerName?: string;
  insecureSkipTlsVerify: boolean;
  credentials:
    | { kind: 'token'; token: string }
    | { kind: 'clientCertificate'; certData: string; keyData: string }
    | { kind: 'basic'; username: string; password: string };
  contextNamespace?: string;
}

const MAX_KUBECONFIG_BYTES = 256 * 1024;
const MAX_ALIAS_COUNT = 50;
// Real kubeconfigs are about six levels deep; anything far deeper is an attack on the parser.
const MAX_DEPTH = 32;

// Keys that could reach Object.prototype if anything downstream merged the data naively.
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const TOP_LEVEL_KEYS = new Set([
  'apiVersion',
  'kind',
  'clusters',
  'users',
  'contexts',
  'current-context',
  'preferences',
]);
const CLUSTER_KEYS = new Set([
  'server',
  'certificate-authority-data',
  'tls-server-name',
  'insecure-skip-tls-verify',
  'disable-compression',
]);
const USER_KEYS = new Set([
  'token',
  'client-certificate-data',
  'client-key-data',
  'username',
  'password',
]);
const CONTEXT_KEYS = new Set(['cluster', 'user', 'namespace']);

const IMPERSONATION_ON_TARGET =
  'impersonation is set on the target (its impersonate setting: user and groups), not in the kubeconfig; remove it here and set it on the target';

const NEVER_CODE =
  'kubeconfigs are data, never code; use a token or client certificate';

/** Known kubeconfig fields we refuse, with the reason a user can act on. */
const REFUSED_FIELDS = new Map<string, string>([
  ['exec', NEVER_CODE],
  ['auth-provider', NEVER_CODE],
  [
    'tokenFile',
    'kubeconfigs may not refer to local files; put the token in token',
  ],
  [
    'client-certificate',
    'kubeconfigs may not refer to local files; use client-certificate-data',
  ],
  [
    'client-key',
    'kubeconfigs may not refer to local files; use client-key-data',
  ],
  [
    'certificate-authority',
    'kubeconfigs may not refer to local files; use certificate-authority-data',
  ],
  ['proxy-url', 'proxies are not supported'],
  ['extensions', 'extensions are not supported'],
  // Impersonation is a setting of the target, bound to its credential; a
  // kubeconfig that carried it would change the identity used unseen.
  ['as', IMPERSONATION_ON_TARGET],
  ['as-groups', IMPERSONATION_ON_TARGET],
  ['as-uid', IMPERSONATION_ON_TARGET],
  ['as-user-extra', IMPERSONATION_ON_TARGET],
]);

type YamlMapping = Record<string, unknown>;

interface NamedEntry {
  name: string;
  body: YamlMapping;
  /** Path of the body, e.g. 'users[0].user'. */
  path: string;
}

/**
 * Kubeconfigs are data, never code: this reads one without ever running,
 * reading or contacting anything it names. Anything that would make a client
 * execute a program, read a local file or go through a proxy is refused, and
 * every error names the offending field but never echoes a value.
 *
 * @throws InputError when the kubeconfig is not acceptable
 */
export function parseKubeconfig(
  text: string,
  options: { allowInsecureTls: boolean },
): ParsedKubeconfig {
  const root = parseYaml(text);
  checkKeys(root, '', TOP_LEVEL_KEYS);

  if (root.kind !== undefined && root.kind !== 'Config') {
    throw new InputError('kubeconfig kind must be "Config"');
  }
  if (root.apiVersion !== undefined && root.apiVersion !== 'v1') {
    throw new InputError('kubeconfig apiVersion must be "v1"');
  }

  const clusters = optionalList(root, 'clusters', '');
  const users = optionalList(root, 'users', '');
  const contexts = optionalList(root, 'contexts', '');
  // One of each keeps the choice of server and identity unambiguous.
  const miscounted = [
    countProblem(clusters.length, 'clusters'),
    countProblem(users.length, 'users'),
    countProblem(contexts.length, 'contexts'),
  ].filter(Boolean);
  if (miscounted.length > 0) {
    throw new InputError(
      `kubeconfig must contain exactly one cluster, one user and one context; found ${miscounted.join(
        ', ',
      )}`,
    );
  }

  const cluster = namedEntry(
    clusters[0],
    'clusters[0]',
    'cluster',
    CLUSTER_KEYS,
  );
  const user = namedEntry(users[0], 'users[0]', 'user', USER_KEYS);
  const context = namedEntry(
    contexts[0],
    'contexts[0]',
    'context',
    CONTEXT_KEYS,
  );

  const contextNamespace = readContext(context, cluster.name, user.name);
  const currentContext = optionalString(root, 'current-context', '');
  // kubectl writes an empty current-context when none is selected.
  if (currentContext && currentContext !== context.name) {
    throw new InputError(
      `kubeconfig current-context names ${quote(
        currentContext,
      )}, which is not in contexts`,
    );
  }

  return {
    ...readCluster(cluster.body, cluster.path, options),
    credentials: readCredentials(user.body, user.path),
    ...(contextNamespace !== undefined && { contextNamespace }),
  };
}

function parseYaml(text: string): YamlMapping {
  if (typeof text !== 'string') {
    throw new InputError('kubeconfig must be text');
  }
  // Checked before parsing so that size alone cannot make the parser work hard.
  if (Buffer.byteLength(text, 'utf8') > MAX_KUBECONFIG_BYTES) {
    throw new InputError(
      `kubeconfig is larger than ${MAX_KUBECONFIG_BYTES / 1024} KiB`,
    );
  }
  const document = parseDocument(text, {
    schema: 'core',
    customTags: [],
    uniqueKeys: true,
    prettyErrors: true,
  });

  // Before looking at parser errors, so duplicate keys and tags are reported by field.
  inspectNode(document.contents, '', 0);

  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) {
    // The parser's own message quotes the source, which may hold secrets; report only where and what.
    const where = problem.linePos
      ? ` at line ${problem.linePos[0].line}, column ${problem.linePos[0].col}`
      : '';
    const field = pathAt(document.contents, problem.pos[0], '');
    throw new InputError(
      `kubeconfig ${field ? `${field} ` : ''}is not valid YAML (${
        problem.code
      }${where})`,
    );
  }
  if (!isMap(document.contents)) {
    throw new InputError('kubeconfig must be a YAML mapping');
  }

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ReferenceError) {
      throw new InputError(
        `kubeconfig expands YAML aliases too many times (limit ${MAX_ALIAS_COUNT})`,
      );
    }
    throw new InputError('kubeconfig could not be read as YAML data');
  }
  return asMapping(value, '');
}

/**
 * Walks the YAML syntax tree, where aliases are not yet expanded, and refuses
 * what must not reach plain objects: tags, non-string and prototype keys,
 * duplicate keys and deep nesting.
 */
function inspectNode(node: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) {
    throw new InputError(`kubeconfig ${describe(path)} is nested too deeply`);
  }
  // An alias points at a node that is inspected where its anchor is defined.
  if (isAlias(node)) {
    return;
  }
  if ((isScalar(node) || isMap(node) || isSeq(node)) && node.tag) {
    // The tag itself is not echoed: an unquoted secret starting with '!' parses as one.
    throw new InputError(
      `kubeconfig ${describe(
        path,
      )} uses a YAML tag, which is not allowed: kubeconfigs are data, never code`,
    );
  }
  if (isSeq(node)) {
    node.items.forEach((item, index) =>
      inspectNode(item, `${path}[${index}]`, depth + 1),
    );
    return;
  }
  if (!isMap(node)) {
    return;
  }
  const seen = new Set<string>();
  for (const pair of node.items) {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string' || key.tag) {
      throw new InputError(
        `kubeconfig ${describe(path)} has a key that is not a plain string`,
      );
    }
    const keyPath = childPath(path, key.value);
    if (PROTOTYPE_KEYS.has(key.value)) {
      throw new InputError(`kubeconfig ${keyPath} is not an allowed key`);
    }
    if (seen.has(key.value)) {
      throw new InputError(`kubeconfig ${keyPath} appears more than once`);
    }
    seen.add(key.value);
    inspectNode(pair.value, keyPath, depth + 1);
  }
}

/** The path of the deepest node around a source offset, to name the field a parser error is in. */
function pathAt(node: unknown, offset: number, path: string): string {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
        continue;
      }
      const keyPath = childPath(path, pair.key.value);
      if (spans(pair.key, offset)) {
        return keyPath;
      }
      if (spans(pair.value, offset)) {
        return pathAt(pair.value, offset, keyPath);
      }
    }
  } else if (isSeq(node)) {
    const index = node.items.findIndex(item => spans(item, offset));
    if (index >= 0) {
      return pathAt(node.items[index], offset, `${path}[${index}]`);
    }
  }
  return path;
}

function spans(node: unknown, offset: number): boolean {
  if (!isNode(node) || !node.range) {
    return false;
  }
  const [start, , end] = node.range;
  return start <= offset && offset < end;
}

/** Refuses unknown keys as well as known dangerous ones: new kubeconfig features must be reviewed first. */
function checkKeys(map: YamlMapping, path: string, allowed: Set<string>) {
  for (const key of Object.keys(map)) {
    const keyPath = childPath(path, key);
    const refusal = REFUSED_FIELDS.get(key);
    if (refusal) {
      throw new InputError(`kubeconfig ${keyPath} is not allowed: ${refusal}`);
    }
    if (!allowed.has(key)) {
      throw new InputError(`kubeconfig ${keyPath} is not a supported field`);
    }
  }
}

function namedEntry(
  value: unknown,
  path: string,
  bodyKey: string,
  allowedBodyKeys: Set<string>,
): NamedEntry {
  const entry = asMapping(value, path);
  checkKeys(entry, path, new Set(['name', bodyKey]));
  const name = requireString(entry, 'name', path);
  const bodyPath = childPath(path, bodyKey);
  const body = asMapping(entry[bodyKey], bodyPath);
  checkKeys(body, bodyPath, allowedBodyKeys);
  return { name, body, path: bodyPath };
}

function readContext(
  context: NamedEntry,
  clusterName: string,
  userName: string,
): string | undefined {
  const { body, path } = context;
  const cluster = requireString(body, 'cluster', path);
  if (cluster !== clusterName) {
    throw new InputError(
      `kubeconfig ${path}.cluster names ${quote(
        cluster,
      )}, which is not in clusters`,
    );
  }
  const user = requireString(body, 'user', path);
  if (user !== userName) {
    throw new InputError(
      `kubeconfig ${path}.user names ${quote(user)}, which is not in users`,
    );
  }
  const namespace = optionalString(body, 'namespace', path);
  if (namespace !== undefined && !isDns1123Label(namespace)) {
    throw new InputError(
      `kubeconfig ${path}.namespace is not a valid namespace name`,
    );
  }
  return namespace;
}

function readCluster(
  cluster: YamlMapping,
  path: string,
  options: { allowInsecureTls: boolean },
): Pick<
  ParsedKubeconfig,
  'server' | 'caData' | 'tlsServerName' | 'insecureSkipTlsVerify'
> {
  const server = requireString(cluster, 'server', path);
  checkServerUrl(server, `${path}.server`, options);

  const encodedCa = optionalString(cluster, 'certificate-authority-data', path);
  const caData =
    encodedCa === undefined
      ? undefined
      : decodePem(
          encodedCa,
          `${path}.certificate-authority-data`,
          /CERTIFICATE/,
        );

  const tlsServerName = optionalString(cluster, 'tls-server-name', path);
  if (
    tlsServerName !== undefined &&
    !/^[A-Za-z0-9.:-]{1,253}$/.test(tlsServerName)
  ) {
    throw new InputError(
      `kubeconfig ${path}.tls-server-name is not a host name`,
    );
  }

  const insecureSkipTlsVerify =
    optionalBoolean(cluster, 'insecure-skip-tls-verify', path) ?? false;
  if (insecureSkipTlsVerify && !options.allowInsecureTls) {
    throw new InputError(
      `kubeconfig ${path}.insecure-skip-tls-verify is not allowed: TLS verification cannot be turned off for this target`,
    );
  }
  if (insecureSkipTlsVerify && caData !== undefined) {
    // client-go refuses this combination too: it is unclear which one the author meant.
    throw new InputError(
      `kubeconfig ${path}.insecure-skip-tls-verify cannot be combined with certificate-authority-data`,
    );
  }
  // Validated for its type only; compression makes no difference to safety.
  optionalBoolean(cluster, 'disable-compression', path);

  return {
    server,
    ...(caData !== undefined && { caData }),
    ...(tlsServerName !== undefined && { tlsServerName }),
    insecureSkipTlsVerify,
  };
}

/** The URL itself is never echoed: userinfo in it may be a password. */
function checkServerUrl(
  server: string,
  path: string,
  options: { allowInsecureTls: boolean },
) {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new InputError(`kubeconfig ${path} is not a valid URL`);
  }
  if (url.protocol === 'http:') {
    if (!options.allowInsecureTls) {
      throw new InputError(
        `kubeconfig ${path} must be an https:// URL; http:// is only allowed when insecure TLS is allowed`,
      );
    }
  } else if (url.protocol !== 'https:') {
    throw new InputError(`kubeconfig ${path} must be an https:// URL`);
  }
  if (url.username || url.password) {
    throw new InputError(
      `kubeconfig ${path} must not contain a user name or password`,
    );
  }
  if (!url.hostname || url.search || url.hash || /\s/.test(server)) {
    throw new InputError(
      `kubeconfig ${path} must be a plain URL with a host and no query or fragment`,
    );
  }
}

function readCredentials(
  user: YamlMapping,
  path: string,
): ParsedKubeconfig['credentials'] {
  const token = optionalString(user, 'token', path);
  const certData = optionalString(user, 'client-certificate-data', path);
  const keyData = optionalString(user, 'client-key-data', path);
  const username = optionalString(user, 'username', path);
  const password = optionalString(user, 'password', path);

  const kinds = [
    token !== undefined && 'token',
    (certData !== undefined || keyData !== undefined) && 'client certificate',
    (username !== undefined || password !== undefined) && 'username/password',
  ].filter((kind): kind is string => Boolean(kind));
  if (kinds.length !== 1) {
    const found = kinds.length === 0 ? 'none' : kinds.join(', ');
    throw new InputError(
      `kubeconfig ${path} must have exactly one credential: token, client-certificate-data with client-key-data, or username with password; found ${found}`,
    );
  }

  if (token !== undefined) {
    // The token ends up in an HTTP header, so only visible ASCII is acceptable.
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new InputError(
        `kubeconfig ${path}.token must be a non-empty string of printable characters`,
      );
    }
    return { kind: 'token', token };
  }

  if (certData !== undefined || keyData !== undefined) {
    if (certData === undefined) {
      throw new InputError(
        `kubeconfig ${path}.client-certificate-data is required with client-key-data`,
      );
    }
    if (keyData === undefined) {
      throw new InputError(
        `kubeconfig ${path}.client-key-data is required with client-certificate-data`,
      );
    }
    return {
      kind: 'clientCertificate',
      certData: decodePem(
        certData,
        `${path}.client-certificate-data`,
        /CERTIFICATE/,
      ),
      keyData: decodePem(keyData, `${path}.client-key-data`, /PRIVATE KEY/),
    };
  }

  // ':' would split the user name in the basic auth header.
  if (
    username === undefined ||
    !/^[\x20-\x7e]+$/.test(username) ||
    username.includes(':')
  ) {
    throw new InputError(
      `kubeconfig ${path}.username must be non-empty printable text without ':'`,
    );
  }
  if (password === undefined || password === '') {
    throw new InputError(
      `kubeconfig ${path}.password must be a non-empty string`,
    );
  }
  return { kind: 'basic', username, password };
}

/**
 * Decodes base64 strictly (Buffer.from alone skips junk) and checks that the
 * result looks like PEM with the expected label. Never echoes the value,
 * which may be a private key.
 */
function decodePem(encoded: string, path: string, label: RegExp): string {
  const compact = encoded.replace(/\s+/g, '');
  if (
    compact.length === 0 ||
    compact.length % 4 !== 0 ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)
  ) {
    throw new InputError(`kubeconfig ${path} is not valid base64`);
  }
  const text = Buffer.from(compact, 'base64').toString('utf8');
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (
    !/^[\t\n\r\x20-\x7e]*$/.test(text) ||
    !begin ||
    !label.test(begin[1]) ||
    !text.includes(`-----END ${begin[1]}-----`)
  ) {
    throw new InputError(
      `kubeconfig ${path} is not base64-encoded PEM of the expected kind`,
    );
  }
  return text;
}

function asMapping(value: unknown, path: string): YamlMapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`kubeconfig ${describe(path)} must be a mapping`);
  }
  return value as YamlMapping;
}

function optionalList(map: YamlMapping, key: string, path: string): unknown[] {
  const value = map[key];
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new InputError(`kubeconfig ${childPath(path, key)} must be a list`);
  }
  return value;
}

function optionalString(
  map: YamlMapping,
  key: string,
  path: string,
): string | undefined {
  const value = map[key];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new InputError(`kubeconfig ${childPath(path, key)} must be a string`);
  }
  return value;
}

function requireString(map: YamlMapping, key: string, path: string): string {
  const value = optionalString(map, key, path);
  if (!value) {
    throw new InputError(
      `kubeconfig ${childPath(
        path,
        key,
      )} is required and must be a non-empty string`,
    );
  }
  return value;
}

function optionalBoolean(
  map: YamlMapping,
  key: string,
  path: string,
): boolean | undefined {
  const value = map[key];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'boolean') {
    throw new InputError(
      `kubeconfig ${childPath(path, key)} must be true or false`,
    );
  }
  return value;
}

function countProblem(count: number, plural: string): string | undefined {
  if (count === 1) {
    return undefined;
  }
  return `${count} ${plural}`;
}

/**
 * 'users[0]' + 'user' → 'users[0].user'. Keys with unusual characters are not
 * echoed: a mistyped '{token:abc}' makes the secret itself a key.
 */
function childPath(path: string, key: string): string {
  const segment = /^[A-Za-z0-9_-]{1,64}$/.test(key) ? key : '<unusual key>';
  return path ? `${path}.${segment}` : segment;
}

function describe(path: string): string {
  return path || 'document';
}

function quote(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}
