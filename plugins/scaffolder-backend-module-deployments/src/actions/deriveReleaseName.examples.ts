import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Derive the Helm release name from the component name',
    example: yaml.stringify({
      steps: [
        {
          id: 'release-name',
          action: 'deployments:release-name:derive',
          name: 'Derive release name',
          input: { name: '${{ parameters.componentName }}' },
        },
      ],
    }),
  },
  {
    description: 'Add an environment suffix',
    example: yaml.stringify({
      steps: [
        {
          id: 'release-name',
          action: 'deployments:release-name:derive',
          name: 'Derive release name',
          input: { name: '${{ parameters.componentName }}', suffix: 'staging' },
        },
      ],
    }),
  },
];
