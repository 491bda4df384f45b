export interface Config {
  /** Configuration of the deployments plugin. */
  deployments?: {
    keyring?: {
      /**
       * Unlocks the keyring at start-up, so several backend replicas come up
       * unlocked, and lets a replica follow an unlock made on another one
       * (without it, only the replica that answered an unlock holds keys).
       * It never undoes a seal: after `POST /keyring/seal` every replica stays
       * sealed, restarts included, until someone unlocks with the passphrase.
       * Normally `${DEPLOYMENTS_KEYRING_PASSPHRASE}`; never commit it.
       * @visibility secret
       */
      passphrase?: string;
    };
    /**
     * Which registries chart registration may contact. Every address is read
     * as the address it reaches (`[::ffff:127.0.0.1]`, `2130706433` and
     * `0x7f.1` are `127.0.0.1`) and checked when a chart is registered, after
     * DNS resolution, on every redirect and token realm, and on the address
     * each connection reached. Only public addresses are contacted unless a
     * CIDR in `allow` contains the address; link-local, cloud-metadata,
     * unspecified, multicast and broadcast addresses and Backstage itself
     * (its hosts, and this machine on its port) never are.
     */
    registries?: {
      /**
       * What may be contacted; when set, nothing else may (add `'*'` to keep
       * every public host). Host globs (`*.example.com`,
       * `registry.internal:5000`) match the host name; IP addresses and CIDRs
       * (`10.20.0.0/16`, `fd00::/8`) match the addresses it resolves to and
       * allow them even when private (RFC 1918, IPv6 unique local), CGNAT
       * (`100.64.0.0/10`), documentation or reserved.
       */
      allow?: string[];
      /** Host globs, IP addresses and CIDRs that may never be contacted. */
      deny?: string[];
      /**
       * Allow loopback registries (local development). Default false.
       * Backstage's own port stays refused.
       */
      allowLoopback?: boolean;
      /** host[:port]s that may be reached over plain http. */
      plainHttpHosts?: string[];
      /**
       * The time one chart registration may take in all, every request of
       * it together (each request also has a 30 s limit). Default 120.
       */
      registrationTimeoutSeconds?: number;
    };
    /**
     * Which API servers targets may point at, checked when a target's URL is
     * stored and before every use, as for registries: link-local,
     * cloud-metadata addresses and Backstage itself never; documentation and
     * reserved ranges only through a CIDR in `allow`.
     */
    targets?: {
      /**
       * Host globs, IP addresses and CIDRs targets may point at; when set,
       * nothing else (add `'*'` to keep every other host).
       */
      allow?: string[];
      /** Host globs, IP addresses and CIDRs targets may never point at. */
      deny?: string[];
      /**
       * Whether API servers may be on private networks (RFC 1918, IPv6 unique
       * local, CGNAT), where clusters usually live. Default true.
       */
      allowPrivate?: boolean;
      /** Whether API servers may be on loopback (local development). Default true. */
      allowLoopback?: boolean;
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
      /**
       * A followed log that has been quiet this long asks the API server
       * about its pod, so a server that hangs without closing the stream is
       * noticed. Default 60.
       */
      quietCheckSeconds?: number;
      /** How long that check may take before the stream ends with an error. Default 15. */
      quietCheckTimeoutSeconds?: number;
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
    /** Backstage notifications sent by the plugin. */
    notifications?: {
      /**
       * Entity refs (users or groups) of the platform group, told when the
       * keyring is sealed after a restart and when a target becomes
       * unreachable. Defaults to deployments.approvals.notify.
       */
      platform?: string[];
    };
    /**
     * Patch advisories: a scheduled check (once across replicas) of the
     * images and chart every deployed release runs against their registries
     * and repositories.
     */
    advisories?: {
      /** Whether the scheduled check runs. Default true. */
      enabled?: boolean;
      /** Minutes between checks. Default 60. */
      checkIntervalMinutes?: number;
      /** Seconds after start before the first check. Default 120. */
      initialDelaySeconds?: number;
      /** Whether pre-release versions (1.3.0-rc.1) count as newer. Default false. */
      includePrereleases?: boolean;
      /**
       * The registry host[:port] of images named without one (`nginx:1.27`),
       * as container runtimes resolve them. Without it such images are
       * reported as unknown.
       */
      defaultRegistry?: string;
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
