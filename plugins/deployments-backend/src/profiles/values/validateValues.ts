import { InputError } from '@backstage/errors';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import {
  explainSchemaError,
  explainsBetter,
  fieldTitle,
  SCHEMA_REGEX_LIMITS,
  ValuesViolation,
} from '@kubedeploy/plugin-deployments-common';
import { checkValuesSchema } from '../../charts/schema/checkValuesSchema';
import {
  createSchemaRegexEngine,
  PatternInputTooLongError,
  PatternMatchCostError,
  SchemaRegexEngine,
} from '../../charts/schema/schemaRegex';
import { formatPointer, parsePointer } from './jsonPointer';
import { Values } from './parseValuesYaml';

/**
 * Merges user values over the chart's defaults the way Helm does: maps merge
 * deeply, any other value replaces the default, and `null` removes a key.
 */
export function coalesceValues(defaults: Values, overrides: Values): Values {
  const result: Values = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    const base = result[key];
    if (value === null) {
      delete result[key];
    } else if (isMap(value) && isMap(base)) {
      result[key] = coalesceValues(base, value);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function isMap(value: unknown): value is Values {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A compiled values schema and the regex engine it matches with. */
export interface CompiledSchema {
  validate: ValidateFunction;
  patterns: SchemaRegexEngine;
}

const compiled = new WeakMap<object, CompiledSchema>();

/**
 * Compiles a chart's `values.schema.json` with the draft it declares
 * (draft-07 and older, 2019-09 or 2020-12). Remote `$ref`s are never fetched:
 * a schema that needs one is refused. Its patterns are RE2, matched in linear
 * time (see `compileSchemaRegex`): a pattern RE2 cannot compile is refused
 * with its schema path, never handed to JavaScript's backtracking `RegExp`.
 */
export function compileValuesSchema(
  schema: Record<string, unknown>,
): CompiledSchema {
  const cached = compiled.get(schema);
  if (cached) return cached;
  // Charts registered before registration checked the schema are checked here.
  checkValuesSchema(schema);
  const declared = String(schema.$schema ?? '');
  const patterns = createSchemaRegexEngine();
  const options = {
    allErrors: true,
    strict: false,
    validateFormats: false,
    validateSchema: false,
    code: { regExp: patterns.regExp },
  };
  let ajv: Ajv;
  if (declared.includes('2020-12')) {
    ajv = new Ajv2020(options);
  } else if (declared.includes('2019-09')) {
    ajv = new Ajv2019(options);
  } else {
    ajv = new Ajv(options);
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw new InputError(
      `the chart's values.schema.json cannot be used: ${
        (error as Error).message
      }`,
    );
  }
  compiled.set(schema, { validate, patterns });
  return { validate, patterns };
}

/** Every violation of the merged values against the schema, with its path. */
export function validateValues(
  schema: Record<string, unknown>,
  defaults: Values,
  values: Values,
): ValuesViolation[] {
  const { validate, patterns } = compileValuesSchema(schema);
  const merged = coalesceValues(defaults, values);
  patterns.resetBudget();
  try {
    if (validate(merged)) return [];
  } catch (error) {
    if (error instanceof PatternInputTooLongError) {
      return tooLongForPatterns(merged, error.input);
    }
    if (error instanceof PatternMatchCostError) {
      throw new InputError(`The values cannot be checked: ${error.message}`);
    }
    throw error;
  }
  return oncePerField(schema, validate.errors ?? []);
}

/**
 * One violation per field, the one that says most (required, unknown key,
 * wrong type, allowed values, then the rest), with the field's title.
 */
function oncePerField(
  schema: Record<string, unknown>,
  errors: ErrorObject[],
): ValuesViolation[] {
  const byPath = new Map<
    string,
    { keyword: string; violation: ValuesViolation }
  >();
  for (const error of errors) {
    const violation = describe(error);
    const seen = byPath.get(violation.path);
    if (!seen || explainsBetter(error.keyword, seen.keyword)) {
      byPath.set(violation.path, {
        keyword: error.keyword,
        violation: {
          ...violation,
          title: fieldTitle(
            schema,
            violation.path ? parsePointer(violation.path) : [],
          ),
        },
      });
    }
  }
  return [...byPath.values()].map(entry => entry.violation);
}

/** Where the string a pattern refused to match sits: a value or a key. */
function tooLongForPatterns(merged: Values, input: string): ValuesViolation[] {
  const length = `${input.length} characters long; schema patterns are matched against at most ${SCHEMA_REGEX_LIMITS.maxInputLength}`;
  const found: ValuesViolation[] = [];
  const walk = (node: unknown, keys: string[]) => {
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) {
        walk(item, [...keys, String(index)]);
      }
    } else if (isMap(node)) {
      for (const [key, value] of Object.entries(node)) {
        // The path names the map: the key itself is too long to quote.
        if (key === input) {
          found.push({ path: pointer(keys), message: `has a key ${length}` });
        }
        walk(value, [...keys, key]);
      }
    } else if (node === input) {
      found.push({ path: pointer(keys), message: `is ${length}` });
    }
  };
  walk(merged, []);
  return found.length > 0 ? found : [{ path: '', message: `is ${length}` }];
}

function pointer(keys: string[]): string {
  return keys.length > 0 ? formatPointer(keys) : '';
}

function describe(error: ErrorObject): ValuesViolation {
  let path = error.instancePath;
  if (error.keyword === 'required') {
    path = `${path}/${
      (error.params as { missingProperty: string }).missingProperty
    }`;
  } else if (error.keyword === 'additionalProperties') {
    path = `${path}/${
      (error.params as { additionalProperty: string }).additionalProperty
    }`;
  }
  return {
    path,
    message: explainSchemaError({
      keyword: error.keyword,
      params: error.params as Record<string, unknown>,
      message: error.message,
    }),
  };
}
