import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { canonicalJson } from './inputsHash';
import { checkManifestSize, parseManifestYaml } from './parseManifestYaml';
import { RedactionOptions, redactSecretObject } from './redactSecretObject';

export type ManifestChangeKind = 'added' | 'changed' | 'removed' | 'unchanged';

export interface ManifestChange {
  /** apiVersion/kind/namespace/name; the namespace part is left out when the object declares none. */
  key: string;
  change: ManifestChangeKind;
  /** Unified diff of the object's YAML, Secrets redacted; absent when unchanged. */
  diff?: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

function objectKey(object: Record<string, unknown>): string {
  const metadata =
    typeof object.metadata === 'object' && object.metadata !== null
      ? (object.metadata as Record<string, unknown>)
      : {};
  return [
    text(object.apiVersion) ?? '<no apiVersion>',
    text(object.kind) ?? '<no kind>',
    text(metadata.namespace),
    text(metadata.name) ?? '<unnamed>',
  ]
    .filter(part => part !== undefined)
    .join('/');
}

function byKey(
  manifest: string | undefined,
  source: string,
): Map<string, Record<string, unknown>> {
  const objects = new Map<string, Record<string, unknown>>();
  if (manifest === undefined) {
    return objects;
  }
  checkManifestSize(Buffer.byteLength(manifest, 'utf8'));
  for (const { object } of parseManifestYaml(manifest, { source })) {
    const key = objectKey(object);
    // Helm would refuse a duplicate; keep both so that the diff shows it.
    let unique = key;
    for (let n = 2; objects.has(unique); n++) {
      unique = `${key} (${n})`;
    }
    objects.set(unique, object);
  }
  return objects;
}

function toYaml(
  object: Record<string, unknown> | undefined,
  options: RedactionOptions,
): string {
  return object === undefined
    ? ''
    : stringify(redactSecretObject(object, options), { lineWidth: 0 });
}

/**
 * Compares what is deployed (helm's stored manifest; undefined for a first
 * install) with what would be, object by object. Objects come in the order
 * of the next manifest, removed ones last. Secret values never appear, only
 * markers that change when the value does.
 *
 * @throws InputError when either manifest is not valid YAML or exceeds the caps
 */
export function diffManifests(
  current: string | undefined,
  next: string,
  options: RedactionOptions = {},
): ManifestChange[] {
  const before = byKey(current, 'the current manifest');
  const after = byKey(next, 'the next manifest');
  const changes: ManifestChange[] = [];
  const patch = (
    key: string,
    from: Record<string, unknown> | undefined,
    to: Record<string, unknown> | undefined,
  ) =>
    createTwoFilesPatch(
      key,
      key,
      toYaml(from, options),
      toYaml(to, options),
      'current',
      'next',
      { context: 3 },
    ).replace(/^={10,}\n/m, '');

  for (const [key, object] of after) {
    const previous = before.get(key);
    if (previous === undefined) {
      changes.push({
        key,
        change: 'added',
        diff: patch(key, undefined, object),
      });
    } else if (canonicalJson(previous) === canonicalJson(object)) {
      // Key order alone is not a change.
      changes.push({ key, change: 'unchanged' });
    } else {
      changes.push({
        key,
        change: 'changed',
        diff: patch(key, previous, object),
      });
    }
  }
  for (const [key, object] of before) {
    if (!after.has(key)) {
      changes.push({
        key,
        change: 'removed',
        diff: patch(key, object, undefined),
      });
    }
  }
  return changes;
}
