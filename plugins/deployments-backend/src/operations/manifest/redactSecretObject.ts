import { createHmac, randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { parseManifestYaml } from './parseManifestYaml';

// A plain hash of a short password can be reversed by guessing; a keyed hash cannot
// by anyone without the key. One key per process keeps markers comparable within
// and across the diffs and manifests this process shows.
const PROCESS_KEY = randomBytes(32);

export interface RedactionOptions {
  /** HMAC key; a random per-process key by default. Pass a stable one to compare markers across processes. */
  key?: Uint8Array;
}

/**
 * The marker that replaces a secret value: a keyed hash, so that a change
 * stays visible without revealing the value or letting anyone test guesses.
 */
export function secretMarker(
  value: Uint8Array,
  options: RedactionOptions = {},
): string {
  const digest = createHmac('sha256', options.key ?? PROCESS_KEY)
    .update(value)
    .digest('hex');
  return `(hmac-sha256:${digest.slice(0, 12)})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function redactValues(
  values: unknown,
  decode: (value: string) => Buffer,
  options: RedactionOptions,
): unknown {
  if (!isRecord(values)) {
    return values;
  }
  const redacted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    redacted[key] = secretMarker(
      typeof value === 'string'
        ? decode(value)
        : Buffer.from(JSON.stringify(value) ?? '', 'utf8'),
      options,
    );
  }
  return redacted;
}

/**
 * A copy of the object with every value of a core Secret's data and
 * stringData replaced by a marker; also inside the items of a List. Other
 * objects are returned as they are. data is hashed decoded, so moving a value
 * between data and stringData keeps its marker.
 */
export function redactSecretObject(
  object: Record<string, unknown>,
  options: RedactionOptions = {},
): Record<string, unknown> {
  if (!isRecord(object)) {
    return object;
  }
  if (object.apiVersion === 'v1' && object.kind === 'Secret') {
    const copy: Record<string, unknown> = { ...object };
    if ('data' in object) {
      copy.data = redactValues(
        object.data,
        value => Buffer.from(value, 'base64'),
        options,
      );
    }
    if ('stringData' in object) {
      copy.stringData = redactValues(
        object.stringData,
        value => Buffer.from(value, 'utf8'),
        options,
      );
    }
    return copy;
  }
  // kubectl and helm expand Lists, so a Secret inside one is just as real.
  if (
    typeof object.kind === 'string' &&
    object.kind.endsWith('List') &&
    Array.isArray(object.items)
  ) {
    return {
      ...object,
      items: object.items.map(item =>
        isRecord(item) ? redactSecretObject(item, options) : item,
      ),
    };
  }
  return object;
}

/**
 * A rendered manifest with every Secret redacted, for showing to people.
 * Documents are re-serialized, each under its '# Source:' comment.
 *
 * @throws InputError when the manifest is not valid YAML or exceeds the caps
 */
export function redactManifestYaml(
  manifest: string,
  options: RedactionOptions = {},
): string {
  return parseManifestYaml(manifest, { source: 'manifest' })
    .map(
      ({ source, object }) =>
        `---\n# Source: ${source}\n${stringify(
          redactSecretObject(object, options),
          { lineWidth: 0 },
        )}`,
    )
    .join('');
}
