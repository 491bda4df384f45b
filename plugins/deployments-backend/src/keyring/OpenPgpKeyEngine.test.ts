import { InputError } from '@backstage/errors';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  armor,
  createMessage,
  encrypt,
  enums,
  generateKey,
  readKey,
  readMessage,
  readPrivateKey,
} from 'openpgp';
import {
  KeyringKeyLockedError,
  SecretIntegrityError,
  WrongPassphraseError,
} from './errors';
import { GeneratedKeyPair, OpenPgpKeyEngine } from './OpenPgpKeyEngine';

const PASSPHRASE = 'Quiet-Otter-Harbour-42';
const OTHER_PASSPHRASE = 'Amber-Falcon-Meadow-97';

/** The binary packets of an armored wrapped data key (the base64 body lines). */
function packetsOf(wrapped: string): Uint8Array {
  const lines = wrapped.trim().split(/\r?\n/);
  const body = lines
    .slice(lines.indexOf('') + 1, -1)
    .filter(line => !line.startsWith('='));
  return Uint8Array.from(Buffer.from(body.join(''), 'base64'));
}

// Argon2id unlocks and RSA key generation take seconds when the machine is busy.
jest.setTimeout(60_000);

describe('OpenPgpKeyEngine', () => {
  // 2048-bit keys keep the suite fast; one test below checks a real 4096-bit key.
  const engine = OpenPgpKeyEngine.create({ rsaBits: 2048 });
  let pair: GeneratedKeyPair;
  let otherPair: GeneratedKeyPair;

  beforeAll(async () => {
    [pair, otherPair] = await Promise.all([
      engine.generate(PASSPHRASE),
      engine.generate(OTHER_PASSPHRASE, { userId: 'Another keyring' }),
    ]);
  }, 60_000);

  describe('generate and unlock', () => {
    it('round-trips a keypair protected by the passphrase', async () => {
      expect(pair.fingerprint).toMatch(/^[0-9a-f]{40}$/);
      expect(pair.armoredPublicKey).toContain('BEGIN PGP PUBLIC KEY BLOCK');
      expect(pair.armoredPrivateKey).toContain('BEGIN PGP PRIVATE KEY BLOCK');
      expect(await engine.fingerprintOf(pair.armoredPublicKey)).toBe(
        pair.fingerprint,
      );
      expect(await engine.fingerprintOf(pair.armoredPrivateKey)).toBe(
        pair.fingerprint,
      );

      const stored = await readPrivateKey({
        armoredKey: pair.armoredPrivateKey,
      });
      expect(stored.isDecrypted()).toBe(false);
      for (const key of stored.getKeys()) {
        // Argon2 S2K with AEAD protection (RFC 9580, S2K usage 253).
        const packet = key.keyPacket as unknown as {
          s2kUsage: number;
          s2k: { type: string };
        };
        expect(packet.s2kUsage).toBe(253);
        expect(packet.s2k.type).toBe('argon2');
      }

      const unlocked = await engine.unlock(
        pair.armoredPrivateKey,
        PASSPHRASE,
        pair.fingerprint,
      );
      expect(unlocked.fingerprint).toBe(pair.fingerprint);
    });

    it('refuses a wrong passphrase with WrongPassphraseError', async () => {
      const attempt = engine.unlock(pair.armoredPrivateKey, OTHER_PASSPHRASE);
      await expect(attempt).rejects.toThrow(WrongPassphraseError);
      await expect(attempt).rejects.toMatchObject({
        name: 'WrongPassphraseError',
      });
      await expect(engine.unlock(pair.armoredPrivateKey, '')).rejects.toThrow(
        WrongPassphraseError,
      );
    });

    it('never puts the passphrase in an error message', async () => {
      const error = await engine
        .unlock(pair.armoredPrivateKey, OTHER_PASSPHRASE)
        .catch(e => e);
      expect(String(error.message)).not.toContain(OTHER_PASSPHRASE);
      expect(error.cause).toBeUndefined();
    });

    it('accepts the NFD spelling of a passphrase created in NFC', async () => {
      const composed = 'Crème-Brûlée-Forêt-42';
      const accented = await engine.generate(composed);
      await expect(
        engine.unlock(accented.armoredPrivateKey, composed.normalize('NFD')),
      ).resolves.toMatchObject({ fingerprint: accented.fingerprint });
    }, 30_000);

    it('checks the expected fingerprint before trying the passphrase', async () => {
      await expect(
        engine.unlock(
          pair.armoredPrivateKey,
          PASSPHRASE,
          otherPair.fingerprint,
        ),
      ).rejects.toThrow(SecretIntegrityError);
      const spaced = pair.fingerprint
        .toUpperCase()
        .replace(/(.{4})/g, '$1 ')
        .trim();
      await expect(
        engine.unlock(pair.armoredPrivateKey, PASSPHRASE, spaced),
      ).resolves.toMatchObject({ fingerprint: pair.fingerprint });
    });

    it('refuses a key of another size than the engine is configured for', async () => {
      const engine3072 = OpenPgpKeyEngine.create({ rsaBits: 3072 });
      await expect(
        engine3072.unlock(pair.armoredPrivateKey, PASSPHRASE),
      ).rejects.toThrow(/not an RSA-3072 key/);
      await expect(
        engine3072.wrapForPublicKey(pair.armoredPublicKey, randomBytes(32)),
      ).rejects.toThrow(InputError);
    });

    it('refuses an unreadable key and a public key as SecretIntegrityError', async () => {
      await expect(engine.unlock('not a key', PASSPHRASE)).rejects.toThrow(
        SecretIntegrityError,
      );
      await expect(
        engine.unlock(pair.armoredPublicKey, PASSPHRASE),
      ).rejects.toThrow(SecretIntegrityError);
    });

    it('refuses a private key that has no passphrase', async () => {
      const { privateKey } = await generateKey({
        type: 'rsa',
        rsaBits: 2048,
        userIDs: [{ name: 'Unprotected' }],
        format: 'armored',
      });
      await expect(engine.unlock(privateKey, PASSPHRASE)).rejects.toThrow(
        /not protected by a passphrase/,
      );
    }, 30_000);

    it('refuses a weak passphrase and a bad user ID', async () => {
      await expect(engine.generate('password')).rejects.toThrow(InputError);
      await expect(engine.generate('Password123!')).rejects.toThrow(
        /at least 12 characters/,
      );
      await expect(
        engine.generate(PASSPHRASE, { userId: 'bad\nname' }),
      ).rejects.toThrow(InputError);
    });

    it('refuses unsupported key sizes', () => {
      expect(() =>
        OpenPgpKeyEngine.create({ rsaBits: 1024 as unknown as 2048 }),
      ).toThrow(InputError);
    });

    it('generates a real RSA-4096 keypair by default', async () => {
      const engine4096 = OpenPgpKeyEngine.create();
      const generated = await engine4096.generate(PASSPHRASE);
      const publicKey = await readKey({
        armoredKey: generated.armoredPublicKey,
      });
      const sizes = publicKey.getKeys().map(k => k.getAlgorithmInfo());
      expect(sizes).toHaveLength(2); // primary key and encryption subkey
      for (const info of sizes) {
        expect(info).toEqual({ algorithm: 'rsaEncryptSign', bits: 4096 });
      }
      const unlocked = await engine4096.unlock(
        generated.armoredPrivateKey,
        PASSPHRASE,
        generated.fingerprint,
      );
      const dataKey = randomBytes(32);
      expect(
        await unlocked.unwrapDataKey(await unlocked.wrapDataKey(dataKey)),
      ).toEqual(dataKey);
    }, 180_000);
  });

  describe('wrap and unwrap', () => {
    it('round-trips a data key', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const dataKey = randomBytes(32);
      const wrapped = await unlocked.wrapDataKey(dataKey);
      expect(wrapped).toContain('BEGIN PGP MESSAGE');
      expect(wrapped).not.toContain(dataKey.toString('base64'));
      const unwrapped = await unlocked.unwrapDataKey(wrapped);
      expect(Buffer.isBuffer(unwrapped)).toBe(true);
      expect(unwrapped.equals(dataKey)).toBe(true);

      // Every wrap is fresh: a new session key each time.
      expect(await unlocked.wrapDataKey(dataKey)).not.toBe(wrapped);
    });

    it('wraps with AES-256 in an AEAD packet to the encryption subkey', async () => {
      const wrapped = await engine.wrapForPublicKey(
        pair.armoredPublicKey,
        randomBytes(32),
      );
      const message = await readMessage({ armoredMessage: wrapped });
      const [sessionKey, data] = message.packets as unknown as Array<{
        constructor: { tag: number };
        version?: number;
        cipherAlgorithm?: number;
      }>;
      expect(sessionKey.constructor.tag).toBe(
        enums.packet.publicKeyEncryptedSessionKey,
      );
      expect(data.constructor.tag).toBe(
        enums.packet.symEncryptedIntegrityProtectedData,
      );
      expect(data.version).toBe(2);
      expect(data.cipherAlgorithm).toBe(enums.symmetric.aes256);
    });

    it('unwraps what wrapForPublicKey wrapped', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const dataKey = randomBytes(32);
      const wrapped = await engine.wrapForPublicKey(
        pair.armoredPublicKey,
        dataKey,
      );
      expect((await unlocked.unwrapDataKey(wrapped)).equals(dataKey)).toBe(
        true,
      );
    });

    it('refuses data keys that are not 32 bytes', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      await expect(unlocked.wrapDataKey(randomBytes(16))).rejects.toThrow(
        InputError,
      );
      await expect(
        engine.wrapForPublicKey(pair.armoredPublicKey, randomBytes(33)),
      ).rejects.toThrow(InputError);
    });

    it('refuses a wrapped key with any flipped byte, never returning a wrong key', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const dataKey = randomBytes(32);
      const packets = packetsOf(await unlocked.wrapDataKey(dataKey));
      expect(packets.length).toBeGreaterThan(256);
      const outcomes = await Promise.all(
        Array.from(packets.keys()).map(async position => {
          const tampered = Uint8Array.from(packets);
          tampered[position] ^= 0x01;
          try {
            const result = await unlocked.unwrapDataKey(
              armor(enums.armor.message, tampered),
            );
            return result.equals(dataKey)
              ? `same key at ${position}`
              : 'WRONG KEY';
          } catch (error) {
            return (error as Error).name;
          }
        }),
      );
      expect(new Set(outcomes)).toEqual(new Set(['SecretIntegrityError']));
    }, 60_000);

    it('refuses bad armor and other junk as SecretIntegrityError', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const wrapped = await unlocked.wrapDataKey(randomBytes(32));
      for (const junk of [
        '',
        'not armored',
        wrapped.slice(0, wrapped.length / 2),
        wrapped.replace('PGP MESSAGE', 'PGP SIGNATURE'),
        'x'.repeat(1_000_000),
        pair.armoredPublicKey,
      ]) {
        await expect(unlocked.unwrapDataKey(junk)).rejects.toThrow(
          SecretIntegrityError,
        );
      }
    });

    it('refuses a key wrapped for another keyring key', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const forOther = await engine.wrapForPublicKey(
        otherPair.armoredPublicKey,
        randomBytes(32),
      );
      await expect(unlocked.unwrapDataKey(forOther)).rejects.toThrow(
        SecretIntegrityError,
      );
    });

    it('refuses messages that are not exactly what wrapDataKey writes', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const ours = await readKey({ armoredKey: pair.armoredPublicKey });
      const theirs = await readKey({ armoredKey: otherPair.armoredPublicKey });
      const message = await createMessage({ binary: randomBytes(32) });

      const alsoForAnother = await encrypt({
        message,
        encryptionKeys: [ours, theirs],
        config: { aeadProtect: true },
      });
      const alsoWithPassword = await encrypt({
        message,
        encryptionKeys: ours,
        passwords: 'Shared-Password-123',
        config: { aeadProtect: true },
      });
      const aes128 = await encrypt({
        message,
        encryptionKeys: ours,
        config: {
          aeadProtect: true,
          preferredSymmetricAlgorithm: enums.symmetric.aes128,
        },
      });
      const wrongLength = await encrypt({
        message: await createMessage({ binary: randomBytes(31) }),
        encryptionKeys: ours,
        config: { aeadProtect: true },
      });
      for (const wrapped of [
        alsoForAnother,
        alsoWithPassword,
        aes128,
        wrongLength,
      ]) {
        await expect(unlocked.unwrapDataKey(wrapped)).rejects.toThrow(
          SecretIntegrityError,
        );
      }
    });

    it('forgets the private key when locked', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const wrapped = await unlocked.wrapDataKey(randomBytes(32));
      unlocked.lock();
      await expect(unlocked.unwrapDataKey(wrapped)).rejects.toThrow(
        KeyringKeyLockedError,
      );
      await expect(unlocked.wrapDataKey(randomBytes(32))).rejects.toThrow(
        KeyringKeyLockedError,
      );
      // Other unlocked copies of the same key are not affected.
      const again = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      await expect(again.unwrapDataKey(wrapped)).resolves.toHaveLength(32);
    });

    it('keeps key material out of logs of the unlocked key', async () => {
      const unlocked = await engine.unlock(pair.armoredPrivateKey, PASSPHRASE);
      const shown = `${inspect(unlocked, { depth: 10 })} ${JSON.stringify(
        unlocked,
      )}`;
      expect(shown).toContain(pair.fingerprint);
      expect(shown).not.toMatch(/privateParams|keyPacket/);
    });
  });
});
