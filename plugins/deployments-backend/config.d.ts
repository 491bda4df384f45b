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
    /** Which API servers targets may point at (link-local and metadata addresses never). */
    targets?: {
      /** Host globs targets may point at; when set, nothing else. */
      allow?: string[];
      /** Host globs targets may never point at. */
      deny?: string[];
    };
    inCluster?: {
      /**
       * Where the backend's own ServiceAccount token and CA are read for
       * `inCluster` targets. Defaults to the standard in-pod path.
       */
      serviceAccountDir?: string;
    };
    helm?: {
      /** The helm CLI (3 or 4) to run; `helm` on PATH by default. */
      binary?: string;
      /**
       * At most this many helm processes at a time on each backend replica;
       * further runs wait their turn, first come first served, and their
       * operations say "waiting for a helm slot (position N)". Default 4.
       */
      maxConcurrent?: number;
      /**
       * A soft memory limit for each helm process, in MiB (Go's GOMEMLIMIT:
       * helm collects garbage harder near it rather than being killed).
       * None by default.
       */
      memoryLimitMiB?: number;
    };
    operations?: {
      /** How often a running operation proves its process is alive. Default 5. */
      heartbeatSeconds?: number;
      /** After how long without a heartbeat an operation counts as interrupted. Default 30. */
      staleAfterSeconds?: number;
      /** How often any replica looks for interrupted operations. Default 60. */
      sweepIntervalSeconds?: number;
    };
    logs?: {
      /** Concurrent follow streams per user and backend instance. Default 5. */
      maxStreamsPerUser?: number;
    };
    health?: {
      /** How often target reachability is probed for the status banner. Default 60. */
      probeIntervalSeconds?: number;
    };
    plans?: {
      /**
       * How often the owner recorded on plans is brought in line with the
       * catalog, for the ownership permission rule. Default 300.
       */
      ownerSyncIntervalSeconds?: number;
    };
    permissions?: {
      /**
       * How long a permission decision may take; a permission backend that
       * does not answer in time is a denial, like one that fails. Default 5000.
       */
      timeoutMs?: number;
    };
    /**
     * How long the audit trail and operation output are kept. A task on one
     * replica deletes older rows in bounded batches; operations themselves,
     * release records and what rollback and apply check are always kept.
     */
    retention?: {
      /** Days audit entries are kept; 0 keeps them forever. Default 365. */
      auditDays?: number;
      /**
       * Days the progress lines of finished operations are kept (and the
       * per-object diffs and manifests of large dry-run results no plan
       * relies on any more); 0 keeps them forever. Default 90.
       */
      operationLinesDays?: number;
      /** How often the task runs, in minutes. Default 60. */
      intervalMinutes?: number;
      /** Rows deleted per statement. Default 1000. */
      batchSize?: number;
      /** Statements per run; what is left waits for the next run. Default 100. */
      maxBatchesPerRun?: number;
    };
    /** Four-eyes approval on targets that require it. */
    approvals?: {
      /** How long a request, and the approval given to it, stays good. Default 1440 (a day). */
      ttlMinutes?: number;
      /**
       * Entity refs (users or groups) told of every approval request, besides
       * the target's owner; the requester is never told of their own.
       */
      notify?: string[];
    };
  };
}
