import { InputError } from '@backstage/errors';
import {
  describeInvalidReleaseName,
  MAX_RELEASE_NAME_LENGTH,
} from '@kubedeploy/plugin-deployments-common';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { examples } from './deriveReleaseName.examples';

/**
 * Turns a free-form name (a component name, a repository name) into a valid
 * Helm release name: lower case, invalid characters replaced by '-', trimmed
 * to Helm's 53 characters. Refuses input that leaves nothing usable.
 */
export function deriveReleaseName(name: string, suffix?: string): string {
  const normalize = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '');

  const tail = suffix ? normalize(suffix) : '';
  const room = MAX_RELEASE_NAME_LENGTH - (tail ? tail.length + 1 : 0);
  const head = normalize(name).slice(0, Math.max(room, 0)).replace(/-$/, '');
  const derived = tail ? `${head}-${tail}` : head;

  const problem = describeInvalidReleaseName(derived);
  if (!head || problem) {
    throw new InputError(
      `cannot derive a Helm release name from "${name}"${
        problem ? `: ${problem}` : ''
      }`,
    );
  }
  return derived;
}

/**
 * `deployments:release-name:derive`: a valid Helm release name for a plan.
 *
 * @public
 */
export function createDeriveReleaseNameAction() {
  return createTemplateAction({
    id: 'deployments:release-name:derive',
    description:
      'Derives a valid Helm release name (DNS-1123 label, at most 53 characters) from a component name',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: z =>
          z
            .string()
            .describe(
              'The name to derive from, for example the component name',
            ),
        suffix: z =>
          z
            .string()
            .optional()
            .describe('Appended after a dash, for example an environment'),
      },
      output: {
        releaseName: z => z.string().describe('The derived release name'),
      },
    },
    async handler(ctx) {
      const releaseName = deriveReleaseName(ctx.input.name, ctx.input.suffix);
      ctx.logger.info(`Derived release name ${releaseName}`);
      ctx.output('releaseName', releaseName);
    },
  });
}
