import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  fakeDeploymentsApi,
  responseError,
  unlockedKeyring,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { KeyringPage } from './KeyringPage';

const strong = 'Correct-Horse-Battery-42';

function type(element: HTMLElement, value: string) {
  fireEvent.change(element, { target: { value } });
}

describe('KeyringPage', () => {
  it('shows the state, fingerprint and algorithm, never key material', async () => {
    await renderDeployments(<KeyringPage />, { api: fakeDeploymentsApi() });
    expect(await screen.findByTestId('keyring-state')).toHaveTextContent(
      'unlocked',
    );
    expect(screen.getByText(unlockedKeyring.fingerprint!)).toBeInTheDocument();
    expect(screen.getByText('OpenPGP RSA-4096')).toBeInTheDocument();
  });

  it('bootstraps with a confirmed passphrase and shows the policy error from the API', async () => {
    const api = fakeDeploymentsApi({
      getKeyringStatus: async () => ({
        state: 'uninitialized',
        dataKeyCount: 0,
      }),
      bootstrapKeyring: async () => {
        throw responseError(
          400,
          'InputError',
          'The unlock passphrase is too weak: it is a common word',
        );
      },
    });
    await renderDeployments(<KeyringPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Bootstrap keyring' }),
    );
    const dialog = await screen.findByRole('dialog');
    const submit = within(dialog).getByRole('button', { name: 'Bootstrap' });
    type(within(dialog).getByTestId('passphrase'), strong);
    type(within(dialog).getByTestId('passphrase-repeat'), 'something else');
    expect(within(dialog).getByText('The passphrases differ')).toBeVisible();
    expect(submit).toBeDisabled();

    type(within(dialog).getByTestId('passphrase-repeat'), strong);
    fireEvent.click(submit);
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'The unlock passphrase is too weak: it is a common word',
    );
    expect(api.bootstrapKeyring).toHaveBeenCalledWith(strong);
  });

  it('unlocks a sealed keyring and refreshes the state', async () => {
    let state: 'sealed' | 'unlocked' = 'sealed';
    const api = fakeDeploymentsApi({
      getKeyringStatus: async () => ({ ...unlockedKeyring, state }),
      unlockKeyring: async () => {
        state = 'unlocked';
        return unlockedKeyring;
      },
    });
    const { alertApi } = await renderDeployments(<KeyringPage />, { api });
    expect(await screen.findByTestId('keyring-state')).toHaveTextContent(
      'sealed',
    );
    expect(
      screen.getByRole('button', { name: 'Run self-test' }),
    ).toBeDisabled();
    fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    const dialog = await screen.findByRole('dialog');
    type(within(dialog).getByTestId('passphrase'), strong);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unlock' }));
    await waitFor(() =>
      expect(screen.getByTestId('keyring-state')).toHaveTextContent('unlocked'),
    );
    expect(api.unlockKeyring).toHaveBeenCalledWith(strong);
    expect(alertApi.getAlerts().map(a => a.message)).toContain(
      'The keyring is unlocked.',
    );
  });

  it('runs the self-test and shows each step with its time', async () => {
    const api = fakeDeploymentsApi({
      selfTestKeyring: async () => ({
        ok: true,
        fingerprint: unlockedKeyring.fingerprint!,
        totalMs: 42.5,
        steps: [
          { step: 'encrypt', ms: 12.25 },
          { step: 'decrypt', ms: 30.25 },
        ],
      }),
    });
    await renderDeployments(<KeyringPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Run self-test' }),
    );
    const result = await screen.findByTestId('self-test-result');
    expect(result).toHaveTextContent('Self-test passed in 42.5 ms');
    expect(within(result).getByText('encrypt')).toBeInTheDocument();
    expect(within(result).getByText('30.3 ms')).toBeInTheDocument();
  });

  it('verifies an uploaded backup and says whether it matches', async () => {
    const api = fakeDeploymentsApi({
      verifyKeyringBackup: async () => ({
        formatVersion: 1,
        fingerprint: unlockedKeyring.fingerprint!,
        capturedAt: '2026-11-23T13:10:00Z',
        matchesCurrent: true,
        keyCount: 1,
        dataKeyCount: 1,
      }),
    });
    await renderDeployments(<KeyringPage />, { api });
    const input = await screen.findByTestId('backup-file');
    const file = new File(['{"format":"kbk"}'], 'backup.kbk');
    fireEvent.change(input, { target: { files: [file] } });
    expect(await screen.findByText('backup.kbk')).toBeInTheDocument();
    type(screen.getByTestId('backup-passphrase'), strong);
    fireEvent.click(screen.getByRole('button', { name: 'Verify backup' }));
    const verification = await screen.findByTestId('backup-verification');
    expect(verification).toHaveTextContent(
      'The backup matches the current keyring.',
    );
    expect(api.verifyKeyringBackup).toHaveBeenCalledWith({
      backup: '{"format":"kbk"}',
      passphrase: strong,
    });
  });

  it('restores only after an explicit confirmation', async () => {
    const api = fakeDeploymentsApi({
      getKeyringStatus: async () => ({
        state: 'uninitialized',
        dataKeyCount: 0,
      }),
      restoreKeyring: async () => ({ ...unlockedKeyring, state: 'sealed' }),
    });
    await renderDeployments(<KeyringPage />, { api });
    const input = await screen.findByTestId('backup-file');
    fireEvent.change(input, {
      target: { files: [new File(['{}'], 'old.kbk')] },
    });
    await screen.findByText('old.kbk');
    type(screen.getByTestId('backup-passphrase'), strong);
    fireEvent.click(screen.getByRole('button', { name: 'Restore backup' }));
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Restore' });
    expect(confirm).toBeDisabled();
    type(within(dialog).getByLabelText('Confirmation'), 'RESTORE');
    fireEvent.click(confirm);
    await waitFor(() =>
      expect(api.restoreKeyring).toHaveBeenCalledWith({
        backup: '{}',
        passphrase: strong,
      }),
    );
  });

  it('tells the user what to do when the backend does not answer', async () => {
    await renderDeployments(<KeyringPage />, {
      api: fakeDeploymentsApi({
        getKeyringStatus: async () => {
          throw new Error('connection refused');
        },
      }),
    });
    expect(
      await screen.findByText(/Check that the deployments backend is running/),
    ).toBeInTheDocument();
  });
});
