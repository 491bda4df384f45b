import { ServiceUnavailableError } from '@backstage/errors';

/** The helm CLI this adapter talks to; flags differ between the majors. */
export interface HelmVersion {
  major: 3 | 4;
  minor: number;
  /** As helm prints it, e.g. `v4.1.4`. */
  full: string;
}

// --dry-run=server arrived in helm 3.13; older helm 3 would render client-side only.
const MIN_HELM_3_MINOR = 13;

/**
 * Parses what `helm version --template={{.Version}}` prints.
 *
 * @throws ServiceUnavailableError when the version is not one this adapter supports
 */
export function parseHelmVersion(output: string): HelmVersion {
  const full = output.trim();
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?$/.exec(full);
  if (!match) {
    throw new ServiceUnavailableError(
      `cannot tell the helm version from ${JSON.stringify(full.slice(0, 80))}`,
    );
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major === 4 || (major === 3 && minor >= MIN_HELM_3_MINOR)) {
    return { major, minor, full };
  }
  throw new ServiceUnavailableError(
    `helm ${full} is not supported: install helm 4, or helm 3.${MIN_HELM_3_MINOR} or newer`,
  );
}
