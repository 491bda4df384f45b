import { DryRunObject } from '@kubedeploy/plugin-deployments-common';
import { stringify as stringifyYaml } from 'yaml';
import { ClusterDiscovery } from '../cluster/ClusterDiscovery';
import { ServerDryRunOutcome } from '../cluster/serverDryRun';
import { ManifestChange, redactSecretObject, ReleaseWarning } from './manifest';

/*
 * How a dry-run's findings become its result: each rendered object with its
 * changes (against the deployed manifest and against the live object), and
 * the API server's refusals and warnings.
 */

/** The key diffManifests gives an object: apiVersion/kind/[namespace/]name as declared. */
export function diffKeyOf(object: Record<string, unknown>): string {
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  return [object.apiVersion, object.kind, metadata.namespace, metadata.name]
    .filter(part => typeof part === 'string' && part)
    .join('/');
}

export function toDryRunObject(
  rendered: {
    source: string;
    hook?: string[];
    object: Record<string, unknown>;
  },
  namespace: string,
  changes: Map<
    string,
    { key: string; change: DryRunObject['change']; diff?: string }
  >,
  liveChanges: Map<string, ManifestChange>,
): DryRunObject {
  const { object } = rendered;
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  const key = diffKeyOf(object);
  const change = rendered.hook ? undefined : changes.get(key);
  const live = rendered.hook ? undefined : liveChanges.get(key);
  return {
    key,
    apiVersion: String(object.apiVersion ?? ''),
    kind: String(object.kind ?? ''),
    name: String(metadata.name ?? ''),
    namespace:
      typeof metadata.namespace === 'string' ? metadata.namespace : namespace,
    source: rendered.source,
    hook: rendered.hook,
    change: change?.change ?? 'added',
    diff: change?.diff,
    ...(live && {
      liveChange: live.change,
      ...(live.diff !== undefined && { liveDiff: live.diff }),
    }),
    manifest: stringifyYaml(redactSecretObject(object)),
  };
}

export function removedObject(key: string, diff?: string): DryRunObject {
  // apiVersion may hold a '/', so only the kind and name are read back from the key.
  const parts = key.split('/');
  const kindIndex = parts.findIndex(p => /^[A-Z]/.test(p));
  return {
    key,
    apiVersion: parts.slice(0, Math.max(kindIndex, 0)).join('/'),
    kind: parts[kindIndex] ?? '',
    name: parts[parts.length - 1] ?? '',
    source: '',
    change: 'removed',
    diff,
  };
}

export function isNamespaced(
  discovery: ClusterDiscovery,
  object: Record<string, unknown>,
): boolean {
  const apiVersion =
    typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const [group, version] = apiVersion.includes('/')
    ? apiVersion.split('/', 2)
    : ['', apiVersion];
  // Unknown kinds keep the namespace in their name: the server refuses them anyway.
  return (
    discovery.scopeOf(group, version, String(object.kind ?? '')) !== 'Cluster'
  );
}

/**
 * What the API server said about a release: refusals are violations, its
 * warnings are warnings. A release namespace that does not exist yet is not
 * a refusal when the apply creates it.
 */
export function serverFindings(
  outcomes: ServerDryRunOutcome[],
  namespace: string,
  createNamespace: boolean,
): {
  violations: Array<{ object: string; reason: string }>;
  warnings: ReleaseWarning[];
} {
  const violations: Array<{ object: string; reason: string }> = [];
  const warnings: ReleaseWarning[] = [];
  const missingNamespace = `namespaces "${namespace}" not found`;
  for (const outcome of outcomes) {
    for (const message of outcome.warnings) {
      warnings.push({ object: outcome.key, code: 'server-warning', message });
    }
    if (outcome.ok) {
      continue;
    }
    const error = outcome.error ?? 'no reason given';
    if (
      createNamespace &&
      outcome.reason === 'NotFound' &&
      error.includes(missingNamespace)
    ) {
      warnings.push({
        object: outcome.key,
        code: 'namespace-created-at-apply',
        message: `not validated on the API server: namespace ${JSON.stringify(
          namespace,
        )} does not exist yet; the apply creates it`,
      });
      continue;
    }
    violations.push({
      object: outcome.key,
      reason: `the API server refuses it: ${error}`,
    });
  }
  return { violations, warnings };
}
