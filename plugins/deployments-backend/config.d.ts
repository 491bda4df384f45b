export interface Config {
  /** Configuration of the deployments plugin. */
  deployments?: {
    keyring?: {
      /**
       * Unlocks the keyring at start-up, so several backend replicas come up
       * unlocked. Normally `${DEPLOYMENTS_KEYRING_PASSPHRASE}`; never commit it.
       * @visibility secret
       */
      passphrase?: string;
    };
    /** Which registries chart registration may contact. */
    registries?: {
      /** Host globs that may be contacted; when set, nothing else may. */
      allow?: string[];
      /** Host globs that may never be contacted. */
      deny?: string[];
      /** Allow loopback registries (local development). Default false. */
      allowLoopback?: boolean;
      /** host[:port]s that may be reached over plain http. */
      plainHttpHosts?: string[];
    };
    inCluster?: {
      /**
       * Where the backend's own ServiceAccount token and CA are read for
       * `inCluster` targets. Defaults to the standard in-pod path.
       */
      serviceAccountDir?: string;
    };
  };
}
