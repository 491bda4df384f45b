import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import {
  deploymentsReleaseAdoptPermission,
  DryRunResult,
  OperationKind,
  ReleasePlanGate,
  ReleasePlanStatus,
  RenderedObjects,
} from '@kubedeploy/plugin-deployments-common';
import { DeploymentPreflightCheck } from '@kubedeploy/plugin-deployments-node';
import { ChartService } from '../charts/ChartService';
import { HelmRunner, HelmTarget } from '../helm';
import { StoredPlan } from '../plans/DatabasePlanStore';
import { PlanService } from '../plans/PlanService';
import {
  ProfileService,
  ResolvedProfileValues,
} from '../profiles/ProfileService';
import { isNamespaceAllowed } from '../targets/namespaceBoundary';
import { StoredTarget } from '../targets/DatabaseTargetStore';
import { TargetService } from '../targets/TargetService';
import {
  DatabaseOperationStore,
  StoredOperation,
} from './DatabaseOperationStore';
import { inputsHash } from './manifest';
import { OperationContext, OperationRunner } from './OperationRunner';
import { executeApply } from './executions/applyExecution';
import { executeDryRun } from './executions/dryRunExecution';
import {
  ExecutionKit,
  helmTargetOf,
  PlanInputs,
  ValuesChangeReader,
} from './executions/ExecutionKit';
import { executePreflight } from './executions/preflightExecution';
import { PENDING } from './executions/releaseState';
import { executeRollback } from './executions/rollbackExecution';
import { executeUninstall } from './executions/uninstallExecution';
import { createRedactor } from '../lib/redaction';
import { PlacementAuthorizer } from '../permissions/PlacementAuthorizer';
import { ProfileAuthorizer } from '../permissions/ProfileAuthorizer';
import { Placement } from '../permissions/placementPermissionRules';
import {
  admitChange,
  ChangeGate,
  ChangeRequest,
  OperationCaller,
} from './changeGates';

/** Where a plan deploys, for the placement permissions. */
export function placementOf(plan: StoredPlan, target: StoredTarget): Placement {
  return {
    target,
    namespace: plan.namespace,
    entityRef: plan.entityRef,
    entityOwner: plan.entityOwner,
  };
}

const RELEASE_UNCHECKED = ' (release state not checked yet)';

/**
 * The workflow of a release plan: dry-run, preflight, apply, rollback and
 * uninstall as durable operations. Apply runs only after a passed dry-run of
 * exactly the same inputs and a passed preflight since; the allowlist and
 * credentials are checked again when it starts.
 */
export class PlanOperationService {
  private constructor(
    private readonly plans: PlanService,
    private readonly targets: TargetService,
    private readonly charts: ChartService,
    private readonly profiles: ProfileService,
    private readonly helm: () => Promise<HelmRunner>,
    private readonly runner: OperationRunner,
    private readonly store: DatabaseOperationStore,
    private readonly logger: LoggerService,
    private readonly onFinished: (operation: StoredOperation) => Promise<void>,
    private readonly extraChecks: DeploymentPreflightCheck[],
    private readonly placements: PlacementAuthorizer,
    private readonly gates: ChangeGate[],
    private readonly profileUse: ProfileAuthorizer,
    private readonly valuesChangeOf: ValuesChangeReader,
  ) {
    this.kit = {
      helm: this.helm,
      targets: this.targets,
      store: this.store,
      logger: this.logger,
      extraChecks: this.extraChecks,
      valuesChangeOf: this.valuesChangeOf,
      chartFor: inputs => this.chartFor(inputs),
      finishPlan: (...args) => this.finishPlan(...args),
    };
  }

  /** What each operation kind's execution (executions/) works with. */
  private readonly kit: ExecutionKit;

  static create(options: {
    plans: PlanService;
    targets: TargetService;
    charts: ChartService;
    profiles: ProfileService;
    helm: () => Promise<HelmRunner>;
    runner: OperationRunner;
    store: DatabaseOperationStore;
    logger: LoggerService;
    /** Called with every finished operation, e.g. to audit its outcome. */
    onFinished?: (operation: StoredOperation) => Promise<void>;
    /** Checks other backend modules added through the preflight extension point. */
    extraChecks?: DeploymentPreflightCheck[];
    /** Who may deploy where: checked before every operation. */
    placements: PlacementAuthorizer;
    /** Controls every apply, rollback and uninstall passes (approvals, change windows). */
    gates?: ChangeGate[];
    /** Who may deploy a values profile: checked before every operation that renders one. */
    profileUse: ProfileAuthorizer;
    /** How a dry-run's values differ from the deployed revision's (values, chart defaults). */
    valuesChangeOf?: ValuesChangeReader;
  }): PlanOperationService {
    return new PlanOperationService(
      options.plans,
      options.targets,
      options.charts,
      options.profiles,
      options.helm,
      options.runner,
      options.store,
      options.logger,
      options.onFinished ?? (async () => {}),
      options.extraChecks ?? [],
      options.placements,
      options.gates ?? [],
      options.profileUse,
      options.valuesChangeOf ?? (async () => ({ deployedSecrets: [] })),
    );
  }

  async dryRun(
    planId: string,
    caller: OperationCaller,
  ): Promise<StoredOperation> {
    const { actor } = caller;
    const inputs = await this.load(planId, caller);
    return this.start(inputs, 'dry-run', actor, context =>
      executeDryRun(this.kit, inputs, context, actor),
    );
  }

  async preflight(
    planId: string,
    caller: OperationCaller,
  ): Promise<StoredOperation> {
    const { actor } = caller;
    const inputs = await this.load(planId, caller);
    return this.start(inputs, 'preflight', actor, context =>
      executePreflight(this.kit, inputs, context, actor),
    );
  }

  async apply(
    planId: string,
    caller: OperationCaller,
  ): Promise<StoredOperation> {
    const { actor } = caller;
    const inputs = await this.load(planId, caller);
    this.checkGates(inputs);
    const checked = await this.checkRenderRecord(inputs);
    await this.checkAdoption(inputs, caller);
    const admission = await admitChange(this.gates, {
      kind: 'apply',
      plan: inputs.plan,
      target: inputs.target,
      caller,
      inputsHash: inputs.inputsHash,
      manifestHash: checked.digest,
    });
    await this.plans.recordState(planId, {
      status: 'applying',
      statusMessage: undefined,
      statusChangedAt: new Date().toISOString(),
      statusChangedBy: actor,
    });
    try {
      const operation = await this.start(inputs, 'apply', actor, context =>
        executeApply(this.kit, inputs, context, actor),
      );
      await admission.started(operation.id);
      return operation;
    } catch (error) {
      // Nothing started (e.g. 409 busy): put the status and the gates back.
      await admission.abandoned();
      await this.plans.recordState(planId, {
        status: inputs.plan.status,
        statusMessage: inputs.plan.statusMessage,
        statusChangedAt: inputs.plan.statusChangedAt,
        statusChangedBy: inputs.plan.statusChangedBy,
      });
      throw error;
    }
  }

  /** The plan's inputs hash as an apply would compute it now (approval requests bind to it). */
  async currentInputsHash(
    planId: string,
    caller: OperationCaller,
  ): Promise<string> {
    return (await this.load(planId, caller)).inputsHash;
  }

  /** Rolls back to a revision, or to the last deployed one (recovery). */
  async rollback(
    planId: string,
    revision: number | undefined,
    caller: OperationCaller,
  ): Promise<StoredOperation> {
    const { actor } = caller;
    const inputs = await this.load(planId, caller, { forRead: true });
    await this.checkAdoption(inputs, caller);
    return this.startGated(
      { kind: 'rollback', rollbackRevision: revision },
      inputs,
      caller,
      context => executeRollback(this.kit, inputs, revision, context, actor),
    );
  }

  async uninstall(
    planId: string,
    confirmReleaseName: string,
    caller: OperationCaller,
  ): Promise<StoredOperation> {
    const { actor } = caller;
    const inputs = await this.load(planId, caller, { forRead: true });
    if (confirmReleaseName !== inputs.plan.releaseName) {
      throw new InputError(
        `Confirm the uninstall by repeating the release name "${inputs.plan.releaseName}"`,
      );
    }
    await this.checkAdoption(inputs, caller);
    return this.startGated({ kind: 'uninstall' }, inputs, caller, context =>
      executeUninstall(this.kit, inputs, context, actor),
    );
  }

  /** Starts a rollback or uninstall once every change gate admitted it. */
  private async startGated(
    change: Pick<ChangeRequest, 'kind' | 'rollbackRevision'>,
    inputs: PlanInputs,
    caller: OperationCaller,
    execute: Parameters<PlanOperationService['start']>[3],
  ): Promise<StoredOperation> {
    const admission = await admitChange(this.gates, {
      ...change,
      plan: inputs.plan,
      target: inputs.target,
      caller,
    });
    try {
      const operation = await this.start(
        inputs,
        change.kind,
        caller.actor,
        execute,
      );
      await admission.started(operation.id);
      return operation;
    } catch (error) {
      await admission.abandoned();
      throw error;
    }
  }

  /**
   * A release in the cluster that no apply of the portal made (installed by
   * hand, by another tool) is taken over only with the adopt permission.
   */
  private async checkAdoption(
    inputs: PlanInputs,
    caller: OperationCaller,
  ): Promise<void> {
    const { plan, target } = inputs;
    const records = await this.store.listReleases({
      targetId: target.id,
      namespace: plan.namespace,
      releaseName: plan.releaseName,
    });
    if (records.some(record => record.helmRevision !== undefined)) return;
    const existing = await (await this.helm()).status(helmTargetOf(inputs));
    if (!existing) return;
    await this.placements
      .authorizeAdoption(caller.credentials, placementOf(plan, target))
      .catch(error => {
        throw (error as Error).name === 'NotAllowedError'
          ? new NotAllowedError(
              `Release "${plan.releaseName}" already exists in namespace "${plan.namespace}" (revision ${existing.revision}, ${existing.status}) and was not deployed through the portal; taking it over needs ${deploymentsReleaseAdoptPermission.name}`,
            )
          : error;
      });
  }

  /**
   * Marks operations of dead processes as interrupted, and tells the user
   * how to recover a release helm left pending.
   */
  async sweepInterrupted(): Promise<number> {
    const swept = await this.runner.sweep();
    for (const operation of swept) {
      await this.plans.recordState(operation.planId, {
        status: 'interrupted',
        statusMessage: `${operation.kind} was interrupted: the backend running it stopped${RELEASE_UNCHECKED}`,
        statusChangedAt: new Date().toISOString(),
        statusChangedBy: operation.actor,
      });
      // Its own runner never finishes it: its outcome is audited (and
      // counted) here, like every other operation's.
      const finished = await this.store.get(operation.id);
      if (finished) {
        await this.onFinished(finished).catch(error =>
          this.logger.warn(
            'Recording the interruption of an operation failed',
            {
              operationId: operation.id,
              planId: operation.planId,
              error: String(error),
            },
          ),
        );
      }
    }
    // The release is read through the target's credentials, which needs an
    // unlocked keyring: plans not checked yet are retried on every sweep.
    for (const plan of await this.plans.listByStatus(['interrupted'])) {
      if (plan.statusMessage?.endsWith(RELEASE_UNCHECKED)) {
        await this.describeInterruptedRelease(plan);
      }
    }
    return swept.length;
  }

  private async describeInterruptedRelease(plan: StoredPlan): Promise<void> {
    let status;
    try {
      status = await (await this.helm()).status(await this.helmTarget(plan));
    } catch (error) {
      this.logger.debug(
        `Release of interrupted plan ${plan.id} not checked yet: ${
          (error as Error).message
        }`,
      );
      return;
    }
    const base = plan.statusMessage!.slice(0, -RELEASE_UNCHECKED.length);
    let state = '; the release was not changed';
    if (status && PENDING.test(status.status)) {
      state = `; the release is left ${status.status} at revision ${status.revision}: roll back to recover`;
    } else if (status) {
      state = `; the release is ${status.status} at revision ${status.revision}`;
    }
    await this.plans.recordState(plan.id, { statusMessage: `${base}${state}` });
  }

  /** The target and namespace of a plan as helm sees them, credentials decrypted. */
  async helmTarget(plan: StoredPlan): Promise<HelmTarget> {
    const target = await this.targets.getStored(plan.targetName);
    return {
      access: await this.targets.clusterAccess(target),
      namespace: plan.namespace,
      releaseName: plan.releaseName,
    };
  }

  private async load(
    planId: string,
    caller: OperationCaller,
    options: { forRead?: boolean } = {},
  ): Promise<PlanInputs> {
    const plan = await this.plans.getStored(planId);
    const target = await this.targets.getStored(plan.targetName);
    // Who may deploy where is decided again on every operation: ownership,
    // namespace owners and the policy may have changed since the plan was made.
    await this.placements.authorizeUse(
      caller.credentials,
      placementOf(plan, target),
    );
    // The allowlist is an authorization boundary: checked on every operation.
    if (!isNamespaceAllowed(this.targets.boundaryOf(target), plan.namespace)) {
      throw new ConflictError(
        `Namespace "${plan.namespace}" is no longer in the allowlist of target "${target.name}"`,
      );
    }
    const chart = await this.charts.get(plan.chartId);
    const { access, cluster } = await this.targets.connect(target);
    let profile: ResolvedProfileValues | undefined;
    if (plan.profileId && !options.forRead) {
      // Rendering deploys the profile's secrets: decided again every time.
      await this.profileUse.authorizeUse(caller.credentials, plan.profileId);
      const revision =
        plan.profileRevision ??
        (await this.profiles.get(plan.profileId)).revision;
      profile = await this.profiles.resolve(plan.profileId, revision);
      if (profile.chartId !== plan.chartId) {
        // The profile was upgraded to another chart version since.
        throw new ConflictError(
          `Revision ${revision} of the plan's values profile is for another version of the chart; move the plan to that chart version or pin an earlier profile revision`,
        );
      }
    }
    const hash = inputsHash({
      chartDigest: chart.chartDigest,
      // The profile's hash stands in for its values: secrets enter only as a keyed fingerprint.
      values: profile
        ? {
            profileId: profile.profileId,
            revision: profile.revision,
            valuesHash: profile.valuesHash,
          }
        : {},
      targetId: target.id,
      credentialsVersion: `${target.credentialsVersion}/${target.revision}`,
      namespace: plan.namespace,
      releaseName: plan.releaseName,
      helmFlags: {
        createNamespace: plan.options.createNamespace,
        historyMax: plan.options.historyMax,
        timeoutSeconds: plan.options.timeoutSeconds,
        runTests: plan.options.runTests,
      },
    });
    return {
      plan,
      target,
      chart,
      access,
      cluster,
      profile,
      inputsHash: hash,
    };
  }

  private checkGates(inputs: PlanInputs) {
    const { plan } = inputs;
    const dryRun = plan.lastDryRun;
    if (!dryRun || !dryRun.passed || dryRun.inputsHash !== inputs.inputsHash) {
      throw new ConflictError(
        dryRun?.passed
          ? 'The plan inputs changed since the last passed dry-run (chart, values, target or options); run the dry-run again'
          : 'Apply needs a passed dry-run of exactly these inputs; run the dry-run first',
      );
    }
    const preflight = plan.lastPreflight;
    if (
      !preflight ||
      !preflight.passed ||
      preflight.inputsHash !== inputs.inputsHash ||
      preflight.at < dryRun.at
    ) {
      throw new ConflictError(
        'Apply needs a passed preflight after the dry-run; run the preflight',
      );
    }
  }

  /** Apply compares what helm renders with what the dry-run checked: that record must be usable. */
  private async checkRenderRecord(
    inputs: PlanInputs,
  ): Promise<RenderedObjects> {
    const operation = await this.store.get(inputs.plan.lastDryRun!.operationId);
    const checked = (operation?.result as DryRunResult | undefined)?.rendered;
    if (!checked) {
      throw new ConflictError(
        'The last dry-run did not record the objects it checked (it predates the render guard); run the dry-run again',
      );
    }
    const helm = await this.helm();
    if (helm.version.major === 3 && checked.objects.some(o => o.hook)) {
      // helm 3 does not pass hooks to post-renderers: they would be sent unchecked.
      throw new ConflictError(
        `The chart has hooks, and this backend runs helm ${helm.version.full}, which renders hooks again at apply without passing them through the render guard; refused. Run the backend with helm 4, whose post-renderers see hooks too`,
      );
    }
    return checked;
  }

  private async start(
    inputs: PlanInputs,
    kind: OperationKind,
    actor: string,
    execute: (
      context: OperationContext,
    ) => ReturnType<Parameters<OperationRunner['start']>[0]['execute']>,
  ): Promise<StoredOperation> {
    const { plan, target } = inputs;
    return this.runner.start({
      planId: plan.id,
      planRevision: plan.revision,
      kind,
      actor,
      inputsHash:
        kind === 'dry-run' || kind === 'preflight' || kind === 'apply'
          ? inputs.inputsHash
          : undefined,
      targetId: target.id,
      targetName: target.name,
      namespace: plan.namespace,
      releaseName: plan.releaseName,
      secretStrings: inputs.profile?.secretStrings,
      execute,
      onFinished: this.onFinished,
    });
  }

  private chartFor(inputs: PlanInputs) {
    return this.charts
      .getVerifiedArchive(inputs.chart.id)
      .then(archive => ({ archive, digest: inputs.chart.chartDigest }));
  }

  private async finishPlan(
    inputs: PlanInputs,
    actor: string,
    status: ReleasePlanStatus,
    statusMessage: string | undefined,
    gates: {
      lastDryRun?: ReleasePlanGate;
      lastPreflight?: ReleasePlanGate;
    } = {},
  ) {
    // Messages come from errors, which may quote rendered output: no profile secret is stored.
    const redact = createRedactor(inputs.profile?.secretStrings ?? []);
    await this.plans.recordState(inputs.plan.id, {
      status,
      statusMessage:
        statusMessage === undefined ? undefined : redact(statusMessage),
      statusChangedAt: new Date().toISOString(),
      statusChangedBy: actor,
      ...gates,
    });
  }
}
