import { ConflictError } from '@backstage/errors';
import { HelmRunner, HelmTarget } from '../helm';
import {
  checkManifestBoundary,
  ManifestObject,
  NamespaceBoundary,
  ScopeLookup,
} from '../targets/namespaceBoundary';
import {
  CanonicalObject,
  objectSetDigest,
  readCanonicalObjects,
} from './manifest/canonicalManifest';

/**
 * Helm keeps a release's revisions as Secrets in the release namespace, so
 * anyone who may write Secrets there can forge one. Before helm acts on a
 * stored revision (rolls back to it, or deletes what it lists on upgrade and
 * uninstall), its objects, hooks included, are read as strictly as rendered
 * ones and checked against the boundary; a rollback target must also be a
 * revision the portal itself applied.
 */
export async function checkStoredRevision(options: {
  helm: HelmRunner;
  target: HelmTarget;
  /** undefined: the current revision. */
  revision?: number;
  boundary: NamespaceBoundary;
  scopeOf: ScopeLookup;
  /** What is about to happen, for messages: 'rollback to', 'upgrade of', 'uninstall of'. */
  action: string;
  /** When given, the revision's objects must be exactly what one of these applies sent. */
  appliedDigests?: Set<string>;
  signal?: AbortSignal;
}): Promise<void> {
  const { helm, target, revision, action } = options;
  const stored = await helm.getStoredObjects(target, revision, {
    signal: options.signal,
  });
  if (stored === undefined) {
    // No such release or revision: helm has nothing stored to act on.
    return;
  }
  const name = `revision ${revision ?? '(current)'} of release ${
    target.releaseName
  }`;
  let objects: CanonicalObject[];
  try {
    objects = readCanonicalObjects(stored, { source: name });
  } catch (error) {
    throw new ConflictError(
      `The ${action} ${name} is refused: ${(error as Error).message}`,
    );
  }
  const violations = checkManifestBoundary({
    boundary: options.boundary,
    releaseNamespace: target.namespace,
    objects: objects.map(({ object }) => object as ManifestObject),
    scopeOf: options.scopeOf,
  });
  if (violations.length > 0) {
    throw new ConflictError(
      `The ${action} ${name} is refused: helm's stored record lists objects outside the target's boundary (${violations
        .map(v => `${v.object}: ${v.reason}`)
        .join(
          '; ',
        )}); the record in the release namespace may have been altered`,
    );
  }
  if (
    options.appliedDigests &&
    !options.appliedDigests.has(objectSetDigest(objects))
  ) {
    throw new ConflictError(
      `The ${action} ${name} is refused: its objects are not what any apply of this plan sent, so it was made outside the portal or altered since`,
    );
  }
}
