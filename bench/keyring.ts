/*
 * Keyring benchmark: what the RSA keyring costs, and why unwrapped data keys
 * are cached while the keyring is unlocked.
 *
 * Run from the repository root (see bench/README.md):
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/keyring.ts
 *
 * That is the TypeScript loader `backstage-cli package start` uses for
 * backends; tsx is not installed, and `node --experimental-strip-types`
 * cannot load the plugin sources because they import without extensions.
 *
 * Not a test: it only prints timings. It uses a random passphrase and random
 * keys, and prints no key material.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { OpenPgpKeyEngine } from '../plugins/deployments-backend/src/keyring/OpenPgpKeyEngine';
import {
  DataKeyCache,
  EnvelopeCipher,
  generateDataKey,
} from '../plugins/deployments-backend/src/secrets/EnvelopeCipher';

const UNLOCK_RUNS = 5;
const UNWRAP_RUNS = 30;
const DECRYPT_RUNS = 10_000;
const WARM_UP_RUNS = 3;
const KUBECONFIG_BYTES = 2048;

/** The value at a percentile of sorted samples (nearest rank). */
function percentile(sorted: number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

async function timeRuns(
  runs: number,
  warmUp: number,
  fn: () => Promise<unknown>,
): Promise<number[]> {
  for (let i = 0; i < warmUp; i++) {
    await fn();
  }
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b);
}

function ms(value: number): string {
  return value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(4)} ms`;
}

/** A kubeconfig-shaped plaintext of exactly `bytes` bytes. */
function fakeKubeconfig(bytes: number): string {
  const head = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: prod',
    '  cluster:',
    '    server: https://10.0.0.1:6443',
    'users:',
    '- name: deployer',
    '  user:',
    '    token: ',
  ].join('\n');
  const token = randomBytes(bytes).toString('base64url');
  return `${head}${token}`.slice(0, bytes);
}

async function main() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `keyring bench: Node ${process.version}, OpenSSL ${
      process.versions.openssl
    }, ${cpu} x${cpus().length}`,
  );

  const engine = OpenPgpKeyEngine.create({ rsaBits: 4096 });
  // Random on every run, so nothing secret lives in this file.
  const passphrase = randomBytes(24).toString('base64url');

  const start = performance.now();
  const pair = await engine.generate(passphrase);
  const bootstrapMs = performance.now() - start;
  console.log(`bootstrap (generate RSA-4096 keypair):   ${ms(bootstrapMs)}`);

  const unlockSamples = await timeRuns(UNLOCK_RUNS, 0, () =>
    engine.unlock(pair.armoredPrivateKey, passphrase, pair.fingerprint),
  );
  console.log(
    `unlock (decrypt private key, Argon2id):  ${ms(
      percentile(unlockSamples, 50),
    )} (median of ${UNLOCK_RUNS})`,
  );

  const key = await engine.unlock(
    pair.armoredPrivateKey,
    passphrase,
    pair.fingerprint,
  );
  const dataKey = generateDataKey();
  const wrapped = await key.wrapDataKey(dataKey);
  const unwrapSamples = await timeRuns(UNWRAP_RUNS, WARM_UP_RUNS, async () =>
    (await key.unwrapDataKey(wrapped)).fill(0),
  );
  const unwrapP50 = percentile(unwrapSamples, 50);
  console.log(
    `per-use RSA unwrap of a data key (n=${UNWRAP_RUNS}):  p50 ${ms(
      unwrapP50,
    )}  p99 ${ms(percentile(unwrapSamples, 99))}`,
  );

  const cache = new DataKeyCache();
  const dataKeyId = randomUUID();
  cache.set(dataKeyId, dataKey);
  const cipher = EnvelopeCipher.create({
    resolver: {
      resolve: async id => {
        const cached = cache.get(id);
        if (!cached) {
          throw new Error(`data key ${id} is not cached`);
        }
        return cached;
      },
    },
  });
  const identity = { type: 'target', id: randomUUID(), version: 1 };
  const sealed = await cipher.seal(
    dataKeyId,
    identity,
    fakeKubeconfig(KUBECONFIG_BYTES),
  );
  const decryptSamples = await timeRuns(DECRYPT_RUNS, 200, async () =>
    (await cipher.open(identity, sealed)).fill(0),
  );
  const decryptP50 = percentile(decryptSamples, 50);
  console.log(
    `cached credential decrypt, ${KUBECONFIG_BYTES}-byte kubeconfig (n=${DECRYPT_RUNS}):  p50 ${ms(
      decryptP50,
    )}  p99 ${ms(percentile(decryptSamples, 99))}`,
  );

  console.log(
    `ratio: cached decrypt is ${Math.round(
      unwrapP50 / decryptP50,
    ).toLocaleString('en-US')}x faster than a per-use RSA unwrap (p50/p50)`,
  );

  key.lock();
  cache.clear();
}

main().catch(error => {
  console.error(`keyring bench failed: ${error}`);
  process.exitCode = 1;
});
