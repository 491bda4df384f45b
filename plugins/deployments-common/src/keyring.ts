/** State of the keyring that protects cluster credentials. @public */
export type KeyringState = 'uninitialized' | 'sealed' | 'unlocked';

/** What anyone allowed to read the keyring may see: never key material. @public */
export interface KeyringStatus {
  state: KeyringState;
  fingerprint?: string;
  createdAt?: string;
  /** Set while a rotation has started and not finished; unlocking resumes it. */
  rotation?: { pendingFingerprint: string; startedAt: string };
  dataKeyCount: number;
  /** How the keyring was unlocked, when it is. */
  unlockedBy?: 'passphrase' | 'configuration';
}

/** The timings of one self-test round trip. @public */
export interface KeyringSelfTestResult {
  ok: boolean;
  fingerprint: string;
  steps: Array<{ step: string; ms: number }>;
  totalMs: number;
}

/** What verifying a `.kbk` backup reveals. @public */
export interface KeyringBackupVerification {
  formatVersion: number;
  fingerprint: string;
  capturedAt: string;
  matchesCurrent: boolean;
  keyCount: number;
  dataKeyCount: number;
}
