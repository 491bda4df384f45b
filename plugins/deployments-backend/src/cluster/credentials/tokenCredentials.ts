import { InputError } from '@backstage/errors';
import { ClusterCredentialStrategy, TokenCredentials } from './types';

/** A bearer token (a ServiceAccount token, an OIDC id token). */
export const tokenCredentials: ClusterCredentialStrategy<TokenCredentials> = {
  kind: 'token',
  check({ token }) {
    // The token goes into an HTTP header, so only visible ASCII is acceptable.
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) {
      throw new InputError(
        'credentials.token must be a non-empty string of printable characters',
      );
    }
  },
  clientUser: ({ token }) => ({ token }),
  kubeconfigUser: ({ token }) => ({ token }),
  secrets: ({ token }) => [token],
};
