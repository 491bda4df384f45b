import { InputError } from '@backstage/errors';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { isValidDataKeyId } from '../secrets/EnvelopeCipher';
import { BackupCorruptedError, BackupPassphraseError } from './errors';
import {
  describeWeakPassphrase,
  MAX_PASSPHRASE_LENGTH,
  normalizePassphrase,
} from './passphrasePolicy';

/** What a `.kbk` keyring backup holds once decrypted. */
export interface KeyringBackupContents {
  formatVersion: 1;
  /** The active keyring key. */
  fingerprint: string;
  /** ISO time. */
  capturedAt: string;
  keys: Array<{
    fingerprint: string;
    armoredPublicKey: string;
    /** Still encrypted with the keyring's unlock passphrase. */
    armoredPrivateKey: string;
    state: 'active' | 'pending' | 'retired';
    createdAt: string;
  }>;
  dataKeys: Array<{
    id: string;
    createdAt: string;
    wraps: Array<{ fingerprint: string; wrapped: string }>;
  }>;
}

/** What may be shown about a backup: never key material. */
export interface KeyringBackupMetadata {
  formatVersion: number;
  fingerprint: string;
  capturedAt: string;
  keyCount: number;
  dataKeyCount: number;
}

/** The largest `.kbk` file accepted, checked before anything else is read. */
export const MAX_BACKUP_BYTES = 8 * 1024 * 1024;

/*
 * The file is JSON:
 *
 *   { "format": "kubedeploy-keyring-backup", "version": 1,
 *     "kdf": { "name": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": b64 },
 *     "iv": b64, "check": b64, "ciphertext": b64, "tag": b64, "digest": b64 }
 *
 * scrypt turns the backup passphrase into 64 bytes: an AES-256-GCM key and an
 * HMAC-SHA256 key. `check` is the HMAC of the canonical header (format,
 * version, KDF parameters, salt, iv), which is also the GCM associated data;
 * it tells a wrong passphrase from a damaged file. `digest` is an unkeyed
 * SHA-256 of everything else, so accidental damage anywhere, the header
 * included, is reported as damage instead of as a wrong passphrase, and
 * without running scrypt. Deliberate tampering that also fixes the digest is
 * still caught by the check or the GCM tag.
 */
const FORMAT = 'kubedeploy-keyring-backup';
const VERSION = 1;
const KDF_NAME = 'scrypt';
const CHECK_LABEL = 'kubedeploy-keyring-backup/check\0';
const DIGEST_LABEL = 'kubedeploy-keyring-backup/digest\0';

// What we write: 128 MiB of memory, about half a second.
const SCRYPT_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 };
// What we accept from a file. Each parameter is capped, and so are the memory
// (128·N·r) and the work (N·r·p) they add up to, so an uploaded file cannot
// make the server spend more than a few times what a real backup costs.
const SCRYPT_MIN_LOG2_N = 14;
const SCRYPT_MAX_LOG2_N = 18;
const SCRYPT_MAX_R = 16;
const SCRYPT_MAX_P = 4;
const SCRYPT_MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const SCRYPT_MAX_WORK = 2 ** 22;

const SALT_BYTES = 32;
const MIN_SALT_BYTES = 16;
const MAX_SALT_BYTES = 64;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HMAC_BYTES = 32;
const DERIVED_BYTES = 64;

const KEY_STATES = new Set(['active', 'pending', 'retired']);
const FINGERPRINT_PATTERN = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
const BASE64_PATTERN =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_TIME_LENGTH = 64;

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

interface Envelope {
  params: ScryptParams;
  salt: Buffer;
  iv: Buffer;
  check: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  digest: Buffer;
}

/**
 * Encrypts keyring contents into a `.kbk` file under a backup passphrase,
 * which must meet the passphrase rule (InputError otherwise).
 */
export async function encodeKeyringBackup(
  contents: KeyringBackupContents,
  passphrase: string,
): Promise<Buffer> {
  const clean = checkContents(contents, problem => {
    throw new InputError(`The keyring backup contents are invalid: ${problem}`);
  });
  const weakness = describeWeakPassphrase(passphrase);
  if (weakness) {
    throw new InputError(`The backup passphrase is too weak: ${weakness}`);
  }

  const params = SCRYPT_DEFAULTS;
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const header = canonicalHeader(params, salt, iv);
  const derived = await deriveKeys(passphrase, salt, params);
  const plaintext = Buffer.from(JSON.stringify(clean), 'utf8');
  try {
    const cipher = createCipheriv('aes-256-gcm', derived.subarray(0, 32), iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(header);
    const ciphertext = Buffer.concat([
      cipher.update(plaintext),
      cipher.final(),
    ]);
    const tag = cipher.getAuthTag();
    const check = computeCheck(derived.subarray(32), header);
    const digest = computeDigest(header, check, ciphertext, tag);
    const file = Buffer.from(
      `${JSON.stringify(
        {
          format: FORMAT,
          version: VERSION,
          kdf: { name: KDF_NAME, ...params, salt: salt.toString('base64') },
          iv: iv.toString('base64'),
          check: check.toString('base64'),
          ciphertext: ciphertext.toString('base64'),
          tag: tag.toString('base64'),
          digest: digest.toString('base64'),
        },
        undefined,
        2,
      )}\n`,
      'utf8',
    );
    if (file.length > MAX_BACKUP_BYTES) {
      // A backup that could not be restored is worse than none.
      throw new InputError(
        `The keyring backup would be larger than ${MAX_BACKUP_BYTES} bytes`,
      );
    }
    return file;
  } finally {
    derived.fill(0);
    plaintext.fill(0);
  }
}

/**
 * Decrypts a `.kbk` file. Throws InputError when it is not an acceptable
 * backup file (too large, unknown format or version, cost parameters out of
 * bounds), BackupPassphraseError when the passphrase is wrong, and
 * BackupCorruptedError when the file is damaged.
 */
export async function decodeKeyringBackup(
  file: Buffer | string,
  passphrase: string,
): Promise<KeyringBackupContents> {
  const envelope = readEnvelope(file);
  const header = canonicalHeader(envelope.params, envelope.salt, envelope.iv);
  const digest = computeDigest(
    header,
    envelope.check,
    envelope.ciphertext,
    envelope.tag,
  );
  if (!timingSafeEqual(digest, envelope.digest)) {
    throw new BackupCorruptedError(
      'The keyring backup is damaged: its digest does not match its contents',
    );
  }
  if (
    typeof passphrase !== 'string' ||
    passphrase.length === 0 ||
    passphrase.length > MAX_PASSPHRASE_LENGTH * 2
  ) {
    throw new BackupPassphraseError();
  }

  const derived = await deriveKeys(passphrase, envelope.salt, envelope.params);
  let plaintext: Buffer | undefined;
  try {
    const check = computeCheck(derived.subarray(32), header);
    if (!timingSafeEqual(check, envelope.check)) {
      throw new BackupPassphraseError();
    }
    const decipher = createDecipheriv(
      'aes-256-gcm',
      derived.subarray(0, 32),
      envelope.iv,
      { authTagLength: TAG_BYTES },
    );
    decipher.setAAD(header);
    decipher.setAuthTag(envelope.tag);
    const body = decipher.update(envelope.ciphertext);
    try {
      plaintext = Buffer.concat([body, decipher.final()]);
    } catch {
      throw new BackupCorruptedError(
        'The keyring backup is damaged: its contents fail authentication',
      );
    } finally {
      body.fill(0);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(plaintext.toString('utf8'));
    } catch {
      // Never pass on the parser's message: it quotes the (secret) text.
      throw new BackupCorruptedError(
        'The keyring backup is damaged: its contents are not JSON',
      );
    }
    return checkContents(parsed, problem => {
      throw new BackupCorruptedError(
        `The keyring backup is damaged: ${problem}`,
      );
    });
  } finally {
    derived.fill(0);
    plaintext?.fill(0);
  }
}

/** The parts of a backup that may be shown to an administrator. */
export function describeKeyringBackup(
  contents: KeyringBackupContents,
): KeyringBackupMetadata {
  return {
    formatVersion: contents.formatVersion,
    fingerprint: contents.fingerprint,
    capturedAt: contents.capturedAt,
    keyCount: contents.keys.length,
    dataKeyCount: contents.dataKeys.length,
  };
}

/** Parses and bounds-checks the outer JSON; runs no key derivation. */
function readEnvelope(file: Buffer | string): Envelope {
  const notBackup = (detail: string) =>
    new InputError(`Not a usable keyring backup (.kbk) file: ${detail}`);
  if (typeof file === 'string') {
    // UTF-16 length never exceeds the UTF-8 byte length, so this is a safe early exit.
    if (
      file.length > MAX_BACKUP_BYTES ||
      Buffer.byteLength(file, 'utf8') > MAX_BACKUP_BYTES
    ) {
      throw notBackup(`it is larger than ${MAX_BACKUP_BYTES} bytes`);
    }
  } else if (!Buffer.isBuffer(file)) {
    throw notBackup('no file was given');
  } else if (file.length > MAX_BACKUP_BYTES) {
    throw notBackup(`it is larger than ${MAX_BACKUP_BYTES} bytes`);
  }

  let raw: unknown;
  try {
    raw = JSON.parse(typeof file === 'string' ? file : file.toString('utf8'));
  } catch {
    throw notBackup('it is not JSON');
  }
  if (!isRecord(raw) || raw.format !== FORMAT) {
    throw notBackup('it is not in the kubedeploy keyring backup format');
  }
  if (raw.version !== VERSION) {
    throw notBackup('its format version is not supported');
  }

  const kdf = raw.kdf;
  if (!isRecord(kdf) || kdf.name !== KDF_NAME) {
    throw notBackup('its key derivation is not scrypt');
  }
  const { N, r, p } = kdf;
  if (
    !isIntegerIn(N, 2 ** SCRYPT_MIN_LOG2_N, 2 ** SCRYPT_MAX_LOG2_N) ||
    (N & (N - 1)) !== 0
  ) {
    throw notBackup(
      `scrypt N must be a power of two from 2^${SCRYPT_MIN_LOG2_N} to 2^${SCRYPT_MAX_LOG2_N}`,
    );
  }
  if (!isIntegerIn(r, 1, SCRYPT_MAX_R)) {
    throw notBackup(`scrypt r must be from 1 to ${SCRYPT_MAX_R}`);
  }
  if (!isIntegerIn(p, 1, SCRYPT_MAX_P)) {
    throw notBackup(`scrypt p must be from 1 to ${SCRYPT_MAX_P}`);
  }
  if (128 * N * r > SCRYPT_MAX_MEMORY_BYTES || N * r * p > SCRYPT_MAX_WORK) {
    throw notBackup('its scrypt parameters together cost too much');
  }

  const salt = decodeBase64(kdf.salt);
  if (!salt || salt.length < MIN_SALT_BYTES || salt.length > MAX_SALT_BYTES) {
    throw notBackup(
      `the salt must be ${MIN_SALT_BYTES} to ${MAX_SALT_BYTES} bytes`,
    );
  }
  const iv = decodeBase64(raw.iv);
  if (!iv || iv.length !== IV_BYTES) {
    throw notBackup(`the iv must be ${IV_BYTES} bytes`);
  }
  const tag = decodeBase64(raw.tag);
  if (!tag || tag.length !== TAG_BYTES) {
    throw notBackup(`the tag must be ${TAG_BYTES} bytes`);
  }
  const check = decodeBase64(raw.check);
  const digest = decodeBase64(raw.digest);
  if (!check || check.length !== HMAC_BYTES) {
    throw notBackup(`the check must be ${HMAC_BYTES} bytes`);
  }
  if (!digest || digest.length !== HMAC_BYTES) {
    throw notBackup(`the digest must be ${HMAC_BYTES} bytes`);
  }
  const ciphertext = decodeBase64(raw.ciphertext);
  if (!ciphertext || ciphertext.length === 0) {
    throw notBackup('the ciphertext is missing');
  }
  return { params: { N, r, p }, salt, iv, check, ciphertext, tag, digest };
}

/** The header bytes that `check` covers and GCM authenticates. */
function canonicalHeader(
  params: ScryptParams,
  salt: Buffer,
  iv: Buffer,
): Buffer {
  return Buffer.from(
    JSON.stringify([
      FORMAT,
      VERSION,
      KDF_NAME,
      params.N,
      params.r,
      params.p,
      salt.toString('base64'),
      iv.toString('base64'),
    ]),
    'utf8',
  );
}

function computeCheck(macKey: Buffer, header: Buffer): Buffer {
  return createHmac('sha256', macKey)
    .update(CHECK_LABEL)
    .update(header)
    .digest();
}

function computeDigest(
  header: Buffer,
  check: Buffer,
  ciphertext: Buffer,
  tag: Buffer,
): Buffer {
  const hash = createHash('sha256').update(DIGEST_LABEL);
  for (const part of [header, check, ciphertext, tag]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    hash.update(length).update(part);
  }
  return hash.digest();
}

/** scrypt on the libuv thread pool, with maxmem sized to the (already capped) parameters. */
function deriveKeys(
  passphrase: string,
  salt: Buffer,
  params: ScryptParams,
): Promise<Buffer> {
  // OpenSSL needs 128·r·(N + 2) bytes for V plus 128·r·p for B; add slack.
  const maxmem = 128 * params.r * (params.N + 2 + params.p) + 1024 * 1024;
  const secret = Buffer.from(normalizePassphrase(passphrase), 'utf8');
  return new Promise((resolve, reject) => {
    scrypt(
      secret,
      salt,
      DERIVED_BYTES,
      { N: params.N, r: params.r, p: params.p, maxmem },
      (error, derived) => {
        secret.fill(0);
        if (error) {
          reject(new Error('scrypt key derivation failed'));
        } else {
          resolve(derived);
        }
      },
    );
  });
}

/**
 * Checks the shape of backup contents and returns a copy with only the known
 * fields. `fail` is called with a description that names fields, never values.
 */
function checkContents(
  value: unknown,
  fail: (problem: string) => never,
): KeyringBackupContents {
  if (!isRecord(value)) {
    return fail('the contents are not an object');
  }
  if (value.formatVersion !== 1) {
    return fail('formatVersion is not 1');
  }
  const fingerprint = value.fingerprint;
  if (!isFingerprint(fingerprint)) {
    return fail('fingerprint is not a lower-case hex fingerprint');
  }
  if (!isTime(value.capturedAt)) {
    return fail('capturedAt is not an ISO time');
  }
  if (!Array.isArray(value.keys) || value.keys.length === 0) {
    return fail('keys is not a non-empty array');
  }
  if (!Array.isArray(value.dataKeys)) {
    return fail('dataKeys is not an array');
  }

  const keys: KeyringBackupContents['keys'] = [];
  const fingerprints = new Set<string>();
  for (const [index, key] of value.keys.entries()) {
    const where = `keys[${index}]`;
    if (!isRecord(key)) {
      return fail(`${where} is not an object`);
    }
    if (!isFingerprint(key.fingerprint)) {
      return fail(`${where}.fingerprint is not a lower-case hex fingerprint`);
    }
    if (fingerprints.has(key.fingerprint)) {
      return fail(`${where}.fingerprint appears twice`);
    }
    fingerprints.add(key.fingerprint);
    if (!isArmored(key.armoredPublicKey, 'PGP PUBLIC KEY BLOCK')) {
      return fail(`${where}.armoredPublicKey is not an armored public key`);
    }
    if (!isArmored(key.armoredPrivateKey, 'PGP PRIVATE KEY BLOCK')) {
      return fail(`${where}.armoredPrivateKey is not an armored private key`);
    }
    if (typeof key.state !== 'string' || !KEY_STATES.has(key.state)) {
      return fail(`${where}.state is not one of active, pending, retired`);
    }
    if (!isTime(key.createdAt)) {
      return fail(`${where}.createdAt is not an ISO time`);
    }
    keys.push({
      fingerprint: key.fingerprint,
      armoredPublicKey: key.armoredPublicKey,
      armoredPrivateKey: key.armoredPrivateKey,
      state: key.state as 'active' | 'pending' | 'retired',
      createdAt: key.createdAt,
    });
  }
  const active = keys.filter(k => k.state === 'active');
  if (active.length !== 1 || active[0].fingerprint !== fingerprint) {
    return fail('fingerprint does not name the one active key');
  }
  if (keys.filter(k => k.state === 'pending').length > 1) {
    return fail('more than one key is pending');
  }

  const dataKeys: KeyringBackupContents['dataKeys'] = [];
  const dataKeyIds = new Set<string>();
  for (const [index, dataKey] of value.dataKeys.entries()) {
    const where = `dataKeys[${index}]`;
    if (!isRecord(dataKey)) {
      return fail(`${where} is not an object`);
    }
    if (typeof dataKey.id !== 'string' || !isValidDataKeyId(dataKey.id)) {
      return fail(`${where}.id is not a data key id`);
    }
    if (dataKeyIds.has(dataKey.id)) {
      return fail(`${where}.id appears twice`);
    }
    dataKeyIds.add(dataKey.id);
    if (!isTime(dataKey.createdAt)) {
      return fail(`${where}.createdAt is not an ISO time`);
    }
    if (!Array.isArray(dataKey.wraps) || dataKey.wraps.length === 0) {
      return fail(`${where}.wraps is not a non-empty array`);
    }
    const wraps: Array<{ fingerprint: string; wrapped: string }> = [];
    for (const [wrapIndex, wrap] of dataKey.wraps.entries()) {
      const wrapWhere = `${where}.wraps[${wrapIndex}]`;
      if (!isRecord(wrap)) {
        return fail(`${wrapWhere} is not an object`);
      }
      if (
        typeof wrap.fingerprint !== 'string' ||
        !fingerprints.has(wrap.fingerprint)
      ) {
        return fail(
          `${wrapWhere}.fingerprint does not name a key in the backup`,
        );
      }
      if (wraps.some(w => w.fingerprint === wrap.fingerprint)) {
        return fail(`${wrapWhere}.fingerprint appears twice`);
      }
      if (!isArmored(wrap.wrapped, 'PGP MESSAGE')) {
        return fail(`${wrapWhere}.wrapped is not an armored OpenPGP message`);
      }
      wraps.push({ fingerprint: wrap.fingerprint, wrapped: wrap.wrapped });
    }
    dataKeys.push({ id: dataKey.id, createdAt: dataKey.createdAt, wraps });
  }

  return {
    formatVersion: 1,
    fingerprint,
    capturedAt: value.capturedAt,
    keys,
    dataKeys,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntegerIn(
  value: unknown,
  min: number,
  max: number,
): value is number {
  return (
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= min &&
    value <= max
  );
}

function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && FINGERPRINT_PATTERN.test(value);
}

function isTime(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= MAX_TIME_LENGTH &&
    /^\d{4}-\d{2}-\d{2}T/.test(value) &&
    !Number.isNaN(Date.parse(value))
  );
}

function isArmored(value: unknown, label: string): value is string {
  return (
    typeof value === 'string' &&
    value.includes(`-----BEGIN ${label}-----`) &&
    value.includes(`-----END ${label}-----`)
  );
}

/** Strict, canonical base64; undefined for anything else. */
function decodeBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !BASE64_PATTERN.test(value)) {
    return undefined;
  }
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : undefined;
}
