import { InputError } from '@backstage/errors';
import crypto from 'node:crypto';
import { BackupCorruptedError, BackupPassphraseError } from './errors';
import {
  decodeKeyringBackup,
  describeKeyringBackup,
  encodeKeyringBackup,
  KeyringBackupContents,
  MAX_BACKUP_BYTES,
} from './keyringBackup';
import { PASSPHRASE_RULE } from './passphrasePolicy';

const PASSPHRASE = 'Granite-Lantern-Orbit-58';
const ACTIVE = 'a'.repeat(40);
const RETIRED = 'b'.repeat(40);

function armored(label: string, body: string): string {
  return `-----BEGIN ${label}-----\n\n${body}\n-----END ${label}-----\n`;
}

const contents: KeyringBackupContents = {
  formatVersion: 1,
  fingerprint: ACTIVE,
  capturedAt: '2025-11-23T09:00:00.000Z',
  keys: [
    {
      fingerprint: ACTIVE,
      armoredPublicKey: armored('PGP PUBLIC KEY BLOCK', 'UFVCTElDLUE='),
      armoredPrivateKey: armored(
        'PGP PRIVATE KEY BLOCK',
        'UFJJVkFURS1BLVNFQ1JFVA==',
      ),
      state: 'active',
      createdAt: '2025-11-20T09:00:00.000Z',
    },
    {
      fingerprint: RETIRED,
      armoredPublicKey: armored('PGP PUBLIC KEY BLOCK', 'UFVCTElDLUI='),
      armoredPrivateKey: armored(
        'PGP PRIVATE KEY BLOCK',
        'UFJJVkFURS1CLVNFQ1JFVA==',
      ),
      state: 'retired',
      createdAt: '2025-11-01T09:00:00.000Z',
    },
  ],
  dataKeys: [
    {
      id: '6f1d8a9e-2b7c-4e0f-9a1d-3c5b7e9f1a2b',
      createdAt: '2025-11-20T09:00:00.000Z',
      wraps: [
        { fingerprint: ACTIVE, wrapped: armored('PGP MESSAGE', 'V1JBUC1B') },
        { fingerprint: RETIRED, wrapped: armored('PGP MESSAGE', 'V1JBUC1C') },
      ],
    },
  ],
};

type Envelope = {
  format: string;
  version: number;
  kdf: { name: string; N: number; r: number; p: number; salt: string };
  iv: string;
  check: string;
  ciphertext: string;
  tag: string;
  digest: string;
};

/*
 * An independent writer of the documented format, so tests can build files
 * a real encoder never would: other cost parameters, bad contents, and
 * tampering that also fixes the digest.
 */
function headerOf(e: Envelope): Buffer {
  return Buffer.from(
    JSON.stringify([
      e.format,
      e.version,
      e.kdf.name,
      e.kdf.N,
      e.kdf.r,
      e.kdf.p,
      e.kdf.salt,
      e.iv,
    ]),
  );
}

function digestOf(e: Envelope): string {
  const hash = crypto
    .createHash('sha256')
    .update('kubedeploy-keyring-backup/digest\0');
  for (const part of [
    headerOf(e),
    Buffer.from(e.check, 'base64'),
    Buffer.from(e.ciphertext, 'base64'),
    Buffer.from(e.tag, 'base64'),
  ]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    hash.update(length).update(part);
  }
  return hash.digest('base64');
}

function withDigest(e: Envelope): Buffer {
  return Buffer.from(JSON.stringify({ ...e, digest: digestOf(e) }));
}

function sealPlaintext(
  plaintext: string,
  passphrase: string,
  params = { N: 2 ** 14, r: 8, p: 1 },
): Buffer {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(12);
  const derived = crypto.scryptSync(passphrase, salt, 64, {
    ...params,
    maxmem: 256 * 1024 * 1024,
  });
  const e: Envelope = {
    format: 'kubedeploy-keyring-backup',
    version: 1,
    kdf: { name: 'scrypt', ...params, salt: salt.toString('base64') },
    iv: iv.toString('base64'),
    check: '',
    ciphertext: '',
    tag: '',
    digest: '',
  };
  const header = headerOf(e);
  const cipher = crypto.createCipheriv(
    'aes-256-gcm',
    derived.subarray(0, 32),
    iv,
  );
  cipher.setAAD(header);
  e.ciphertext = Buffer.concat([
    cipher.update(plaintext),
    cipher.final(),
  ]).toString('base64');
  e.tag = cipher.getAuthTag().toString('base64');
  e.check = crypto
    .createHmac('sha256', derived.subarray(32))
    .update('kubedeploy-keyring-backup/check\0')
    .update(header)
    .digest('base64');
  return withDigest(e);
}

function parse(file: Buffer): Envelope {
  return JSON.parse(file.toString('utf8'));
}

function flipBase64Byte(value: string, index: number): string {
  const bytes = Buffer.from(value, 'base64');
  bytes[index] ^= 0x01;
  return bytes.toString('base64');
}

describe('keyring backup', () => {
  let file: Buffer;

  beforeAll(async () => {
    file = await encodeKeyringBackup(contents, PASSPHRASE);
  }, 30_000);

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('round-trips the contents', async () => {
    expect(await decodeKeyringBackup(file, PASSPHRASE)).toEqual(contents);
    expect(
      await decodeKeyringBackup(file.toString('utf8'), PASSPHRASE),
    ).toEqual(contents);
    expect(describeKeyringBackup(contents)).toEqual({
      formatVersion: 1,
      fingerprint: ACTIVE,
      capturedAt: '2025-11-23T09:00:00.000Z',
      keyCount: 2,
      dataKeyCount: 1,
    });
  });

  it('writes the documented envelope, with no key material in clear', () => {
    const envelope = parse(file);
    expect(envelope).toMatchObject({
      format: 'kubedeploy-keyring-backup',
      version: 1,
      kdf: { name: 'scrypt', N: 131072, r: 8, p: 1 },
    });
    expect(Buffer.from(envelope.kdf.salt, 'base64')).toHaveLength(32);
    expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(envelope.tag, 'base64')).toHaveLength(16);
    const text = file.toString('utf8');
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('UFJJVkFURS1BLVNFQ1JFVA');
    expect(text).not.toContain(PASSPHRASE);
  });

  it('keeps only the known fields of the contents', async () => {
    const withExtras = {
      ...contents,
      keys: contents.keys.map(k => ({ ...k, createdBy: 'admin' })),
    };
    const extraFile = await encodeKeyringBackup(withExtras, PASSPHRASE);
    expect(await decodeKeyringBackup(extraFile, PASSPHRASE)).toEqual(contents);
  });

  it('runs scrypt once, asynchronously, to open a real file', async () => {
    // The control for the "before running scrypt" tests below.
    const scrypt = jest.spyOn(crypto, 'scrypt');
    const scryptSync = jest.spyOn(crypto, 'scryptSync');
    await decodeKeyringBackup(file, PASSPHRASE);
    expect(scrypt).toHaveBeenCalledTimes(1);
    expect(scrypt.mock.calls[0][3]).toMatchObject({
      N: 131072,
      r: 8,
      p: 1,
      maxmem: expect.any(Number),
    });
    expect(scryptSync).not.toHaveBeenCalled();
  });

  it('refuses a wrong passphrase with BackupPassphraseError', async () => {
    await expect(
      decodeKeyringBackup(file, 'Granite-Lantern-Orbit-59'),
    ).rejects.toThrow(BackupPassphraseError);
    await expect(decodeKeyringBackup(file, '')).rejects.toThrow(
      BackupPassphraseError,
    );
  });

  it('reports every damaged ciphertext byte as BackupCorruptedError', async () => {
    const envelope = parse(file);
    const length = Buffer.from(envelope.ciphertext, 'base64').length;
    for (const index of [
      0,
      1,
      Math.floor(length / 2),
      length - 2,
      length - 1,
    ]) {
      const damaged = {
        ...envelope,
        ciphertext: flipBase64Byte(envelope.ciphertext, index),
      };
      await expect(
        decodeKeyringBackup(Buffer.from(JSON.stringify(damaged)), PASSPHRASE),
      ).rejects.toThrow(BackupCorruptedError);
    }
  });

  it('reports damage to the tag or the header as damage, not a wrong passphrase', async () => {
    const envelope = parse(file);
    for (const damaged of [
      { ...envelope, tag: flipBase64Byte(envelope.tag, 3) },
      { ...envelope, iv: flipBase64Byte(envelope.iv, 0) },
      {
        ...envelope,
        kdf: { ...envelope.kdf, salt: flipBase64Byte(envelope.kdf.salt, 9) },
      },
      { ...envelope, check: flipBase64Byte(envelope.check, 31) },
    ]) {
      await expect(
        decodeKeyringBackup(Buffer.from(JSON.stringify(damaged)), PASSPHRASE),
      ).rejects.toThrow(BackupCorruptedError);
    }
  });

  it('catches tampering that also fixes the digest', async () => {
    const envelope = parse(file);
    // The ciphertext changes: the GCM tag fails under the right passphrase.
    for (const index of [0, 100]) {
      await expect(
        decodeKeyringBackup(
          withDigest({
            ...envelope,
            ciphertext: flipBase64Byte(envelope.ciphertext, index),
          }),
          PASSPHRASE,
        ),
      ).rejects.toThrow(BackupCorruptedError);
    }
    // The header changes: the keyed check no longer matches.
    await expect(
      decodeKeyringBackup(
        withDigest({ ...envelope, iv: flipBase64Byte(envelope.iv, 0) }),
        PASSPHRASE,
      ),
    ).rejects.toThrow(BackupPassphraseError);
  }, 30_000);

  it('reads files written with other cost parameters within the limits', async () => {
    const other = sealPlaintext(JSON.stringify(contents), PASSPHRASE, {
      N: 2 ** 14,
      r: 4,
      p: 2,
    });
    expect(await decodeKeyringBackup(other, PASSPHRASE)).toEqual(contents);
  });

  it.each([
    ['not JSON', 'this is not json'],
    ['an unexpected shape', JSON.stringify({ ...contents, formatVersion: 2 })],
    [
      'no active key',
      JSON.stringify({ ...contents, keys: [contents.keys[1]] }),
    ],
    [
      'an unknown key state',
      JSON.stringify({
        ...contents,
        keys: [contents.keys[0], { ...contents.keys[1], state: 'lost' }],
      }),
    ],
    [
      'a wrap for a key not in the backup',
      JSON.stringify({
        ...contents,
        dataKeys: [
          {
            ...contents.dataKeys[0],
            wraps: [
              {
                fingerprint: 'c'.repeat(40),
                wrapped: armored('PGP MESSAGE', 'eA=='),
              },
            ],
          },
        ],
      }),
    ],
    ['a bad time', JSON.stringify({ ...contents, capturedAt: 'yesterday' })],
  ])(
    'reports decrypted contents with %s as BackupCorruptedError',
    async (_, plaintext) => {
      const error = await decodeKeyringBackup(
        sealPlaintext(plaintext, PASSPHRASE),
        PASSPHRASE,
      ).catch(e => e);
      expect(error).toBeInstanceOf(BackupCorruptedError);
      expect(error.name).toBe('BackupCorruptedError');
      // The message names fields, never values or parser output quoting them.
      expect(error.message).not.toMatch(/SECRET|UFJJV|this is not json/);
      expect(error.cause).toBeUndefined();
    },
  );

  it('refuses an oversize file quickly with InputError', async () => {
    const started = performance.now();
    const huge = Buffer.alloc(MAX_BACKUP_BYTES + 1, 0x20);
    await expect(decodeKeyringBackup(huge, PASSPHRASE)).rejects.toThrow(
      InputError,
    );
    await expect(
      decodeKeyringBackup(' '.repeat(MAX_BACKUP_BYTES + 1), PASSPHRASE),
    ).rejects.toThrow(/larger than/);
    // Multi-byte characters: short in UTF-16, too long in UTF-8.
    await expect(
      decodeKeyringBackup('é'.repeat(MAX_BACKUP_BYTES / 2 + 1), PASSPHRASE),
    ).rejects.toThrow(/larger than/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each([
    ['N = 2^30', { N: 2 ** 30 }],
    ['N not a power of two', { N: 131071 }],
    ['N below 2^14', { N: 2 ** 13 }],
    ['N as a string', { N: '131072' }],
    ['r = 1000', { r: 1000 }],
    ['r = 0', { r: 0 }],
    ['p = 100', { p: 100 }],
    ['p fractional', { p: 1.5 }],
    ['memory over the cap (N = 2^18, r = 16)', { N: 2 ** 18, r: 16 }],
    ['work over the cap (N = 2^18, r = 8, p = 4)', { N: 2 ** 18, r: 8, p: 4 }],
    ['a short salt', { salt: Buffer.alloc(8).toString('base64') }],
    ['a long salt', { salt: Buffer.alloc(65).toString('base64') }],
    ['another KDF', { name: 'pbkdf2' }],
  ])(
    'refuses hostile cost parameters (%s) before running scrypt',
    async (_, kdf) => {
      const scrypt = jest.spyOn(crypto, 'scrypt');
      const envelope = parse(file);
      const hostile = withDigest({
        ...envelope,
        kdf: { ...envelope.kdf, ...kdf } as Envelope['kdf'],
      });
      const started = performance.now();
      await expect(decodeKeyringBackup(hostile, PASSPHRASE)).rejects.toThrow(
        InputError,
      );
      expect(performance.now() - started).toBeLessThan(1000);
      expect(scrypt).not.toHaveBeenCalled();
    },
  );

  it.each([
    ['not JSON', 'garbage'],
    ['a JSON array', '[]'],
    [
      'another format',
      JSON.stringify({ format: 'something-else', version: 1 }),
    ],
    [
      'an unknown version',
      JSON.stringify({ format: 'kubedeploy-keyring-backup', version: 2 }),
    ],
  ])('refuses %s with InputError', async (_, text) => {
    await expect(decodeKeyringBackup(text, PASSPHRASE)).rejects.toThrow(
      InputError,
    );
  });

  it.each([
    ['a 16-byte iv', { iv: Buffer.alloc(16).toString('base64') }],
    ['an 8-byte tag', { tag: Buffer.alloc(8).toString('base64') }],
    ['a non-base64 ciphertext', { ciphertext: '!!!' }],
    ['an empty ciphertext', { ciphertext: '' }],
  ])('refuses a file with %s with InputError', async (_, change) => {
    const scrypt = jest.spyOn(crypto, 'scrypt');
    await expect(
      decodeKeyringBackup(
        withDigest({ ...parse(file), ...change }),
        PASSPHRASE,
      ),
    ).rejects.toThrow(InputError);
    expect(scrypt).not.toHaveBeenCalled();
  });

  it('refuses a weak export passphrase, naming the rule', async () => {
    const error = await encodeKeyringBackup(contents, 'backup2024').catch(
      e => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(PASSPHRASE_RULE);
    expect(error.message).not.toContain('backup2024');
  });

  it('refuses to write contents it could not read back', async () => {
    await expect(
      encodeKeyringBackup({ ...contents, fingerprint: RETIRED }, PASSPHRASE),
    ).rejects.toThrow(/active key/);
    await expect(
      encodeKeyringBackup(
        {
          ...contents,
          dataKeys: [{ ...contents.dataKeys[0], id: 'has.dots' }],
        },
        PASSPHRASE,
      ),
    ).rejects.toThrow(InputError);
  });
});
