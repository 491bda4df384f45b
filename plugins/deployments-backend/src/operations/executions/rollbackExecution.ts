import { RollbackResult } from '@kubedeploy/plugin-deployments-common';
import { InputError } from '@backstage/errors';
import { randomUUID } from 'node:crypto';
import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import { OperationContext } from '../OperationRunner';
import { checkStoredRevision } from '../storedRevisionCheck';
import { ExecutionKit, helmTargetOf, PlanInputs } from './ExecutionKit';
import { lastDeployedBefore } from './releaseState';

/**
 * A rollback to a revision (or the last deployed one), after checking what
 * helm would restore and what it would delete against the boundary.
 */
export async function executeRollback(
  kit: ExecutionKit,
  inputs: PlanInputs,
  requested: number | undefined,
  context: OperationContext,
  actor: string,
) {
  const { plan } = inputs;
  const helm = await kit.helm();
  const helmTarget = helmTargetOf(inputs);
  const history = await helm.history(helmTarget);
  if (history.length === 0) {
    throw new InputError(`Release ${plan.releaseName} is not installed`);
  }
  const latest = Math.max(...history.map(h => h.revision));
  const revision =
    requested ?? (await lastDeployedBefore(helm, helmTarget, latest + 1));
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
    const boundary = kit.targets.boundaryOf(inputs.target);
    // What helm will restore, and what it will delete (the current revision's extra objects).
    await checkStoredRevision({
      helm,
      target: helmTarget,
      revision,
      boundary,
      scopeOf: discovery.scopeOf,
      action: 'rollback to',
      appliedDigests: await kit.store.appliedDigests(plan.id),
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
    await kit.store.insertRelease({
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
    await kit.finishPlan(
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
    await kit.finishPlan(inputs, actor, 'failed', (error as Error).message);
    throw error;
  }
}
