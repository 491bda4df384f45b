import { KeyringState } from './keyring';

/**
 * The health summary behind the status banner.
 * @public
 */
export interface DeploymentsHealth {
  status: 'ok' | 'degraded';
  keyring: KeyringState;
  checkedAt: string;
}
