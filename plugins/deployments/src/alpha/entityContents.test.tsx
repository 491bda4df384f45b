import {
  coreExtensionData,
  ExtensionDefinition,
} from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  mockApis,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { screen } from '@testing-library/react';
import { deploymentsApiRef } from '../api/DeploymentsApi';
import { fakeDeploymentsApi } from '../__testUtils__/fakeDeploymentsApi';
import {
  entityDeploymentsCard,
  entityDryRunContent,
  entityLogsContent,
  entityPlanContent,
} from './entityContents';

const entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments-api', namespace: 'default' },
  spec: { type: 'service', owner: 'group:default/payments' },
};

describe('deployment entity tabs', () => {
  // Widened to the common definition type: the three tabs differ in their
  // literal names, which a single generic tester call cannot unify.
  const tabs: Array<[ExtensionDefinition, string, string]> = [
    [entityPlanContent, 'Deployments', 'deployments'],
    [entityDryRunContent, 'Dry-run', 'dry-run'],
    [entityLogsContent, 'Logs', 'logs'],
  ];

  it.each(tabs)(
    'registers a tab for components (%#)',
    (extension, title, path) => {
      const tester = createExtensionTester(extension);
      expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe(title);
      expect(tester.get(coreExtensionData.routePath)).toBe(path);
      expect(tester.get(EntityContentBlueprint.dataRefs.filterExpression)).toBe(
        'kind:component',
      );
    },
  );

  it('renders the Plan tab for the entity with the status banner on top', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [], totalCount: 0 }),
    });
    renderInTestApp(
      <EntityProvider entity={entity}>
        {createExtensionTester(entityPlanContent).reactElement()}
      </EntityProvider>,
      { apis: [[deploymentsApiRef, api], mockApis.permission()] },
    );
    expect(
      await screen.findByText(
        'No release plans for this component yet — create one',
      ),
    ).toBeInTheDocument();
    expect(
      await screen.findByText(/All deployments healthy/),
    ).toBeInTheDocument();
    expect(api.listPlans).toHaveBeenCalledWith(
      expect.objectContaining({ entityRef: 'component:default/payments-api' }),
    );
  });
  it('puts a deployments card on the Overview of components', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [], totalCount: 0 }),
    });
    const tester = createExtensionTester(entityDeploymentsCard);
    const applies = tester.get(EntityCardBlueprint.dataRefs.filterFunction);
    expect(applies?.(entity)).toBe(true);
    expect(applies?.({ ...entity, kind: 'API' })).toBe(false);
    renderInTestApp(
      <EntityProvider entity={entity}>{tester.reactElement()}</EntityProvider>,
      { apis: [[deploymentsApiRef, api], mockApis.permission()] },
    );
    expect(
      await screen.findByText('Not deployed through the portal yet'),
    ).toBeInTheDocument();
  });
});
