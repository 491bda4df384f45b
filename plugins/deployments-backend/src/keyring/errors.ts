import { CustomErrorBase } from '@backstage/errors';

// None of these errors is ever given a `cause`: CustomErrorBase appends the
// cause's message to its own, and messages from parsers and crypto libraries
// can quote their input (JSON.parse does), which may be secret.

/** The unlock passphrase did not open the keyring's private key. */
export class WrongPassphraseError extends CustomErrorBase {
  name = 'WrongPassphraseError' as const;

  constructor(message = 'The passphrase does not unlock the keyring key') {
    super(message);
  }
}

/**
 * A sealed secret or wrapped data key failed its integrity check: it was
 * altered, moved to another record or version, or needs a different key.
 * The message never includes plaintext or key material.
 */
export class SecretIntegrityError extends CustomErrorBase {
  name = 'SecretIntegrityError' as const;

  constructor(message = 'The secret failed its integrity check') {
    super(message);
  }
}

/** The passphrase of a `.kbk` keyring backup is wrong (or its header is damaged). */
export class BackupPassphraseError extends CustomErrorBase {
  name = 'BackupPassphraseError' as const;
  /** The uploaded file's passphrase is wrong: a client error. */
  statusCode = 400;

  constructor(message = 'The passphrase does not open this keyring backup') {
    super(message);
  }
}

/** A `.kbk` keyring backup opened with the right passphrase but its contents are damaged. */
export class BackupCorruptedError extends CustomErrorBase {
  name = 'BackupCorruptedError' as const;
  /** The uploaded file is damaged: a client error. */
  statusCode = 400;

  constructor(
    message = 'The keyring backup is damaged and cannot be restored',
  ) {
    super(message);
  }
}

/** An unlocked keyring key was used after `lock()` forgot its private key. */
export class KeyringKeyLockedError extends CustomErrorBase {
  name = 'KeyringKeyLockedError' as const;

  constructor(message = 'The keyring key has been locked; unlock it again') {
    super(message);
  }
}
