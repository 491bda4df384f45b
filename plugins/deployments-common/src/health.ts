import { KeyringState } from './keyring';

/**
 * A release that needs attention, as the status banner names it.
 * @public
 */
export interface DeploymentsReleaseAttention {
  planId: string;
  entityRef: string;
  target: string;
  namespace: string;
  releaseName: string;
  /** The plan status that put it here, e.g. 'failed' or 'interrupted'. */
  status: string;
  /** A short, secret-free reason. */
  message?: string;
  since: string;
}

/**
 * The health summary behind the status banner (`GET /health/summary`).
 * @public
 */
export interface DeploymentsHealth {
  /** 'ok' when nothing needs attention; 'degraded' otherwise; 'sealed' when nothing can deploy. */
  status: 'ok' | 'degraded' | 'sealed';
  keyring: KeyringState;
  targets: {
    total: number;
    /** Targets whose last scheduled reachability check failed. */
    unreachable: Array<{ name: string; error: string; checkedAt: string }>;
  };
  releases: {
    failed: DeploymentsReleaseAttention[];
    /** Releases left pending-install/upgrade/rollback, or operations interrupted. */
    pending: DeploymentsReleaseAttention[];
  };
  operations: { running: number };
  checkedAt: string;
}
