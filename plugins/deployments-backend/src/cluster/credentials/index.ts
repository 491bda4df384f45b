import { InputError } from '@backstage/errors';
import { basicCredentials } from './basicCredentials';
import { clientCertificateCredentials } from './clientCertificateCredentials';
import { tokenCredentials } from './tokenCredentials';
import { ClusterCredentials, ClusterCredentialStrategy } from './types';

export type { ClusterCredentials, ClusterCredentialStrategy } from './types';

const STRATEGIES = {
  token: tokenCredentials,
  clientCertificate: clientCertificateCredentials,
  basic: basicCredentials,
} satisfies {
  [K in ClusterCredentials['kind']]: ClusterCredentialStrategy<
    Extract<ClusterCredentials, { kind: K }>
  >;
};

/**
 * The strategy for a credential's kind.
 *
 * @throws InputError for a kind the backend does not know
 */
export function credentialStrategy(
  credentials: ClusterCredentials,
): ClusterCredentialStrategy<ClusterCredentials> {
  const kind = (credentials as { kind?: unknown } | undefined)?.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(STRATEGIES, kind)) {
    throw new InputError(
      `credentials.kind must be one of ${Object.keys(STRATEGIES)
        .map(k => `'${k}'`)
        .join(', ')}`,
    );
  }
  return STRATEGIES[
    kind as ClusterCredentials['kind']
  ] as ClusterCredentialStrategy<ClusterCredentials>;
}

/** The secret parts of cluster credentials, for redaction. */
export function credentialSecrets(credentials: ClusterCredentials): string[] {
  return credentialStrategy(credentials).secrets(credentials);
}
