import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';

/**
 * A duration set in seconds, in milliseconds. A value that is not a positive
 * number stops the plugin from starting, naming the key: a limit that cannot
 * be honoured is refused, never replaced silently.
 */
export function readPositiveSeconds(
  config: Config,
  key: string,
  fallbackSeconds: number,
): number {
  const seconds = config.getOptionalNumber(key) ?? fallbackSeconds;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new InputError(
      `${key} must be a positive number of seconds, got ${seconds}`,
    );
  }
  return seconds * 1000;
}
