import { InputError } from '@backstage/errors';

/**
 * An opaque keyset cursor: the sort key of the last row of a page. Opaque so
 * that clients pass it back rather than build one; not a secret.
 */
export function encodeCursor(key: string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The sort key inside a cursor from {@link encodeCursor}, with `length` parts.
 *
 * @throws InputError when the cursor is not one this API returned
 */
export function decodeCursor(cursor: string, length: number): string[] {
  try {
    const key: unknown = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    );
    if (
      Array.isArray(key) &&
      key.length === length &&
      // A NUL cannot be compared in PostgreSQL: the query failed (500).
      key.every(part => typeof part === 'string' && !part.includes('\u0000'))
    ) {
      return key;
    }
  } catch {
    // Reported below.
  }
  throw new InputError('The cursor is not one this API returned');
}
