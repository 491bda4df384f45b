import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Create a release plan for the new component and start its dry-run',
    example: yaml.stringify({
      steps: [
        {
          id: 'release-name',
          action: 'deployments:release-name:derive',
          name: 'Derive release name',
          input: { name: '${{ parameters.componentName }}' },
        },
        {
          id: 'plan',
          action: 'deployments:plan:create',
          name: 'Create release plan',
          input: {
            entityRef: 'component:default/${{ parameters.componentName }}',
            chart: 'hello',
            version: '0.1.0',
            target: 'local-team-a',
            namespace: 'team-a',
            releaseName: '${{ steps["release-name"].output.releaseName }}',
            profile: 'demo',
            startDryRun: true,
          },
        },
      ],
    }),
  },
  {
    description: 'A plan with Helm options and no values profile',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'deployments:plan:create',
          name: 'Create release plan',
          input: {
            entityRef: 'component:default/storefront-web',
            chart: 'hello',
            version: '0.1.0',
            target: 'local-admin',
            namespace: 'team-b',
            releaseName: 'storefront-web',
            options: { timeoutSeconds: 600, runTests: true },
          },
        },
      ],
    }),
  },
];
