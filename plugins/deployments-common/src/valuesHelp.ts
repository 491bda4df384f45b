/**
 * Values errors that read like help: the field's title, what was expected
 * and the allowed values, once per field. Shared by the backend's values
 * check and the form, which both validate with ajv against the chart's
 * values.schema.json.
 */

/** What a JSON Schema validator (ajv) says about one value. */
export interface SchemaErrorInput {
  /** The failing keyword, e.g. 'type', 'enum', 'minimum'. */
  keyword: string;
  params?: Record<string, unknown>;
  /** The validator's own message, used when the keyword is not known here. */
  message?: string;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map of settings',
  array: 'a list',
  null: 'null',
};

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type ?? '').split(',');
  return types.map(t => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
}

function listed(values: unknown): string {
  return (Array.isArray(values) ? values : [values])
    .map(value => JSON.stringify(value))
    .join(', ');
}

/**
 * A schema error as help: what the field expects, e.g. 'must be a whole
 * number', 'must be one of "ClusterIP", "NodePort" (allowed values)', 'must
 * be at least 1'.
 */
export function explainSchemaError(error: SchemaErrorInput): string {
  const params = error.params ?? {};
  switch (error.keyword) {
    case 'type':
      return `must be ${typeWords(params.type)}`;
    case 'enum':
      return `must be one of ${listed(params.allowedValues)} (allowed values)`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known setting of this chart';
    case 'minimum':
    case 'exclusiveMinimum':
      return `must be ${
        error.keyword === 'minimum' ? 'at least' : 'more than'
      } ${params.limit}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `must be ${
        error.keyword === 'maximum' ? 'at most' : 'less than'
      } ${params.limit}`;
    case 'minLength':
      return `must be at least ${params.limit} character(s) long`;
    case 'maxLength':
      return `must be at most ${params.limit} character(s) long`;
    case 'minItems':
      return `must have at least ${params.limit} item(s)`;
    case 'maxItems':
      return `must have at most ${params.limit} item(s)`;
    case 'pattern':
      return `must match the pattern ${String(params.pattern)}`;
    case 'format':
      return `must be a valid ${String(params.format)}`;
    case 'multipleOf':
      return `must be a multiple of ${params.multipleOf}`;
    case 'uniqueItems':
      return 'must not repeat an item';
    default:
      return error.message ?? 'is not valid';
  }
}

/** Which of two errors on the same field says more; required and unknown keys first. */
const KEYWORD_RANK: Record<string, number> = {
  required: 0,
  additionalProperties: 1,
  type: 2,
  enum: 3,
  const: 3,
};

/** Whether `a` should be shown instead of `b` for the same field. */
export function explainsBetter(a: string, b: string): boolean {
  return (KEYWORD_RANK[a] ?? 5) < (KEYWORD_RANK[b] ?? 5);
}

/**
 * The title of the field at `path` (JSON Pointer segments) in a values
 * schema, following `properties`, `items` and `additionalProperties`; the
 * last key when the schema gives no title.
 */
export function fieldTitle(
  schema: unknown,
  path: ReadonlyArray<string>,
): string {
  let node: unknown = schema;
  for (const segment of path) {
    const current = node as Record<string, any> | undefined;
    if (!current || typeof current !== 'object') {
      node = undefined;
      break;
    }
    if (current.properties && segment in current.properties) {
      node = current.properties[segment];
    } else if (current.items && /^\d+$/.test(segment)) {
      node = Array.isArray(current.items)
        ? current.items[Number(segment)]
        : current.items;
    } else if (
      current.additionalProperties &&
      typeof current.additionalProperties === 'object'
    ) {
      node = current.additionalProperties;
    } else {
      node = undefined;
      break;
    }
  }
  const title = (node as { title?: unknown } | undefined)?.title;
  if (typeof title === 'string' && title) return title;
  if (path.length === 0) return 'The values';
  const last = path[path.length - 1];
  // An untitled list item is named after its list.
  if (/^\d+$/.test(last) && path.length > 1) {
    return `${fieldTitle(schema, path.slice(0, -1))} item ${Number(last) + 1}`;
  }
  return last;
}

/**
 * A violation in one line: 'Log level (/logLevel) must be one of …'.
 */
export function formatViolation(violation: {
  path: string;
  message: string;
  title?: string;
}): string {
  const path = violation.path || '/';
  return `${violation.title ? `${violation.title} (${path})` : path} ${
    violation.message
  }`;
}
