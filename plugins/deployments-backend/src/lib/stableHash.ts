import { createHash } from 'node:crypto';
import { canonicalJson } from './canonicalJson';

/** `sha256:<hex>` of the canonical JSON of a value. */
export function stableHash(value: unknown): string {
  return `sha256:${createHash('sha256')
    .update(canonicalJson(value))
    .digest('hex')}`;
}
