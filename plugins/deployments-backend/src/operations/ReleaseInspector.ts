import { Config } from '@backstage/config';
import { ReleaseHistoryEntry } from '@kubedeploy/plugin-deployments-common';
import { Readable } from 'node:stream';
import {
  CustomErrorBase,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  ClusterConnection,
  ClusterRequestError,
} from '../cluster/ClusterConnection';
import { LogStreamLimiter } from '../cluster/LogStreamLimiter';
import { readReleaseImages } from '../cluster/ReleaseImages';
import {
  followLogs,
  listPods,
  QuietStreamCheck,
  readLogs,
} from '../cluster/PodLogs';
import { getReleaseResources } from '../cluster/ReleaseResources';
import {
  ReleaseObjectQuery,
  readReleaseObject,
} from '../cluster/ReleaseObjectDetail';
import { ReleasePod, ReleaseResources } from '../cluster/releaseResourceTypes';
import { HelmCommandError, HelmRunner } from '../helm';
import { StoredPlan } from '../plans/DatabasePlanStore';
import {
  isNamespaceAllowed,
  ManifestObject,
} from '../targets/namespaceBoundary';
import { TargetService } from '../targets/TargetService';
import { readPositiveSeconds } from '../lib/configDurations';
import { DatabaseOperationStore } from './DatabaseOperationStore';
import { parseRenderedRelease } from './manifest';

/**
 * The target's cluster (or helm talking to it) failed: 502 when it answered
 * with an error, 503 when it could not be reached. The message is the
 * cluster error's, which never holds credentials.
 */
export class TargetClusterError extends CustomErrorBase {
  name = 'TargetClusterError' as const;
  readonly statusCode: number;

  constructor(message: string, statusCode: number, cause?: Error) {
    super(message, cause);
    this.statusCode = statusCode;
  }
}

/**
 * `deployments.logs.quietCheckSeconds` and `quietCheckTimeoutSeconds`; a value
 * that is not a positive number stops the plugin from starting.
 */
export function readQuietLogCheck(config: Config): QuietStreamCheck {
  return {
    afterMs: readPositiveSeconds(
      config,
      'deployments.logs.quietCheckSeconds',
      60,
    ),
    timeoutMs: readPositiveSeconds(
      config,
      'deployments.logs.quietCheckTimeoutSeconds',
      15,
    ),
  };
}

/** Errors from the cluster and helm become 502/503 answers, not 500s or a misleading 403. */
export async function upstream<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ClusterRequestError) {
      throw new TargetClusterError(
        `The target cluster: ${error.message}`,
        error.serverAnswered ? 502 : 503,
      );
    }
    if (error instanceof HelmCommandError) {
      const unreachable =
        error.reason === 'unreachable' || error.reason === 'timeout';
      throw new TargetClusterError(error.message, unreachable ? 503 : 502);
    }
    throw error;
  }
}

// The objects of a release change only through operations, which forget them.
const OBJECTS_TTL_MS = 10_000;
const OBJECTS_CACHE_SIZE = 500;

/** What a log request may ask for. */
export interface LogQuery {
  pod: string;
  container?: string;
  previous?: boolean;
  tailLines?: number;
  all?: boolean;
  sinceSeconds?: number;
  /** Lines start with their time, for showing several pods' logs merged. */
  timestamps?: boolean;
}

/**
 * Reads what a plan's release looks like now: its objects with live status,
 * Helm history joined with who deployed what, pods and their logs. Every
 * read goes through the target's own credentials, inside the plan's namespace.
 */
export class ReleaseInspector {
  private readonly objectsCache = new Map<
    string,
    { expires: number; objects: ManifestObject[] | undefined }
  >();

  private constructor(
    private readonly targets: TargetService,
    private readonly helm: () => Promise<HelmRunner>,
    private readonly store: DatabaseOperationStore,
    private readonly logStreams: LogStreamLimiter,
    private readonly quietLogCheck: QuietStreamCheck | undefined,
  ) {}

  static create(options: {
    targets: TargetService;
    helm: () => Promise<HelmRunner>;
    store: DatabaseOperationStore;
    logStreams?: LogStreamLimiter;
    /** How followed logs notice an API server that stopped answering. */
    quietLogCheck?: QuietStreamCheck;
  }): ReleaseInspector {
    return new ReleaseInspector(
      options.targets,
      options.helm,
      options.store,
      options.logStreams ?? LogStreamLimiter.create(),
      options.quietLogCheck,
    );
  }

  resources(plan: StoredPlan) {
    return upstream(() => this.readResources(plan));
  }

  /** One live object of the release, Secret values hidden; 404 for anything not the release's. */
  object(plan: StoredPlan, query: ReleaseObjectQuery) {
    return upstream(async () => {
      const { connection, objects } = await this.release(plan);
      if (!objects) {
        throw new NotFoundError(
          `Release ${plan.releaseName} is not installed in ${plan.namespace}`,
        );
      }
      return readReleaseObject({
        connection,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
        objects,
        query,
      });
    });
  }

  history(plan: StoredPlan) {
    return upstream(() => this.readHistory(plan));
  }

  pods(plan: StoredPlan) {
    return upstream(() => this.readPods(plan));
  }

  /** The images the release's live workloads run; undefined when it is not installed. */
  images(plan: StoredPlan) {
    return upstream(async () => {
      // A check must see what runs now, not what a page read seconds ago.
      this.forget(plan);
      const { connection, objects } = await this.release(plan);
      if (!objects) return undefined;
      return readReleaseImages({
        connection,
        namespace: plan.namespace,
        objects,
      });
    });
  }

  logs(plan: StoredPlan, query: LogQuery) {
    return upstream(() => this.readLogs(plan, query));
  }

  /**
   * A follow stream for one user; it counts against the user's cap until it
   * ends, and aborting `signal` (the client went away) closes it upstream.
   */
  followLogs(
    plan: StoredPlan,
    query: LogQuery,
    user: string,
    signal: AbortSignal,
  ) {
    return upstream(() => this.openLogStream(plan, query, user, signal));
  }

  private async readResources(
    plan: StoredPlan,
  ): Promise<ReleaseResources & { installed: boolean }> {
    const { connection, objects } = await this.release(plan);
    if (!objects) {
      return {
        installed: false,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
        summary: { healthy: false, message: 'The release is not installed' },
        objects: [],
        replicaSets: [],
        pods: [],
        warnings: [],
        fetchedAt: new Date().toISOString(),
      };
    }
    return {
      installed: true,
      ...(await getReleaseResources({
        connection,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
        objects,
      })),
    };
  }

  /** Helm history, newest first, with the plan revision and actor of portal-made revisions. */
  private async readHistory(plan: StoredPlan): Promise<ReleaseHistoryEntry[]> {
    const target = await this.targets.getStored(plan.targetName);
    const [history, records] = await Promise.all([
      (
        await this.helm()
      ).history({
        access: await this.targets.clusterAccess(target),
        namespace: plan.namespace,
        releaseName: plan.releaseName,
      }),
      this.store.listReleases({
        targetId: target.id,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
      }),
    ]);
    return history
      .map(revision => {
        const record = records.find(r => r.helmRevision === revision.revision);
        return {
          revision: revision.revision,
          updated: revision.updated,
          status: revision.status,
          chart: revision.chart,
          appVersion: revision.appVersion,
          description: revision.description,
          planRevision: record?.planRevision,
          actor: record?.actor,
          operationId: record?.operationId,
        };
      })
      .sort((a, b) => b.revision - a.revision);
  }

  private async readPods(plan: StoredPlan): Promise<ReleasePod[]> {
    const { connection, objects } = await this.release(plan);
    if (!objects) return [];
    return listPods(connection, plan.namespace, plan.releaseName, objects);
  }

  private async readLogs(plan: StoredPlan, query: LogQuery): Promise<string> {
    const { connection, objects } = await this.release(plan);
    return readLogs({
      connection,
      namespace: plan.namespace,
      releaseName: plan.releaseName,
      objects: objects ?? [],
      pod: query.pod,
      container: await this.containerOf(plan, connection, objects, query),
      previous: query.previous,
      tailLines: query.all ? 'all' : query.tailLines,
      sinceSeconds: query.sinceSeconds,
      timestamps: query.timestamps,
    });
  }

  private async openLogStream(
    plan: StoredPlan,
    query: LogQuery,
    user: string,
    signal: AbortSignal,
  ): Promise<Readable> {
    const release = this.logStreams.acquire(user);
    try {
      const { connection, objects } = await this.release(plan);
      const stream = await followLogs({
        connection,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
        objects: objects ?? [],
        pod: query.pod,
        container: await this.containerOf(plan, connection, objects, query),
        previous: query.previous,
        tailLines: query.all ? undefined : query.tailLines,
        sinceSeconds: query.sinceSeconds,
        timestamps: query.timestamps,
        signal,
        quietCheck: this.quietLogCheck,
      });
      stream.once('close', release);
      return stream;
    } catch (error) {
      release();
      throw error;
    }
  }

  private async containerOf(
    plan: StoredPlan,
    connection: ClusterConnection,
    objects: ManifestObject[] | undefined,
    query: LogQuery,
  ): Promise<string> {
    if (query.container) return query.container;
    const pods = await listPods(
      connection,
      plan.namespace,
      plan.releaseName,
      objects ?? [],
    );
    const pod = pods.find(p => p.name === query.pod);
    const first = pod?.containers.find(c => !c.init) ?? pod?.containers[0];
    // readLogs refuses an unknown pod with a clear NotFoundError.
    return first?.name ?? '';
  }

  private async release(plan: StoredPlan) {
    const target = await this.targets.getStored(plan.targetName);
    // The target's allowlist may have narrowed since the plan was made.
    if (!isNamespaceAllowed(this.targets.boundaryOf(target), plan.namespace)) {
      throw new NotAllowedError(
        `Target ${target.name} no longer allows namespace ${plan.namespace}`,
      );
    }
    const { access, cluster } = await this.targets.connect(target);
    const key = `${target.id}/${plan.namespace}/${plan.releaseName}`;
    const now = Date.now();
    let cached = this.objectsCache.get(key);
    if (!cached || cached.expires < now) {
      // One helm process per release every few seconds, not per request: a
      // logs tab lists pods, reads and follows within moments.
      const manifest = await (
        await this.helm()
      ).getManifest({
        access,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
      });
      cached = {
        expires: now + OBJECTS_TTL_MS,
        objects:
          manifest === undefined
            ? undefined
            : parseRenderedRelease({ manifest, hooks: [] }).map(
                o => o.object as ManifestObject,
              ),
      };
      if (this.objectsCache.size >= OBJECTS_CACHE_SIZE) {
        this.objectsCache.delete(this.objectsCache.keys().next().value!);
      }
      this.objectsCache.set(key, cached);
    }
    return {
      connection: cluster,
      objects: cached.objects,
    };
  }

  /** Forget what a release looked like, e.g. after an operation changed it. */
  forget(plan: Pick<StoredPlan, 'targetId' | 'namespace' | 'releaseName'>) {
    this.objectsCache.delete(
      `${plan.targetId}/${plan.namespace}/${plan.releaseName}`,
    );
  }
}
