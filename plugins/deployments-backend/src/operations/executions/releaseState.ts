import { LoggerService } from '@backstage/backend-plugin-api';
import { HelmRunner, HelmTarget } from '../../helm';

/** helm's statuses of a release an operation left half-done. */
export const PENDING = /^pending-/;
const RELEASE_STATE_TIMEOUT_MS = 15_000;

/**
 * The release's state after helm failed, for the plan's status message,
 * read within 15 s; when it cannot be read, says so and how to recover.
 */
export async function releaseStateAfterFailure(
  helm: HelmRunner,
  target: HelmTarget,
  logger: LoggerService,
): Promise<string> {
  try {
    const status = await helm.status(target, {
      signal: AbortSignal.timeout(RELEASE_STATE_TIMEOUT_MS),
    });
    if (!status) return '; the release was not installed';
    if (PENDING.test(status.status)) {
      return `; the release is left ${status.status} at revision ${status.revision}: roll back (or uninstall) to recover`;
    }
    return `; the release is ${status.status} at revision ${status.revision}`;
  } catch (error) {
    logger.debug(
      `Release state after a failed apply not read: ${
        (error as Error).message
      }`,
    );
    return '; the release state could not be read (the API server did not answer): it may be left pending; check it before applying again';
  }
}

/** The newest deployed (or superseded) revision before `revision`. */
export async function lastDeployedBefore(
  helm: HelmRunner,
  target: HelmTarget,
  revision: number,
): Promise<number | undefined> {
  const history = await helm.history(target);
  return history
    .filter(
      h =>
        h.revision < revision &&
        (h.status === 'deployed' || h.status === 'superseded'),
    )
    .sort((a, b) => b.revision - a.revision)[0]?.revision;
}
