import { InputError } from '@backstage/errors';
import { TargetAuthKind } from '@kubedeploy/plugin-deployments-common';
import { inClusterAuth } from './inClusterAuth';
import { kubeconfigAuth } from './kubeconfigAuth';
import { tokenAuth } from './tokenAuth';
import { CredentialFields, TargetAuthStrategy } from './types';

export type {
  CredentialFields,
  SealedTargetPayload,
  TargetAuthStrategy,
} from './types';
export { IN_CLUSTER_SERVER } from './inClusterAuth';

/** The strategies of every way a target authenticates, by kind. */
export class TargetAuthStrategies {
  private readonly byKind: Record<TargetAuthKind, TargetAuthStrategy>;

  constructor(options: { inClusterServiceAccountDir?: string } = {}) {
    this.byKind = {
      kubeconfig: kubeconfigAuth as TargetAuthStrategy,
      token: tokenAuth as TargetAuthStrategy,
      inCluster: inClusterAuth({
        serviceAccountDir: options.inClusterServiceAccountDir,
      }) as TargetAuthStrategy,
    };
  }

  /** @throws InputError for a kind the backend does not know */
  for(kind: string): TargetAuthStrategy {
    if (!Object.hasOwn(this.byKind, kind)) {
      throw new InputError(
        `Unknown authKind "${kind}"; expected one of ${Object.keys(
          this.byKind,
        ).join(', ')}`,
      );
    }
    return this.byKind[kind as TargetAuthKind];
  }

  /** A request's credential fields, checked for the fields their kind needs. */
  readInput(body: CredentialFields) {
    return this.for(body.authKind).readInput(body);
  }
}
