import { InputError } from '@backstage/errors';
import {
  createMessage,
  decrypt,
  encrypt,
  enums,
  Key,
  PartialConfig,
  PrivateKey,
  PublicKey,
  PublicKeyEncryptedSessionKeyPacket,
  readKey,
  readMessage,
  readPrivateKey,
  SymEncryptedIntegrityProtectedDataPacket,
} from 'openpgp';
import {
  KeyringKeyLockedError,
  SecretIntegrityError,
  WrongPassphraseError,
} from './errors';
import { KeyDecryptionFailed, runInKeyWorker } from './keyDerivationWorker';
import {
  describeWeakPassphrase,
  MAX_PASSPHRASE_LENGTH,
  normalizePassphrase,
} from './passphrasePolicy';

/** A new keyring keypair. */
export interface GeneratedKeyPair {
  /** Lower-case hex OpenPGP fingerprint of the primary key. */
  fingerprint: string;
  armoredPublicKey: string;
  /** Encrypted with the passphrase; never stored or sent unencrypted. */
  armoredPrivateKey: string;
}

/** A keyring key whose private half is decrypted, in memory only. */
export interface UnlockedKeyringKey {
  readonly fingerprint: string;
  /** Encrypts a 32-byte data key to this key; returns an armored OpenPGP message. */
  wrapDataKey(dataKey: Uint8Array): Promise<string>;
  /** Throws SecretIntegrityError on any failure: bad armor, tampering, another key. */
  unwrapDataKey(wrapped: string): Promise<Buffer>;
  /**
   * Seals another unlocked key (a rotation's new key) to this one: encrypted
   * to this key and signed by it, so only a holder of this unlocked key can
   * take it over, and nobody who can only write to the database can forge it.
   */
  sealHandover(next: UnlockedKeyringKey): Promise<string>;
  /**
   * Opens what sealHandover wrote with this key; refuses anything not signed
   * by this key or not the key with the expected fingerprint.
   */
  openHandover(
    sealed: string,
    expectedFingerprint: string,
  ): Promise<UnlockedKeyringKey>;
  /** Forgets the decrypted private key; later calls throw KeyringKeyLockedError. */
  lock(): void;
}

export type RsaBits = 2048 | 3072 | 4096;

const RSA_BITS: readonly RsaBits[] = [2048, 3072, 4096];
const DATA_KEY_BYTES = 32;
const DEFAULT_USER_ID = 'Kubedeploy keyring';
const MAX_USER_ID_LENGTH = 200;
// Real keys and wrapped data keys are a few KiB; refuse anything far larger before parsing it.
const MAX_ARMORED_KEY_LENGTH = 64 * 1024;
const MAX_ARMORED_MESSAGE_LENGTH = 16 * 1024;
const MAX_ARMORED_HANDOVER_LENGTH = 64 * 1024;
const ARMORED_MESSAGE =
  /^-----BEGIN PGP MESSAGE-----\r?\n\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n(?:=[A-Za-z0-9+/]{4}\r?\n)?-----END PGP MESSAGE-----\r?\n?$/;
const BASE64_PATTERN =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Backdates new keys so replicas whose clocks run a little behind can encrypt to them at once.
const KEY_CREATION_BACKDATE_MS = 10 * 60 * 1000;

// New private keys are protected the RFC 9580 way: Argon2id (64 MiB, 3
// passes) and AEAD, which resists offline guessing far better than iterated
// SHA-256. Wrapped data keys use AES-256 with AEAD (SEIPDv2, GCM).
const ARGON2_PARAMS = { passes: 3, parallelism: 4, memoryExponent: 16 };
const WRITE_CONFIG: PartialConfig = {
  aeadProtect: true,
  preferredAEADAlgorithm: enums.aead.gcm,
  preferredSymmetricAlgorithm: enums.symmetric.aes256,
  preferredCompressionAlgorithm: enums.compression.uncompressed,
  s2kType: enums.s2k.argon2,
  s2kArgon2Params: ARGON2_PARAMS,
};
/**
 * The Argon2 costs a stored or uploaded key may ask for, each checked before
 * any derivation: up to one step above what we write (so at most about three
 * times the work of our own keys), and not so low that the key is barely
 * protected.
 */
export const ARGON2_LIMITS = {
  passes: { min: 1, max: ARGON2_PARAMS.passes + 1 },
  parallelism: { min: 1, max: ARGON2_PARAMS.parallelism * 2 },
  /** log2 of the memory in KiB: 8 MiB to 128 MiB. */
  memoryExponent: { min: 13, max: ARGON2_PARAMS.memoryExponent + 1 },
} as const;
// Caps what a stored or uploaded key can make us spend: Argon2 memory (also
// checked with the other costs before deriving, see describeKdfProblem) and
// any decompressed message at 1 KiB.
const READ_CONFIG: PartialConfig = {
  maxArgon2MemoryExponent: ARGON2_LIMITS.memoryExponent.max,
  maxDecompressedMessageSize: 1024,
  allowUnauthenticatedMessages: false,
};

/** An unlocked key; only OpenPgpKeyEngine.unlock creates these. */
class UnlockedOpenPgpKey implements UnlockedKeyringKey {
  readonly fingerprint: string;
  // Private fields stay out of console.log, util.inspect and JSON.stringify.
  #privateKey: PrivateKey | undefined;
  readonly #publicKey: PublicKey;
  /** Fingerprints (lower-case hex) of the subkeys that may decrypt. */
  readonly #decryptionFingerprints: Set<string>;

  private constructor(
    privateKey: PrivateKey,
    decryptionFingerprints: Set<string>,
  ) {
    this.fingerprint = privateKey.getFingerprint();
    this.#privateKey = privateKey;
    this.#publicKey = privateKey.toPublic();
    this.#decryptionFingerprints = decryptionFingerprints;
  }

  static async create(privateKey: PrivateKey): Promise<UnlockedOpenPgpKey> {
    const decryptionKeys = await privateKey.getDecryptionKeys();
    const fingerprints = new Set(decryptionKeys.map(k => k.getFingerprint()));
    return new UnlockedOpenPgpKey(privateKey, fingerprints);
  }

  async wrapDataKey(dataKey: Uint8Array): Promise<string> {
    this.requireUnlocked();
    return wrapTo(this.#publicKey, dataKey);
  }

  async unwrapDataKey(wrapped: string): Promise<Buffer> {
    const privateKey = this.requireUnlocked();
    const failed = () =>
      new SecretIntegrityError(
        `The wrapped data key could not be opened with keyring key ${this.fingerprint}`,
      );
    if (
      typeof wrapped !== 'string' ||
      wrapped.length > MAX_ARMORED_MESSAGE_LENGTH
    ) {
      throw failed();
    }
    let data: Uint8Array;
    try {
      // Read from bytes we decoded strictly ourselves, so the re-encoding
      // check below compares against exactly what was stored.
      const bytes = dearmorMessage(wrapped);
      const sessionKeyBytes = bytes && firstPacketBody(bytes);
      if (!bytes || !sessionKeyBytes) {
        throw failed();
      }
      const message = await readMessage({
        binaryMessage: bytes,
        config: READ_CONFIG,
      });
      // Only exactly what wrapDataKey writes: one v6 session key packet for
      // our subkey's full fingerprint (no passwords, no other recipients) and
      // one AES-256 AEAD (SEIPDv2) packet.
      const [sessionKeyPacket, dataPacket] = message.packets;
      const sessionKeyFields = sessionKeyPacket as unknown as {
        version?: number;
        publicKeyFingerprint?: Uint8Array | null;
        write(): Uint8Array;
      };
      const dataFields = dataPacket as unknown as {
        version?: number;
        cipherAlgorithm?: number;
      };
      if (
        message.packets.length !== 2 ||
        !(sessionKeyPacket instanceof PublicKeyEncryptedSessionKeyPacket) ||
        !(dataPacket instanceof SymEncryptedIntegrityProtectedDataPacket) ||
        sessionKeyFields.version !== 6 ||
        !sessionKeyFields.publicKeyFingerprint ||
        !this.#decryptionFingerprints.has(
          Buffer.from(sessionKeyFields.publicKeyFingerprint).toString('hex'),
        ) ||
        // OpenPGP parsing tolerates some slack (e.g. an MPI's bit count);
        // only the canonical encoding is ours.
        !Buffer.from(sessionKeyFields.write()).equals(sessionKeyBytes) ||
        dataFields.version !== 2 ||
        dataFields.cipherAlgorithm !== enums.symmetric.aes256
      ) {
        throw failed();
      }
      const result = await decrypt({
        message,
        decryptionKeys: privateKey,
        format: 'binary',
        expectSigned: false,
        config: READ_CONFIG,
      });
      data = result.data;
    } catch {
      // One message for every failure, so errors reveal nothing about where decryption failed.
      throw failed();
    }
    if (data.length !== DATA_KEY_BYTES) {
      data.fill(0);
      throw failed();
    }
    const dataKey = Buffer.from(data);
    data.fill(0);
    return dataKey;
  }

  async sealHandover(next: UnlockedKeyringKey): Promise<string> {
    const signingKey = this.requireUnlocked();
    if (!(next instanceof UnlockedOpenPgpKey)) {
      throw new InputError('Only a keyring key can be handed over');
    }
    const nextKey = next.requireUnlocked();
    return encrypt({
      message: await createMessage({
        binary: nextKey.write(),
        format: 'binary',
      }),
      encryptionKeys: this.#publicKey,
      signingKeys: signingKey,
      format: 'armored',
      config: WRITE_CONFIG,
    });
  }

  async openHandover(
    sealed: string,
    expectedFingerprint: string,
  ): Promise<UnlockedKeyringKey> {
    const privateKey = this.requireUnlocked();
    const failed = () =>
      new SecretIntegrityError(
        `The handover of keyring key ${expectedFingerprint} could not be opened with keyring key ${this.fingerprint}`,
      );
    if (
      typeof sealed !== 'string' ||
      sealed.length > MAX_ARMORED_HANDOVER_LENGTH
    ) {
      throw failed();
    }
    // The bytes are not zeroed once read: the key's parameters are views
    // into them, which lock() overwrites.
    let data: Uint8Array | undefined;
    try {
      const message = await readMessage({
        armoredMessage: sealed,
        config: READ_CONFIG,
      });
      const result = await decrypt({
        message,
        decryptionKeys: privateKey,
        verificationKeys: this.#publicKey,
        expectSigned: true,
        format: 'binary',
        config: READ_CONFIG,
      });
      const bytes: Uint8Array = result.data;
      data = bytes;
      const next = await readPrivateKey({
        binaryKey: bytes,
        config: READ_CONFIG,
      });
      if (
        !next.isDecrypted() ||
        next.getFingerprint() !== normalizeFingerprint(expectedFingerprint)
      ) {
        throw failed();
      }
      return await UnlockedOpenPgpKey.create(next);
    } catch {
      data?.fill(0);
      throw failed();
    }
  }

  lock(): void {
    const privateKey = this.#privateKey;
    this.#privateKey = undefined;
    if (privateKey) {
      // Overwrite the decrypted RSA parameters rather than wait for the garbage collector.
      for (const key of privateKey.getKeys()) {
        const packet = key.keyPacket as unknown as {
          clearPrivateParams?: () => void;
        };
        packet.clearPrivateParams?.();
      }
    }
  }

  private requireUnlocked(): PrivateKey {
    if (!this.#privateKey) {
      throw new KeyringKeyLockedError();
    }
    return this.#privateKey;
  }
}

/**
 * Generates and unlocks the keyring's RSA OpenPGP keypairs and wraps data
 * keys to them. Holds no keys itself.
 */
export class OpenPgpKeyEngine {
  private constructor(private readonly rsaBits: RsaBits) {}

  /** rsaBits defaults to 4096; tests may use 2048 for speed. */
  static create(options?: { rsaBits?: RsaBits }): OpenPgpKeyEngine {
    const rsaBits = options?.rsaBits ?? 4096;
    if (!RSA_BITS.includes(rsaBits)) {
      throw new InputError(`rsaBits must be one of ${RSA_BITS.join(', ')}`);
    }
    return new OpenPgpKeyEngine(rsaBits);
  }

  /**
   * Generates an RSA keypair (primary key plus encryption subkey) whose
   * private key is encrypted with the passphrase. Refuses weak passphrases.
   */
  async generate(
    passphrase: string,
    options?: { userId?: string },
  ): Promise<GeneratedKeyPair> {
    const weakness = describeWeakPassphrase(passphrase);
    if (weakness) {
      throw new InputError(`The keyring passphrase is too weak: ${weakness}`);
    }
    const userId = options?.userId ?? DEFAULT_USER_ID;
    if (
      userId.length === 0 ||
      userId.length > MAX_USER_ID_LENGTH ||
      /\p{Cc}/u.test(userId)
    ) {
      throw new InputError(
        `The key's user ID must have 1 to ${MAX_USER_ID_LENGTH} characters and no control characters`,
      );
    }
    // In a worker: RSA generation and the Argon2 protection both take long.
    const { armoredPrivateKey, armoredPublicKey } = await runInKeyWorker({
      op: 'generate',
      options: {
        type: 'rsa',
        rsaBits: this.rsaBits,
        userIDs: [{ name: userId }],
        passphrase: normalizePassphrase(passphrase),
        keyExpirationTime: 0,
        date: new Date(Date.now() - KEY_CREATION_BACKDATE_MS),
        config: WRITE_CONFIG,
      },
    });
    return {
      fingerprint: await this.fingerprintOf(armoredPublicKey),
      armoredPublicKey,
      armoredPrivateKey,
    };
  }

  /**
   * Decrypts a keyring private key. Throws WrongPassphraseError when the
   * passphrase does not open it, and SecretIntegrityError when the key is not
   * one of ours: unparseable, unprotected, not RSA of the configured size, or
   * not the key with the expected fingerprint, or asking for Argon2 costs
   * outside ARGON2_LIMITS (refused before deriving anything). The derivation
   * runs in a worker thread, never on the event loop.
   */
  async unlock(
    armoredPrivateKey: string,
    passphrase: string,
    expectedFingerprint?: string,
  ): Promise<UnlockedKeyringKey> {
    const lockedKey = await this.readPrivate(armoredPrivateKey);
    if (
      expectedFingerprint !== undefined &&
      lockedKey.getFingerprint() !== normalizeFingerprint(expectedFingerprint)
    ) {
      throw new SecretIntegrityError(
        'The keyring private key does not have the expected fingerprint',
      );
    }
    if (lockedKey.isDecrypted()) {
      throw new SecretIntegrityError(
        'The keyring private key is not protected by a passphrase',
      );
    }
    const kdfProblem = describeKdfProblem(lockedKey);
    if (kdfProblem) {
      throw new SecretIntegrityError(
        `The keyring private key cannot be unlocked: ${kdfProblem}`,
      );
    }
    if (
      typeof passphrase !== 'string' ||
      passphrase.length === 0 ||
      passphrase.length > MAX_PASSPHRASE_LENGTH * 2
    ) {
      throw new WrongPassphraseError();
    }
    let binaryKey: Uint8Array;
    try {
      ({ binaryKey } = await runInKeyWorker({
        op: 'decrypt',
        armoredKey: armoredPrivateKey,
        passphrase: normalizePassphrase(passphrase),
        config: READ_CONFIG,
      }));
    } catch (error) {
      if (error instanceof KeyDecryptionFailed) {
        // A damaged key fails here too; AEAD key protection cannot tell the two apart.
        throw new WrongPassphraseError();
      }
      throw error;
    }
    // Not zeroed after reading: the key's parameters are views into these
    // bytes, which lock() overwrites.
    let unlockedKey: PrivateKey;
    try {
      unlockedKey = await readPrivateKey({ binaryKey, config: READ_CONFIG });
    } catch {
      binaryKey.fill(0);
      throw new SecretIntegrityError('The keyring private key is unreadable');
    }
    if (
      !unlockedKey.isDecrypted() ||
      unlockedKey.getFingerprint() !== lockedKey.getFingerprint()
    ) {
      throw new SecretIntegrityError(
        'The keyring private key did not decrypt to itself',
      );
    }
    return UnlockedOpenPgpKey.create(unlockedKey);
  }

  /**
   * Checks, without deriving anything, that an uploaded private key (from a
   * backup) is one this engine can unlock: readable, RSA of the configured
   * size, passphrase-protected within ARGON2_LIMITS, with the fingerprint
   * named. Throws InputError saying what is wrong.
   */
  async checkPrivateKey(
    armoredPrivateKey: string,
    expectedFingerprint: string,
  ): Promise<void> {
    let key: PrivateKey;
    try {
      key = await this.readPrivate(armoredPrivateKey);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    if (key.getFingerprint() !== normalizeFingerprint(expectedFingerprint)) {
      throw new InputError(
        `The private key of ${expectedFingerprint} has another fingerprint`,
      );
    }
    if (key.isDecrypted()) {
      throw new InputError(
        `The private key of ${expectedFingerprint} is not protected by a passphrase`,
      );
    }
    const problem = describeKdfProblem(key);
    if (problem) {
      throw new InputError(
        `The private key of ${expectedFingerprint} is refused: ${problem}`,
      );
    }
  }

  /** Wraps a data key to a public key (for example a rotation's new key). */
  async wrapForPublicKey(
    armoredPublicKey: string,
    dataKey: Uint8Array,
  ): Promise<string> {
    const publicKey = await this.readPublic(armoredPublicKey);
    return wrapTo(publicKey, dataKey);
  }

  /** The lower-case hex fingerprint of an armored public or private key. */
  async fingerprintOf(armoredKey: string): Promise<string> {
    if (
      typeof armoredKey !== 'string' ||
      armoredKey.length > MAX_ARMORED_KEY_LENGTH
    ) {
      throw new InputError('Not an armored OpenPGP key');
    }
    try {
      const key = await readKey({ armoredKey, config: READ_CONFIG });
      return key.getFingerprint();
    } catch {
      throw new InputError('Not an armored OpenPGP key');
    }
  }

  private async readPrivate(armoredPrivateKey: string): Promise<PrivateKey> {
    if (
      typeof armoredPrivateKey !== 'string' ||
      armoredPrivateKey.length > MAX_ARMORED_KEY_LENGTH
    ) {
      throw new SecretIntegrityError('The keyring private key is unreadable');
    }
    let key: PrivateKey;
    try {
      key = await readPrivateKey({
        armoredKey: armoredPrivateKey,
        config: READ_CONFIG,
      });
    } catch {
      throw new SecretIntegrityError('The keyring private key is unreadable');
    }
    if (!this.hasExpectedAlgorithm(key)) {
      throw new SecretIntegrityError(
        `The keyring private key is not an RSA-${this.rsaBits} key`,
      );
    }
    return key;
  }

  private async readPublic(armoredPublicKey: string): Promise<PublicKey> {
    if (
      typeof armoredPublicKey !== 'string' ||
      armoredPublicKey.length > MAX_ARMORED_KEY_LENGTH
    ) {
      throw new InputError('Not an armored OpenPGP public key');
    }
    let key: Key;
    try {
      key = await readKey({
        armoredKey: armoredPublicKey,
        config: READ_CONFIG,
      });
    } catch {
      throw new InputError('Not an armored OpenPGP public key');
    }
    if (!this.hasExpectedAlgorithm(key)) {
      throw new InputError(`The public key is not an RSA-${this.rsaBits} key`);
    }
    return key.toPublic();
  }

  /** Every key packet (primary and subkeys) is RSA of exactly the configured size. */
  private hasExpectedAlgorithm(key: Key): boolean {
    return key.getKeys().every(k => {
      const { algorithm, bits } = k.getAlgorithmInfo();
      return (
        (algorithm === 'rsaEncryptSign' ||
          algorithm === 'rsaEncrypt' ||
          algorithm === 'rsaSign') &&
        bits === this.rsaBits
      );
    });
  }
}

async function wrapTo(
  publicKey: PublicKey,
  dataKey: Uint8Array,
): Promise<string> {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
    throw new InputError(`A data key must be ${DATA_KEY_BYTES} bytes`);
  }
  return encrypt({
    message: await createMessage({ binary: dataKey, format: 'binary' }),
    encryptionKeys: publicKey,
    format: 'armored',
    config: WRITE_CONFIG,
  });
}

/**
 * Strict ASCII armor of a PGP MESSAGE without headers, as openpgp writes it:
 * canonical base64, an optional checksum line (ignored; AEAD protects the
 * contents). Undefined for anything else.
 */
function dearmorMessage(armored: string): Buffer | undefined {
  const match = ARMORED_MESSAGE.exec(armored);
  if (!match) {
    return undefined;
  }
  const base64 = match[1].replace(/\r?\n/g, '');
  if (!BASE64_PATTERN.test(base64)) {
    return undefined;
  }
  const bytes = Buffer.from(base64, 'base64');
  return bytes.toString('base64') === base64 ? bytes : undefined;
}

/** The body of the first packet, which must be a session key packet with a definite length. */
function firstPacketBody(bytes: Buffer): Buffer | undefined {
  // New-format header for tag 1: 0b11000001.
  if (bytes.length < 2 || bytes[0] !== 0xc1) {
    return undefined;
  }
  let headerLength: number;
  let bodyLength: number;
  if (bytes[1] < 192) {
    headerLength = 2;
    bodyLength = bytes[1];
  } else if (bytes[1] < 224 && bytes.length >= 3) {
    headerLength = 3;
    bodyLength = ((bytes[1] - 192) << 8) + bytes[2] + 192;
  } else if (bytes[1] === 255 && bytes.length >= 6) {
    headerLength = 6;
    bodyLength = bytes.readUInt32BE(2);
  } else {
    return undefined;
  }
  if (headerLength + bodyLength > bytes.length) {
    return undefined;
  }
  return bytes.subarray(headerLength, headerLength + bodyLength);
}

/**
 * What is wrong with the passphrase protection of a key's packets, read from
 * the key itself, or undefined: every packet must use Argon2 with each cost
 * (passes, parallelism, memory) within ARGON2_LIMITS, or iterated and salted
 * S2K (whose cost the format caps at 65 MiB of hashing).
 */
export function describeKdfProblem(key: Key): string | undefined {
  for (const k of key.getKeys()) {
    const packet = k.keyPacket as unknown as {
      s2kUsage?: number;
      s2k?: {
        type?: string;
        t?: number;
        p?: number;
        encodedM?: number;
      } | null;
    };
    if (!packet.s2kUsage) {
      return 'a key packet is not passphrase-protected';
    }
    const s2k = packet.s2k;
    if (s2k?.type === 'iterated') {
      continue;
    }
    if (s2k?.type !== 'argon2') {
      return `its passphrase protection (${
        s2k?.type ?? 'none'
      }) is neither Argon2 nor iterated and salted`;
    }
    const costs: Array<
      [string, number | undefined, { min: number; max: number }]
    > = [
      ['passes', s2k.t, ARGON2_LIMITS.passes],
      ['parallelism', s2k.p, ARGON2_LIMITS.parallelism],
      ['memory exponent', s2k.encodedM, ARGON2_LIMITS.memoryExponent],
    ];
    for (const [name, value, { min, max }] of costs) {
      if (
        typeof value !== 'number' ||
        !Number.isInteger(value) ||
        value < min ||
        value > max
      ) {
        return `its Argon2 ${name} is ${value}, outside ${min} to ${max}`;
      }
    }
  }
  return undefined;
}

function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/\s+/g, '').toLowerCase();
}
