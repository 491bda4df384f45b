import { RE2JS } from 're2js';

/**
 * The longest string (in UTF-16 code units) a schema pattern is matched
 * against. RE2 is linear in the input, but a pattern still costs its size
 * times the input's; longer strings are refused instead of matched.
 */
export const MAX_PATTERN_INPUT_LENGTH = 64 * 1024;

/** A string longer than {@link MAX_PATTERN_INPUT_LENGTH} met a schema pattern. */
export class PatternInputTooLongError extends Error {
  readonly name = 'PatternInputTooLongError';

  constructor(readonly input: string, readonly pattern: string) {
    super(
      `a string of ${input.length} characters is longer than the ${MAX_PATTERN_INPUT_LENGTH} a schema pattern is matched against`,
    );
  }
}

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
 */
export function compileSchemaRegex(pattern: string): RE2JS {
  return RE2JS.compile(pattern);
}

/** What ajv needs of a compiled pattern. */
export interface SchemaRegex {
  test(input: string): boolean;
  /** ajv shares compiled patterns between keywords by this key. */
  toString(): string;
}

/**
 * An ajv `code.regExp` engine: every pattern ajv compiles goes through
 * {@link compileSchemaRegex}, never through `RegExp`. The second argument
 * (ajv's `u` flag) is not needed: RE2 always matches code points. A string
 * longer than {@link MAX_PATTERN_INPUT_LENGTH} throws
 * {@link PatternInputTooLongError} rather than answering: `false` would pass
 * the value under `not`, and skip a `patternProperties` schema for a key.
 */
export const re2RegExp = Object.assign(
  (pattern: string): SchemaRegex => {
    const regex = compileSchemaRegex(pattern);
    return {
      test(input: string) {
        if (input.length > MAX_PATTERN_INPUT_LENGTH) {
          throw new PatternInputTooLongError(input, pattern);
        }
        return regex.test(input);
      },
      toString: () => `re2:${pattern}`,
    };
  },
  // Only ajv's standalone code generation, never used here, reads this.
  { code: 're2RegExp' },
);
