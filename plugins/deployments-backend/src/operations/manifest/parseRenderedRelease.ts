import { InputError } from '@backstage/errors';
import { checkManifestSize, parseManifestYaml } from './parseManifestYaml';

/** A hook as helm reports it in a release (`helm ... -o json`). */
export interface RenderedHook {
  name: string;
  kind: string;
  /** Template path, e.g. 'hello/templates/tests/test.yaml'. */
  path: string;
  manifest: string;
  /** e.g. ['pre-install', 'pre-upgrade']. */
  events: string[];
}

/** What helm rendered for a release: the manifest and its hooks. */
export interface RenderedRelease {
  manifest: string;
  hooks: RenderedHook[];
}

/** One object of a rendered release. */
export interface RenderedObject {
  /** Template path, from helm's '# Source:' comment or the hook's path. */
  source: string;
  /** Hook events, when the object is a hook. */
  hook?: string[];
  object: Record<string, unknown>;
}

/**
 * Turns helm's rendered release into objects, manifest first, then hooks.
 *
 * @throws InputError when the release is too large, has too many objects, or is not valid YAML
 */
export function parseRenderedRelease(
  release: RenderedRelease,
): RenderedObject[] {
  if (typeof release?.manifest !== 'string' || !Array.isArray(release.hooks)) {
    throw new InputError('a rendered release needs a manifest and hooks');
  }
  let bytes = Buffer.byteLength(release.manifest, 'utf8');
  for (const hook of release.hooks) {
    if (typeof hook?.manifest !== 'string') {
      throw new InputError(`hook ${String(hook?.name)} has no manifest`);
    }
    bytes += Buffer.byteLength(hook.manifest, 'utf8');
  }
  checkManifestSize(bytes);

  const counter = { objects: 0, documents: 0 };
  const objects: RenderedObject[] = parseManifestYaml(release.manifest, {
    source: 'manifest',
    counter,
  });
  for (const hook of release.hooks) {
    const events = Array.isArray(hook.events)
      ? hook.events.filter(
          (event): event is string => typeof event === 'string',
        )
      : [];
    const source =
      typeof hook.path === 'string' && hook.path
        ? hook.path
        : `hook ${hook.name}`;
    for (const { object } of parseManifestYaml(hook.manifest, {
      source,
      counter,
    })) {
      // Helm's hook path is authoritative; a '# Source:' inside a hook says the same or lies.
      objects.push({ source, hook: events, object });
    }
  }
  return objects;
}
