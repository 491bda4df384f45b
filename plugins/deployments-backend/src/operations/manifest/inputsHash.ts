import { InputError } from '@backstage/errors';
import { JsonObject, JsonValue } from '@backstage/types';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lib/canonicalJson';

export { canonicalJson };

/** Everything that determines what a release deploys. */
export interface ReleaseInputs {
  /** Digest of the chart layer, e.g. 'sha256:…'. */
  chartDigest: string;
  /**
   * The effective values. Secret values should enter as their stored
   * ciphertext version or fingerprint, not in plaintext: this hash is kept
   * and shown, and a hash over known values plus one weak secret can be
   * reversed by guessing.
   */
  values: JsonObject;
  targetId: string;
  /** Changes whenever the target's credentials or boundary change. */
  credentialsVersion: string | number;
  namespace: string;
  releaseName: string;
  /** Flags that change the outcome, e.g. { createNamespace: true, timeoutSeconds: 300 }. */
  helmFlags: JsonObject;
}

/**
 * A stable sha256 (lower-case hex) of everything that determines a release,
 * over canonical JSON: member order does not matter, any change of value
 * does. A dry-run records it; apply requires the same hash.
 *
 * @throws InputError when a part is not plain JSON data
 */
export function inputsHash(parts: ReleaseInputs): string {
  const document: { [key: string]: JsonValue } = {
    // Versioned, so a future change of what is hashed cannot match an old hash by accident.
    version: 1,
    chartDigest: parts.chartDigest,
    values: parts.values,
    targetId: parts.targetId,
    credentialsVersion: parts.credentialsVersion,
    namespace: parts.namespace,
    releaseName: parts.releaseName,
    helmFlags: parts.helmFlags,
  };
  for (const key of Object.keys(document)) {
    if (document[key] === undefined) {
      throw new InputError(`release inputs lack ${key}`);
    }
  }
  return createHash('sha256').update(canonicalJson(document)).digest('hex');
}
