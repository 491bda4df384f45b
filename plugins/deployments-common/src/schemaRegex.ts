// Limits on the regexes a chart's values schema carries, shared so the
// backend and the values form bound the same work.

/**
 * Bounds on the regexes of a chart's `values.schema.json` (its `pattern`s and
 * `patternProperties` keys), which both the backend and the values form match
 * with RE2 (re2js) rather than JavaScript's backtracking `RegExp`.
 * @public
 */
export const SCHEMA_REGEX_LIMITS = {
  /**
   * The longest string (in UTF-16 code units) a pattern is matched against;
   * longer strings are refused instead of matched.
   */
  maxInputLength: 64 * 1024,
  /**
   * The most instructions one pattern may compile into, estimated from its
   * text before compiling (see `estimateRegexSize`). Schema patterns of real
   * charts (names, hostnames, versions, quantities, IPv6) stay under 2,000.
   */
  maxRegexSize: 10_000,
  /** The most instructions all the patterns of one schema may compile into. */
  maxSchemaRegexSize: 100_000,
  /**
   * The matching one validation may do, as instructions times characters:
   * RE2's worst case is one step per instruction per character, about
   * 15 ns each in re2js, so this bounds a validation to about a second.
   */
  maxMatchCost: 64 * 1024 * 1024,
};

/**
 * An upper bound on the number of instructions RE2 compiles a pattern into,
 * read from its text without compiling it.
 *
 * RE2 matches in time linear in the input, but the factor is the size of the
 * compiled program, and compiling costs about as much: `[a-z]{0,1000}` is 14
 * characters and 2,000 instructions, so a kilobyte of such text compiles for
 * a second and then matches 64 KiB for many more. A counted repetition
 * `x{n,m}` compiles into `max(n, m)` copies of `x` (and nested ones
 * multiply), so the estimate multiplies too; every other character, escape,
 * class or group counts at least what RE2 makes of it.
 * @public
 */
export function estimateRegexSize(pattern: string): number {
  // One frame per open group: the size of the alternatives already closed,
  // of the current alternative before its last atom, and of that atom (which
  // a following quantifier applies to).
  type Frame = { alternatives: number; before: number; last: number };
  const frames: Frame[] = [{ alternatives: 0, before: 0, last: 0 }];
  const top = () => frames[frames.length - 1];
  const atom = (size: number) => {
    const frame = top();
    frame.before += frame.last;
    frame.last = size;
  };
  const close = (frame: Frame) =>
    frame.alternatives + frame.before + frame.last;

  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === 'Q') {
        // \Q...\E: every character literal.
        const end = pattern.indexOf('\\E', i + 2);
        const stop = end < 0 ? pattern.length : end;
        for (let j = i + 2; j < stop; j++) atom(1);
        i = end < 0 ? pattern.length : end + 2;
      } else if (
        (next === 'p' || next === 'P' || next === 'x') &&
        pattern[i + 2] === '{'
      ) {
        const end = pattern.indexOf('}', i + 3);
        i = end < 0 ? pattern.length : end + 1;
        atom(1);
      } else {
        i += 2;
        atom(1);
      }
    } else if (c === '[') {
      i = classEnd(pattern, i);
      atom(1);
    } else if (c === '(') {
      frames.push({ alternatives: 0, before: 0, last: 0 });
      i++;
    } else if (c === ')') {
      if (frames.length > 1) {
        const inner = close(frames.pop()!);
        atom(inner + 2);
      } else {
        atom(1);
      }
      i++;
    } else if (c === '|') {
      const frame = top();
      frame.alternatives += frame.before + frame.last + 1;
      frame.before = 0;
      frame.last = 0;
      i++;
    } else if (c === '*' || c === '+' || c === '?') {
      top().last += 1;
      i++;
    } else if (c === '{') {
      const repeat = /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i, i + 24));
      if (repeat) {
        const min = Number(repeat[1]);
        const max = repeat[2] ? Number(repeat[2]) : 0;
        const copies = Math.max(min, max, 1);
        top().last = top().last * copies + copies + 1;
        i += repeat[0].length;
      } else {
        atom(1);
        i++;
      }
    } else {
      atom(1);
      i++;
    }
  }
  // Groups left open (RE2 refuses them) count as closed; the program adds
  // the whole match's capture and its match and fail instructions.
  let size = 4;
  while (frames.length > 0) size += close(frames.pop()!) + 2;
  return size;
}

/** The index after the `]` closing the class opened at `start`. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  // A `]` first in the class is a literal.
  if (pattern[i] === ']') i++;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      i += 2;
    } else if (c === '[' && pattern[i + 1] === ':') {
      const end = pattern.indexOf(':]', i + 2);
      i = end < 0 ? i + 1 : end + 2;
    } else if (c === ']') {
      return i + 1;
    } else {
      i++;
    }
  }
  return pattern.length;
}
