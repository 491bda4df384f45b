import { createTwoFilesPatch } from 'diff';
import { stringify as stringifyYaml } from 'yaml';
import { secretMarker } from '../operations/manifest';
import { getAtPointer, setAtPointer } from '../profiles/values/jsonPointer';
import { Values } from '../profiles/values/parseValuesYaml';

/** A revision's values with their secrets, as decrypted for one comparison. */
export interface ValuesWithSecrets {
  values: Values;
  secretPaths: string[];
}

/**
 * Both sides with every secret (of either side's secret paths) replaced by
 * a keyed marker of its value: a changed secret shows as a changed marker,
 * the value itself never appears.
 */
export function maskSecrets(
  before: ValuesWithSecrets | undefined,
  after: ValuesWithSecrets | undefined,
): { before: Values; after: Values } {
  const paths = new Set([
    ...(before?.secretPaths ?? []),
    ...(after?.secretPaths ?? []),
  ]);
  const mask = (side: ValuesWithSecrets | undefined): Values => {
    const copy = structuredClone(side?.values ?? {});
    for (const path of paths) {
      const value = getAtPointer(copy, path);
      if (value !== undefined) {
        setAtPointer(
          copy,
          path,
          `(secret) ${secretMarker(Buffer.from(JSON.stringify(value)))}`,
        );
      }
    }
    return copy;
  };
  return { before: mask(before), after: mask(after) };
}

/** A unified diff of two texts, or undefined when they are equal. */
export function unifiedDiff(
  name: string,
  before: string,
  after: string,
  labels: [string, string],
): string | undefined {
  if (before === after) return undefined;
  return createTwoFilesPatch(name, name, before, after, labels[0], labels[1], {
    context: 3,
  }).replace(/^={10,}\n/m, '');
}

/** YAML with keys sorted at every level, so that key order is not a change. */
export function sortedYaml(values: Values): string {
  return Object.keys(values).length === 0
    ? ''
    : stringifyYaml(values, { sortMapEntries: true, lineWidth: 0 });
}

/** The values diff of two revisions, secrets masked; undefined when equal. */
export function valuesDiff(
  before: ValuesWithSecrets | undefined,
  after: ValuesWithSecrets | undefined,
  labels: [string, string],
): string | undefined {
  const masked = maskSecrets(before, after);
  return unifiedDiff(
    'values',
    sortedYaml(masked.before),
    sortedYaml(masked.after),
    labels,
  );
}
