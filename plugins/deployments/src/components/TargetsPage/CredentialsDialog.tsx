import {
  Target,
  TargetAuthKind,
  TargetCredentialsInput,
} from '@kubedeploy/plugin-deployments-common';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { FormEvent, useEffect, useState } from 'react';
import { errorMessage } from '../shared';
import { CredentialFields, credentialsFrom } from './TargetDialog';

/** Props of {@link CredentialsDialog}. */
export interface CredentialsDialogProps {
  target?: Target;
  onSubmit: (
    name: string,
    credentials: TargetCredentialsInput,
  ) => Promise<void>;
  onClose: () => void;
}

/** Replaces a target's credentials; the old ones are never shown. */
export function CredentialsDialog(props: CredentialsDialogProps) {
  const { target } = props;
  const [form, setForm] = useState({
    authKind: 'token' as TargetAuthKind,
    kubeconfig: '',
    token: '',
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    setForm({
      authKind: target?.authKind ?? 'token',
      kubeconfig: '',
      token: '',
    });
    setError(undefined);
  }, [target]);

  const missing =
    (form.authKind === 'kubeconfig' && !form.kubeconfig.trim()) ||
    (form.authKind === 'token' && !form.token.trim());

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!target || missing || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.onSubmit(target.name, credentialsFrom(form));
      props.onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={target !== undefined}
      onClose={busy ? undefined : props.onClose}
      maxWidth="md"
      fullWidth
    >
      <form onSubmit={submit}>
        <DialogTitle>Replace the credentials of {target?.name}</DialogTitle>
        <DialogContent>
          <Typography variant="body2">
            Current: {target?.authKind}
            {target?.credentials.fingerprint
              ? `, fingerprint ${target.credentials.fingerprint}`
              : ''}
            . The new credentials are encrypted under the keyring; the old ones
            are discarded. Run a connection test afterwards.
          </Typography>
          {error && (
            <Alert severity="error" role="alert" style={{ marginTop: 8 }}>
              {error}
            </Alert>
          )}
          <CredentialFields
            authKind={form.authKind}
            kubeconfig={form.kubeconfig}
            token={form.token}
            onChange={patch => setForm(current => ({ ...current, ...patch }))}
          />
          {form.authKind === 'token' && target?.authKind !== 'token' && (
            <Typography variant="caption" color="textSecondary">
              The token is used against the target&apos;s API server (
              {target?.apiServerUrl}); change the server and CA with Edit.
            </Typography>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={busy || missing}
          >
            {busy ? 'Saving…' : 'Replace credentials'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
