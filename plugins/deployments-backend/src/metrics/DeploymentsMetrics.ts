import { LoggerService } from '@backstage/backend-plugin-api';
import {
  MetricsService,
  MetricsServiceCounter,
  MetricsServiceHistogram,
} from '@backstage/backend-plugin-api/alpha';
import {
  KeyringState,
  OperationKind,
  OperationStatus,
} from '@kubedeploy/plugin-deployments-common';

/** Keyring states, each reported as its own series (1 for the current one). */
const KEYRING_STATES: KeyringState[] = ['uninitialized', 'sealed', 'unlocked'];

/** Reads that hit the database are shared for this long between collections. */
const DEFAULT_CACHE_MS = 5_000;

/** Operations last from seconds to many minutes (apply with --wait). */
const DURATION_BUCKETS_SECONDS = [
  0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600,
];

/** A helm run waits for a slot from no time at all to minutes (applies with --wait ahead). */
const SLOT_WAIT_BUCKETS_SECONDS = [
  0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

type OperationAttributes = { kind: OperationKind; outcome: OperationStatus };

/** What the observable gauges read, each when metrics are collected. */
export interface DeploymentsMetricsSources {
  /** helm processes of this replica; undefined while helm has not been started. */
  helm(): { running: number; waiting: number } | undefined;
  /** Log follow streams open on this replica. */
  logStreams(): number;
  /** The keyring's state (read through a cache: it queries the database). */
  keyringState(): Promise<KeyringState>;
  /** The last probe of each target (read through a cache). */
  reachability(): Promise<Array<{ target: string; reachable: boolean }>>;
}

/**
 * The plugin's OpenTelemetry metrics, through Backstage's metrics service
 * (scoped to the plugin's meter). Attributes carry kinds, outcomes, keyring
 * states and target names, never anything from a plan's values or an error.
 */
export class DeploymentsMetrics {
  readonly #operations: MetricsServiceCounter<OperationAttributes>;
  readonly #durations: MetricsServiceHistogram<OperationAttributes>;
  readonly #refusals: MetricsServiceCounter<{ kind: OperationKind }>;
  readonly #slotWaits: MetricsServiceHistogram;
  readonly #metrics: MetricsService;
  readonly #logger: LoggerService;
  readonly #cacheMs: number;

  private constructor(
    metrics: MetricsService,
    logger: LoggerService,
    cacheMs: number,
  ) {
    this.#metrics = metrics;
    this.#logger = logger;
    this.#cacheMs = cacheMs;
    this.#operations = metrics.createCounter('deployments.operations.total', {
      description: 'Operations finished on this replica, by kind and outcome',
      unit: '{operation}',
    });
    this.#durations = metrics.createHistogram(
      'deployments.operations.duration',
      {
        description: 'How long finished operations ran, by kind and outcome',
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS },
      },
    );
    this.#refusals = metrics.createCounter(
      'deployments.operations.refused.total',
      {
        description:
          'Operations refused (409) because another one holds the release, by kind',
        unit: '{operation}',
      },
    );
    this.#slotWaits = metrics.createHistogram('deployments.helm.queue.wait', {
      description:
        'How long helm runs waited for a free slot on this replica (0 when one was free)',
      unit: 's',
      advice: { explicitBucketBoundaries: SLOT_WAIT_BUCKETS_SECONDS },
    });
  }

  static create(options: {
    metrics: MetricsService;
    logger: LoggerService;
    /** How long database reads are shared between collections (5 s). */
    cacheMs?: number;
  }): DeploymentsMetrics {
    return new DeploymentsMetrics(
      options.metrics,
      options.logger,
      options.cacheMs ?? DEFAULT_CACHE_MS,
    );
  }

  /** Counts a finished operation and records how long it ran. */
  operationFinished(operation: {
    kind: OperationKind;
    status: OperationStatus;
    durationMs?: number;
  }): void {
    const attributes = { kind: operation.kind, outcome: operation.status };
    try {
      this.#operations.add(1, attributes);
      if (operation.durationMs !== undefined) {
        this.#durations.record(operation.durationMs / 1000, attributes);
      }
    } catch (error) {
      // Metrics never change what happens to an operation.
      this.#logger.debug('Could not record an operation metric', {
        error: String(error),
      });
    }
  }

  /** Counts an operation refused because its release was busy. */
  operationRefused(kind: OperationKind): void {
    try {
      this.#refusals.add(1, { kind });
    } catch (error) {
      this.#logger.debug('Could not record an operation metric', {
        error: String(error),
      });
    }
  }

  /** Records how long a helm run waited for its slot. */
  helmSlotWaited(waitedMs: number): void {
    try {
      this.#slotWaits.record(waitedMs / 1000);
    } catch (error) {
      this.#logger.debug('Could not record a helm metric', {
        error: String(error),
      });
    }
  }

  /** Registers the gauges; call once, when every source exists. */
  observe(sources: DeploymentsMetricsSources): void {
    const keyringState = this.#cached(() => sources.keyringState());
    const reachability = this.#cached(() => sources.reachability());

    this.#metrics
      .createObservableGauge('deployments.helm.queue.length', {
        description: 'helm runs waiting for a free slot on this replica',
        unit: '{run}',
      })
      .addCallback(result => {
        result.observe(sources.helm()?.waiting ?? 0);
      });
    this.#metrics
      .createObservableGauge('deployments.helm.processes.running', {
        description: 'helm processes running on this replica',
        unit: '{process}',
      })
      .addCallback(result => {
        result.observe(sources.helm()?.running ?? 0);
      });
    this.#metrics
      .createObservableGauge('deployments.logs.streams.active', {
        description: 'Pod log follow streams open on this replica',
        unit: '{stream}',
      })
      .addCallback(result => {
        result.observe(sources.logStreams());
      });
    this.#metrics
      .createObservableGauge<{ state: KeyringState }>(
        'deployments.keyring.state',
        {
          description:
            'The keyring as this replica sees it: 1 for its current state, 0 for the others',
          unit: '1',
        },
      )
      .addCallback(async result => {
        const current = await keyringState().catch(error => {
          this.#logger.debug('Could not read the keyring state for metrics', {
            error: String(error),
          });
          return undefined;
        });
        if (current === undefined) return;
        for (const state of KEYRING_STATES) {
          result.observe(state === current ? 1 : 0, { state });
        }
      });
    this.#metrics
      .createObservableGauge<{ target: string }>(
        'deployments.targets.reachable',
        {
          description:
            "Each target's API server at its last probe: 1 reachable, 0 not (unprobed targets are left out)",
          unit: '1',
        },
      )
      .addCallback(async result => {
        const probes = await reachability().catch(error => {
          this.#logger.debug('Could not read target reachability for metrics', {
            error: String(error),
          });
          return [];
        });
        for (const probe of probes) {
          result.observe(probe.reachable ? 1 : 0, { target: probe.target });
        }
      });
  }

  /** One read shared by the collections within `cacheMs`; failures are not kept. */
  #cached<T>(read: () => Promise<T>): () => Promise<T> {
    let last: { at: number; value: Promise<T> } | undefined;
    return () => {
      const now = Date.now();
      if (!last || now - last.at >= this.#cacheMs) {
        const value = read();
        const entry = { at: now, value };
        last = entry;
        value.catch(() => {
          if (last === entry) last = undefined;
        });
      }
      return last.value;
    };
  }
}
