import { RollbackResult } from '@kubedeploy/plugin-deployments-common';
import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import { OperationContext } from '../OperationRunner';
import { checkStoredRevision } from '../storedRevisionCheck';
import { ExecutionKit, helmTargetOf, PlanInputs } from './ExecutionKit';

/** An uninstall, once the stored revision it deletes is inside the boundary. */
export async function executeUninstall(
  kit: ExecutionKit,
  inputs: PlanInputs,
  context: OperationContext,
  actor: string,
) {
  const { plan } = inputs;
  const helm = await kit.helm();
  const discovery = await ClusterDiscovery.create({
    connection: inputs.cluster,
  });
  // Uninstall deletes whatever the stored current revision lists.
  await checkStoredRevision({
    helm,
    target: helmTargetOf(inputs),
    boundary: kit.targets.boundaryOf(inputs.target),
    scopeOf: discovery.scopeOf,
    action: 'uninstall of',
    signal: context.signal,
  });
  context.line(`helm uninstall ${plan.releaseName} in ${plan.namespace}`);
  await helm.uninstall(helmTargetOf(inputs), {
    wait: true,
    timeoutSeconds: plan.options.timeoutSeconds,
    signal: context.signal,
    onLine: context.line,
  });
  await kit.finishPlan(inputs, actor, 'uninstalled', undefined, {
    lastDryRun: undefined,
    lastPreflight: undefined,
  });
  const result: RollbackResult = { type: 'uninstall' };
  return { status: 'succeeded' as const, result };
}
