import { InputError } from '@backstage/errors';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretIntegrityError } from '../keyring/errors';

/**
 * The record a secret belongs to. It is bound into the ciphertext as
 * associated data, so a sealed value cannot be moved to another record or
 * put back in place of a newer version.
 */
export interface RecordIdentity {
  /** The kind of record, e.g. 'target'. */
  type: string;
  id: string;
  /** Increases on every change of the secret; a non-negative integer. */
  version: number;
  /**
   * What else the secret is bound to, e.g. a digest of the settings it may be
   * used with. A value sealed with a binding opens only with the same binding
   * (and is written in the `kd2` format); one sealed without opens only
   * without (`kd1`).
   */
  binding?: string;
}

/** Finds the unwrapped 32-byte data key for an id; the caller caches it. */
export interface DataKeyResolver {
  resolve(dataKeyId: string): Promise<Buffer>;
}

const FORMAT = 'kd1';
// The same envelope, with the identity's binding in the associated data.
const BOUND_FORMAT = 'kd2';
// Domain separation: this associated data means nothing to any other use of the key.
const AAD_LABEL = 'kubedeploy/envelope';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// Base64url without dots, so an id can never break the dotted format; fits UUIDs.
const DATA_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;
const MAX_IDENTITY_FIELD_LENGTH = 1024;

/** Whether a string can name a data key in the sealed format. */
export function isValidDataKeyId(dataKeyId: string): boolean {
  return typeof dataKeyId === 'string' && DATA_KEY_ID_PATTERN.test(dataKeyId);
}

/** A new random 256-bit data key. */
export function generateDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Envelope encryption of one secret: AES-256-GCM under a data key, with a
 * fresh random 96-bit IV per seal. The sealed text is
 * `kd1.<dataKeyId>.<iv>.<ciphertext>.<tag>` (base64url parts; `kd2` when
 * the identity carries a binding) and is safe for a database text column.
 * The format version, data key id and record identity are authenticated as
 * associated data, so a `kd2` value relabelled `kd1` does not open.
 */
export class EnvelopeCipher {
  private constructor(private readonly resolver: DataKeyResolver) {}

  static create(options: { resolver: DataKeyResolver }): EnvelopeCipher {
    return new EnvelopeCipher(options.resolver);
  }

  /** Which data key a sealed value needs; throws SecretIntegrityError if malformed. */
  static dataKeyIdOf(sealed: string): string {
    return parseSealed(sealed).dataKeyId;
  }

  /** Whether a sealed value carries a binding (`kd2`); says nothing of its integrity. */
  static isBound(sealed: string): boolean {
    return parseSealed(sealed).format === BOUND_FORMAT;
  }

  async seal(
    dataKeyId: string,
    identity: RecordIdentity,
    plaintext: string | Buffer,
  ): Promise<string> {
    if (!isValidDataKeyId(dataKeyId)) {
      throw new InputError(
        'A data key id must be 1 to 128 letters, digits, "-" or "_"',
      );
    }
    const format = identity.binding === undefined ? FORMAT : BOUND_FORMAT;
    const aad = associatedData(format, dataKeyId, identity);
    const key = await this.resolveKey(dataKeyId);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(aad);
    const input =
      typeof plaintext === 'string'
        ? Buffer.from(plaintext, 'utf8')
        : plaintext;
    const ciphertext = Buffer.concat([cipher.update(input), cipher.final()]);
    if (input !== plaintext) {
      // Our own UTF-8 copy of the secret; the caller's buffer is theirs to wipe.
      input.fill(0);
    }
    const tag = cipher.getAuthTag();
    return [
      format,
      dataKeyId,
      iv.toString('base64url'),
      ciphertext.toString('base64url'),
      tag.toString('base64url'),
    ].join('.');
  }

  /**
   * Opens a value sealed for exactly this identity. Throws
   * SecretIntegrityError when it was altered, sealed for another record or
   * version, needs a different key, or is malformed. Errors from the
   * resolver (e.g. a sealed keyring) pass through unchanged.
   */
  async open(identity: RecordIdentity, sealed: string): Promise<Buffer> {
    const parts = parseSealed(sealed);
    if ((parts.format === BOUND_FORMAT) !== (identity.binding !== undefined)) {
      throw new SecretIntegrityError(
        `The sealed ${identity.type} secret of ${identity.id} was sealed ${
          parts.format === BOUND_FORMAT ? 'with' : 'without'
        } a binding and cannot be opened ${
          parts.format === BOUND_FORMAT ? 'without' : 'with'
        } one`,
      );
    }
    const aad = associatedData(parts.format, parts.dataKeyId, identity);
    const key = await this.resolveKey(parts.dataKeyId);
    const decipher = createDecipheriv(ALGORITHM, key, parts.iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(parts.tag);
    // GCM returns unauthenticated plaintext from update(); wipe it if final() refuses.
    const body = decipher.update(parts.ciphertext);
    try {
      return Buffer.concat([body, decipher.final()]);
    } catch {
      throw new SecretIntegrityError(
        `The sealed ${identity.type} secret of ${identity.id} (version ${identity.version}) failed its integrity check: ` +
          'it was altered, belongs to another record or version, or needs a different data key',
      );
    } finally {
      body.fill(0);
    }
  }

  private async resolveKey(dataKeyId: string): Promise<Buffer> {
    const key = await this.resolver.resolve(dataKeyId);
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new SecretIntegrityError(
        `Data key ${dataKeyId} is not a ${KEY_BYTES * 8}-bit key`,
      );
    }
    return key;
  }
}

interface SealedParts {
  format: typeof FORMAT | typeof BOUND_FORMAT;
  dataKeyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function parseSealed(sealed: string): SealedParts {
  const malformed = () =>
    new SecretIntegrityError('The sealed secret is malformed');
  if (typeof sealed !== 'string') {
    throw malformed();
  }
  const parts = sealed.split('.');
  if (
    parts.length !== 5 ||
    (parts[0] !== FORMAT && parts[0] !== BOUND_FORMAT)
  ) {
    throw malformed();
  }
  const [format, dataKeyId, iv, ciphertext, tag] = parts;
  if (!isValidDataKeyId(dataKeyId)) {
    throw malformed();
  }
  const parsed = {
    format,
    dataKeyId,
    iv: decodeBase64Url(iv),
    ciphertext: decodeBase64Url(ciphertext),
    tag: decodeBase64Url(tag),
  };
  if (
    !parsed.iv ||
    !parsed.ciphertext ||
    !parsed.tag ||
    parsed.iv.length !== IV_BYTES ||
    parsed.tag.length !== TAG_BYTES
  ) {
    throw malformed();
  }
  return parsed as SealedParts;
}

/** Strict base64url: only canonical encodings, so one ciphertext has one spelling. */
function decodeBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL_PATTERN.test(text)) {
    return undefined;
  }
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** Length-prefixed fields, so no two different identities encode the same bytes. */
function associatedData(
  format: string,
  dataKeyId: string,
  identity: RecordIdentity,
): Buffer {
  if (
    typeof identity !== 'object' ||
    identity === null ||
    !isIdentityField(identity.type) ||
    !isIdentityField(identity.id) ||
    !Number.isSafeInteger(identity.version) ||
    identity.version < 0 ||
    (identity.binding !== undefined && !isIdentityField(identity.binding))
  ) {
    throw new InputError(
      'A record identity needs a non-empty type and id, a non-negative integer version and, if it has one, a non-empty binding',
    );
  }
  const fields = [
    AAD_LABEL,
    format,
    dataKeyId,
    identity.type,
    identity.id,
    String(identity.version),
    ...(identity.binding === undefined ? [] : [identity.binding]),
  ];
  return Buffer.concat(
    fields.flatMap(field => {
      const bytes = Buffer.from(field, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  );
}

function isIdentityField(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_IDENTITY_FIELD_LENGTH
  );
}

/**
 * Unwrapped data keys, held in memory while the keyring is unlocked. The
 * cache owns the buffers it is given and zero-fills them when they leave it.
 */
export class DataKeyCache {
  // A private field keeps keys out of console.log and util.inspect output.
  readonly #keys = new Map<string, Buffer>();

  /** The cached key; callers must not modify or keep it. */
  get(dataKeyId: string): Buffer | undefined {
    return this.#keys.get(dataKeyId);
  }

  has(dataKeyId: string): boolean {
    return this.#keys.has(dataKeyId);
  }

  /** Takes ownership of the key; a key it replaces is zero-filled. */
  set(dataKeyId: string, key: Buffer): void {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new InputError(`A data key must be ${KEY_BYTES} bytes`);
    }
    const previous = this.#keys.get(dataKeyId);
    if (previous && previous !== key) {
      previous.fill(0);
    }
    this.#keys.set(dataKeyId, key);
  }

  /** Zero-fills and drops one key. */
  delete(dataKeyId: string): boolean {
    const key = this.#keys.get(dataKeyId);
    key?.fill(0);
    return this.#keys.delete(dataKeyId);
  }

  /** Zero-fills and drops every key. */
  clear(): void {
    for (const key of this.#keys.values()) {
      key.fill(0);
    }
    this.#keys.clear();
  }

  get size(): number {
    return this.#keys.size;
  }
}
