import { InputError } from '@backstage/errors';

/** A parsed `oci://` chart reference. */
export interface ChartReference {
  /** host[:port], lower-cased */
  registry: string;
  /** path including the chart name, e.g. 'charts/hello' */
  repository: string;
  /** last path component of the repository */
  name: string;
  tag?: string;
  /** sha256:<64 hex> */
  digest?: string;
}

// Repository path component grammar from the OCI distribution spec.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
// Only sha256 is supported: it is what Helm and every registry we talk to use.
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;
const MAX_REPOSITORY_LENGTH = 255;

function parseRegistry(hostPort: string, ref: string): string {
  if (hostPort.includes('@')) {
    throw new InputError(
      // Not echoed: the reference carries a password here.
      'A chart reference must not contain credentials in the host; store them under /registries',
    );
  }
  let host = hostPort.toLowerCase();
  let port: string | undefined;
  const portMatch = /^(.*):([0-9]+)$/.exec(host);
  if (portMatch && !host.endsWith(']')) {
    host = portMatch[1];
    port = portMatch[2];
  }
  const validHost = IPV6.test(host)
    ? true
    : host.length > 0 &&
      host.length <= 253 &&
      host.split('.').every(label => HOST_LABEL.test(label));
  if (!validHost) {
    throw new InputError(
      `Chart reference "${ref}" has an invalid registry host "${hostPort}"`,
    );
  }
  if (port !== undefined) {
    const portNumber = Number(port);
    if (!(portNumber >= 1 && portNumber <= 65535) || port.startsWith('0')) {
      throw new InputError(
        `Chart reference "${ref}" has an invalid registry port "${port}"`,
      );
    }
    return `${host}:${port}`;
  }
  return host;
}

/** Maps a chart version to an OCI tag the way Helm does ('+' is not allowed in tags). */
function versionToTag(version: string): string {
  return version.replace(/\+/g, '_');
}

/**
 * Parses `oci://host[:port]/path/name[:tag|@sha256:…]`. A separate version
 * may supply the tag. Neither tag nor digest is allowed so tags can be listed;
 * callers that pull must check that one is present.
 */
export function parseChartReference(
  ref: string,
  options?: { version?: string },
): ChartReference {
  const prefix = 'oci://';
  if (ref.slice(0, prefix.length).toLowerCase() !== prefix) {
    throw new InputError(`Chart reference "${ref}" must start with oci://`);
  }
  const rest = ref.slice(prefix.length);
  if (/[?#\s]/.test(rest)) {
    throw new InputError(
      'A chart reference must not contain a query, fragment or whitespace',
    );
  }
  const slash = rest.indexOf('/');
  if (slash < 0) {
    throw new InputError(
      `Chart reference "${ref}" is missing the repository path after the host`,
    );
  }
  const registry = parseRegistry(rest.slice(0, slash), ref);
  let path = rest.slice(slash + 1);

  let digest: string | undefined;
  const at = path.indexOf('@');
  if (at >= 0) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!DIGEST.test(digest)) {
      throw new InputError(
        `Chart reference "${ref}" has an invalid digest "${digest}", expected sha256:<64 lower-case hex>`,
      );
    }
  }

  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) {
      throw new InputError(
        `Chart reference "${ref}" has an invalid tag "${tag}"`,
      );
    }
  }

  if (path.length === 0) {
    throw new InputError(
      `Chart reference "${ref}" is missing the repository path after the host`,
    );
  }
  if (path.length > MAX_REPOSITORY_LENGTH) {
    throw new InputError(
      `Chart reference "${ref}" has a repository path longer than ${MAX_REPOSITORY_LENGTH} characters`,
    );
  }
  const components = path.split('/');
  for (const component of components) {
    if (!PATH_COMPONENT.test(component)) {
      throw new InputError(
        `Chart reference "${ref}" has an invalid repository path component "${component}"`,
      );
    }
  }

  if (options?.version !== undefined) {
    const versionTag = versionToTag(options.version);
    if (!TAG.test(versionTag)) {
      throw new InputError(
        `Chart version "${options.version}" cannot be used as an OCI tag`,
      );
    }
    if (digest !== undefined) {
      throw new InputError(
        `Chart reference "${ref}" pins a digest; do not also give version "${options.version}"`,
      );
    }
    if (tag !== undefined && tag !== versionTag) {
      throw new InputError(
        `Chart reference "${ref}" has tag "${tag}" which conflicts with version "${options.version}"`,
      );
    }
    tag = versionTag;
  }

  if (tag !== undefined && digest !== undefined) {
    throw new InputError(
      `Chart reference "${ref}" has both a tag and a digest; give exactly one`,
    );
  }

  return {
    registry,
    repository: path,
    name: components[components.length - 1],
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}
