import { User } from '@kubernetes/client-node';

/** How a target authenticates to its API server. PEM text, never paths. */
export type ClusterCredentials =
  | TokenCredentials
  | ClientCertificateCredentials
  | BasicCredentials;

export type TokenCredentials = { kind: 'token'; token: string };
export type ClientCertificateCredentials = {
  kind: 'clientCertificate';
  certData: string;
  keyData: string;
};
export type BasicCredentials = {
  kind: 'basic';
  username: string;
  password: string;
};

/**
 * Everything the backend does differently for one kind of cluster
 * credential, in one place (like the Kubernetes plugin's authentication
 * strategies): validate it, hand it to the Kubernetes client, write it into
 * the kubeconfig helm reads, and name its secret parts for redaction.
 */
export interface ClusterCredentialStrategy<T extends ClusterCredentials> {
  kind: T['kind'];
  /** @throws InputError that never echoes the secret */
  check(credentials: T): void;
  /** The client-node user fields. */
  clientUser(
    credentials: T,
  ): Pick<User, 'token' | 'certData' | 'keyData' | 'username' | 'password'>;
  /** The `users[].user` fields of a kubeconfig. */
  kubeconfigUser(credentials: T): Record<string, string>;
  /** The secret parts, as they are and in the combined forms they are sent in. */
  secrets(credentials: T): string[];
}

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
