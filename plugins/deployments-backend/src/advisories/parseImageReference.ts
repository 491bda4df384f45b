import { ChartReference } from '../charts/oci/parseChartReference';

/** A container image as a pod spec names it, split the way registries address it. */
export interface ImageReference {
  /** What the pod spec says, unchanged. */
  raw: string;
  /** host[:port], lower-cased. */
  registry: string;
  /** The repository path inside the registry, e.g. 'team/app'. */
  repository: string;
  tag?: string;
  /** sha256:<64 hex>, when the image is pinned by digest. */
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[1-9]\d{0,4})?$/;

/**
 * Splits `[host[:port]/]path[:tag][@sha256:…]`. The first component is a
 * host when it has a '.' or ':' or is `localhost`, as container runtimes
 * decide; otherwise the image lives on `defaultRegistry` (with the `library/`
 * prefix for one-component names), and without one configured it cannot be
 * looked up. Returns a reason instead of a reference when it cannot be used.
 */
export function parseImageReference(
  raw: string,
  options: { defaultRegistry?: string },
): ImageReference | { problem: string } {
  let rest = raw.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      return { problem: `${raw} is pinned by a digest that is not sha256` };
    }
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let registry: string | undefined;
  let path = rest;
  if (
    slash >= 0 &&
    (first.includes('.') || first.includes(':') || first === 'localhost')
  ) {
    registry = first.toLowerCase();
    path = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) {
      return { problem: `${raw} has an invalid tag` };
    }
  }
  if (!path || !path.split('/').every(c => PATH_COMPONENT.test(c))) {
    return { problem: `${raw} is not an image reference` };
  }
  if (registry === undefined) {
    if (!options.defaultRegistry) {
      return {
        problem: `${raw} names no registry host; set deployments.advisories.defaultRegistry to look such images up`,
      };
    }
    registry = options.defaultRegistry.toLowerCase();
    if (!path.includes('/')) path = `library/${path}`;
  }
  if (!HOST.test(registry)) {
    return { problem: `${raw} has an invalid registry host` };
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  return {
    raw,
    registry,
    repository: path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** The reference the OCI client takes: the same repository, one tag. */
export function registryReference(
  image: ImageReference,
  tag?: string,
): ChartReference {
  const components = image.repository.split('/');
  return {
    registry: image.registry,
    repository: image.repository,
    name: components[components.length - 1],
    ...(tag !== undefined ? { tag } : {}),
  };
}

/** `host/path` without tag or digest: the image's name in messages and commands. */
export function imageName(image: ImageReference): string {
  return `${image.registry}/${image.repository}`;
}
