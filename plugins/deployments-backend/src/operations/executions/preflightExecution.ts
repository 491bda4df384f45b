import {
  DryRunResult,
  PreflightCheckResult,
  PreflightResult,
  ReleasePlanGate,
} from '@kubedeploy/plugin-deployments-common';
import { parse as parseYaml } from 'yaml';
import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import { parseRenderedRelease } from '../manifest';
import { OperationContext } from '../OperationRunner';
import { requiredAccess, runPreflight } from '../preflight';
import { ExecutionKit, helmTargetOf, PlanInputs } from './ExecutionKit';

/** The preflight: reachability, the access the release needs (SSAR), and other modules' checks. */
export async function executePreflight(
  kit: ExecutionKit,
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
    const objects = await objectsToCheck(kit, inputs, context);
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
      ...(await runExtraChecks(kit, inputs, objects, context.signal)),
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
    await kit.finishPlan(
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
    await kit.finishPlan(
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
async function runExtraChecks(
  kit: ExecutionKit,
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
    kit.extraChecks.map(async check => {
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
          message: `The check ${check.id} failed: ${(error as Error).message}`,
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
async function objectsToCheck(
  kit: ExecutionKit,
  inputs: PlanInputs,
  context: OperationContext,
): Promise<Array<{ object: Record<string, unknown> }>> {
  const dryRun = inputs.plan.lastDryRun;
  if (dryRun?.passed && dryRun.inputsHash === inputs.inputsHash) {
    const operation = await kit.store.get(dryRun.operationId);
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
  const helm = await kit.helm();
  const rendered = await helm.template(
    helmTargetOf(inputs),
    await kit.chartFor(inputs),
    inputs.profile?.values ?? {},
    {
      timeoutSeconds: 60,
      signal: context.signal,
      secretValues: inputs.profile?.secretStrings,
    },
  );
  return parseRenderedRelease(rendered);
}
