import { screen } from '@testing-library/react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { DeploymentsApi, deploymentsApiRef } from '../../api/DeploymentsApi';
import { DeploymentsPage } from './DeploymentsPage';

function apiReturning(
  getLiveness: () => Promise<{ status: 'ok' }>,
): DeploymentsApi {
  return { getLiveness };
}

describe('DeploymentsPage', () => {
  it('shows that the backend is up', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[[deploymentsApiRef, apiReturning(async () => ({ status: 'ok' }))]]}
      >
        <DeploymentsPage />
      </TestApiProvider>,
    );
    expect(await screen.findByText(/backend is up/)).toBeInTheDocument();
  });

  it('shows the error when the backend does not answer', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [deploymentsApiRef, apiReturning(async () => {
              throw new Error('connection refused');
            })],
        ]}
      >
        <DeploymentsPage />
      </TestApiProvider>,
    );
    expect(
      await screen.findByText('Error: connection refused'),
    ).toBeInTheDocument();
  });
});
