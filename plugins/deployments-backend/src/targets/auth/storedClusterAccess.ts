import { ConflictError } from '@backstage/errors';
import { ClusterAccess } from '../../cluster/ClusterConnection';
import { StoredTarget } from '../DatabaseTargetStore';
import { SealedTargetPayload } from './types';

/** The access of a target whose server, CA and credential are all stored. */
export function storedClusterAccess(
  target: StoredTarget,
  payload: SealedTargetPayload,
): ClusterAccess {
  if (payload.kind === 'inCluster') {
    throw new ConflictError(
      `Target "${target.name}" holds no cluster credential`,
    );
  }
  return {
    server: target.apiServerUrl,
    caData: target.caData,
    insecureSkipTlsVerify: target.allowInsecureTls && !target.caData,
    credentials: payload,
  };
}
