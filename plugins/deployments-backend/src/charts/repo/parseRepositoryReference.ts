import { InputError } from '@backstage/errors';

/** A chart in a classic HTTP Helm repository. */
export interface RepositoryReference {
  /** The repository's URL without a trailing slash; `index.yaml` sits below it. */
  url: string;
  /** The chart's name as the index lists it. */
  chart: string;
  /** What the catalog records: the repository URL, '/', the chart name. */
  reference: string;
}

// Chart names as Helm accepts them; no '/', so a name never adds a path.
const CHART_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,249}$/;
// The catalog's reference column.
const MAX_REFERENCE_LENGTH = 1024;

/**
 * Parses an http(s) repository URL and the chart in it. Without `chart` the
 * URL's last path segment names the chart, so the reference a registered
 * chart shows (`https://host/path/hello`) can be given back as it is.
 * Credentials and query strings are refused: they would be recorded in the
 * catalog in plain text; stored registry credentials serve repositories too.
 */
export function parseRepositoryReference(
  input: string,
  chart?: string,
): RepositoryReference {
  if (/[\s?#]/.test(input)) {
    throw new InputError(
      'A repository URL must not contain a query, fragment or whitespace',
    );
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new InputError(
      `Repository URL "${redactReference(input)}" is not a valid URL`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(
      `Repository URL "${redactReference(
        input,
      )}" must start with https:// or http://`,
    );
  }
  if (url.username || url.password) {
    throw new InputError(
      'A repository URL must not contain credentials; store them for the host under /registries',
    );
  }
  let path = url.pathname.replace(/\/+$/, '');
  let name = chart;
  if (name === undefined) {
    const slash = path.lastIndexOf('/');
    name = path.slice(slash + 1);
    path = path.slice(0, Math.max(slash, 0));
    if (!name) {
      throw new InputError(
        `Repository URL "${input}" does not name a chart: give "chart", or end the URL with the chart's name`,
      );
    }
  }
  if (!CHART_NAME.test(name)) {
    throw new InputError(`"${name}" is not a valid chart name`);
  }
  const base = `${url.origin}${path}`;
  const reference = `${base}/${name}`;
  if (reference.length > MAX_REFERENCE_LENGTH) {
    throw new InputError(
      `Repository URL and chart name are longer than ${MAX_REFERENCE_LENGTH} characters`,
    );
  }
  return { url: base, chart: name, reference };
}

/**
 * A chart reference as it may be logged and audited: without user info,
 * query or fragment, which may carry credentials.
 */
export function redactReference(input: string): string {
  return input
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1')
    .replace(/[?#].*$/s, '')
    .slice(0, 1024);
}
