import { InputError } from '@backstage/errors';
import { Values } from './parseValuesYaml';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_POINTER_LENGTH = 512;

/**
 * Splits a JSON pointer (RFC 6901) that names a key inside values, e.g.
 * `/database/password`. Array indexes are not supported: secrets are keys.
 */
export function parsePointer(pointer: string): string[] {
  if (
    typeof pointer !== 'string' ||
    !pointer.startsWith('/') ||
    pointer.length < 2 ||
    pointer.length > MAX_POINTER_LENGTH
  ) {
    throw new InputError(
      `Invalid secret path ${JSON.stringify(
        String(pointer).slice(0, 64),
      )}: use a JSON pointer such as /database/password`,
    );
  }
  const keys = pointer
    .slice(1)
    .split('/')
    .map(token => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const key of keys) {
    if (key === '' || FORBIDDEN_KEYS.has(key)) {
      throw new InputError(
        `Invalid secret path ${JSON.stringify(pointer)}: empty or reserved key`,
      );
    }
  }
  return keys;
}

/** `['a', 'b/c']` → `/a/b~1c`. */
export function formatPointer(keys: string[]): string {
  return `/${keys
    .map(key => key.replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('/')}`;
}

function isMap(value: unknown): value is Values {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function getAtPointer(values: Values, pointer: string): unknown {
  let node: unknown = values;
  for (const key of parsePointer(pointer)) {
    if (!isMap(node) || !Object.prototype.hasOwnProperty.call(node, key)) {
      return undefined;
    }
    node = node[key];
  }
  return node;
}

/** Sets a value, creating intermediate maps; refuses to replace a non-map on the way. */
export function setAtPointer(values: Values, pointer: string, value: unknown) {
  const keys = parsePointer(pointer);
  let node: Values = values;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) {
      node[key] = {};
    } else if (!isMap(next)) {
      throw new InputError(
        `Secret path ${pointer} goes through ${formatPointer(
          keys.slice(0, keys.indexOf(key) + 1),
        )}, which is not a map`,
      );
    }
    node = node[key] as Values;
  }
  node[keys[keys.length - 1]] = value;
}

/** Removes a key and any maps left empty by its removal. */
export function removeAtPointer(values: Values, pointer: string) {
  const keys = parsePointer(pointer);
  const parents: Values[] = [];
  let node: unknown = values;
  for (const key of keys.slice(0, -1)) {
    if (!isMap(node)) return;
    parents.push(node);
    node = node[key];
  }
  if (!isMap(node)) return;
  delete node[keys[keys.length - 1]];
  for (let i = parents.length - 1; i >= 0; i--) {
    const child = parents[i][keys[i]];
    if (isMap(child) && Object.keys(child).length === 0) {
      delete parents[i][keys[i]];
    } else {
      break;
    }
  }
}

/**
 * Paths a chart's schema marks as secret: `writeOnly: true` or
 * `format: password` on a property, found through nested `properties`.
 */
export function secretPathsFromSchema(
  schema: Record<string, unknown> | undefined,
): string[] {
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
    const properties = node.properties;
    if (isMap(properties)) {
      for (const [key, child] of Object.entries(properties)) {
        if (!FORBIDDEN_KEYS.has(key)) walk(child, [...keys, key], depth + 1);
      }
    }
  };
  walk(schema, [], 0);
  return found;
}
