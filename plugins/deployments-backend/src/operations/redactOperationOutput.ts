import { createRedactor, Redactor } from '../lib/redaction';

/** Redacts the secrets of one operation in a text or in a JSON value. */
export interface OperationOutputRedactor {
  /** A progress line or an error message; secrets become `[redacted]`, as in helm's own lines. */
  text: Redactor;
  /**
   * A copy of a JSON value with every string redacted, object keys
   * included; secrets become {@link VALUE_MARKER}.
   */
  value<T>(value: T): T;
}

/**
 * The marker in values. Their strings hold YAML (manifests, diffs) that is
 * read back (preflight parses the dry-run's manifests): `[redacted]` would
 * turn a plain scalar into a list, or break it when more text follows, so the
 * marker is one YAML reads as plain text anywhere, in the style of the
 * `(hmac-sha256:…)` markers of Secret values.
 */
export const VALUE_MARKER = '(redacted)';

const REDACTED_TOO_DEEP = '(redacted: nested too deeply)';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The redactor an operation's output goes through before it is stored or
 * shown: every secret string of the operation's profile, in every form of
 * `secretForms` (as is, quoted, base64, hex, line by line), in every string
 * of the value. A chart can copy a secret anywhere (a ConfigMap, an env
 * var, an annotation, NOTES), so the whole output is searched, not only
 * Secret objects. Numbers and booleans are kept: the output's numbers are
 * revisions, counts and durations.
 */
export function redactOperationOutput(
  secrets: Iterable<string> | undefined,
): OperationOutputRedactor {
  const list = [...(secrets ?? [])];
  const text = createRedactor(list);
  const inValue = createRedactor(list, { marker: VALUE_MARKER });
  // Without secrets there is nothing to redact: skip the copy too.
  const active = list.length > 0;
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return inValue(value);
    if (depth > 200) {
      // Operation output is JSON from our own code; a deeper value is not
      // expected, and is dropped rather than stored unredacted.
      return REDACTED_TOO_DEEP;
    }
    if (Array.isArray(value)) return value.map(item => walk(item, depth + 1));
    if (isPlainObject(value)) {
      const entries: Array<[string, unknown]> = [];
      const seen = new Set<string>();
      for (const [key, child] of Object.entries(value)) {
        let redactedKey = inValue(key);
        // Two keys that redact alike both stay, told apart by a suffix.
        for (let n = 2; seen.has(redactedKey); n++) {
          redactedKey = `${inValue(key)} (${n})`;
        }
        seen.add(redactedKey);
        entries.push([redactedKey, walk(child, depth + 1)]);
      }
      // fromEntries defines own properties, so a "__proto__" key stays data.
      return Object.fromEntries(entries);
    }
    if (typeof value === 'object' && value !== null) {
      // A Date or a class instance is stored as its JSON: redact that.
      const json = JSON.stringify(value);
      return json === undefined ? undefined : walk(JSON.parse(json), depth + 1);
    }
    return value;
  };
  return {
    text,
    value: <T>(value: T): T => (active ? (walk(value, 0) as T) : value),
  };
}
