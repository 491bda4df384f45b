import { LoggerService } from '@backstage/backend-plugin-api';
import {
  DeploymentsHealth,
  DeploymentsReleaseAttention,
} from '@kubedeploy/plugin-deployments-common';
import { Knex } from 'knex';
import { KeyringService } from '../keyring/KeyringService';
import { DatabaseOperationStore } from '../operations/DatabaseOperationStore';
import {
  applyPlanFilter,
  DatabasePlanStore,
  PlanFilterTree,
  StoredPlan,
} from '../plans/DatabasePlanStore';
import { StoredTarget } from '../targets/DatabaseTargetStore';
import { TargetService } from '../targets/TargetService';

const TARGET_HEALTH = 'deployments_target_health';
const OPERATIONS = 'deployments_operations';
const PLANS = 'deployments_plans';
const PROBE_CONCURRENCY = 4;

/** A target whose reachability changed between two probes. */
export type ReachabilityListener = (change: {
  target: StoredTarget;
  reachable: boolean;
  error?: string;
}) => Promise<void>;

/**
 * The plans whose releases and operations a summary may report, from the
 * caller's `deployments.plan.read` decision: all of them (ALLOW), none
 * (DENY), or those a condition tree allows (CONDITIONAL), filtered in SQL.
 */
export type PlanReadScope = 'all' | 'none' | PlanFilterTree;

/**
 * The status banner's source: keyring state, the reachability of targets
 * (probed on a schedule, so the banner never waits on a slow cluster),
 * releases that failed or were left pending, and running operations.
 */
export class HealthService {
  private constructor(
    private readonly db: Knex,
    private readonly keyring: KeyringService,
    private readonly targets: TargetService,
    private readonly plans: DatabasePlanStore,
    private readonly operations: DatabaseOperationStore,
    private readonly logger: LoggerService,
    private readonly onReachabilityChange: ReachabilityListener,
  ) {}

  static create(options: {
    db: Knex;
    keyring: KeyringService;
    targets: TargetService;
    /** The summary reads plans through their store, to filter them in SQL. */
    plans: DatabasePlanStore;
    operations: DatabaseOperationStore;
    logger: LoggerService;
    /** Told when a probe finds a target's reachability changed (e.g. to notify). */
    onReachabilityChange?: ReachabilityListener;
  }): HealthService {
    return new HealthService(
      options.db,
      options.keyring,
      options.targets,
      options.plans,
      options.operations,
      options.logger,
      options.onReachabilityChange ?? (async () => {}),
    );
  }

  /** Probes every target's API server through its own credentials. */
  async probeTargets(): Promise<void> {
    if ((await this.keyring.status()).state !== 'unlocked') return;
    const targets = await this.targets.listStored();
    // A target never probed counts as reachable, so that one that never
    // answered is reported at its first probe.
    const wasReachable = new Map<string, boolean>(
      (await this.db(TARGET_HEALTH).select('target_id', 'reachable')).map(p => [
        String(p.target_id),
        Boolean(p.reachable),
      ]),
    );
    const queue = [...targets];
    const worker = async () => {
      for (let target = queue.shift(); target; target = queue.shift()) {
        const checkedAt = new Date().toISOString();
        let row: Record<string, unknown>;
        try {
          const { cluster } = await this.targets.connect(target);
          const version = await cluster.getVersion();
          row = {
            reachable: true,
            error: null,
            server_version: String(version.gitVersion ?? '').slice(0, 64),
          };
        } catch (error) {
          row = {
            reachable: false,
            error: (error as Error).message.slice(0, 500),
            server_version: null,
          };
        }
        await this.db(TARGET_HEALTH)
          .insert({ target_id: target.id, checked_at: checkedAt, ...row })
          .onConflict('target_id')
          .merge();
        if ((wasReachable.get(target.id) ?? true) !== row.reachable) {
          await this.onReachabilityChange({
            target,
            reachable: row.reachable as boolean,
            error: row.error === null ? undefined : String(row.error),
          }).catch(error =>
            this.logger.warn(
              `Reporting the reachability of target ${target.name} failed: ${error}`,
            ),
          );
        }
      }
    };
    await Promise.all(
      Array.from({ length: PROBE_CONCURRENCY }, () => worker()),
    );
    this.logger.debug('Probed targets', { targets: targets.length });
  }

  /**
   * Each target's reachability at its last probe, by target name; targets
   * not probed yet are left out. For metrics: names and booleans only.
   */
  async reachability(): Promise<Array<{ target: string; reachable: boolean }>> {
    const [targets, probes] = await Promise.all([
      this.targets.listStored(),
      this.db(TARGET_HEALTH).select('target_id', 'reachable'),
    ]);
    const reachableById = new Map<string, boolean>(
      probes.map(p => [String(p.target_id), Boolean(p.reachable)]),
    );
    return targets.flatMap(target => {
      const reachable = reachableById.get(target.id);
      return reachable === undefined
        ? []
        : [{ target: target.name, reachable }];
    });
  }

  /**
   * The banner for a caller: keyring and target reachability as they are;
   * releases and running operations only of the plans `scope` allows (one
   * query each, whatever the number of plans).
   */
  async summary(scope: PlanReadScope): Promise<DeploymentsHealth> {
    const [keyring, targets, probes, attention, running] = await Promise.all([
      this.keyring.status(),
      this.targets.listStored(),
      this.db(TARGET_HEALTH).select(),
      scope === 'none'
        ? []
        : this.plans.listByStatus(
            ['failed', 'interrupted', 'rolled-back', 'applying'],
            scope === 'all' ? undefined : scope,
          ),
      this.countRunning(scope),
    ]);
    const unreachable = targets.flatMap(target => {
      const probe = probes.find(p => p.target_id === target.id);
      return probe && !probe.reachable
        ? [
            {
              name: target.name,
              error: String(probe.error ?? 'unreachable'),
              checkedAt: String(probe.checked_at),
            },
          ]
        : [];
    });
    const toAttention = (plan: StoredPlan): DeploymentsReleaseAttention => ({
      planId: plan.id,
      entityRef: plan.entityRef,
      target: plan.targetName,
      namespace: plan.namespace,
      releaseName: plan.releaseName,
      status: plan.status,
      message: plan.statusMessage,
      since: plan.statusChangedAt,
    });
    const failed = attention
      .filter(p => p.status === 'failed' || p.status === 'rolled-back')
      .map(toAttention);
    // 'applying' with nothing running means its operation was lost.
    const pending = attention
      .filter(
        p =>
          p.status === 'interrupted' ||
          (p.status === 'applying' && running === 0),
      )
      .map(toAttention);
    const degraded =
      unreachable.length > 0 || failed.length > 0 || pending.length > 0;
    let status: DeploymentsHealth['status'] = degraded ? 'degraded' : 'ok';
    if (keyring.state !== 'unlocked') status = 'sealed';
    return {
      status,
      keyring: keyring.state,
      targets: { total: targets.length, unreachable },
      releases: { failed, pending },
      operations: { running },
      checkedAt: new Date().toISOString(),
    };
  }

  /**
   * Running operations of the plans in scope; with conditions, an operation
   * whose plan was deleted matches none of them (as in `GET /operations`).
   */
  private async countRunning(scope: PlanReadScope): Promise<number> {
    if (scope === 'none') return 0;
    if (scope === 'all') return this.operations.countRunning();
    const [{ count }] = await this.db(`${OPERATIONS} as o`)
      .join(`${PLANS} as p`, 'p.id', 'o.plan_id')
      .where('o.status', 'running')
      .andWhere(q => applyPlanFilter(q, scope, 'p'))
      .count({ count: '*' });
    return Number(count);
  }
}
