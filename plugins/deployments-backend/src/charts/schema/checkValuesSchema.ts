import { InputError } from '@backstage/errors';
import {
  estimateRegexSize,
  SCHEMA_REGEX_LIMITS,
} from '@kubedeploy/plugin-deployments-common';
import { compileSchemaRegex, RegexTooComplexError } from './schemaRegex';

/**
 * Bounds on a chart's `values.schema.json` beyond its size (the archive
 * limits cap the file at `maxMetadataFileBytes`).
 */
export const VALUES_SCHEMA_LIMITS = {
  /** JSON nesting; real schemas, Kubernetes types inlined, stay under 40. */
  maxDepth: 128,
};

/** Keywords whose values are data, not schemas: no patterns to compile there. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);

/** Keywords whose values map names (not keywords) to schemas. */
const SCHEMA_MAP_KEYWORDS = new Set([
  'properties',
  'patternProperties',
  'definitions',
  '$defs',
  'dependentSchemas',
  'dependencies',
]);

/**
 * Checks a chart's values schema before anything compiles or matches it: it
 * nests at most {@link VALUES_SCHEMA_LIMITS}.maxDepth levels, and every
 * regex it carries — a `pattern`, a key of `patternProperties` — compiles as
 * RE2 (see `compileSchemaRegex`), each and all together within the sizes of
 * `SCHEMA_REGEX_LIMITS`.
 *
 * A chart whose patterns RE2 cannot compile is refused when it is
 * registered, not only when values are checked: Helm compiles every pattern
 * with Go's `regexp` when it loads the schema (gojsonschema answers "must be
 * a valid regex") and then fails every install, upgrade and template of the
 * chart, so such a chart can never be deployed. Falling back to JavaScript's
 * backtracking engine instead would let one pattern freeze the backend.
 * Charts registered before this check meet the same error when values are
 * validated against them.
 *
 * Every object outside the data keywords is treated as a schema, whatever
 * key holds it: a `$ref` may point anywhere in the document.
 */
export function checkValuesSchema(schema: Record<string, unknown>): void {
  type Holds = 'schema' | 'schemas by name' | 'data';
  // One path, pushed and popped: a copy per node would cost depth × nodes.
  const keys: string[] = [];
  let regexSize = 0;
  const checkPattern = (pattern: string, at: string[]) => {
    compilePattern(pattern, at);
    regexSize += estimateRegexSize(pattern);
    if (regexSize > SCHEMA_REGEX_LIMITS.maxSchemaRegexSize) {
      throw new InputError(
        `values.schema.json: its patterns would compile into more than ${
          SCHEMA_REGEX_LIMITS.maxSchemaRegexSize
        } instructions (reached at ${schemaPointer(at)})`,
      );
    }
  };
  const walk = (node: unknown, holds: Holds) => {
    if (keys.length > VALUES_SCHEMA_LIMITS.maxDepth) {
      throw new InputError(
        `values.schema.json nests deeper than ${
          VALUES_SCHEMA_LIMITS.maxDepth
        } levels at ${schemaPointer(keys)}`,
      );
    }
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) {
        keys.push(String(index));
        walk(item, holds === 'data' ? 'data' : 'schema');
        keys.pop();
      }
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      keys.push(key);
      let next: Holds = 'schema';
      if (holds === 'data') {
        next = 'data';
      } else if (holds === 'schema') {
        if (key === 'pattern' && typeof value === 'string') {
          checkPattern(value, keys);
        }
        if (key === 'patternProperties' && isObject(value)) {
          for (const pattern of Object.keys(value)) {
            checkPattern(pattern, [...keys, pattern]);
          }
        }
        if (DATA_KEYWORDS.has(key)) next = 'data';
        else if (SCHEMA_MAP_KEYWORDS.has(key)) next = 'schemas by name';
      }
      walk(value, next);
      keys.pop();
    }
  };
  walk(schema, 'schema');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function compilePattern(pattern: string, keys: string[]) {
  try {
    compileSchemaRegex(pattern);
  } catch (error) {
    const quoted = JSON.stringify(
      pattern.length > 200 ? `${pattern.slice(0, 200)}…` : pattern,
    );
    const at = schemaPointer(keys);
    if (error instanceof RegexTooComplexError) {
      throw new InputError(
        `values.schema.json: the regex ${quoted} at ${at} is too large: ${error.message}`,
      );
    }
    throw new InputError(
      `values.schema.json: the regex ${quoted} at ${at} is not RE2 syntax, which Helm checks schema patterns with (${
        (error as Error).message
      })`,
    );
  }
}

/** `#/properties/a~1b/pattern`, the form ajv gives schema paths in. */
function schemaPointer(keys: string[]): string {
  return `#${keys
    .map(key => `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    .join('')}`;
}
