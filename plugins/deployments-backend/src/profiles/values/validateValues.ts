import { InputError } from '@backstage/errors';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import { ValuesViolation } from '@kubedeploy/plugin-deployments-common';
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

const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Compiles a chart's `values.schema.json` with the draft it declares
 * (draft-07 and older, 2019-09 or 2020-12). Remote `$ref`s are never fetched:
 * a schema that needs one is refused.
 */
export function compileValuesSchema(
  schema: Record<string, unknown>,
): ValidateFunction {
  const cached = compiled.get(schema);
  if (cached) return cached;
  const declared = String(schema.$schema ?? '');
  const options = {
    allErrors: true,
    strict: false,
    validateFormats: false,
    validateSchema: false,
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
  compiled.set(schema, validate);
  return validate;
}

/** Every violation of the merged values against the schema, with its path. */
export function validateValues(
  schema: Record<string, unknown>,
  defaults: Values,
  values: Values,
): ValuesViolation[] {
  const validate = compileValuesSchema(schema);
  const merged = coalesceValues(defaults, values);
  if (validate(merged)) return [];
  return (validate.errors ?? []).map(describe);
}

function describe(error: ErrorObject): ValuesViolation {
  let path = error.instancePath;
  let message = error.message ?? 'is invalid';
  if (error.keyword === 'required') {
    path = `${path}/${
      (error.params as { missingProperty: string }).missingProperty
    }`;
    message = 'is required';
  } else if (error.keyword === 'additionalProperties') {
    path = `${path}/${
      (error.params as { additionalProperty: string }).additionalProperty
    }`;
    message = 'is not a known setting of this chart';
  } else if (error.keyword === 'enum') {
    message = `must be one of ${(
      error.params as { allowedValues: unknown[] }
    ).allowedValues
      .map(v => JSON.stringify(v))
      .join(', ')}`;
  }
  return { path, message };
}
