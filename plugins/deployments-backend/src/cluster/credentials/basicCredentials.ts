import { InputError } from '@backstage/errors';
import { BasicCredentials, ClusterCredentialStrategy } from './types';

/** A user name and password (HTTP basic authentication). */
export const basicCredentials: ClusterCredentialStrategy<BasicCredentials> = {
  kind: 'basic',
  check({ username, password }) {
    // ':' would split the user name in the basic auth header.
    if (
      typeof username !== 'string' ||
      !/^[\x20-\x7e]+$/.test(username) ||
      username.includes(':')
    ) {
      throw new InputError(
        "credentials.username must be non-empty printable text without ':'",
      );
    }
    if (typeof password !== 'string' || password === '') {
      throw new InputError('credentials.password must not be empty');
    }
  },
  clientUser: ({ username, password }) => ({ username, password }),
  kubeconfigUser: ({ username, password }) => ({ username, password }),
  // The header carries base64 of "user:password"; redaction covers base64 forms.
  secrets: ({ username, password }) => [password, `${username}:${password}`],
};
