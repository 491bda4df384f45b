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
    inCluster?: {
      /**
       * Where the backend's own ServiceAccount token and CA are read for
       * `inCluster` targets. Defaults to the standard in-pod path.
       */
      serviceAccountDir?: string;
    };
  };
}
