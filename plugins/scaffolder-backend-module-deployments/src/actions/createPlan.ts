import { AuthService, DiscoveryService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { DeploymentsApiClient } from '../DeploymentsApiClient';
import { examples } from './createPlan.examples';

/**
 * `deployments:plan:create`: creates a release plan (and optionally starts
 * its dry-run) on behalf of the user running the template, so the
 * deployments permission policy decides, exactly as in the portal.
 *
 * @public
 */
export function createPlanAction(options: {
  discovery: DiscoveryService;
  auth: AuthService;
}) {
  const client = DeploymentsApiClient.create(options);
  return createTemplateAction({
    id: 'deployments:plan:create',
    description:
      'Creates a release plan that deploys a registered chart version of a catalog entity to a namespace of a target',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        entityRef: z =>
          z
            .string()
            .describe(
              'The catalog entity the plan deploys, e.g. component:default/payments-api',
            ),
        chart: z => z.string().describe('Name of a registered chart'),
        version: z => z.string().describe('Its registered version'),
        target: z => z.string().describe('Target name'),
        namespace: z =>
          z.string().describe("A namespace in the target's allowlist"),
        releaseName: z =>
          z
            .string()
            .describe(
              'The Helm release name (at most 53 characters, DNS-1123)',
            ),
        profile: z =>
          z
            .string()
            .optional()
            .describe(
              'Name of a values profile of that chart (newest revision)',
            ),
        options: z =>
          z
            .object({
              timeoutSeconds: z.number().int().min(10).max(3600).optional(),
              historyMax: z.number().int().min(1).max(100).optional(),
              createNamespace: z.boolean().optional(),
              runTests: z.boolean().optional(),
            })
            .optional()
            .describe('Helm options of the plan'),
        startDryRun: z =>
          z
            .boolean()
            .optional()
            .describe('Start the dry-run right away (default false)'),
      },
      output: {
        planId: z => z.string().describe('The release plan id'),
        status: z => z.string().describe('The plan status'),
        dryRunOperationId: z =>
          z.string().optional().describe('The dry-run operation, when started'),
      },
    },
    async handler(ctx) {
      const { input } = ctx;
      const credentials = await ctx.getInitiatorCredentials();
      const chart = await client.findChart(
        credentials,
        input.chart,
        input.version,
      );
      if (!chart) {
        throw new InputError(
          `Chart ${input.chart} ${input.version} is not registered; register it on the deployments page first`,
        );
      }
      let profileId: string | undefined;
      if (input.profile) {
        const profile = await client.findProfile(
          credentials,
          chart.id,
          input.profile,
        );
        if (!profile) {
          throw new InputError(
            `Chart ${input.chart} ${input.version} has no values profile named "${input.profile}"`,
          );
        }
        profileId = profile.id;
      }
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Would create a plan for ${input.entityRef}: ${chart.name} ${chart.version} as ${input.releaseName} in ${input.target}/${input.namespace}`,
        );
        ctx.output('planId', 'dry-run');
        ctx.output('status', 'draft');
        return;
      }

      // A retried task finds the plan its first attempt created.
      const plan = await ctx.checkpoint({
        key: `deployments-plan-${input.target}-${input.namespace}-${input.releaseName}`,
        fn: async () => {
          const existing = await client.findPlan(
            credentials,
            input.entityRef,
            input.releaseName,
          );
          const created =
            existing &&
            existing.target === input.target &&
            existing.namespace === input.namespace
              ? existing
              : await client.createPlan(credentials, {
                  entityRef: input.entityRef,
                  chartId: chart.id,
                  target: input.target,
                  namespace: input.namespace,
                  releaseName: input.releaseName,
                  profileId,
                  options: input.options,
                });
          return { id: created.id, status: created.status };
        },
      });
      ctx.logger.info(`Release plan ${plan.id} (${plan.status})`);
      ctx.output('planId', plan.id);
      ctx.output('status', plan.status);

      if (input.startDryRun) {
        const operation = await client.startDryRun(credentials, plan.id);
        ctx.logger.info(`Dry-run ${operation.id} started`);
        ctx.output('dryRunOperationId', operation.id);
      }
    },
  });
}
