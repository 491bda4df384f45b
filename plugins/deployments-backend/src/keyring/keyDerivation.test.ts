/*
 * Argon2 in keyring keys: every cost read from a stored or uploaded key is
 * capped and refused before any derivation, and derivations run off the
 * event loop.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { decryptKey, enums, generateKey, readPrivateKey } from 'openpgp';
import { runInKeyWorker } from './keyDerivationWorker';
import { decodeKeyringBackup, encodeKeyringBackup } from './keyringBackup';
import { ARGON2_LIMITS, OpenPgpKeyEngine } from './OpenPgpKeyEngine';

jest.setTimeout(120_000);

// Counts derivations, which still run for real.
jest.mock('./keyDerivationWorker', () => {
  const actual = jest.requireActual('./keyDerivationWorker');
  return { ...actual, runInKeyWorker: jest.fn(actual.runInKeyWorker) };
});
const derive = jest.mocked(runInKeyWorker);

const PASSPHRASE = 'Argon2 bounded passphrase 2026';
const engine = OpenPgpKeyEngine.create({ rsaBits: 2048 });

/** A key protected with the given Argon2 costs (generated here, on purpose on this thread). */
async function keyWithArgon2(params: {
  passes: number;
  parallelism: number;
  memoryExponent: number;
}) {
  const { privateKey } = await generateKey({
    type: 'rsa',
    rsaBits: 2048,
    userIDs: [{ name: 'Kubedeploy keyring' }],
    passphrase: PASSPHRASE,
    format: 'armored',
    config: {
      aeadProtect: true,
      s2kType: enums.s2k.argon2,
      s2kArgon2Params: params,
    },
  });
  return privateKey;
}

/** The same key, with one Argon2 field of every key packet rewritten (the ciphertext is left as is). */
async function withArgon2Field(
  armoredKey: string,
  field: 't' | 'p' | 'encodedM',
  value: number,
): Promise<string> {
  const key = await readPrivateKey({ armoredKey });
  for (const k of key.getKeys()) {
    (k.keyPacket as unknown as { s2k: Record<string, number> }).s2k[field] =
      value;
  }
  return key.armor();
}

/**
 * Runs `fn` while measuring how long the event loop was held: the largest
 * gap between ticks of a 5 ms timer (maxLagMs), and Node's own event-loop
 * delay histogram (histogramMaxMs, reported; on Node 20 it misses one long
 * synchronous block, which the gap does not).
 */
async function measureLag(fn: () => Promise<unknown>) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let last = performance.now();
  let maxLagMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  let elapsedMs: number;
  try {
    await fn();
  } finally {
    elapsedMs = performance.now() - started;
    // A loop held until now shows in the next tick.
    await new Promise(resolve => setTimeout(resolve, 50));
    clearInterval(ticker);
    histogram.disable();
  }
  return { elapsedMs, maxLagMs, histogramMaxMs: histogram.max / 1e6 };
}

describe('Argon2 in keyring keys', () => {
  let ours: string;

  beforeAll(async () => {
    ours = (await engine.generate(PASSPHRASE)).armoredPrivateKey;
  });

  it.each([
    ['passes', 't', ARGON2_LIMITS.passes.max + 1],
    ['passes', 't', 255],
    ['passes', 't', 0],
    ['parallelism', 'p', ARGON2_LIMITS.parallelism.max + 1],
    ['parallelism', 'p', 255],
    ['memory exponent', 'encodedM', ARGON2_LIMITS.memoryExponent.max + 1],
    ['memory exponent', 'encodedM', 31],
    ['memory exponent', 'encodedM', ARGON2_LIMITS.memoryExponent.min - 1],
  ] as const)(
    'refuses a stored key whose Argon2 %s is %p=%p, before deriving anything',
    async (name, field, value) => {
      const key = await withArgon2Field(ours, field, value);
      derive.mockClear();
      // With the right passphrase: the costs are refused before it is tried.
      await expect(engine.unlock(key, PASSPHRASE)).rejects.toMatchObject({
        name: 'SecretIntegrityError',
        message: expect.stringContaining(`Argon2 ${name} is ${value}`),
      });
      expect(derive).not.toHaveBeenCalled();
      // An uploaded key (from a backup) gets a client error.
      await expect(
        engine.checkPrivateKey(
          key,
          (await readPrivateKey({ armoredKey: key })).getFingerprint(),
        ),
      ).rejects.toMatchObject({
        name: 'InputError',
        message: expect.stringContaining(`Argon2 ${name} is ${value}`),
      });
    },
  );

  it('accepts our own keys', async () => {
    derive.mockClear();
    await expect(
      engine.checkPrivateKey(
        ours,
        (await readPrivateKey({ armoredKey: ours })).getFingerprint(),
      ),
    ).resolves.toBeUndefined();
    const unlocked = await engine.unlock(ours, PASSPHRASE);
    unlocked.lock();
    // The spy proves the refusals above would have seen a derivation.
    expect(derive).toHaveBeenCalledTimes(1);
  });

  it('derives off the event loop: the loop stays responsive through a derivation of half a second or more', async () => {
    // The most a stored key may ask for: four passes over 128 MiB.
    const heavy = await keyWithArgon2({
      passes: ARGON2_LIMITS.passes.max,
      parallelism: 4,
      memoryExponent: ARGON2_LIMITS.memoryExponent.max,
    });

    // What the event loop went through before: the same derivation on it.
    const onThread = await measureLag(async () => {
      const key = await decryptKey({
        privateKey: await readPrivateKey({ armoredKey: heavy }),
        passphrase: PASSPHRASE,
        config: { maxArgon2MemoryExponent: 17 },
      });
      expect(key.isDecrypted()).toBe(true);
    });

    const inWorker = await measureLag(async () => {
      const unlocked = await engine.unlock(heavy, PASSPHRASE);
      unlocked.lock();
    });
    const wrong = await measureLag(() =>
      engine.unlock(heavy, 'a wrong passphrase, same cost').catch(e => e),
    );

    // eslint-disable-next-line no-console
    console.log(
      `Argon2 t=4 m=128MiB p=4: on the event loop ${Math.round(
        onThread.elapsedMs,
      )} ms with max lag ${Math.round(
        onThread.maxLagMs,
      )} ms (histogram ${Math.round(
        onThread.histogramMaxMs,
      )} ms); in the worker ${Math.round(
        inWorker.elapsedMs,
      )} ms with max lag ${Math.round(
        inWorker.maxLagMs,
      )} ms (histogram ${Math.round(inWorker.histogramMaxMs)} ms)`,
    );
    expect(onThread.maxLagMs).toBeGreaterThan(400);
    expect(inWorker.elapsedMs).toBeGreaterThanOrEqual(500);
    expect(inWorker.maxLagMs).toBeLessThan(200);
    expect(wrong.elapsedMs).toBeGreaterThanOrEqual(500);
    expect(wrong.maxLagMs).toBeLessThan(200);
  });

  it('opens a .kbk backup off the event loop (scrypt on the thread pool)', async () => {
    const pair = await engine.generate(PASSPHRASE);
    const backupPassphrase = 'Backup passphrase off the loop 2026';
    const contents = {
      formatVersion: 1 as const,
      fingerprint: pair.fingerprint,
      capturedAt: new Date().toISOString(),
      keys: [
        {
          fingerprint: pair.fingerprint,
          armoredPublicKey: pair.armoredPublicKey,
          armoredPrivateKey: pair.armoredPrivateKey,
          state: 'active' as const,
          createdAt: new Date().toISOString(),
        },
      ],
      dataKeys: [],
    };
    const encoded = await measureLag(() =>
      encodeKeyringBackup(contents, backupPassphrase),
    );
    let file: Buffer | undefined;
    const decoded = await measureLag(async () => {
      file = await encodeKeyringBackup(contents, backupPassphrase);
      await decodeKeyringBackup(file, backupPassphrase);
    });
    expect(file).toBeDefined();
    expect(encoded.maxLagMs).toBeLessThan(200);
    expect(decoded.maxLagMs).toBeLessThan(200);
  });

  it('generates keys off the event loop too', async () => {
    const { elapsedMs, maxLagMs } = await measureLag(() =>
      engine.generate(PASSPHRASE),
    );
    expect(elapsedMs).toBeGreaterThan(0);
    expect(maxLagMs).toBeLessThan(200);
  });
});
