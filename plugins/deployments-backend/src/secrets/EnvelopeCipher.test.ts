import { InputError, NotFoundError } from '@backstage/errors';
import { inspect } from 'node:util';
import { SecretIntegrityError } from '../keyring/errors';
import {
  DataKeyCache,
  DataKeyResolver,
  EnvelopeCipher,
  generateDataKey,
  isValidDataKeyId,
  RecordIdentity,
} from './EnvelopeCipher';

const KEY_ID = '6f1d8a9e-2b7c-4e0f-9a1d-3c5b7e9f1a2b';
const OTHER_KEY_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';
const identity: RecordIdentity = {
  type: 'target',
  id: '0b6c1f2e-3d4a-4b5c-8d6e-7f8091a2b3c4',
  version: 3,
};
const KUBECONFIG = `apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: ${'s3cr3t-token-'.repeat(
  10,
)}\n`;

function resolverOf(keys: Record<string, Buffer>): DataKeyResolver {
  return {
    resolve: async id => {
      const key = keys[id];
      if (!key) {
        throw new NotFoundError(`No data key ${id}`);
      }
      return key;
    },
  };
}

/** Flips one bit of the decoded bytes of one dotted part of a sealed value. */
function flipInPart(sealed: string, part: number, byteIndex: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part], 'base64url');
  bytes[byteIndex] ^= 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('EnvelopeCipher', () => {
  const key = generateDataKey();
  const otherKey = generateDataKey();
  const cipher = EnvelopeCipher.create({
    resolver: resolverOf({ [KEY_ID]: key, [OTHER_KEY_ID]: otherKey }),
  });

  it('round-trips strings and buffers', async () => {
    const sealed = await cipher.seal(KEY_ID, identity, KUBECONFIG);
    expect(sealed).toMatch(
      /^kd1\.[0-9a-f-]{36}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/,
    );
    expect(sealed).not.toContain('s3cr3t');
    expect((await cipher.open(identity, sealed)).toString('utf8')).toBe(
      KUBECONFIG,
    );

    const binary = Buffer.from([0, 1, 2, 255]);
    const sealedBinary = await cipher.seal(KEY_ID, identity, binary);
    expect((await cipher.open(identity, sealedBinary)).equals(binary)).toBe(
      true,
    );

    const sealedEmpty = await cipher.seal(KEY_ID, identity, '');
    expect(await cipher.open(identity, sealedEmpty)).toHaveLength(0);
  });

  it('uses a fresh IV for every seal', async () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 100; i++) {
      ivs.add((await cipher.seal(KEY_ID, identity, 'same')).split('.')[2]);
    }
    expect(ivs.size).toBe(100);
  });

  it('names the data key a sealed value needs', async () => {
    const sealed = await cipher.seal(KEY_ID, identity, 'x');
    expect(EnvelopeCipher.dataKeyIdOf(sealed)).toBe(KEY_ID);
    expect(() => EnvelopeCipher.dataKeyIdOf('kd1.nope')).toThrow(
      SecretIntegrityError,
    );
  });

  it.each([
    ['iv', 2, [0, 5, 11]],
    ['ciphertext', 3, [0, 100, KUBECONFIG.length - 1]],
    ['tag', 4, [0, 7, 15]],
  ])('refuses a flipped byte in the %s', async (_, part, positions) => {
    const sealed = await cipher.seal(KEY_ID, identity, KUBECONFIG);
    for (const position of positions) {
      const tampered = flipInPart(sealed, part, position);
      expect(tampered).not.toBe(sealed);
      await expect(cipher.open(identity, tampered)).rejects.toThrow(
        SecretIntegrityError,
      );
    }
  });

  it('refuses a value sealed for another record', async () => {
    const sealed = await cipher.seal(KEY_ID, identity, KUBECONFIG);
    for (const other of [
      { ...identity, id: 'c9d8e7f6-a5b4-4c3d-8e2f-1a0b9c8d7e6f' },
      { ...identity, type: 'cluster' },
    ]) {
      await expect(cipher.open(other, sealed)).rejects.toThrow(
        SecretIntegrityError,
      );
    }
  });

  it('refuses an older version put back in place of a newer one', async () => {
    const version1 = await cipher.seal(
      KEY_ID,
      { ...identity, version: 1 },
      'old token',
    );
    await expect(
      cipher.open({ ...identity, version: 2 }, version1),
    ).rejects.toThrow(SecretIntegrityError);
    await expect(
      cipher.open({ ...identity, version: 1 }, version1),
    ).resolves.toEqual(Buffer.from('old token'));
  });

  it('binds a value to its binding: only the same binding opens it', async () => {
    const bound = { ...identity, binding: 'sha256:aaaa' };
    const sealed = await cipher.seal(KEY_ID, bound, 'token');
    expect(sealed).toMatch(/^kd2\./);
    expect(EnvelopeCipher.isBound(sealed)).toBe(true);
    expect((await cipher.open(bound, sealed)).toString('utf8')).toBe('token');

    await expect(
      cipher.open({ ...identity, binding: 'sha256:bbbb' }, sealed),
    ).rejects.toThrow(SecretIntegrityError);
    // Without a binding, and relabelled as the unbound format: both refused.
    await expect(cipher.open(identity, sealed)).rejects.toThrow(
      /sealed with a binding/,
    );
    await expect(
      cipher.open(identity, sealed.replace(/^kd2\./, 'kd1.')),
    ).rejects.toThrow(SecretIntegrityError);

    // An unbound value opens only without a binding.
    const unbound = await cipher.seal(KEY_ID, identity, 'token');
    expect(EnvelopeCipher.isBound(unbound)).toBe(false);
    await expect(cipher.open(bound, unbound)).rejects.toThrow(
      /sealed without a binding/,
    );
    await expect(
      cipher.open(bound, unbound.replace(/^kd1\./, 'kd2.')),
    ).rejects.toThrow(SecretIntegrityError);
  });

  it('does not confuse fields whose concatenations are equal', async () => {
    const a = await cipher.seal(
      KEY_ID,
      { type: 'ab', id: 'c', version: 1 },
      'x',
    );
    await expect(
      cipher.open({ type: 'a', id: 'bc', version: 1 }, a),
    ).rejects.toThrow(SecretIntegrityError);
  });

  it('refuses a value opened with a different data key', async () => {
    const sealed = await cipher.seal(KEY_ID, identity, KUBECONFIG);

    // The id in the value is changed to another key's id.
    const parts = sealed.split('.');
    parts[1] = OTHER_KEY_ID;
    await expect(cipher.open(identity, parts.join('.'))).rejects.toThrow(
      SecretIntegrityError,
    );

    // The resolver hands out a different key under the same id.
    const confused = EnvelopeCipher.create({
      resolver: resolverOf({ [KEY_ID]: otherKey }),
    });
    await expect(confused.open(identity, sealed)).rejects.toThrow(
      SecretIntegrityError,
    );
  });

  it('refuses a resolver that returns something other than a 256-bit key', async () => {
    const short = EnvelopeCipher.create({
      resolver: resolverOf({ [KEY_ID]: key.subarray(0, 16) }),
    });
    await expect(short.seal(KEY_ID, identity, 'x')).rejects.toThrow(
      SecretIntegrityError,
    );
  });

  it('passes resolver errors through unchanged', async () => {
    const sealed = await cipher.seal(KEY_ID, identity, 'x');
    const empty = EnvelopeCipher.create({ resolver: resolverOf({}) });
    await expect(empty.open(identity, sealed)).rejects.toThrow(NotFoundError);
  });

  it.each([
    ['empty', ''],
    ['not dotted', 'hello'],
    [
      'an unknown format version',
      'kd2.k.AAAAAAAAAAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA',
    ],
    ['too few parts', 'kd1.k.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['too many parts', 'kd1.k.AAAAAAAAAAAAAAAA...AAAAAAAAAAAAAAAAAAAAAA'],
    ['a short iv', 'kd1.k.AAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA'],
    ['a short tag', 'kd1.k.AAAAAAAAAAAAAAAA..AAAAAAAAAA'],
    ['padding', 'kd1.k.AAAAAAAAAAAAAAAA.AA==.AAAAAAAAAAAAAAAAAAAAAA'],
    ['standard base64', 'kd1.k.AAAAAAAAAAAA+/AA..AAAAAAAAAAAAAAAAAAAAAA'],
    [
      'non-canonical base64',
      'kd1.k.AAAAAAAAAAAAAAAA.AB.AAAAAAAAAAAAAAAAAAAAAA',
    ],
    ['a bad data key id', 'kd1.k!.AAAAAAAAAAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA'],
    ['not a string', 42 as unknown as string],
  ])('refuses a malformed value: %s', async (_, sealed) => {
    await expect(cipher.open(identity, sealed)).rejects.toThrow(
      SecretIntegrityError,
    );
  });

  it('refuses bad identities and data key ids when sealing', async () => {
    await expect(cipher.seal('a.b', identity, 'x')).rejects.toThrow(InputError);
    await expect(cipher.seal('', identity, 'x')).rejects.toThrow(InputError);
    for (const bad of [
      { ...identity, id: '' },
      { ...identity, type: '' },
      { ...identity, version: -1 },
      { ...identity, version: 1.5 },
      { ...identity, version: Number.NaN },
    ]) {
      await expect(cipher.seal(KEY_ID, bad, 'x')).rejects.toThrow(InputError);
    }
  });

  it('never puts plaintext or key material in an error message', async () => {
    const sealed = await cipher.seal(KEY_ID, identity, KUBECONFIG);
    const error = await cipher
      .open({ ...identity, version: 4 }, sealed)
      .catch(e => e);
    expect(error).toBeInstanceOf(SecretIntegrityError);
    expect(error.name).toBe('SecretIntegrityError');
    expect(error.message).not.toMatch(/s3cr3t/);
    expect(error.message).not.toContain(key.toString('base64'));
    expect(error.message).not.toContain(key.toString('hex'));
    expect(error.cause).toBeUndefined();
  });
});

describe('generateDataKey', () => {
  it('makes distinct 32-byte keys', () => {
    const a = generateDataKey();
    const b = generateDataKey();
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
  });
});

describe('isValidDataKeyId', () => {
  it('accepts UUIDs and refuses dots and other characters', () => {
    expect(isValidDataKeyId(KEY_ID)).toBe(true);
    expect(isValidDataKeyId('self-test')).toBe(true);
    expect(isValidDataKeyId('a.b')).toBe(false);
    expect(isValidDataKeyId('')).toBe(false);
    expect(isValidDataKeyId('x'.repeat(129))).toBe(false);
  });
});

describe('DataKeyCache', () => {
  it('stores, counts and zero-fills keys on clear', () => {
    const cache = new DataKeyCache();
    const a = generateDataKey();
    const b = generateDataKey();
    cache.set('a', a);
    cache.set('b', b);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBe(a);
    expect(cache.has('b')).toBe(true);

    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('a')).toBeUndefined();
    expect(a.equals(Buffer.alloc(32))).toBe(true);
    expect(b.equals(Buffer.alloc(32))).toBe(true);
  });

  it('zero-fills a replaced or deleted key', () => {
    const cache = new DataKeyCache();
    const first = generateDataKey();
    const second = generateDataKey();
    const secondCopy = Buffer.from(second);
    cache.set('k', first);
    cache.set('k', second);
    expect(first.equals(Buffer.alloc(32))).toBe(true);
    expect(cache.get('k')!.equals(secondCopy)).toBe(true);

    // Setting the same buffer again must not wipe it.
    cache.set('k', second);
    expect(second.equals(secondCopy)).toBe(true);

    expect(cache.delete('k')).toBe(true);
    expect(second.equals(Buffer.alloc(32))).toBe(true);
    expect(cache.delete('k')).toBe(false);
  });

  it('refuses keys that are not 32 bytes', () => {
    const cache = new DataKeyCache();
    expect(() => cache.set('k', Buffer.alloc(16))).toThrow(InputError);
  });

  it('keeps keys out of logs', () => {
    const cache = new DataKeyCache();
    const key = generateDataKey();
    cache.set('k', key);
    const shown = `${inspect(cache, { depth: 10 })} ${JSON.stringify(cache)}`;
    expect(shown).not.toContain(key.toString('hex'));
    expect(shown).not.toMatch(/Buffer|[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}/);
  });
});
