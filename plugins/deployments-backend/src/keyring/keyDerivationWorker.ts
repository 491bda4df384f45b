import { Worker } from 'node:worker_threads';
import type { PartialConfig } from 'openpgp';

/*
 * openpgp.js runs Argon2 in WebAssembly on the calling thread: 64 MiB and
 * three passes hold the event loop for about half a second, and a key asking
 * for more holds it for longer. Every passphrase-to-key derivation (unlocking
 * a keyring private key, and protecting a new one) therefore runs here, in a
 * worker thread of its own that ends with the call. Only the result comes
 * back: the decrypted key as bytes the caller reads and then zeroes, or the
 * new, already protected, armored keypair.
 */

/** Decrypts an armored private key with a passphrase. */
export interface DecryptKeyRequest {
  op: 'decrypt';
  armoredKey: string;
  passphrase: string;
  config: PartialConfig;
}

/** Generates a keypair whose private key is protected with a passphrase. */
export interface GenerateKeyRequest {
  op: 'generate';
  options: {
    type: 'rsa';
    rsaBits: number;
    userIDs: Array<{ name: string }>;
    passphrase: string;
    keyExpirationTime: number;
    date: Date;
    config: PartialConfig;
  };
}

type Reply =
  | { ok: true; binaryKey: Uint8Array; ms: number }
  | { ok: true; armoredPrivateKey: string; armoredPublicKey: string }
  | { ok: false; code: 'decrypt-failed' | 'failed' };

/** How long a derivation may take before its worker is stopped. */
const WORKER_TIMEOUT_MS = 120_000;

// Plain CommonJS, run with `eval`, so it works the same from TypeScript
// sources, from jest and from the built package. It loads openpgp from the
// path the parent resolved. Errors are reduced to a code: messages could
// quote input.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const openpgp = require(workerData.openpgpPath);
parentPort.once('message', async request => {
  if (request.op === 'decrypt') {
    let privateKey;
    try {
      privateKey = await openpgp.readPrivateKey({
        armoredKey: request.armoredKey,
        config: request.config,
      });
    } catch {
      parentPort.postMessage({ ok: false, code: 'failed' });
      return;
    }
    const started = performance.now();
    let unlocked;
    try {
      unlocked = await openpgp.decryptKey({
        privateKey,
        passphrase: request.passphrase,
        config: request.config,
      });
    } catch {
      parentPort.postMessage({ ok: false, code: 'decrypt-failed' });
      return;
    }
    const ms = performance.now() - started;
    const binaryKey = unlocked.write();
    parentPort.postMessage({ ok: true, binaryKey, ms }, [binaryKey.buffer]);
  } else if (request.op === 'generate') {
    try {
      const { privateKey, publicKey } = await openpgp.generateKey({
        ...request.options,
        format: 'armored',
      });
      parentPort.postMessage({
        ok: true,
        armoredPrivateKey: privateKey,
        armoredPublicKey: publicKey,
      });
    } catch {
      parentPort.postMessage({ ok: false, code: 'failed' });
    }
  } else {
    parentPort.postMessage({ ok: false, code: 'failed' });
  }
});
`;

/** The worker could not decrypt the key: a wrong passphrase or a damaged key. */
export class KeyDecryptionFailed extends Error {
  name = 'KeyDecryptionFailed';
}

export function runInKeyWorker(
  request: DecryptKeyRequest,
): Promise<{ binaryKey: Uint8Array; ms: number }>;
export function runInKeyWorker(
  request: GenerateKeyRequest,
): Promise<{ armoredPrivateKey: string; armoredPublicKey: string }>;
/** Runs one request in a new worker thread, which ends with it. */
export function runInKeyWorker(
  request: DecryptKeyRequest | GenerateKeyRequest,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { openpgpPath: require.resolve('openpgp') },
      // 128 MiB of Argon2 memory at most (see OpenPgpKeyEngine), with room.
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const call: {
      settled: boolean;
      timer?: ReturnType<typeof setTimeout>;
    } = { settled: false };
    const finish = (fn: () => void) => {
      if (call.settled) return;
      call.settled = true;
      clearTimeout(call.timer);
      fn();
      worker.terminate().catch(() => undefined);
    };
    call.timer = setTimeout(
      () =>
        finish(() =>
          reject(new Error('The key derivation worker did not finish in time')),
        ),
      WORKER_TIMEOUT_MS,
    );
    worker.once('message', (reply: Reply) =>
      finish(() => {
        if (reply.ok) {
          resolve(reply);
        } else if (reply.code === 'decrypt-failed') {
          reject(new KeyDecryptionFailed('The key could not be decrypted'));
        } else {
          reject(new Error('The key derivation worker failed'));
        }
      }),
    );
    worker.once('error', () =>
      finish(() => reject(new Error('The key derivation worker failed'))),
    );
    worker.once('exit', () =>
      finish(() =>
        reject(new Error('The key derivation worker stopped unexpectedly')),
      ),
    );
    worker.postMessage(request);
  });
}
