/** State of the keyring that protects cluster credentials. @public */
export type KeyringState = 'uninitialized' | 'sealed' | 'unlocked';

/**
 * The health summary behind the status banner.
 * @public
 */
export interface DeploymentsHealth {
  status: 'ok' | 'degraded';
  keyring: KeyringState;
  checkedAt: string;
}
