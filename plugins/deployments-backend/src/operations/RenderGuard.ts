import { ConflictError } from '@backstage/errors';
import {
  RenderedObjectRecord,
  RenderedObjects,
} from '@kubedeploy/plugin-deployments-common';
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
  writeCanonicalManifest,
} from './manifest/canonicalManifest';
import { RenderedRelease } from './manifest/parseRenderedRelease';

/**
 * The check helm's post-render guard calls (see helm/PostRenderGuard) on
 * every run that renders a release: it reads the rendered documents
 * strictly, re-emits them as canonical JSON (so helm sends exactly what was
 * read here), checks them against the target's boundary and, at apply,
 * against what the dry-run checked. One instance per helm run.
 */
export class RenderGuard {
  #objects: CanonicalObject[] = [];
  #changed: string[] = [];

  constructor(
    private readonly options: {
      boundary: NamespaceBoundary;
      releaseNamespace: string;
      scopeOf: ScopeLookup;
      /**
       * What the dry-run checked; when given (at apply), helm may send only
       * objects the dry-run checked, all of them, and none outside the
       * boundary. Without it (at the dry-run) objects are read and recorded.
       */
      expected?: { objects: RenderedObjectRecord[]; includesHooks: boolean };
    },
  ) {}

  /** The objects of the last check that passed. */
  get objects(): CanonicalObject[] {
    return this.#objects;
  }

  /** Objects whose content differs from the dry-run's (same identity): templates that read the cluster, the time or randomness. */
  get changed(): string[] {
    return this.#changed;
  }

  readonly check = async (rendered: string): Promise<string> => {
    const objects = readCanonicalObjects(rendered, {
      source: 'the rendered chart',
    });
    const violations = checkManifestBoundary({
      boundary: this.options.boundary,
      releaseNamespace: this.options.releaseNamespace,
      objects: objects.map(({ object }) => object as ManifestObject),
      scopeOf: this.options.scopeOf,
    });
    // A dry-run sends nothing: it reports violations in its result (analyzeRelease) instead of stopping.
    if (violations.length > 0 && this.options.expected) {
      throw new ConflictError(
        `refused before anything was sent to the cluster: ${violations
          .map(v => `${v.object}: ${v.reason}`)
          .join('; ')}`,
      );
    }
    if (this.options.expected) {
      this.#changed = compareWithDryRun(objects, this.options.expected);
    }
    this.#objects = objects;
    return writeCanonicalManifest(objects);
  };
}

/** Records what was checked, for the operation's result. */
export function recordsOf(objects: CanonicalObject[]): RenderedObjectRecord[] {
  return objects.map(({ identity, digest, hook }) => ({
    identity,
    digest,
    hook,
  }));
}

/**
 * Refuses objects the dry-run did not check and objects it checked that are
 * now missing; returns the identities whose content changed.
 */
function compareWithDryRun(
  objects: CanonicalObject[],
  expected: { objects: RenderedObjectRecord[]; includesHooks: boolean },
): string[] {
  // Helm 3 hands the post-renderer the manifest only: compare like with like.
  const comparable = expected.includesHooks
    ? expected.objects
    : expected.objects.filter(o => !o.hook);
  const remaining = new Map<string, string[]>();
  for (const { identity, digest } of comparable) {
    // A record without a digest matches no content: the object counts as changed.
    remaining.set(identity, [...(remaining.get(identity) ?? []), digest ?? '']);
  }
  const unexpected: string[] = [];
  const changed: string[] = [];
  for (const { identity, digest } of objects) {
    const digests = remaining.get(identity);
    if (!digests || digests.length === 0) {
      unexpected.push(identity);
      continue;
    }
    const same = digests.indexOf(digest);
    if (same >= 0) {
      digests.splice(same, 1);
    } else {
      digests.shift();
      changed.push(identity);
    }
  }
  const missing = [...remaining.entries()].flatMap(([identity, digests]) =>
    digests.map(() => identity),
  );
  if (unexpected.length > 0 || missing.length > 0) {
    throw new ConflictError(
      `the chart rendered different objects at apply than at the dry-run, so nothing was sent: ${[
        ...unexpected.map(i => `${i} was not in the dry-run`),
        ...missing.map(i => `${i} is no longer rendered`),
      ].join(
        '; ',
      )}. Its templates depend on something that changed (the cluster, the time, randomness or the release revision); run the dry-run again`,
    );
  }
  return changed;
}

/** What one run checked, as stored (the digests are left out of API responses). */
export interface CheckedObjects extends RenderedObjects {
  digest: string;
}

/** The record of what one run checked. */
export function renderedRecord(
  objects: CanonicalObject[],
  includesHooks: boolean,
): CheckedObjects {
  return {
    digest: objectSetDigest(objects),
    includesHooks,
    objects: recordsOf(objects),
  };
}

/**
 * Compares what the guard checked with what helm itself reports it
 * rendered (re-read strictly), and records the whole set. They must be the
 * same objects with the same content: a difference would mean helm reads
 * the documents differently than the guard did, and the dry-run fails. On
 * helm 3 the guard saw the manifest only; hooks come from helm's output.
 */
export function checkedRender(
  guard: RenderGuard,
  rendered: RenderedRelease,
  guardSawHooks: boolean,
): CheckedObjects {
  const manifest = readCanonicalObjects(rendered.manifest, {
    source: 'manifest',
  });
  const hooks = rendered.hooks.flatMap(hook =>
    readCanonicalObjects(hook.manifest, { source: hook.path || hook.name }).map(
      object => ({ ...object, hook: true }),
    ),
  );
  const compared = guardSawHooks ? [...manifest, ...hooks] : manifest;
  const key = (o: CanonicalObject) => `${o.identity} ${o.digest}`;
  const helmSays = compared.map(key).sort();
  const guardSays = guard.objects.map(key).sort();
  if (
    helmSays.length !== guardSays.length ||
    helmSays.some((entry, index) => entry !== guardSays[index])
  ) {
    const only = (a: string[], b: string[]) =>
      a
        .filter(entry => !b.includes(entry))
        .map(entry => entry.split(' sha256:')[0]);
    throw new ConflictError(
      `helm's rendered release differs from what the render guard checked (${[
        ...only(helmSays, guardSays).map(i => `helm: ${i}`),
        ...only(guardSays, helmSays).map(i => `guard: ${i}`),
      ].join('; ')}); refused`,
    );
  }
  return renderedRecord(
    guardSawHooks ? guard.objects : [...guard.objects, ...hooks],
    guardSawHooks,
  );
}
