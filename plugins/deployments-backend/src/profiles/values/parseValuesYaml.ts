import { InputError } from '@backstage/errors';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';

/** Values are data: plain maps, lists and scalars, within these bounds. */
export const VALUES_LIMITS = {
  maxBytes: 256 * 1024,
  maxDepth: 32,
  maxAliases: 20,
  maxNodes: 20_000,
};

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map(
    t => `tag:yaml.org,2002:${t}`,
  ),
);

export type Values = { [key: string]: unknown };

/**
 * Parses values typed as YAML (the raw escape hatch) safely: no custom tags,
 * few aliases, bounded depth and size, no duplicate keys and no keys that
 * could pollute prototypes. The root must be a map.
 */
export function parseValuesYaml(text: string): Values {
  if (Buffer.byteLength(text, 'utf8') > VALUES_LIMITS.maxBytes) {
    throw new InputError(
      `values are larger than ${VALUES_LIMITS.maxBytes} bytes`,
    );
  }
  const doc = parseDocument(text, {
    uniqueKeys: true,
    schema: 'core',
    customTags: [],
    prettyErrors: false,
    strict: true,
  });
  // Warnings include unresolved tags such as !!js/function: refuse them too.
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const first = problems[0];
    // The parser's own message may quote the input; report code and position.
    const where = first.linePos?.[0];
    throw new InputError(
      `values are not valid YAML: ${first.code}${
        where ? ` at line ${where.line}, column ${where.col}` : ''
      }`,
    );
  }
  checkTags(doc.contents);
  let value: unknown;
  try {
    // maxAliasCount bounds the expansion a "billion laughs" document needs.
    value = doc.toJS({ maxAliasCount: VALUES_LIMITS.maxAliases });
  } catch (error) {
    throw new InputError(
      `values are refused: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  return checkValues(value);
}

/** Checks values that arrived as JSON (the typed form) with the same rules. */
export function checkValues(value: unknown): Values {
  if (value === null || value === undefined) {
    return {};
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError('values must be a map of keys to values');
  }
  let nodes = 0;
  const walk = (node: unknown, path: string, depth: number) => {
    if (++nodes > VALUES_LIMITS.maxNodes) {
      throw new InputError(
        `values have more than ${VALUES_LIMITS.maxNodes} entries`,
      );
    }
    if (depth > VALUES_LIMITS.maxDepth) {
      throw new InputError(
        `values nest deeper than ${VALUES_LIMITS.maxDepth} levels at ${path}`,
      );
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
    } else if (node !== null && typeof node === 'object') {
      if (
        Object.getPrototypeOf(node) !== Object.prototype &&
        Object.getPrototypeOf(node) !== null
      ) {
        throw new InputError(`values at ${path} are not plain data`);
      }
      for (const key of Object.keys(node)) {
        if (FORBIDDEN_KEYS.has(key)) {
          throw new InputError(
            `values may not use the key "${key}" (at ${path})`,
          );
        }
        walk((node as Values)[key], path ? `${path}.${key}` : key, depth + 1);
      }
    } else if (typeof node === 'number' && !Number.isFinite(node)) {
      throw new InputError(
        `values at ${path} hold a number JSON cannot represent`,
      );
    }
  };
  walk(value, '', 0);
  return value as Values;
}

function checkTags(node: unknown) {
  const stack: unknown[] = [node];
  while (stack.length) {
    const current = stack.pop();
    if (!current || typeof current !== 'object') continue;
    const tag = (current as { tag?: string }).tag;
    // Core-schema scalars resolve without explicit tags; any written tag is refused.
    if (tag && !CORE_TAGS.has(tag)) {
      throw new InputError(`values may not use the YAML tag ${tag}`);
    }
    if (isMap(current) || isSeq(current)) {
      for (const item of current.items) {
        if (isScalar(item) || isMap(item) || isSeq(item)) {
          stack.push(item);
        } else if (item && typeof item === 'object') {
          stack.push(
            (item as { key?: unknown }).key,
            (item as { value?: unknown }).value,
          );
        }
      }
    }
  }
}
