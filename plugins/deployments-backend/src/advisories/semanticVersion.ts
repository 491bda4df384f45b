/**
 * A version as semver 2.0.0 writes it, with the optional leading `v` many
 * image tags carry. Anything else (`latest`, `1.27`, a commit hash) is not a
 * version: advisories report it as unknown instead of guessing an order.
 */
export interface SemanticVersion {
  /** The tag or version as written. */
  raw: string;
  /** 'v' or ''; versions are compared only with versions of the same spelling. */
  prefix: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
}

const SEMVER =
  /^(v?)(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:[+_][0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** The version a tag spells, or undefined when it is not a semantic version. */
export function parseSemanticVersion(raw: string): SemanticVersion | undefined {
  const match = SEMVER.exec(raw);
  if (!match) return undefined;
  const numbers = [match[2], match[3], match[4]].map(Number);
  if (!numbers.every(Number.isSafeInteger)) return undefined;
  return {
    raw,
    prefix: match[1],
    major: numbers[0],
    minor: numbers[1],
    patch: numbers[2],
    prerelease: match[5] ? match[5].split('.') : [],
  };
}

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = /^\d+$/.test(a);
  const bNumeric = /^\d+$/.test(b);
  if (aNumeric && bNumeric) return Number(a) - Number(b);
  if (aNumeric) return -1;
  if (bNumeric) return 1;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Semver precedence: negative when a < b; build metadata is ignored. */
export function compareSemanticVersions(
  a: SemanticVersion,
  b: SemanticVersion,
): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    // A release ranks above its pre-releases.
    return b.prerelease.length - a.prerelease.length;
  }
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    if (a.prerelease[i] === undefined) return -1;
    if (b.prerelease[i] === undefined) return 1;
    const order = compareIdentifiers(a.prerelease[i], b.prerelease[i]);
    if (order !== 0) return order;
  }
  return 0;
}

/** The newer versions worth an advisory, each the highest of its kind. */
export interface NewerVersions {
  /** The highest patch of the same major.minor. */
  patch?: string;
  /** The highest version of the same major with a higher minor. */
  minor?: string;
  /** The highest version with a higher major. */
  major?: string;
}

/**
 * Finds, among the available tags, the highest patch of the running
 * major.minor, then the highest newer minor and major. Tags that are not
 * semantic versions, or spelled with another prefix, are left out;
 * pre-releases only when asked for (or when the running version is one of
 * the same major.minor.patch line).
 */
export function findNewerVersions(
  running: SemanticVersion,
  available: Iterable<string>,
  options: { includePrereleases: boolean },
): NewerVersions {
  const best: Record<keyof NewerVersions, SemanticVersion | undefined> = {
    patch: undefined,
    minor: undefined,
    major: undefined,
  };
  for (const tag of available) {
    const candidate = parseSemanticVersion(tag);
    if (!candidate || candidate.prefix !== running.prefix) continue;
    if (candidate.prerelease.length > 0 && !options.includePrereleases) {
      continue;
    }
    if (compareSemanticVersions(candidate, running) <= 0) continue;
    let kind: keyof NewerVersions;
    if (candidate.major !== running.major) kind = 'major';
    else if (candidate.minor !== running.minor) kind = 'minor';
    else kind = 'patch';
    const current = best[kind];
    if (!current || compareSemanticVersions(candidate, current) > 0) {
      best[kind] = candidate;
    }
  }
  return {
    ...(best.patch ? { patch: best.patch.raw } : {}),
    ...(best.minor ? { minor: best.minor.raw } : {}),
    ...(best.major ? { major: best.major.raw } : {}),
  };
}
