import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  deploymentsKeyringManagePermission,
  KeyringSelfTestResult,
  KeyringStatus,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import {
  errorMessage,
  formatTime,
  notifyDeploymentsChanged,
  PermissionButton,
} from '../shared';
import { PassphraseDialog } from '../shared/PassphraseDialog';

const STATE_TEXT = {
  uninitialized:
    'No keyring yet: bootstrap one (or restore a backup) before registering targets.',
  sealed:
    'Sealed: nothing that needs a credential can run until an administrator unlocks it.',
  unlocked: 'Unlocked: credentials can be used.',
} as const;

const STATE_COLOR = {
  uninitialized: 'default',
  sealed: 'secondary',
  unlocked: 'primary',
} as const;

const PASSPHRASE_RULE =
  'At least 12 characters using 3 of lower case, upper case, digits and symbols, or at least 20 characters of any kind; no repeated characters, patterns or only common words. Nobody can recover it: keep it in your password manager.';

type DialogKind = 'bootstrap' | 'unlock' | 'rotate';

const stepColumns: TableColumn<{ step: string; ms: number }>[] = [
  { title: 'Step', field: 'step' },
  {
    title: 'Time',
    field: 'ms',
    align: 'right',
    render: row => `${row.ms.toFixed(1)} ms`,
  },
];

/** Props of {@link KeyringStatusCard}. */
export interface KeyringStatusCardProps {
  status?: KeyringStatus;
  loading: boolean;
  error?: Error;
  onChanged: () => void;
}

/** The keyring's state and fingerprint (never key material) and its actions. */
export function KeyringStatusCard(props: KeyringStatusCardProps) {
  const { status, loading, error, onChanged } = props;
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const [dialog, setDialog] = useState<DialogKind | undefined>();
  const [busy, setBusy] = useState(false);
  const [selfTest, setSelfTest] = useState<
    KeyringSelfTestResult | { error: string } | undefined
  >();

  if (loading && !status) {
    return (
      <InfoCard title="Keyring">
        <Progress />
      </InfoCard>
    );
  }
  if (error || !status) {
    return (
      <ResponseErrorPanel
        title="Could not read the keyring. Check that the deployments backend is running, then reload."
        error={error ?? new Error('No keyring status')}
      />
    );
  }

  const changed = (message: string) => {
    alertApi.post({ message, severity: 'success', display: 'transient' });
    onChanged();
    notifyDeploymentsChanged();
  };

  const seal = async () => {
    setBusy(true);
    try {
      await api.sealKeyring();
      setSelfTest(undefined);
      changed('The keyring is sealed. Unlock it to use credentials again.');
    } catch (e) {
      alertApi.post({
        message: `Could not seal the keyring: ${errorMessage(e)}`,
        severity: 'error',
      });
    } finally {
      setBusy(false);
    }
  };

  const runSelfTest = async () => {
    setBusy(true);
    setSelfTest(undefined);
    try {
      setSelfTest(await api.selfTestKeyring());
    } catch (e) {
      setSelfTest({ error: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };

  const sealedReason =
    status.state === 'unlocked' ? undefined : 'Unlock the keyring first';

  return (
    <InfoCard
      title="Keyring"
      subheader={STATE_TEXT[status.state]}
      headerProps={{
        action: (
          <Chip
            label={status.state}
            color={STATE_COLOR[status.state]}
            data-testid="keyring-state"
          />
        ),
      }}
    >
      {status.state === 'uninitialized' ? (
        <Typography variant="body2" paragraph>
          The keyring is an RSA-4096 OpenPGP keypair whose private key is
          protected by an unlock passphrase. Every cluster credential is
          encrypted under it. Bootstrap a new one, or restore a{' '}
          <code>.kbk</code> backup below.
        </Typography>
      ) : (
        <StructuredMetadataTable
          metadata={{
            fingerprint: status.fingerprint ?? '—',
            algorithm: 'OpenPGP RSA-4096',
            created: formatTime(status.createdAt),
            'data keys': status.dataKeyCount,
            'unlocked by':
              status.state === 'unlocked' ? status.unlockedBy ?? '—' : '—',
            rotation: status.rotation
              ? `in progress to ${
                  status.rotation.pendingFingerprint
                } since ${formatTime(
                  status.rotation.startedAt,
                )}; unlocking resumes it`
              : 'none',
          }}
        />
      )}

      <Box mt={2} display="flex" flexWrap="wrap" style={{ gap: 8 }}>
        {status.state === 'uninitialized' && (
          <PermissionButton
            permission={deploymentsKeyringManagePermission}
            variant="contained"
            color="primary"
            onClick={() => setDialog('bootstrap')}
          >
            Bootstrap keyring
          </PermissionButton>
        )}
        {status.state === 'sealed' && (
          <PermissionButton
            permission={deploymentsKeyringManagePermission}
            variant="contained"
            color="primary"
            onClick={() => setDialog('unlock')}
          >
            Unlock
          </PermissionButton>
        )}
        {status.state !== 'uninitialized' && (
          <>
            <PermissionButton
              permission={deploymentsKeyringManagePermission}
              variant="outlined"
              busy={busy}
              disabledReason={sealedReason}
              onClick={runSelfTest}
            >
              Run self-test
            </PermissionButton>
            <PermissionButton
              permission={deploymentsKeyringManagePermission}
              variant="outlined"
              busy={busy}
              disabledReason={sealedReason}
              onClick={() => setDialog('rotate')}
            >
              Rotate key
            </PermissionButton>
            <PermissionButton
              permission={deploymentsKeyringManagePermission}
              variant="outlined"
              color="secondary"
              busy={busy}
              disabledReason={
                status.state === 'sealed' ? 'Already sealed' : undefined
              }
              onClick={seal}
            >
              Seal
            </PermissionButton>
          </>
        )}
      </Box>

      {selfTest && 'error' in selfTest && (
        <Box mt={2}>
          <Alert severity="error" role="alert">
            Self-test failed: {selfTest.error}
          </Alert>
        </Box>
      )}
      {selfTest && !('error' in selfTest) && (
        <Box mt={2} data-testid="self-test-result">
          <Alert severity={selfTest.ok ? 'success' : 'error'}>
            {selfTest.ok
              ? `Self-test passed in ${selfTest.totalMs.toFixed(
                  1,
                )} ms: encrypt and decrypt round trip with key ${
                  selfTest.fingerprint
                }.`
              : 'Self-test failed: the round trip did not return the original bytes.'}
          </Alert>
          <Table
            title="Self-test steps"
            options={{ paging: false, search: false, padding: 'dense' }}
            columns={stepColumns}
            data={selfTest.steps}
          />
        </Box>
      )}

      <PassphraseDialog
        open={dialog === 'bootstrap'}
        title="Bootstrap the keyring"
        description={
          <Typography variant="body2">
            Creates the keypair and protects it with this passphrase.{' '}
            {PASSPHRASE_RULE}
          </Typography>
        }
        label="Unlock passphrase"
        submitLabel="Bootstrap"
        confirm
        onSubmit={async passphrase => {
          await api.bootstrapKeyring(passphrase);
          changed('The keyring was created and is unlocked.');
        }}
        onClose={() => setDialog(undefined)}
      />
      <PassphraseDialog
        open={dialog === 'unlock'}
        title="Unlock the keyring"
        description={
          <Typography variant="body2">
            The keyring stays unlocked on this backend instance until it
            restarts or someone seals it. Each attempt is audited.
          </Typography>
        }
        label="Unlock passphrase"
        submitLabel="Unlock"
        onSubmit={async passphrase => {
          await api.unlockKeyring(passphrase);
          changed('The keyring is unlocked.');
        }}
        onClose={() => setDialog(undefined)}
      />
      <PassphraseDialog
        open={dialog === 'rotate'}
        title="Rotate the keyring key"
        description={
          <Typography variant="body2">
            Creates a new keypair under the same passphrase and rewraps every
            data key; credentials stay readable throughout. Take a new backup
            afterwards: older backups hold the old key.
          </Typography>
        }
        label="Current unlock passphrase"
        submitLabel="Rotate"
        onSubmit={async passphrase => {
          const rotated = await api.rotateKeyring(passphrase);
          changed(`Rotated: the keyring key is now ${rotated.fingerprint}.`);
        }}
        onClose={() => setDialog(undefined)}
      />
    </InfoCard>
  );
}
