import {
  DryRunResult,
  ReleasePlanGate,
} from '@kubedeploy/plugin-deployments-common';
import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import {
  diffServerDryRun,
  serverDryRun,
  serverDryRunKey,
} from '../../cluster/serverDryRun';
import { createRedactor } from '../../lib/redaction';
import {
  diffKeyOf,
  isNamespaced,
  removedObject,
  serverFindings,
  toDryRunObject,
} from '../dryRunFindings';
import {
  analyzeRelease,
  diffManifests,
  ManifestChange,
  parseRenderedRelease,
} from '../manifest';
import { OperationContext } from '../OperationRunner';
import { checkedRender, RenderGuard } from '../RenderGuard';
import { ExecutionKit, helmTargetOf, PlanInputs } from './ExecutionKit';

/** The dry-run: helm renders through the render guard, the API server validates each object (dry-run), and the result says what would change. */
export async function executeDryRun(
  kit: ExecutionKit,
  inputs: PlanInputs,
  context: OperationContext,
  actor: string,
) {
  const { plan, target } = inputs;
  const helm = await kit.helm();
  const helmTarget = helmTargetOf(inputs);
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
    const boundary = kit.targets.boundaryOf(target);
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
    const valuesChangeRead = kit.valuesChangeOf(inputs).catch(error => {
      context.line(
        `Could not compare the values with the deployed revision: ${
          (error as Error).message
        }`,
      );
      return { deployedSecrets: [] as string[], change: undefined };
    });
    const rendered = await helm.dryRun(
      helmTarget,
      await kit.chartFor(inputs),
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
    await kit.finishPlan(
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
    await kit.finishPlan(
      inputs,
      actor,
      context.signal.aborted ? plan.status : 'dry-run-failed',
      (error as Error).message,
      { lastDryRun: gate(false) },
    );
    throw error;
  }
}
