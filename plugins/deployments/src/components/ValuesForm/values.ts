import { parse, stringify } from 'yaml';

/** Chart values: a YAML map. */
export type Values = Record<string, unknown>;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function isMap(value: unknown): value is Values {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `/a/b~1c` → `['a', 'b/c']`; undefined when it is not a usable pointer. */
export function parsePointer(pointer: string): string[] | undefined {
  if (!pointer.startsWith('/') || pointer.length < 2) return undefined;
  const keys = pointer
    .slice(1)
    .split('/')
    .map(token => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (keys.some(key => key === '' || FORBIDDEN_KEYS.has(key))) {
    return undefined;
  }
  return keys;
}

export function formatPointer(keys: string[]): string {
  return `/${keys
    .map(key => key.replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('/')}`;
}

export function getAtPointer(values: Values, pointer: string): unknown {
  let node: unknown = values;
  for (const key of parsePointer(pointer) ?? []) {
    if (!isMap(node) || !Object.prototype.hasOwnProperty.call(node, key)) {
      return undefined;
    }
    node = node[key];
  }
  return node;
}

/** A copy of `values` with `value` at `pointer`, creating maps on the way. */
export function setAtPointer(
  values: Values,
  pointer: string,
  value: unknown,
): Values {
  const keys = parsePointer(pointer);
  if (!keys) return values;
  const copy = structuredClone(values);
  let node: Values = copy;
  for (const key of keys.slice(0, -1)) {
    if (!isMap(node[key])) node[key] = {};
    node = node[key] as Values;
  }
  node[keys[keys.length - 1]] = value;
  return copy;
}

/** A copy of `values` without `pointer`, dropping maps its removal empties. */
export function removeAtPointer(values: Values, pointer: string): Values {
  const keys = parsePointer(pointer);
  if (!keys) return values;
  const copy = structuredClone(values);
  const parents: Values[] = [];
  let node: unknown = copy;
  for (const key of keys.slice(0, -1)) {
    if (!isMap(node)) return copy;
    parents.push(node);
    node = node[key];
  }
  if (!isMap(node)) return copy;
  delete node[keys[keys.length - 1]];
  for (let i = parents.length - 1; i >= 0; i--) {
    const child = parents[i][keys[i]];
    if (isMap(child) && Object.keys(child).length === 0) {
      delete parents[i][keys[i]];
    } else {
      break;
    }
  }
  return copy;
}

/**
 * Paths a chart's schema marks secret (`writeOnly: true` or
 * `format: password`), the same rule the backend applies.
 */
export function secretPathsFromSchema(schema: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown, keys: string[], depth: number) => {
    if (!isMap(node) || depth > 32) return;
    if (
      keys.length > 0 &&
      (node.writeOnly === true || node.format === 'password')
    ) {
      found.push(formatPointer(keys));
      return;
    }
    if (isMap(node.properties)) {
      for (const [key, child] of Object.entries(node.properties)) {
        if (!FORBIDDEN_KEYS.has(key)) walk(child, [...keys, key], depth + 1);
      }
    }
  };
  walk(schema, [], 0);
  return found;
}

/** Helm's merge: maps merge deeply, anything else replaces the default. */
export function mergeValues(defaults: Values, overrides: Values): Values {
  const result: Values = structuredClone(defaults);
  for (const [key, value] of Object.entries(overrides)) {
    const base = result[key];
    if (value === null) {
      delete result[key];
    } else if (isMap(value) && isMap(base)) {
      result[key] = mergeValues(base, value);
    } else {
      result[key] = structuredClone(value);
    }
  }
  return result;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every(key => deepEqual(a[key], b[key]))
    );
  }
  return false;
}

/**
 * What `values` changes over `defaults`: the smallest overrides that give
 * the same merged values (a profile stores only these). A default the user
 * removed becomes `null`, which is how Helm removes a key.
 */
export function overridesOf(values: Values, defaults: Values): Values {
  const result: Values = {};
  for (const [key, value] of Object.entries(values)) {
    const base = defaults[key];
    if (isMap(value) && isMap(base)) {
      const nested = overridesOf(value, base);
      if (Object.keys(nested).length > 0) result[key] = nested;
    } else if (!deepEqual(value, base)) {
      result[key] = value;
    }
  }
  for (const key of Object.keys(defaults)) {
    if (!(key in values)) result[key] = null;
  }
  return result;
}

/** Parses a values document; an empty one is `{}`. */
export function parseValuesYaml(
  text: string,
): { values: Values } | { error: string } {
  try {
    const parsed: unknown = parse(text, { maxAliasCount: 100 });
    if (parsed === null || parsed === undefined) return { values: {} };
    if (!isMap(parsed)) {
      return { error: 'The values must be a YAML map (key: value lines)' };
    }
    return { values: parsed };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Values as YAML; `{}` as an empty document. */
export function valuesToYaml(values: Values): string {
  if (Object.keys(values).length === 0) return '';
  return stringify(values, { lineWidth: 0 });
}

/** The schema a form can use: `$schema`/`$id` removed (ajv need not know the draft's URL). */
export function formSchema(schema: Values | undefined): Values {
  if (!schema) return { type: 'object' };
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** rjsf's uiSchema that masks the secret paths (nested properties only). */
export function uiSchemaFor(
  secretPaths: string[],
  setSecrets: Set<string>,
): Values {
  let ui: Values = {};
  for (const path of secretPaths) {
    if (!parsePointer(path)) continue;
    ui = setAtPointer(ui, path, {
      'ui:widget': 'password',
      'ui:placeholder': setSecrets.has(path)
        ? 'set — leave empty to keep the stored value'
        : 'not set',
      ...(setSecrets.has(path)
        ? {
            'ui:help':
              'A value is stored (encrypted). Type a new one to replace it.',
          }
        : {}),
    });
  }
  return ui;
}

/** `/image/tag` → `.image.tag`, the property path rjsf reports errors at. */
export function pointerToProperty(pointer: string): string {
  return (parsePointer(pointer) ?? []).map(key => `.${key}`).join('');
}
