import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import { ownerOf } from './ownerOf';
import {
  describeInvalidNamespace,
  describeInvalidReleaseName,
  ReleasePlan,
  ReleasePlanInput,
  ReleasePlanOptions,
  ReleasePlanStatus,
} from '@kubedeploy/plugin-deployments-common';
import { randomUUID } from 'node:crypto';
import { ChartService } from '../charts/ChartService';
import { StoredChart } from '../charts/DatabaseChartStore';
import { ProfileService } from '../profiles/ProfileService';
import { isNamespaceAllowed } from '../targets/namespaceBoundary';
import { TargetService } from '../targets/TargetService';
import { PlacementAuthorizer } from '../permissions/PlacementAuthorizer';
import { ProfileAuthorizer } from '../permissions/ProfileAuthorizer';
import {
  DatabasePlanStore,
  PlanFilterTree,
  PlanListKey,
  StoredPlan,
} from './DatabasePlanStore';

function encodePlanCursor(key: PlanListKey): string {
  return encodeCursor([key.entityRef, key.releaseName, key.id]);
}

function decodePlanCursor(cursor: string): PlanListKey {
  const [entityRef, releaseName, id] = decodeCursor(cursor, 3);
  return { entityRef, releaseName, id };
}

export const DEFAULT_PLAN_OPTIONS: ReleasePlanOptions = {
  timeoutSeconds: 300,
  historyMax: 10,
  createNamespace: false,
  runTests: false,
};

/** Which operation holds a release's lock; the operations domain provides it. */
export type RunningOperationLookup = (
  plans: StoredPlan[],
) => Promise<Map<string, string>>;

/**
 * The rules of release plans: what a plan may bind (an existing entity, a
 * registered chart, a namespace inside the target's allowlist, a valid and
 * unique release name, a profile of the same chart) and its revisions.
 */
export class PlanService {
  private constructor(
    private readonly store: DatabasePlanStore,
    private readonly charts: ChartService,
    private readonly targets: TargetService,
    private readonly profiles: ProfileService,
    private readonly catalog: CatalogService,
    private readonly running: RunningOperationLookup,
    private readonly placements: PlacementAuthorizer,
    private readonly profileUse: ProfileAuthorizer,
  ) {}

  static create(options: {
    store: DatabasePlanStore;
    charts: ChartService;
    targets: TargetService;
    profiles: ProfileService;
    catalog: CatalogService;
    running?: RunningOperationLookup;
    /** Who may deploy where: checked on every create and change. */
    placements: PlacementAuthorizer;
    /** Who may deploy a values profile: checked on every create and change that binds one. */
    profileUse: ProfileAuthorizer;
  }): PlanService {
    return new PlanService(
      options.store,
      options.charts,
      options.targets,
      options.profiles,
      options.catalog,
      options.running ?? (async () => new Map()),
      options.placements,
      options.profileUse,
    );
  }

  async list(options: {
    limit?: number;
    offset?: number;
    /** The `nextCursor` of the previous page. */
    after?: string;
    entityRef?: string;
    target?: string;
    filter?: PlanFilterTree;
  }): Promise<{
    items: ReleasePlan[];
    totalCount: number;
    nextCursor?: string;
  }> {
    let targetId: string | undefined;
    if (options.target) {
      targetId = (await this.targets.getStored(options.target)).id;
    }
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 500);
    const page = await this.store.list({
      limit,
      offset: Math.max(options.offset ?? 0, 0),
      after: options.after ? decodePlanCursor(options.after) : undefined,
      entityRef: options.entityRef,
      targetId,
      filter: options.filter,
    });
    const last = page.items[page.items.length - 1];
    return {
      items: await this.toApiMany(page.items),
      totalCount: page.totalCount,
      nextCursor:
        last && page.items.length === limit
          ? encodePlanCursor({
              entityRef: last.entityRef,
              releaseName: last.releaseName,
              id: last.id,
            })
          : undefined,
    };
  }

  async getStored(id: string): Promise<StoredPlan> {
    const plan = await this.store.get(id);
    if (!plan) throw new NotFoundError(`Release plan ${id} not found`);
    return plan;
  }

  /** For the permission framework: plans by resource ref (their ids). */
  async getStoredByIds(ids: string[]): Promise<Array<StoredPlan | undefined>> {
    const found = await this.store.getMany(ids);
    return ids.map(id => found.find(p => p.id === id));
  }

  async get(id: string): Promise<ReleasePlan> {
    return this.toApi(await this.getStored(id));
  }

  async toApi(plan: StoredPlan): Promise<ReleasePlan> {
    const [api] = await this.toApiMany([plan]);
    return api;
  }

  async create(
    input: ReleasePlanInput,
    actor: string,
    credentials: BackstageCredentials,
  ): Promise<ReleasePlan> {
    for (const field of [
      'entityRef',
      'chartId',
      'target',
      'namespace',
      'releaseName',
    ] as const) {
      if (!input[field]) throw new InputError(`${field} is required`);
    }
    const now = new Date().toISOString();
    const draft = await this.validated(
      {
        id: randomUUID(),
        entityRef: input.entityRef!,
        chartId: input.chartId!,
        targetId: '',
        targetName: input.target!,
        namespace: input.namespace!,
        releaseName: input.releaseName!,
        profileId: input.profileId,
        profileRevision: input.profileRevision,
        options: { ...DEFAULT_PLAN_OPTIONS, ...input.options },
        revision: 1,
        status: 'draft',
        statusChangedAt: now,
        statusChangedBy: actor,
        createdAt: now,
        createdBy: actor,
        updatedAt: now,
        updatedBy: actor,
      },
      credentials,
    );
    await this.store.insert(draft);
    return this.toApi(draft);
  }

  /** A new plan revision; gates passed for the old inputs stop counting by their hash. */
  async update(
    id: string,
    input: ReleasePlanInput,
    actor: string,
    credentials: BackstageCredentials,
  ): Promise<ReleasePlan> {
    const current = await this.getStored(id);
    if (
      input.expectedRevision !== undefined &&
      input.expectedRevision !== current.revision
    ) {
      throw new ConflictError(
        `Release plan ${id} is at revision ${current.revision}, not ${input.expectedRevision}; reload and try again`,
      );
    }
    const moves =
      (input.target !== undefined && input.target !== current.targetName) ||
      (input.namespace !== undefined &&
        input.namespace !== current.namespace) ||
      (input.releaseName !== undefined &&
        input.releaseName !== current.releaseName);
    if (
      moves &&
      current.status !== 'draft' &&
      current.status !== 'uninstalled'
    ) {
      // Moving a deployed release would orphan it in the cluster.
      throw new InputError(
        'Target, namespace and release name are fixed once a plan has run; uninstall the release or create a new plan',
      );
    }
    const now = new Date().toISOString();
    const next = await this.validated(
      {
        ...current,
        entityRef: input.entityRef ?? current.entityRef,
        chartId: input.chartId ?? current.chartId,
        targetName: input.target ?? current.targetName,
        namespace: input.namespace ?? current.namespace,
        releaseName: input.releaseName ?? current.releaseName,
        profileId:
          input.profileId === undefined
            ? current.profileId
            : input.profileId || undefined,
        profileRevision:
          input.profileId !== undefined || input.profileRevision !== undefined
            ? input.profileRevision
            : current.profileRevision,
        options: { ...current.options, ...input.options },
        revision: current.revision + 1,
        updatedAt: now,
        updatedBy: actor,
      },
      credentials,
    );
    await this.store.replace(next, current.revision);
    return this.toApi(next);
  }

  async delete(id: string): Promise<void> {
    const plan = await this.getStored(id);
    const running = await this.running([plan]);
    if (running.has(plan.id)) {
      throw new ConflictError(
        `Operation ${running.get(
          plan.id,
        )} is running on this release; wait for it or cancel it first`,
      );
    }
    await this.store.delete(id);
  }

  /** Records an outcome (status and gates); not a new revision. */
  async recordState(
    id: string,
    state: Parameters<DatabasePlanStore['updateState']>[1],
  ): Promise<void> {
    await this.store.updateState(id, state);
  }

  /** Plans using a target, chart or profile, described for a person. */
  usageOf(kind: 'target' | 'chart' | 'profile', id: string) {
    return this.store.idsUsing(`${kind}_id`, id);
  }

  listByStatus(statuses: ReleasePlanStatus[]) {
    return this.store.listByStatus(statuses);
  }

  private async validated(
    plan: StoredPlan,
    credentials: BackstageCredentials,
  ): Promise<StoredPlan> {
    const releaseProblem = describeInvalidReleaseName(plan.releaseName);
    if (releaseProblem) throw new InputError(`Invalid ${releaseProblem}`);
    const namespaceProblem = describeInvalidNamespace(plan.namespace);
    if (namespaceProblem) throw new InputError(`Invalid ${namespaceProblem}`);
    const options = plan.options;
    if (
      !Number.isInteger(options.timeoutSeconds) ||
      options.timeoutSeconds < 10 ||
      options.timeoutSeconds > 3600 ||
      !Number.isInteger(options.historyMax) ||
      options.historyMax < 1 ||
      options.historyMax > 100
    ) {
      throw new InputError(
        'timeoutSeconds must be 10 to 3600 and historyMax 1 to 100',
      );
    }

    const target = await this.targets
      .getStored(plan.targetName)
      .catch(error => {
        throw (error as Error).name === 'NotFoundError'
          ? new InputError(`Target "${plan.targetName}" does not exist`)
          : error;
      });
    if (!isNamespaceAllowed(this.targets.boundaryOf(target), plan.namespace)) {
      throw new InputError(
        `Namespace "${plan.namespace}" is not in the allowlist of target "${
          target.name
        }" (${target.allowedNamespaces.join(', ') || 'empty'})`,
      );
    }

    // Who may deploy where, before anything else about the plan is revealed.
    const entity = await this.entityOwner(plan.entityRef, credentials);
    await this.placements.authorizeUse(credentials, {
      target,
      namespace: plan.namespace,
      entityRef: entity.ref,
      entityOwner: entity.owner,
    });

    const chart = await this.charts.get(plan.chartId).catch(error => {
      throw (error as Error).name === 'NotFoundError'
        ? new InputError(`Chart ${plan.chartId} is not registered`)
        : error;
    });

    if (plan.profileId) {
      // Decided before anything about the profile is said to the caller.
      await this.profileUse
        .authorizeUse(credentials, plan.profileId)
        .catch(error => {
          throw (error as Error).name === 'NotFoundError'
            ? new InputError(`Values profile ${plan.profileId} does not exist`)
            : error;
        });
      const profile = await this.profiles.get(plan.profileId).catch(error => {
        throw (error as Error).name === 'NotFoundError'
          ? new InputError(`Values profile ${plan.profileId} does not exist`)
          : error;
      });
      // A profile moves between versions of its chart: what counts is the
      // chart of the revision the plan uses (the newest when not pinned).
      let revisionChartId = profile.chartId;
      if (plan.profileRevision !== undefined) {
        const pinned = await this.profiles
          .getRevision(profile.id, plan.profileRevision)
          .catch(() => {
            throw new InputError(
              `Values profile "${profile.name}" has no revision ${plan.profileRevision}`,
            );
          });
        revisionChartId = pinned.chartId;
      }
      if (revisionChartId !== chart.id) {
        throw new InputError(
          plan.profileRevision === undefined
            ? `Values profile "${profile.name}" belongs to another chart`
            : `Revision ${plan.profileRevision} of values profile "${profile.name}" is for another chart version`,
        );
      }
    } else if (plan.profileRevision !== undefined) {
      throw new InputError('profileRevision needs a profileId');
    }

    return {
      ...plan,
      entityRef: entity.ref,
      entityOwner: entity.owner,
      targetId: target.id,
      targetName: target.name,
    };
  }

  /** The entity must exist; its owner is recorded for the ownership rule (PlanOwnerSync keeps it current). */
  private async entityOwner(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<{ ref: string; owner?: string }> {
    let ref: string;
    try {
      ref = stringifyEntityRef(
        parseEntityRef(entityRef, { defaultKind: 'component' }),
      );
    } catch {
      throw new InputError(`"${entityRef}" is not an entity reference`);
    }
    const entity = await this.catalog.getEntityByRef(ref, { credentials });
    if (!entity) {
      throw new InputError(`Entity ${ref} is not in the catalog`);
    }
    return { ref, owner: ownerOf(entity) };
  }

  private async toApiMany(plans: StoredPlan[]): Promise<ReleasePlan[]> {
    const charts = new Map<string, Promise<StoredChart | undefined>>();
    for (const plan of plans) {
      if (!charts.has(plan.chartId)) {
        charts.set(
          plan.chartId,
          this.charts.get(plan.chartId).catch(() => undefined),
        );
      }
    }
    const running = await this.running(plans);
    return Promise.all(
      plans.map(async plan => {
        const chart = await charts.get(plan.chartId);
        return {
          id: plan.id,
          entityRef: plan.entityRef,
          entityOwner: plan.entityOwner,
          chartId: plan.chartId,
          chart: {
            name: chart?.name ?? 'unknown',
            version: chart?.version ?? 'unknown',
            digest: chart?.chartDigest ?? '',
          },
          target: plan.targetName,
          namespace: plan.namespace,
          releaseName: plan.releaseName,
          profileId: plan.profileId,
          profileRevision: plan.profileRevision,
          options: plan.options,
          revision: plan.revision,
          status: plan.status,
          statusMessage: plan.statusMessage,
          statusChangedAt: plan.statusChangedAt,
          statusChangedBy: plan.statusChangedBy,
          lastDryRun: plan.lastDryRun,
          lastPreflight: plan.lastPreflight,
          runningOperationId: running.get(plan.id),
          createdAt: plan.createdAt,
          createdBy: plan.createdBy,
          updatedAt: plan.updatedAt,
          updatedBy: plan.updatedBy,
        };
      }),
    );
  }
}
