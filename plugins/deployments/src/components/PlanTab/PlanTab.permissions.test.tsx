import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  fakeDeploymentsApi,
  PAYMENTS_API_REF,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { PlanTab } from './PlanTab';

// Its own file: usePermission caches answers for the whole module.
describe('PlanTab when the permission policy denies', () => {
  it('disables plan actions with the missing permission as the reason', async () => {
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api: fakeDeploymentsApi(),
      deny: true,
    });
    const actions = await screen.findByTestId('plan-actions');
    const dryRun = within(actions).getByRole('button', { name: 'Dry-run' });
    await waitFor(() => expect(dryRun).toBeDisabled());
    fireEvent.mouseOver(dryRun.parentElement!);
    expect(
      await screen.findByText(/needs the deployments.plan.dry-run permission/),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'New plan' })).toBeDisabled();
    expect(
      within(actions).getByRole('button', { name: 'Edit plan' }),
    ).toBeDisabled();
  });
});
