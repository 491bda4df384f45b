import { InputError } from '@backstage/errors';
import { parseKubeconfig } from '../kubeconfig/parseKubeconfig';
import { storedClusterAccess } from './storedClusterAccess';
import { TargetAuthStrategy } from './types';

/**
 * A kubeconfig: its server and CA become the target's (and change only
 * with it), its user's credential is sealed. Exec plugins, files and
 * impersonation fields are refused by the parser.
 */
export const kubeconfigAuth: TargetAuthStrategy<{
  authKind: 'kubeconfig';
  kubeconfig: string;
}> = {
  kind: 'kubeconfig',
  settingsFromCredential: true,
  needsCa: true,
  checksServerUrl: true,
  storesSecret: true,
  readInput(body) {
    if (!body.kubeconfig || body.token) {
      throw new InputError(
        'authKind kubeconfig needs `kubeconfig` (and no `token`)',
      );
    }
    return { authKind: 'kubeconfig', kubeconfig: body.kubeconfig };
  },
  enter(target, input) {
    const parsed = parseKubeconfig(input.kubeconfig ?? '', {
      allowInsecureTls: target.allowInsecureTls,
    });
    if (parsed.tlsServerName !== undefined) {
      // Targets do not store a TLS server name; verifying the certificate
      // for another name than the URL's would silently not happen.
      throw new InputError(
        'The kubeconfig sets tls-server-name, which targets do not support: use an API server URL whose host name the server certificate names',
      );
    }
    return {
      target: { ...target, apiServerUrl: parsed.server, caData: parsed.caData },
      payload: parsed.credentials,
    };
  },
  access: storedClusterAccess,
};
