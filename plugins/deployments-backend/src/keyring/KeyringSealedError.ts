import { CustomErrorBase } from '@backstage/errors';

/**
 * The keyring is sealed (after a restart, or on demand): nothing that needs a
 * credential can run until an administrator unlocks it. Answers 503.
 */
export class KeyringSealedError extends CustomErrorBase {
  name = 'KeyringSealedError' as const;
  statusCode = 503;

  constructor(
    message = 'The keyring is sealed; an administrator must unlock it before credentials can be used',
  ) {
    super(message);
  }
}

/** No keyring exists yet; answers 503 like sealed, with its own name. */
export class KeyringUninitializedError extends CustomErrorBase {
  name = 'KeyringUninitializedError' as const;
  statusCode = 503;

  constructor(
    message = 'No keyring exists yet; an administrator must bootstrap it first',
  ) {
    super(message);
  }
}

/** Too many wrong unlock passphrases in a short time. Answers 429. */
export class TooManyUnlockAttemptsError extends CustomErrorBase {
  name = 'TooManyUnlockAttemptsError' as const;
  statusCode = 429;
}
