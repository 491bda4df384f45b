import {
  ApplyResult,
  DryRunResult,
  ReleasePlanStatus,
  RolloutDiagnosis,
} from '@kubedeploy/plugin-deployments-common';
import { randomUUID } from 'node:crypto';
import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import { watchRollout } from '../../cluster/RolloutWatcher';
import { HelmCommandError } from '../../helm';
import { ManifestObject } from '../../targets/namespaceBoundary';
import { OperationContext } from '../OperationRunner';
import { RenderGuard, renderedRecord } from '../RenderGuard';
import { checkStoredRevision } from '../storedRevisionCheck';
import { ExecutionKit, helmTargetOf, PlanInputs } from './ExecutionKit';
import { lastDeployedBefore, releaseStateAfterFailure } from './releaseState';

/** Events from just before the apply started are its own (clocks differ a little). */
const DIAGNOSIS_EVENT_SLACK_MS = 5_000;

/**
 * The apply: \`helm upgrade --install\` with rollback on failure, through the
 * render guard holding helm to what the dry-run checked; the rollout watch
 * keeps the last picture of the pods for a failure's cause; tests run when
 * the plan asks.
 */
export async function executeApply(
  kit: ExecutionKit,
  inputs: PlanInputs,
  context: OperationContext,
  actor: string,
) {
  const { plan } = inputs;
  const helm = await kit.helm();
  const helmTarget = helmTargetOf(inputs);
  const dryRunOperation = await kit.store.get(plan.lastDryRun!.operationId);
  const dryRun = dryRunOperation?.result as DryRunResult | undefined;
  // checkRenderRecord refused a missing record before the operation started.
  const checked = dryRun!.rendered!;
  const connection = inputs.cluster;
  const discovery = await ClusterDiscovery.create({ connection });
  const guard = new RenderGuard({
    boundary: kit.targets.boundaryOf(inputs.target),
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
    kit.store.insertRelease({
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
      boundary: kit.targets.boundaryOf(inputs.target),
      scopeOf: discovery.scopeOf,
      action: 'upgrade of',
      signal: context.signal,
    });
    context.line(
      `helm upgrade --install ${plan.releaseName} (${inputs.chart.name} ${inputs.chart.version}) in ${plan.namespace}, timeout ${plan.options.timeoutSeconds}s, rollback on failure`,
    );
    const status = await helm.upgrade(
      helmTarget,
      await kit.chartFor(inputs),
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
        boundary: kit.targets.boundaryOf(inputs.target),
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
        const previous = await lastDeployedBefore(
          helm,
          helmTarget,
          status.revision,
        );
        if (previous !== undefined) {
          await checkStoredRevision({
            helm,
            target: helmTarget,
            revision: previous,
            boundary: kit.targets.boundaryOf(inputs.target),
            scopeOf: discovery.scopeOf,
            action: 'rollback to',
            appliedDigests: await kit.store.appliedDigests(plan.id),
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
        await kit.finishPlan(
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
    await kit.finishPlan(
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
      : await releaseStateAfterFailure(helm, helmTarget, kit.logger);
    if (state) context.line(`Release ${plan.releaseName}${state}`);
    await kit.finishPlan(inputs, actor, outcome, `${message}${state}`);
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
