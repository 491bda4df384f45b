import { InfoCard, StructuredMetadataTable } from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  deploymentsKeyringBackupPermission,
  deploymentsKeyringManagePermission,
  KeyringBackupVerification,
  KeyringStatus,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { ChangeEvent, useState } from 'react';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import {
  ConfirmDialog,
  errorMessage,
  formatTime,
  notifyDeploymentsChanged,
  PermissionButton,
} from '../shared';
import { PassphraseDialog } from '../shared/PassphraseDialog';

/** Larger than any real backup; the backend caps uploads at 12 MiB too. */
const MAX_BACKUP_BYTES = 12 * 1024 * 1024;

/** A chosen file's text (FileReader: older browsers lack `File.text()`). */
function readText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file);
  });
}

/** Saves a blob as a file through a temporary link. */
function download(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Give the browser a moment to start the download before revoking.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function matchText(hasKeyring: boolean, matches: boolean): string {
  if (!hasKeyring) return 'no keyring to compare with';
  return matches ? 'yes' : 'no';
}

/** Props of {@link KeyringBackupCard}. */
export interface KeyringBackupCardProps {
  status: KeyringStatus;
  onChanged: () => void;
}

/**
 * `.kbk` backups: export one under its own passphrase, verify an uploaded
 * one (fingerprint, capture time, whether it matches the current keyring)
 * and, on an install without a keyring, restore it.
 */
export function KeyringBackupCard(props: KeyringBackupCardProps) {
  const { status, onChanged } = props;
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const [exporting, setExporting] = useState(false);
  const [file, setFile] = useState<
    { name: string; text: string } | undefined
  >();
  const [fileError, setFileError] = useState<string | undefined>();
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [verification, setVerification] = useState<
    KeyringBackupVerification | undefined
  >();
  const [failure, setFailure] = useState<string | undefined>();
  const [confirmRestore, setConfirmRestore] = useState(false);

  const chooseFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0];
    event.target.value = '';
    setVerification(undefined);
    setFailure(undefined);
    setFile(undefined);
    setFileError(undefined);
    if (!chosen) return;
    if (chosen.size > MAX_BACKUP_BYTES) {
      setFileError(`${chosen.name} is too large to be a keyring backup`);
      return;
    }
    try {
      setFile({ name: chosen.name, text: await readText(chosen) });
    } catch (e) {
      setFileError(`Could not read ${chosen.name}: ${errorMessage(e)}`);
    }
  };

  const verify = async () => {
    if (!file) return;
    setBusy(true);
    setFailure(undefined);
    setVerification(undefined);
    try {
      setVerification(
        await api.verifyKeyringBackup({ backup: file.text, passphrase }),
      );
    } catch (e) {
      setFailure(`Verification failed: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const restore = async () => {
    if (!file) return;
    setConfirmRestore(false);
    setBusy(true);
    setFailure(undefined);
    try {
      await api.restoreKeyring({ backup: file.text, passphrase });
      setFile(undefined);
      setPassphrase('');
      alertApi.post({
        message:
          'The keyring was restored and is sealed: unlock it with its unlock passphrase.',
        severity: 'success',
      });
      onChanged();
      notifyDeploymentsChanged();
    } catch (e) {
      setFailure(`Restore failed: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const noFile = file ? undefined : 'Choose a .kbk file first';
  const noPassphrase = passphrase ? undefined : 'Enter the backup passphrase';
  const hasKeyring = status.state !== 'uninitialized';

  return (
    <InfoCard
      title="Backups"
      subheader="A .kbk file holds the keyring key and data keys, encrypted under a backup passphrase of its own."
    >
      <Typography variant="subtitle2">Export</Typography>
      <Typography variant="body2" paragraph>
        Store the file and its passphrase apart, outside this cluster. Without a
        backup, a lost database or passphrase means re-entering every
        credential.
      </Typography>
      <PermissionButton
        permission={deploymentsKeyringBackupPermission}
        variant="outlined"
        color="primary"
        disabledReason={
          status.state === 'unlocked'
            ? undefined
            : 'The keyring must exist and be unlocked to export a backup'
        }
        onClick={() => setExporting(true)}
      >
        Export backup
      </PermissionButton>

      <Box mt={3}>
        <Typography variant="subtitle2">
          Verify{hasKeyring ? '' : ' or restore'}
        </Typography>
        <Typography variant="body2" paragraph>
          Checks that a backup opens with its passphrase and shows what it
          holds, without revealing key bytes.
          {hasKeyring
            ? ' Restoring is possible only on an install without a keyring.'
            : ' Restoring brings the keyring back sealed; unlock it afterwards with its unlock passphrase.'}
        </Typography>
        <Box
          display="flex"
          alignItems="center"
          flexWrap="wrap"
          style={{ gap: 8 }}
        >
          <Button variant="outlined" component="label">
            Choose .kbk file
            <input
              type="file"
              accept=".kbk,application/json,application/octet-stream"
              hidden
              data-testid="backup-file"
              onChange={chooseFile}
            />
          </Button>
          <Typography variant="body2" color="textSecondary">
            {file ? file.name : 'No file chosen'}
          </Typography>
        </Box>
        {fileError && (
          <Alert severity="error" role="alert">
            {fileError}
          </Alert>
        )}
        <TextField
          id="deployments-backup-passphrase"
          label="Backup passphrase"
          type="password"
          autoComplete="off"
          value={passphrase}
          onChange={e => setPassphrase(e.target.value)}
          margin="normal"
          fullWidth
          inputProps={{ 'data-testid': 'backup-passphrase' }}
        />
        <Box display="flex" style={{ gap: 8 }}>
          <PermissionButton
            permission={deploymentsKeyringBackupPermission}
            variant="contained"
            color="primary"
            busy={busy}
            disabledReason={noFile ?? noPassphrase}
            onClick={verify}
          >
            Verify backup
          </PermissionButton>
          {!hasKeyring && (
            <PermissionButton
              permission={deploymentsKeyringManagePermission}
              variant="contained"
              color="secondary"
              busy={busy}
              disabledReason={noFile ?? noPassphrase}
              onClick={() => setConfirmRestore(true)}
            >
              Restore backup
            </PermissionButton>
          )}
        </Box>
        {failure && (
          <Box mt={2}>
            <Alert severity="error" role="alert">
              {failure}
            </Alert>
          </Box>
        )}
        {verification && (
          <Box mt={2} data-testid="backup-verification">
            {!hasKeyring && (
              <Alert severity="info">
                The backup opens with this passphrase. There is no keyring to
                compare it with; you can restore it.
              </Alert>
            )}
            {hasKeyring && (
              <Alert
                severity={verification.matchesCurrent ? 'success' : 'warning'}
              >
                {verification.matchesCurrent
                  ? 'The backup matches the current keyring.'
                  : 'The backup opens, but does not match the current keyring (it holds another or an older key).'}
              </Alert>
            )}
            <StructuredMetadataTable
              metadata={{
                fingerprint: verification.fingerprint,
                captured: formatTime(verification.capturedAt),
                'matches current keyring': matchText(
                  hasKeyring,
                  verification.matchesCurrent,
                ),
                keys: verification.keyCount,
                'data keys': verification.dataKeyCount,
                format: `version ${verification.formatVersion}`,
              }}
            />
          </Box>
        )}
      </Box>

      <PassphraseDialog
        open={exporting}
        title="Export a keyring backup"
        description={
          <Typography variant="body2">
            Choose a passphrase for this file (the same strength rules as the
            unlock passphrase). Anyone with the file and this passphrase can
            read every stored credential.
          </Typography>
        }
        label="Backup passphrase"
        submitLabel="Export"
        confirm
        onSubmit={async backupPassphrase => {
          const blob = await api.exportKeyringBackup(backupPassphrase);
          download(blob, `${status.fingerprint ?? 'keyring'}.kbk`);
          alertApi.post({
            message: `Backup ${status.fingerprint}.kbk downloaded. Verify it, then store it safely.`,
            severity: 'success',
            display: 'transient',
          });
        }}
        onClose={() => setExporting(false)}
      />
      <ConfirmDialog
        open={confirmRestore}
        title="Restore the keyring from a backup?"
        confirmLabel="Restore"
        confirmationText="RESTORE"
        busy={busy}
        onConfirm={restore}
        onClose={() => setConfirmRestore(false)}
      >
        <Typography variant="body2">
          {file?.name} becomes this install's keyring. Credentials stored under
          another keyring will not decrypt. The restored keyring is sealed until
          you unlock it with its unlock passphrase.
        </Typography>
      </ConfirmDialog>
    </InfoCard>
  );
}
