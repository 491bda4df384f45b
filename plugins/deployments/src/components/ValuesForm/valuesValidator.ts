import {
  estimateRegexSize,
  SCHEMA_REGEX_LIMITS,
} from '@kubedeploy/plugin-deployments-common';
import { customizeValidator } from '@rjsf/validator-ajv8';
import { RE2JS } from 're2js';

/**
 * The matching (instructions × characters, as the backend counts it) the
 * form may do at once, refilled at this much per second: worst case, pattern
 * checks take a quarter of a second at a time and a quarter of the tab's time
 * in all, whatever the chart's schema and however fast the user types.
 */
const MATCH_BUDGET = SCHEMA_REGEX_LIMITS.maxMatchCost / 4;
// Compiling costs about this many matching steps per instruction.
const COMPILE_COST = 256;

let budget = MATCH_BUDGET;
let refilledAt = Date.now();

/** Spends `cost` if the budget allows it now. */
function spend(cost: number): boolean {
  const now = Date.now();
  budget = Math.min(
    MATCH_BUDGET,
    budget + ((now - refilledAt) / 1000) * MATCH_BUDGET,
  );
  refilledAt = now;
  if (cost > budget) return false;
  budget -= cost;
  return true;
}

/**
 * The ajv `code.regExp` engine the form validates with: a chart's patterns
 * are RE2, matched in linear time by re2js, as the backend and Helm match
 * them — JavaScript's backtracking `RegExp` would let a pattern such as
 * `^(a+)+$` freeze the tab as the user types.
 *
 * Checking here only helps the user; the backend decides. So what the
 * backend refuses — a pattern RE2 cannot compile or too large to, a string
 * too long to match — and matching beyond the budget above are not checked
 * here: the value passes, and the backend's answer is shown when the values
 * are checked or saved.
 */
const re2RegExp = Object.assign(
  (pattern: string) => {
    let regex: RE2JS | undefined;
    const size = estimateRegexSize(pattern);
    if (
      size <= SCHEMA_REGEX_LIMITS.maxRegexSize &&
      spend(size * COMPILE_COST)
    ) {
      try {
        regex = RE2JS.compile(pattern);
      } catch {
        regex = undefined;
      }
    }
    return {
      test: (input: string) =>
        !regex ||
        input.length > SCHEMA_REGEX_LIMITS.maxInputLength ||
        !spend(regex.programSize() * (input.length + 1)) ||
        regex.test(input),
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
