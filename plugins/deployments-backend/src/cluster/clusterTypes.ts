import { ClusterCredentials } from './credentials';

/** Everything needed to talk to one cluster, decrypted in memory for one operation. */
export interface ClusterAccess {
  /** https URL of the API server; http only together with insecureSkipTlsVerify. */
  server: string;
  /** PEM bundle of the CAs that may sign the server certificate. */
  caData?: string;
  tlsServerName?: string;
  insecureSkipTlsVerify?: boolean;
  credentials: ClusterCredentials;
  /** Applied to every request; groups require a user, as in Kubernetes. */
  impersonate?: { user?: string; groups?: string[] };
}

/** Attributes of a SelfSubjectAccessReview; group '' is the core group. */
export interface AccessAttributes {
  namespace?: string;
  group: string;
  resource: string;
  subresource?: string;
  verb: string;
  name?: string;
}
