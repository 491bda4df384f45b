/**
 * The strength rule for keyring passphrases: the unlock passphrase and the
 * passphrase of a `.kbk` backup. Both protect key material that an attacker
 * with a copy of the database or the file can attack offline, so the rule
 * refuses what guessing tools try first.
 */

/** The rule, as a sentence fragment that follows "a passphrase must have". */
export const PASSPHRASE_RULE =
  'at least 12 characters, with at least 3 of: lower case, upper case, digits, symbols — ' +
  'or at least 20 characters of any kind; at most 1024 characters; ' +
  'and not be a single repeated character, a short repeated pattern, ' +
  'or made only of common sequences and words (such as "1234", "qwerty" or "password")';

/** The most characters a passphrase may have. */
export const MAX_PASSPHRASE_LENGTH = 1024;

const MIN_LENGTH = 12;
const MIN_LENGTH_ANY_KIND = 20;
const MIN_KINDS = 3;
// A passphrase that splits into this few predictable pieces is refused.
const MAX_PREDICTABLE_PIECES = 4;

// Runs along these (either way) are predictable: alphabet, digits, keyboard
// rows (QWERTY, QWERTZ, AZERTY), the shifted digit row and keyboard columns.
const SEQUENCES = [
  'abcdefghijklmnopqrstuvwxyz',
  '01234567890',
  '`1234567890-=',
  '~!@#$%^&*()_+',
  'qwertyuiop[]\\',
  "asdfghjkl;'",
  'zxcvbnm,./',
  'qwertzuiop',
  'yxcvbnm',
  'azertyuiop',
  'qsdfghjklm',
  'wxcvbn',
  '1qaz',
  '2wsx',
  '3edc',
  '4rfv',
  '5tgb',
  '6yhn',
  '7ujm',
  '8ik,',
  '9ol.',
  '0p;/',
];

// Words that top every leaked-password list, plus this product's own names.
const COMMON_WORDS = [
  'password',
  'passphrase',
  'passwort',
  'letmein',
  'welcome',
  'administrator',
  'admin',
  'changeme',
  'secret',
  'iloveyou',
  'monkey',
  'dragon',
  'football',
  'baseball',
  'master',
  'login',
  'default',
  'summer',
  'winter',
  'spring',
  'autumn',
  'kubernetes',
  'kubedeploy',
  'backstage',
  'keyring',
];

// Look-alike substitutions guessing tools apply to words.
const LOOK_ALIKES: Record<string, string> = {
  '0': 'o',
  '1': 'il',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '9': 'g',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'il',
};

const ADJACENT = buildAdjacency();

function buildAdjacency(): Map<string, Set<string>> {
  const adjacent = new Map<string, Set<string>>();
  const link = (a: string, b: string) => {
    if (!adjacent.has(a)) {
      adjacent.set(a, new Set());
    }
    adjacent.get(a)!.add(b);
  };
  for (const sequence of SEQUENCES) {
    const chars = Array.from(sequence);
    for (let i = 1; i < chars.length; i++) {
      link(chars[i - 1], chars[i]);
      link(chars[i], chars[i - 1]);
    }
  }
  return adjacent;
}

/**
 * The form a passphrase is used in: Unicode NFC, so the same passphrase typed
 * on different systems derives the same key.
 */
export function normalizePassphrase(passphrase: string): string {
  return passphrase.normalize('NFC');
}

/**
 * Returns why a passphrase is too weak, stating the rule, or undefined when
 * it is acceptable. The message never repeats the passphrase.
 */
export function describeWeakPassphrase(passphrase: string): string | undefined {
  const problem = findProblem(passphrase);
  return problem === undefined
    ? undefined
    : `${problem}; a passphrase must have ${PASSPHRASE_RULE}`;
}

function findProblem(passphrase: unknown): string | undefined {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    return 'no passphrase was given';
  }
  // Checked on UTF-16 length first so that a huge input costs nothing.
  if (passphrase.length > MAX_PASSPHRASE_LENGTH * 2) {
    return `it is longer than ${MAX_PASSPHRASE_LENGTH} characters`;
  }
  const chars = Array.from(normalizePassphrase(passphrase));
  if (chars.length > MAX_PASSPHRASE_LENGTH) {
    return `it is longer than ${MAX_PASSPHRASE_LENGTH} characters`;
  }
  if (chars.length < MIN_LENGTH) {
    return `it has only ${chars.length} characters`;
  }
  const kinds = countKinds(chars);
  if (chars.length < MIN_LENGTH_ANY_KIND && kinds < MIN_KINDS) {
    return `it has ${chars.length} characters but only ${kinds} of the 4 kinds`;
  }

  const folded = chars.map(c => c.toLowerCase());
  const period = smallestPeriod(folded);
  if (period === 1) {
    return 'it is a single repeated character';
  }
  if (period < MIN_LENGTH && period <= folded.length / 2) {
    return 'it repeats a short pattern';
  }
  if (countPredictablePieces(folded) <= MAX_PREDICTABLE_PIECES) {
    return 'it is made only of common sequences, repeated characters and common words';
  }
  return undefined;
}

function countKinds(chars: string[]): number {
  let lower = false;
  let upper = false;
  let digit = false;
  let symbol = false;
  for (const char of chars) {
    if (/\p{Ll}/u.test(char)) {
      lower = true;
    } else if (/\p{Lu}/u.test(char)) {
      upper = true;
    } else if (/\p{Nd}/u.test(char)) {
      digit = true;
    } else {
      // Everything else counts as a symbol, including spaces and letters without case.
      symbol = true;
    }
  }
  return [lower, upper, digit, symbol].filter(Boolean).length;
}

/** The length of the shortest unit that the text repeats (the whole length if none). */
function smallestPeriod(chars: string[]): number {
  // Knuth-Morris-Pratt failure function: the longest proper prefix that is also a suffix.
  const failure = new Array<number>(chars.length).fill(0);
  let matched = 0;
  for (let i = 1; i < chars.length; i++) {
    while (matched > 0 && chars[i] !== chars[matched]) {
      matched = failure[matched - 1];
    }
    if (chars[i] === chars[matched]) {
      matched++;
    }
    failure[i] = matched;
  }
  return chars.length - failure[chars.length - 1];
}

/**
 * The fewest pieces the text splits into, where a piece is a single
 * character, a run in which each character repeats or neighbours the previous
 * one in a common sequence, a common word (look-alikes allowed) or a year.
 */
function countPredictablePieces(chars: string[]): number {
  const n = chars.length;
  // runEnd[i]: end (exclusive) of the longest run starting at i.
  const runEnd = new Array<number>(n).fill(n);
  for (let i = n - 2; i >= 0; i--) {
    const a = chars[i];
    const b = chars[i + 1];
    runEnd[i] = a === b || ADJACENT.get(a)?.has(b) ? runEnd[i + 1] : i + 1;
  }
  // fewest[i]: fewest pieces covering chars[i..].
  const fewest = new Array<number>(n + 1).fill(Number.MAX_SAFE_INTEGER);
  fewest[n] = 0;
  for (let i = n - 1; i >= 0; i--) {
    let best = fewest[i + 1] + 1;
    for (let end = i + 2; end <= runEnd[i]; end++) {
      best = Math.min(best, fewest[end] + 1);
    }
    for (const word of COMMON_WORDS) {
      if (matchesWord(chars, i, word)) {
        best = Math.min(best, fewest[i + word.length] + 1);
      }
    }
    if (isYearAt(chars, i)) {
      best = Math.min(best, fewest[i + 4] + 1);
    }
    fewest[i] = best;
  }
  return fewest[0];
}

function matchesWord(chars: string[], start: number, word: string): boolean {
  if (start + word.length > chars.length) {
    return false;
  }
  for (let k = 0; k < word.length; k++) {
    const char = chars[start + k];
    if (char !== word[k] && !LOOK_ALIKES[char]?.includes(word[k])) {
      return false;
    }
  }
  return true;
}

function isYearAt(chars: string[], start: number): boolean {
  return (
    start + 4 <= chars.length &&
    /^(19|20)\d\d$/.test(chars.slice(start, start + 4).join(''))
  );
}
