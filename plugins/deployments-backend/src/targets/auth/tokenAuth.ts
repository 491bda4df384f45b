import { InputError } from '@backstage/errors';
import { TargetAuthStrategy } from './types';
import { storedClusterAccess } from './storedClusterAccess';

/** A bearer token for an API server whose URL and CA are the target's settings. */
export const tokenAuth: TargetAuthStrategy<{
  authKind: 'token';
  token: string;
}> = {
  kind: 'token',
  settingsFromCredential: false,
  needsCa: true,
  checksServerUrl: true,
  storesSecret: true,
  readInput(body) {
    if (!body.token || body.kubeconfig) {
      throw new InputError(
        'authKind token needs `token` (and no `kubeconfig`)',
      );
    }
    return { authKind: 'token', token: body.token };
  },
  enter(target, input) {
    const token = (input.token ?? '').trim();
    if (!token || /\s/.test(token)) {
      throw new InputError(
        'A bearer token must be a non-empty string without whitespace',
      );
    }
    return { target, payload: { kind: 'token', token } };
  },
  access: storedClusterAccess,
};
