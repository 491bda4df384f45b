import { customizeValidator } from '@rjsf/validator-ajv8';
import { RE2JS } from 're2js';

/** Strings longer than this are not matched here (the backend's limit too). */
const MAX_PATTERN_INPUT_LENGTH = 64 * 1024;

/**
 * The ajv `code.regExp` engine the form validates with: a chart's patterns
 * are RE2, matched in linear time by re2js, as the backend and Helm match
 * them — JavaScript's backtracking `RegExp` would let a pattern such as
 * `^(a+)+$` freeze the tab as the user types.
 *
 * Checking here only helps the user; the backend decides. So a pattern RE2
 * cannot compile (the backend refuses such a chart and names the pattern)
 * and a string too long to match are not checked here: they pass, and the
 * backend's answer is shown when the values are checked or saved.
 */
const re2RegExp = Object.assign(
  (pattern: string) => {
    let regex: RE2JS | undefined;
    try {
      regex = RE2JS.compile(pattern);
    } catch {
      regex = undefined;
    }
    return {
      test: (input: string) =>
        !regex || input.length > MAX_PATTERN_INPUT_LENGTH || regex.test(input),
      // ajv shares compiled patterns between keywords by this key.
      toString: () => `re2:${pattern}`,
    };
  },
  // Only ajv's standalone code generation, never used here, reads this.
  { code: 're2RegExp' },
);

/**
 * The validator the values form checks with, as the user types. Charts mark
 * secrets with `format: password`, which no format library knows.
 */
export const valuesValidator = customizeValidator({
  customFormats: { password: () => true },
  ajvOptionsOverrides: { code: { regExp: re2RegExp } },
});
