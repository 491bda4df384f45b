import { formatPointer } from './jsonPointer';
import { Values } from './parseValuesYaml';

/**
 * The keys a chart knows, as JSON pointers at every depth: those of its
 * default values (values.yaml) and those its values.schema.json declares
 * under `properties`. Arrays are leaves: their items are not keys.
 */
export function chartKeys(
  defaults: Values,
  schema: Record<string, unknown> | undefined,
): Set<string> {
  const keys = new Set<string>();
  collectValueKeys(defaults, [], keys);
  if (schema) collectSchemaKeys(schema, [], keys, 0);
  return keys;
}

/** The keys a set of values sets, at every depth, plus the given pointers (secrets kept apart). */
export function valueKeys(values: Values, extra: string[] = []): Set<string> {
  const keys = new Set<string>();
  collectValueKeys(values, [], keys);
  for (const pointer of extra) {
    for (const prefix of prefixesOf(pointer)) keys.add(prefix);
    keys.add(pointer);
  }
  return keys;
}

/**
 * Keys of `from` missing in `to`, each reported once at its top: when
 * `/legacy` went, `/legacy/mode` is not listed again.
 */
export function missingKeys(from: Set<string>, to: Set<string>): string[] {
  const missing = [...from].filter(key => !to.has(key));
  const set = new Set(missing);
  return missing
    .filter(key => !prefixesOf(key).some(prefix => set.has(prefix)))
    .sort();
}

/** `/a/b/c` → `/a`, `/a/b` (a `/` inside a key is escaped as `~1`, so splitting is safe). */
function prefixesOf(pointer: string): string[] {
  const tokens = pointer.split('/').slice(1);
  return tokens
    .slice(0, -1)
    .map((_, i) => `/${tokens.slice(0, i + 1).join('/')}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function collectValueKeys(value: unknown, path: string[], into: Set<string>) {
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = [...path, key];
    into.add(formatPointer(childPath));
    collectValueKeys(child, childPath, into);
  }
}

/** Schemas nest at most 128 levels (checked at registration); this stops there too. */
function collectSchemaKeys(
  schema: Record<string, unknown>,
  path: string[],
  into: Set<string>,
  depth: number,
) {
  if (depth > 128) return;
  const properties = schema.properties;
  if (!isObject(properties)) return;
  for (const [key, child] of Object.entries(properties)) {
    const childPath = [...path, key];
    into.add(formatPointer(childPath));
    if (isObject(child)) collectSchemaKeys(child, childPath, into, depth + 1);
  }
}
