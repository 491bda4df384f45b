import { KeyringService } from '../keyring/KeyringService';
import { EnvelopeCipher, RecordIdentity } from './EnvelopeCipher';

/**
 * Envelope encryption for every secret the plugin stores: AES-256-GCM under
 * a data key held by the keyring, bound to the record it belongs to.
 */
export class SecretsService {
  private readonly cipher: EnvelopeCipher;

  private constructor(private readonly keyring: KeyringService) {
    this.cipher = EnvelopeCipher.create({
      resolver: { resolve: id => keyring.resolveDataKey(id) },
    });
  }

  static create(options: { keyring: KeyringService }): SecretsService {
    return new SecretsService(options.keyring);
  }

  /** Seals a value for one record; answers 503 while the keyring is sealed. */
  async seal(
    identity: RecordIdentity,
    plaintext: string | Buffer,
  ): Promise<{ sealed: string; fingerprint: string }> {
    const dataKeyId = await this.keyring.currentDataKeyId();
    const sealed = await this.cipher.seal(dataKeyId, identity, plaintext);
    const fingerprint = await this.keyring.fingerprintSecret(
      dataKeyId,
      plaintext,
    );
    return { sealed, fingerprint };
  }

  /** Opens a value sealed for exactly this record identity (type, id, version). */
  async open(identity: RecordIdentity, sealed: string): Promise<Buffer> {
    this.keyring.requireUnlocked();
    return this.cipher.open(identity, sealed);
  }
}
