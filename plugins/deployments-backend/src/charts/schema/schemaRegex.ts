import { RE2JS } from 're2js';
import {
  estimateRegexSize,
  SCHEMA_REGEX_LIMITS,
} from '@kubedeploy/plugin-deployments-common';

/** A string longer than `maxInputLength` met a schema pattern. */
export class PatternInputTooLongError extends Error {
  readonly name = 'PatternInputTooLongError';

  constructor(readonly input: string, readonly pattern: string) {
    super(
      `a string of ${input.length} characters is longer than the ${SCHEMA_REGEX_LIMITS.maxInputLength} a schema pattern is matched against`,
    );
  }
}

/** One validation would match more than `maxMatchCost`. */
export class PatternMatchCostError extends Error {
  readonly name = 'PatternMatchCostError';

  constructor() {
    super(
      `matching the values against the schema's patterns would take more than ${SCHEMA_REGEX_LIMITS.maxMatchCost} steps (pattern instructions × characters)`,
    );
  }
}

/** A pattern that would compile into more than `maxRegexSize` instructions. */
export class RegexTooComplexError extends Error {
  readonly name = 'RegexTooComplexError';

  constructor(readonly size: number) {
    super(
      `it would compile into about ${size} instructions, more than ${SCHEMA_REGEX_LIMITS.maxRegexSize}`,
    );
  }
}

// Compiled patterns by text, the least recently used dropped first: a chart's
// schema is read from the database for every validation.
const cache = new Map<string, { regex: RE2JS; size: number }>();
const CACHE_MAX_SIZE = 2 * SCHEMA_REGEX_LIMITS.maxSchemaRegexSize;
let cachedSize = 0;

/**
 * Compiles a regex from a values schema (`pattern`, the keys of
 * `patternProperties`) with RE2's syntax and semantics: those of Go's
 * `regexp`, which Helm validates `values.schema.json` with (Helm 3 through
 * gojsonschema, Helm 4 through santhosh-tekuri/jsonschema). JSON Schema
 * specifies ECMA-262 regexes, but Helm decides whether a chart installs.
 *
 * re2js is a pure-JavaScript port of RE2: matching takes time linear in the
 * input, whatever the pattern, where JavaScript's backtracking `RegExp` takes
 * exponential time on patterns such as `^(a+)+$`. What RE2 cannot express
 * (backreferences, lookahead and lookbehind, `\u` escapes) throws the
 * parser's error, e.g. "error parsing regexp: invalid escape sequence: `\1`".
 * The LOOKBEHINDS flag re2js offers is not used: Go has no lookbehind.
 * A pattern too large to compile and match quickly throws
 * {@link RegexTooComplexError} before it is compiled.
 */
export function compileSchemaRegex(pattern: string): RE2JS {
  const cached = cache.get(pattern);
  if (cached) {
    cache.delete(pattern);
    cache.set(pattern, cached);
    return cached.regex;
  }
  const size = estimateRegexSize(pattern);
  if (size > SCHEMA_REGEX_LIMITS.maxRegexSize) {
    throw new RegexTooComplexError(size);
  }
  const regex = RE2JS.compile(pattern);
  cache.set(pattern, { regex, size });
  cachedSize += size;
  for (const [key, entry] of cache) {
    if (cachedSize <= CACHE_MAX_SIZE) break;
    cache.delete(key);
    cachedSize -= entry.size;
  }
  return regex;
}

/** What ajv needs of a compiled pattern. */
export interface SchemaRegex {
  test(input: string): boolean;
  /** ajv shares compiled patterns between keywords by this key. */
  toString(): string;
}

/** An ajv `code.regExp` engine and the budget its matching draws on. */
export interface SchemaRegexEngine {
  /** The ajv `code.regExp` option. */
  regExp: ((pattern: string) => SchemaRegex) & { code: string };
  /** Starts a validation with the whole `maxMatchCost` to spend. */
  resetBudget(): void;
}

/**
 * An ajv `code.regExp` engine: every pattern ajv compiles goes through
 * {@link compileSchemaRegex}, never through `RegExp`. ajv's second argument
 * (its `u` flag) is not needed: RE2 always matches code points. A string
 * longer than `maxInputLength` throws {@link PatternInputTooLongError}, and
 * matching beyond the budget throws {@link PatternMatchCostError}, rather
 * than answering: `false` would pass the value under `not`, and skip a
 * `patternProperties` schema for a key.
 */
export function createSchemaRegexEngine(): SchemaRegexEngine {
  let budget = SCHEMA_REGEX_LIMITS.maxMatchCost;
  const regExp = (pattern: string): SchemaRegex => {
    const regex = compileSchemaRegex(pattern);
    const size = regex.programSize();
    return {
      test(input: string) {
        if (input.length > SCHEMA_REGEX_LIMITS.maxInputLength) {
          throw new PatternInputTooLongError(input, pattern);
        }
        budget -= size * (input.length + 1);
        if (budget < 0) throw new PatternMatchCostError();
        return regex.test(input);
      },
      toString: () => `re2:${pattern}`,
    };
  };
  return {
    // Only ajv's standalone code generation, never used here, reads `code`.
    regExp: Object.assign(regExp, { code: 'createSchemaRegexEngine' }),
    resetBudget() {
      budget = SCHEMA_REGEX_LIMITS.maxMatchCost;
    },
  };
}
