import { ConflictError, InputError } from '@backstage/errors';
import { fromInClusterServiceAccount } from '../../cluster/ClusterConnection';
import { TargetAuthStrategy } from './types';

/** The URL recorded for in-cluster targets; the real one comes from the pod's environment. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/**
 * The backend's own ServiceAccount, read from the pod at every use (projected
 * tokens rotate). Nothing secret is stored; a marker is sealed all the same,
 * so the impersonation it is used with is bound like any credential's.
 */
export function inClusterAuth(options: {
  serviceAccountDir?: string;
}): TargetAuthStrategy<{ authKind: 'inCluster' }> {
  return {
    kind: 'inCluster',
    settingsFromCredential: true,
    needsCa: false,
    checksServerUrl: false,
    storesSecret: false,
    readInput(body) {
      if (body.token || body.kubeconfig) {
        throw new InputError(
          'authKind inCluster takes no credentials: it uses the backend ServiceAccount',
        );
      }
      return { authKind: 'inCluster' };
    },
    enter(target) {
      return {
        target: {
          ...target,
          apiServerUrl: IN_CLUSTER_SERVER,
          caData: undefined,
        },
        payload: { kind: 'inCluster' },
      };
    },
    access(target, payload) {
      if (payload.kind !== 'inCluster') {
        throw new ConflictError(
          `Target "${target.name}" is in-cluster but holds a stored credential; re-enter it`,
        );
      }
      return fromInClusterServiceAccount({
        serviceAccountDir: options.serviceAccountDir,
      });
    },
  };
}
