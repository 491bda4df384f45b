import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import {
  ApplyResult,
  deploymentsReleaseAdoptPermission,
  DryRunResult,
  DryRunValuesChange,
  OperationKind,
  PreflightCheckResult,
  PreflightResult,
  ReleasePlanGate,
  ReleasePlanStatus,
  RenderedObjects,
  RollbackResult,
  RolloutDiagnosis,
} from '@kubedeploy/plugin-deployments-common';
import { DeploymentPreflightCheck } from '@kubedeploy/plugin-deployments-node';
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { ChartService } from '../charts/ChartService';
import { StoredChart } from '../charts/DatabaseChartStore';
import { ClusterAccess, ClusterConnection } from '../cluster/ClusterConnection';
import { ClusterDiscovery } from '../cluster/ClusterDiscovery';
import { watchRollout } from '../cluster/RolloutWatcher';
import {
  diffServerDryRun,
  serverDryRun,
  serverDryRunKey,
} from '../cluster/serverDryRun';
import { HelmCommandError, HelmRunner, HelmTarget } from '../helm';
import { StoredPlan } from '../plans/DatabasePlanStore';
import { PlanService } from '../plans/PlanService';
import {
  ProfileService,
  ResolvedProfileValues,
} from '../profiles/ProfileService';
import {
  isNamespaceAllowed,
  ManifestObject,
} from '../targets/namespaceBoundary';
import { StoredTarget } from '../targets/DatabaseTargetStore';
import { TargetService } from '../targets/TargetService';
import {
  DatabaseOperationStore,
  StoredOperation,
} from './DatabaseOperationStore';
import {
  analyzeRelease,
  diffManifests,
  inputsHash,
  ManifestChange,
  parseRenderedRelease,
} from './manifest';
import { OperationContext, OperationRunner } from './OperationRunner';
import { requiredAccess, runPreflight } from './preflight';
import { checkedRender, RenderGuard, renderedRecord } from './RenderGuard';
import { checkStoredRevision } from './storedRevisionCheck';
import {
  diffKeyOf,
  isNamespaced,
  removedObject,
  serverFindings,
  toDryRunObject,
} from './dryRunFindings';
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

/** Everything one operation needs, decrypted for it alone. */
interface PlanInputs {
  plan: StoredPlan;
  target: StoredTarget;
  chart: StoredChart;
  access: ClusterAccess;
  /** The connection to the target's API server, built once per operation. */
  cluster: ClusterConnection;
  profile?: ResolvedProfileValues;
  inputsHash: string;
}

/**
 * Reads how a dry-run's values differ from what is deployed (no change when
 * nothing is), and the deployed revision's secrets, which a chart may have
 * copied into the objects the dry-run compares with.
 */
export type ValuesChangeReader = (inputs: {
  plan: StoredPlan;
  access: ClusterAccess;
  chart: StoredChart;
  profile?: ResolvedProfileValues;
}) => Promise<{ change?: DryRunValuesChange; deployedSecrets: string[] }>;

const PENDING = /^pending-/;
const RELEASE_STATE_TIMEOUT_MS = 15_000;
/** Events from just before the apply started are its own (clocks differ a little). */
const DIAGNOSIS_EVENT_SLACK_MS = 5_000;
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
  ) {}

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
      this.executeDryRun(inputs, context, actor),
    );
  }

  async preflight(
    planId: string,
    caller: OperationCaller,
  ): Promise<StoredOperation> {
    const { actor } = caller;
    const inputs = await this.load(planId, caller);
    return this.start(inputs, 'preflight', actor, context =>
      this.executePreflight(inputs, context, actor),
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
        this.executeApply(inputs, context, actor),
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
      context => this.executeRollback(inputs, revision, context, actor),
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
      this.executeUninstall(inputs, context, actor),
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
    const existing = await (
      await this.helm()
    ).status(this.helmTargetOf(inputs));
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

  private helmTargetOf(inputs: PlanInputs): HelmTarget {
    return {
      access: inputs.access,
      namespace: inputs.plan.namespace,
      releaseName: inputs.plan.releaseName,
    };
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

  private async executeDryRun(
    inputs: PlanInputs,
    context: OperationContext,
    actor: string,
  ) {
    const { plan, target } = inputs;
    const helm = await this.helm();
    const helmTarget = this.helmTargetOf(inputs);
    const gate = (passed: boolean): ReleasePlanGate => ({
      operationId: context.operationId,
      passed,
      inputsHash: inputs.inputsHash,
      planRevision: plan.revision,
      at: new Date().toISOString(),
    });
    try {
      context.line(
        `Rendering ${inputs.chart.name} ${
          inputs.chart.version
        } (${inputs.chart.chartDigest.slice(0, 19)}…) as release ${
          plan.releaseName
        } in ${plan.namespace} on ${
          target.name
        } (without reading the cluster's objects)`,
      );
      const connection = inputs.cluster;
      const discovery = await ClusterDiscovery.create({ connection });
      const boundary = this.targets.boundaryOf(target);
      const guard = new RenderGuard({
        boundary,
        releaseNamespace: plan.namespace,
        scopeOf: discovery.scopeOf,
      });
      // What is deployed now, for the diff: read while helm renders.
      const deployed = helm.getManifest(helmTarget, undefined, {
        signal: context.signal,
      });
      deployed.catch(() => undefined);
      // A dry-run is not refused for this: the values diff is for people.
      const valuesChangeRead = this.valuesChangeOf(inputs).catch(error => {
        context.line(
          `Could not compare the values with the deployed revision: ${
            (error as Error).message
          }`,
        );
        return { deployedSecrets: [] as string[], change: undefined };
      });
      const rendered = await helm.dryRun(
        helmTarget,
        await this.chartFor(inputs),
        inputs.profile?.values ?? {},
        {
          createNamespace: plan.options.createNamespace,
          historyMax: plan.options.historyMax,
          timeoutSeconds: plan.options.timeoutSeconds,
          signal: context.signal,
          onLine: context.line,
          secretValues: inputs.profile?.secretStrings,
          guard: guard.check,
        },
      );
      const objects = parseRenderedRelease(rendered);
      const renderedObjects = checkedRender(
        guard,
        rendered,
        helm.version.major === 4,
      );
      context.line(
        `Rendered ${objects.length} objects (${rendered.hooks.length} hooks); checked against the target's boundary as helm would send them`,
      );
      const analysis = analyzeRelease({
        objects,
        boundary,
        releaseNamespace: plan.namespace,
        discovery,
      });
      const current = await deployed;
      const changes = new Map(
        diffManifests(current, rendered.manifest).map(c => [c.key, c]),
      );
      const violations = [...analysis.violations];
      const warnings = [...analysis.warnings];
      let serverRefused = 0;
      // Each object against the live one, as the API server would apply it.
      const liveChanges = new Map<string, ManifestChange>();
      // Only a release inside the boundary is sent to the API server, even as a dry-run.
      if (analysis.violations.length === 0) {
        const toValidate = objects
          .filter(o => !o.hook)
          .map(({ object }) => ({
            key: serverDryRunKey(
              object,
              isNamespaced(discovery, object) ? plan.namespace : undefined,
            ),
            object,
          }));
        const outcomes = await serverDryRun(connection, discovery, toValidate, {
          fieldManager: 'kubedeploy',
          namespace: plan.namespace,
          signal: context.signal,
          // Two small requests per object; the API server handles more at once than helm's render takes.
          concurrency: 8,
        });
        outcomes.forEach((outcome, index) => {
          const change = diffServerDryRun(outcome);
          if (change) {
            liveChanges.set(diffKeyOf(toValidate[index].object), change);
          }
        });
        const found = serverFindings(
          outcomes,
          plan.namespace,
          plan.options.createNamespace,
        );
        for (const violation of found.violations) {
          context.line(
            `Refused by the API server: ${violation.object}: ${violation.reason}`,
          );
        }
        violations.push(...found.violations);
        warnings.push(...found.warnings);
        serverRefused = found.violations.length;
        context.line(
          `Validated ${toValidate.length} objects on the API server (dry-run): ${serverRefused} refused`,
        );
      }
      const valuesChange = await valuesChangeRead;
      // The deployed objects may hold the deployed revision's secrets where
      // a chart copied them (a ConfigMap, an annotation): not shown either.
      const redactDeployed = createRedactor(valuesChange.deployedSecrets);
      const result: DryRunResult = {
        ...(valuesChange.change && { valuesChange: valuesChange.change }),
        type: 'dry-run',
        passed: violations.length === 0,
        inputsHash: inputs.inputsHash,
        chartDigest: inputs.chart.chartDigest,
        violations,
        warnings,
        objects: [
          ...objects.map(o =>
            toDryRunObject(o, plan.namespace, changes, liveChanges),
          ),
          ...[...changes.values()]
            .filter(c => c.change === 'removed')
            .map(c => removedObject(c.key, c.diff)),
        ].map(o => ({
          ...o,
          ...(o.diff !== undefined && { diff: redactDeployed(o.diff) }),
          ...(o.liveDiff !== undefined && {
            liveDiff: redactDeployed(o.liveDiff),
          }),
        })),
        notes: rendered.notes,
        rendered: renderedObjects,
      };
      for (const violation of analysis.violations) {
        context.line(`Refused: ${violation.object}: ${violation.reason}`);
      }
      context.line(
        `${result.passed ? 'Dry-run passed' : 'Dry-run refused'}: ${
          violations.length
        } violations, ${warnings.length} warnings`,
      );
      await this.finishPlan(
        inputs,
        actor,
        result.passed ? 'dry-run-passed' : 'dry-run-failed',
        result.passed
          ? undefined
          : [
              analysis.violations.length > 0 &&
                `${analysis.violations.length} object(s) outside the target's boundary`,
              serverRefused > 0 &&
                `${serverRefused} object(s) refused by the API server`,
            ]
              .filter(Boolean)
              .join('; '),
        { lastDryRun: gate(result.passed) },
      );
      return result.passed
        ? { status: 'succeeded' as const, result }
        : {
            status: 'failed' as const,
            result,
            error: [
              analysis.violations.length > 0 &&
                `Refused by the guardrails: ${analysis.violations
                  .map(v => v.object)
                  .join('; ')}`,
              serverRefused > 0 &&
                `Refused by the API server: ${violations
                  .slice(analysis.violations.length)
                  .map(v => v.object)
                  .join('; ')}`,
            ]
              .filter(Boolean)
              .join('; '),
          };
    } catch (error) {
      await this.finishPlan(
        inputs,
        actor,
        context.signal.aborted ? plan.status : 'dry-run-failed',
        (error as Error).message,
        { lastDryRun: gate(false) },
      );
      throw error;
    }
  }

  private async executePreflight(
    inputs: PlanInputs,
    context: OperationContext,
    actor: string,
  ) {
    const { plan } = inputs;
    const gate = (passed: boolean): ReleasePlanGate => ({
      operationId: context.operationId,
      passed,
      inputsHash: inputs.inputsHash,
      planRevision: plan.revision,
      at: new Date().toISOString(),
    });
    try {
      const objects = await this.objectsToCheck(inputs, context);
      const connection = inputs.cluster;
      context.line(
        `Checking access of target ${inputs.target.name} in ${plan.namespace}`,
      );
      let discovery: ClusterDiscovery | undefined;
      try {
        discovery = await ClusterDiscovery.create({ connection });
      } catch (error) {
        // runPreflight reports the unreachable server as its first check.
        context.line(`Discovery failed: ${(error as Error).message}`);
      }
      const preflight = await runPreflight({
        connection,
        discovery,
        releaseNamespace: plan.namespace,
        createNamespace: plan.options.createNamespace,
        required: discovery
          ? requiredAccess({
              objects,
              discovery,
              releaseNamespace: plan.namespace,
            })
          : [],
      });
      preflight.checks.push(
        ...(await this.runExtraChecks(inputs, objects, context.signal)),
      );
      preflight.passed = preflight.checks.every(check => check.passed);
      for (const check of preflight.checks) {
        context.line(
          `${check.passed ? 'ok  ' : 'FAIL'} ${check.name}: ${check.message}`,
        );
      }
      const result: PreflightResult = {
        type: 'preflight',
        passed: preflight.passed,
        serverVersion: preflight.serverVersion,
        checks: preflight.checks,
      };
      const failed = preflight.checks.filter(c => !c.passed);
      await this.finishPlan(
        inputs,
        actor,
        preflight.passed ? 'preflight-passed' : 'preflight-failed',
        preflight.passed ? undefined : failed.map(c => c.name).join('; '),
        { lastPreflight: gate(preflight.passed) },
      );
      return preflight.passed
        ? { status: 'succeeded' as const, result }
        : {
            status: 'failed' as const,
            result,
            error: `Preflight failed: ${failed
              .map(c => `${c.name}: ${c.message}`)
              .join('; ')}`,
          };
    } catch (error) {
      await this.finishPlan(
        inputs,
        actor,
        context.signal.aborted ? plan.status : 'preflight-failed',
        (error as Error).message,
        { lastPreflight: gate(false) },
      );
      throw error;
    }
  }

  /** Checks of other modules: each bounded in time, a throw is a failed check. */
  private async runExtraChecks(
    inputs: PlanInputs,
    objects: Array<{ object: Record<string, unknown> }>,
    signal: AbortSignal,
  ): Promise<PreflightCheckResult[]> {
    const context = {
      targetName: inputs.target.name,
      namespace: inputs.plan.namespace,
      releaseName: inputs.plan.releaseName,
      objects: objects.map(o => o.object),
    };
    return Promise.all(
      this.extraChecks.map(async check => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const result = await Promise.race([
            check.run(context),
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new Error('did not answer within 30 s')),
                30_000,
              );
              signal.addEventListener('abort', () =>
                reject(new Error('cancelled')),
              );
            }),
          ]);
          return {
            name: check.title,
            passed: Boolean(result.passed),
            message: String(result.message),
          };
        } catch (error) {
          return {
            name: check.title,
            passed: false,
            message: `The check ${check.id} failed: ${
              (error as Error).message
            }`,
          };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  /**
   * The objects the release needs access to: from the passed dry-run of the
   * same inputs, or rendered locally (no cluster access needed) otherwise.
   */
  private async objectsToCheck(
    inputs: PlanInputs,
    context: OperationContext,
  ): Promise<Array<{ object: Record<string, unknown> }>> {
    const dryRun = inputs.plan.lastDryRun;
    if (dryRun?.passed && dryRun.inputsHash === inputs.inputsHash) {
      const operation = await this.store.get(dryRun.operationId);
      const result = operation?.result as DryRunResult | undefined;
      if (result?.objects) {
        // The recorded objects, Secret values redacted: enough to know the
        // access they need and for other modules' checks.
        return result.objects
          .filter(o => o.change !== 'removed')
          .map(o => ({
            object: o.manifest
              ? (parseYaml(o.manifest) as Record<string, unknown>)
              : {
                  apiVersion: o.apiVersion,
                  kind: o.kind,
                  metadata: { name: o.name, namespace: o.namespace },
                },
          }));
      }
    }
    context.line('Rendering the chart locally to learn which access it needs');
    const helm = await this.helm();
    const rendered = await helm.template(
      this.helmTargetOf(inputs),
      await this.chartFor(inputs),
      inputs.profile?.values ?? {},
      {
        timeoutSeconds: 60,
        signal: context.signal,
        secretValues: inputs.profile?.secretStrings,
      },
    );
    return parseRenderedRelease(rendered);
  }

  private async executeApply(
    inputs: PlanInputs,
    context: OperationContext,
    actor: string,
  ) {
    const { plan } = inputs;
    const helm = await this.helm();
    const helmTarget = this.helmTargetOf(inputs);
    const dryRunOperation = await this.store.get(plan.lastDryRun!.operationId);
    const dryRun = dryRunOperation?.result as DryRunResult | undefined;
    // checkRenderRecord refused a missing record before the operation started.
    const checked = dryRun!.rendered!;
    const connection = inputs.cluster;
    const discovery = await ClusterDiscovery.create({ connection });
    const guard = new RenderGuard({
      boundary: this.targets.boundaryOf(inputs.target),
      releaseNamespace: plan.namespace,
      scopeOf: discovery.scopeOf,
      expected: checked,
    });
    const watched: ManifestObject[] = dryRun!.objects
      .filter(o => o.change !== 'removed' && !o.hook)
      .map(o => ({
        apiVersion: o.apiVersion,
        kind: o.kind,
        metadata: { name: o.name, namespace: o.namespace },
      }));
    const watch = new AbortController();
    const abortWatch = () => watch.abort();
    context.signal.addEventListener('abort', abortWatch);
    // The last picture of the pods while they existed: helm removes them
    // when it rolls a failed install back.
    let diagnosis: RolloutDiagnosis | undefined;
    const rollout = watchRollout({
      connection,
      namespace: plan.namespace,
      objects: watched,
      onLine: context.line,
      signal: watch.signal,
      diagnosis: {
        releaseName: plan.releaseName,
        since: new Date(Date.now() - DIAGNOSIS_EVENT_SLACK_MS),
        onDiagnosis: picture => {
          if (picture.pods.length > 0 || !diagnosis?.pods.length) {
            diagnosis = picture;
          }
        },
      },
    });
    const record = async (outcome: string, helmRevision?: number) =>
      this.store.insertRelease({
        id: randomUUID(),
        planId: plan.id,
        planRevision: plan.revision,
        operationId: context.operationId,
        targetId: inputs.target.id,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
        helmRevision,
        chartDigest: inputs.chart.chartDigest,
        valuesHash: inputs.profile?.valuesHash,
        inputsHash: inputs.inputsHash,
        actor,
        outcome,
        createdAt: new Date().toISOString(),
      });

    try {
      // An upgrade deletes what the current revision lists and the new one does not.
      await checkStoredRevision({
        helm,
        target: helmTarget,
        boundary: this.targets.boundaryOf(inputs.target),
        scopeOf: discovery.scopeOf,
        action: 'upgrade of',
        signal: context.signal,
      });
      context.line(
        `helm upgrade --install ${plan.releaseName} (${inputs.chart.name} ${inputs.chart.version}) in ${plan.namespace}, timeout ${plan.options.timeoutSeconds}s, rollback on failure`,
      );
      const status = await helm.upgrade(
        helmTarget,
        await this.chartFor(inputs),
        inputs.profile?.values ?? {},
        {
          createNamespace: plan.options.createNamespace,
          historyMax: plan.options.historyMax,
          timeoutSeconds: plan.options.timeoutSeconds,
          rollbackOnFailure: true,
          wait: true,
          signal: context.signal,
          onLine: context.line,
          secretValues: inputs.profile?.secretStrings,
          guard: guard.check,
        },
      );
      watch.abort();
      await rollout;
      for (const identity of guard.changed) {
        context.line(
          `Note: ${identity} was rendered with different content than at the dry-run (its template reads the cluster, the time or randomness); its identity and the boundary were checked again`,
        );
      }
      context.line(
        `Release ${plan.releaseName} revision ${status.revision}: ${status.status}`,
      );
      const applied = renderedRecord(guard.objects, checked.includesHooks);
      const result: ApplyResult = {
        type: 'apply',
        helmRevision: status.revision,
        helmStatus: status.status,
        description: status.description,
        rolledBack: false,
        rendered: applied,
        ...(guard.changed.length > 0 && {
          differsFromDryRun: guard.changed,
        }),
      };
      if (plan.options.runTests) {
        // helm test runs the test hooks stored with the revision: they must be what the guard let through.
        await checkStoredRevision({
          helm,
          target: helmTarget,
          revision: status.revision,
          boundary: this.targets.boundaryOf(inputs.target),
          scopeOf: discovery.scopeOf,
          action: 'test of',
          appliedDigests: new Set([applied.digest]),
          signal: context.signal,
        });
        context.line('Running helm test');
        const test = await helm.test(helmTarget, {
          timeoutSeconds: plan.options.timeoutSeconds,
          signal: context.signal,
          onLine: context.line,
          secretValues: inputs.profile?.secretStrings,
        });
        result.testsPassed = test.passed;
        if (!test.passed) {
          context.line(test.output);
          const previous = await this.lastDeployedBefore(
            helmTarget,
            status.revision,
          );
          if (previous !== undefined) {
            await checkStoredRevision({
              helm,
              target: helmTarget,
              revision: previous,
              boundary: this.targets.boundaryOf(inputs.target),
              scopeOf: discovery.scopeOf,
              action: 'rollback to',
              appliedDigests: await this.store.appliedDigests(plan.id),
              signal: context.signal,
            });
            context.line(`Tests failed: rolling back to revision ${previous}`);
            await helm.rollback(helmTarget, previous, {
              wait: true,
              timeoutSeconds: plan.options.timeoutSeconds,
              signal: context.signal,
              onLine: context.line,
            });
            result.rolledBack = true;
          }
          await record(
            result.rolledBack ? 'rolled-back' : 'failed',
            status.revision,
          );
          await this.finishPlan(
            inputs,
            actor,
            result.rolledBack ? 'rolled-back' : 'failed',
            `helm test failed${
              result.rolledBack ? `; rolled back to revision ${previous}` : ''
            }`,
          );
          return {
            status: 'failed' as const,
            result,
            error: 'helm test failed',
          };
        }
      }
      await record('deployed', status.revision);
      await this.finishPlan(
        inputs,
        actor,
        'deployed',
        `revision ${status.revision}`,
      );
      return { status: 'succeeded' as const, result };
    } catch (error) {
      watch.abort();
      await rollout;
      const helmError = error instanceof HelmCommandError ? error : undefined;
      const message = (error as Error).message;
      const cancelled = context.signal.aborted;
      const rolledBack = Boolean(helmError?.rolledBack);
      const outcome: ReleasePlanStatus = rolledBack ? 'rolled-back' : 'failed';
      // The message is the operation's error: shown once, not also as a line.
      await record(cancelled ? 'cancelled' : outcome).catch(() => undefined);
      // helm may have stopped halfway (e.g. the API server went away while it
      // waited): the plan says what state it left the release in.
      const state = rolledBack
        ? ''
        : await this.releaseStateAfterFailure(helm, helmTarget);
      if (state) context.line(`Release ${plan.releaseName}${state}`);
      await this.finishPlan(inputs, actor, outcome, `${message}${state}`);
      return {
        status: cancelled ? ('cancelled' as const) : ('failed' as const),
        result: {
          type: 'apply' as const,
          rolledBack,
          ...(diagnosis && !cancelled && { diagnosis }),
        },
        error: message,
      };
    } finally {
      context.signal.removeEventListener('abort', abortWatch);
    }
  }

  /**
   * The release's state after helm failed, for the plan's status message,
   * read within 15 s; when it cannot be read, says so and how to recover.
   */
  private async releaseStateAfterFailure(
    helm: HelmRunner,
    target: HelmTarget,
  ): Promise<string> {
    try {
      const status = await helm.status(target, {
        signal: AbortSignal.timeout(RELEASE_STATE_TIMEOUT_MS),
      });
      if (!status) return '; the release was not installed';
      if (PENDING.test(status.status)) {
        return `; the release is left ${status.status} at revision ${status.revision}: roll back (or uninstall) to recover`;
      }
      return `; the release is ${status.status} at revision ${status.revision}`;
    } catch (error) {
      this.logger.debug(
        `Release state after a failed apply not read: ${
          (error as Error).message
        }`,
      );
      return '; the release state could not be read (the API server did not answer): it may be left pending; check it before applying again';
    }
  }

  private async lastDeployedBefore(
    target: HelmTarget,
    revision: number,
  ): Promise<number | undefined> {
    const history = await (await this.helm()).history(target);
    return history
      .filter(
        h =>
          h.revision < revision &&
          (h.status === 'deployed' || h.status === 'superseded'),
      )
      .sort((a, b) => b.revision - a.revision)[0]?.revision;
  }

  private async executeRollback(
    inputs: PlanInputs,
    requested: number | undefined,
    context: OperationContext,
    actor: string,
  ) {
    const { plan } = inputs;
    const helm = await this.helm();
    const helmTarget = this.helmTargetOf(inputs);
    const history = await helm.history(helmTarget);
    if (history.length === 0) {
      throw new InputError(`Release ${plan.releaseName} is not installed`);
    }
    const latest = Math.max(...history.map(h => h.revision));
    const revision =
      requested ?? (await this.lastDeployedBefore(helmTarget, latest + 1));
    if (revision === undefined || !history.some(h => h.revision === revision)) {
      throw new InputError(
        requested
          ? `Release ${plan.releaseName} has no revision ${requested}`
          : `Release ${plan.releaseName} has no deployed revision to go back to; uninstall it instead`,
      );
    }
    try {
      const discovery = await ClusterDiscovery.create({
        connection: inputs.cluster,
      });
      const boundary = this.targets.boundaryOf(inputs.target);
      // What helm will restore, and what it will delete (the current revision's extra objects).
      await checkStoredRevision({
        helm,
        target: helmTarget,
        revision,
        boundary,
        scopeOf: discovery.scopeOf,
        action: 'rollback to',
        appliedDigests: await this.store.appliedDigests(plan.id),
        signal: context.signal,
      });
      await checkStoredRevision({
        helm,
        target: helmTarget,
        revision: latest,
        boundary,
        scopeOf: discovery.scopeOf,
        action: 'rollback from',
        signal: context.signal,
      });
      context.line(`helm rollback ${plan.releaseName} ${revision}`);
      const status = await helm.rollback(helmTarget, revision, {
        wait: true,
        timeoutSeconds: plan.options.timeoutSeconds,
        historyMax: plan.options.historyMax,
        signal: context.signal,
        onLine: context.line,
      });
      await this.store.insertRelease({
        id: randomUUID(),
        planId: plan.id,
        planRevision: plan.revision,
        operationId: context.operationId,
        targetId: inputs.target.id,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
        helmRevision: status.revision,
        actor,
        outcome: `rollback to ${revision}`,
        createdAt: new Date().toISOString(),
      });
      // A rollback someone chose leaves a deployed release; 'rolled-back'
      // says an apply failed and Helm undid it, which the banner reports.
      await this.finishPlan(
        inputs,
        actor,
        'deployed',
        `rolled back to revision ${revision} (now revision ${status.revision})`,
      );
      const result: RollbackResult = {
        type: 'rollback',
        helmRevision: status.revision,
        helmStatus: status.status,
      };
      return { status: 'succeeded' as const, result };
    } catch (error) {
      await this.finishPlan(inputs, actor, 'failed', (error as Error).message);
      throw error;
    }
  }

  private async executeUninstall(
    inputs: PlanInputs,
    context: OperationContext,
    actor: string,
  ) {
    const { plan } = inputs;
    const helm = await this.helm();
    const discovery = await ClusterDiscovery.create({
      connection: inputs.cluster,
    });
    // Uninstall deletes whatever the stored current revision lists.
    await checkStoredRevision({
      helm,
      target: this.helmTargetOf(inputs),
      boundary: this.targets.boundaryOf(inputs.target),
      scopeOf: discovery.scopeOf,
      action: 'uninstall of',
      signal: context.signal,
    });
    context.line(`helm uninstall ${plan.releaseName} in ${plan.namespace}`);
    await helm.uninstall(this.helmTargetOf(inputs), {
      wait: true,
      timeoutSeconds: plan.options.timeoutSeconds,
      signal: context.signal,
      onLine: context.line,
    });
    await this.finishPlan(inputs, actor, 'uninstalled', undefined, {
      lastDryRun: undefined,
      lastPreflight: undefined,
    });
    const result: RollbackResult = { type: 'uninstall' };
    return { status: 'succeeded' as const, result };
  }
}
