import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { FormEvent, ReactNode, useState } from 'react';
import { errorMessage } from './errors';

/** Props of {@link PassphraseDialog}. */
export interface PassphraseDialogProps {
  open: boolean;
  title: string;
  description?: ReactNode;
  label: string;
  submitLabel: string;
  /** Ask for the passphrase twice (new passphrases). */
  confirm?: boolean;
  /** Runs the action; a rejection is shown in the dialog, which stays open. */
  onSubmit: (passphrase: string) => Promise<void>;
  onClose: () => void;
}

/**
 * Asks for a passphrase and runs one action with it. The passphrase lives in
 * this dialog's state only, and is cleared when it closes.
 */
export function PassphraseDialog(props: PassphraseDialogProps) {
  const { open, title, description, label, submitLabel, confirm } = props;
  const [passphrase, setPassphrase] = useState('');
  const [repeated, setRepeated] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const close = () => {
    setPassphrase('');
    setRepeated('');
    setError(undefined);
    props.onClose();
  };
  const mismatch = confirm && repeated !== '' && repeated !== passphrase;
  const ready =
    passphrase !== '' && (!confirm || repeated === passphrase) && !busy;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.onSubmit(passphrase);
      close();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={open}
      onClose={busy ? undefined : close}
      maxWidth="sm"
      fullWidth
    >
      <form onSubmit={submit}>
        <DialogTitle>{title}</DialogTitle>
        <DialogContent>
          {description}
          {error && (
            <Alert severity="error" style={{ marginTop: 8 }} role="alert">
              {error}
            </Alert>
          )}
          <TextField
            id="deployments-passphrase"
            label={label}
            type="password"
            autoComplete={confirm ? 'new-password' : 'current-password'}
            value={passphrase}
            onChange={e => setPassphrase(e.target.value)}
            fullWidth
            margin="normal"
            inputProps={{ 'data-testid': 'passphrase' }}
          />
          {confirm && (
            <TextField
              id="deployments-repeat-the-passphrase"
              label="Repeat the passphrase"
              type="password"
              autoComplete="new-password"
              value={repeated}
              onChange={e => setRepeated(e.target.value)}
              error={mismatch}
              helperText={mismatch ? 'The passphrases differ' : ' '}
              fullWidth
              margin="normal"
              inputProps={{ 'data-testid': 'passphrase-repeat' }}
            />
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={close} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={!ready}
          >
            {busy ? 'Working…' : submitLabel}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
