import {
  TargetAuthKind,
  TargetCredentialsInput,
} from '@kubedeploy/plugin-deployments-common';
import { ClusterAccess } from '../../cluster/ClusterConnection';
import { ClusterCredentials } from '../../cluster/credentials';
import { StoredTarget } from '../DatabaseTargetStore';

/** The credential fields of a request body, before their kind is checked. */
export interface CredentialFields {
  authKind: TargetAuthKind;
  kubeconfig?: string;
  token?: string;
}

/**
 * What is sealed for a target, bound to its connection settings: the
 * cluster credential, or for in-cluster targets a marker that carries no
 * secret but makes a changed row (e.g. its impersonation) fail closed too.
 */
export type SealedTargetPayload = ClusterCredentials | { kind: 'inCluster' };

/**
 * Everything the backend does differently for one way a target
 * authenticates, in one place (like the Kubernetes plugin's authentication
 * strategies): read it from a request, apply it to the target when it is
 * entered, and build the cluster access of one operation from it.
 */
export interface TargetAuthStrategy<
  TInput extends TargetCredentialsInput = TargetCredentialsInput,
> {
  readonly kind: TInput['authKind'];
  /**
   * Where the credential may go comes from the credential itself (a
   * kubeconfig's server and CA): those settings change only with it.
   */
  readonly settingsFromCredential: boolean;
  /** Whether the API server must be verified with a CA bundle (or insecure TLS allowed explicitly). */
  readonly needsCa: boolean;
  /** Whether the API server URL is the target's own setting, checked against the outbound policy before use. */
  readonly checksServerUrl: boolean;
  /** Whether the sealed payload is a secret (it gets a fingerprint; in-cluster markers do not). */
  readonly storesSecret: boolean;

  /** Checks the request's credential fields for this kind. @throws InputError */
  readInput(body: CredentialFields): TInput;

  /**
   * The target as entering this credential leaves it (a kubeconfig brings
   * its server and CA), and the payload to seal. @throws InputError
   */
  enter(
    target: StoredTarget,
    input: TInput,
  ): { target: StoredTarget; payload: SealedTargetPayload };

  /** The access of one operation, from the opened payload. */
  access(target: StoredTarget, payload: SealedTargetPayload): ClusterAccess;
}
