import { ChangeWindowStatus } from '@kubedeploy/plugin-deployments-common';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { FormEvent, useEffect, useState } from 'react';
import { errorMessage } from '../shared';
import { describeTime } from './ChangeControlCard';

/** Props of {@link EmergencyOverrideDialog}. */
export interface EmergencyOverrideDialogProps {
  open: boolean;
  /** What runs, e.g. "Apply payments-api". */
  action: string;
  window?: ChangeWindowStatus;
  /** Starts the change with the reason; rejects with the backend's error. */
  onSubmit: (overrideReason: string) => Promise<void>;
  onClose: () => void;
}

/**
 * Changes a release outside its target's change window: asks why, and sends
 * the reason with the operation (audited; needs the override permission).
 */
export function EmergencyOverrideDialog(props: EmergencyOverrideDialogProps) {
  const { open, action, window } = props;
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (open) {
      setReason('');
      setError(undefined);
    }
  }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy || !reason.trim()) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.onSubmit(reason.trim());
      props.onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={open}
      onClose={busy ? undefined : props.onClose}
      maxWidth="sm"
      fullWidth
    >
      <form onSubmit={submit}>
        <DialogTitle>Emergency override: {action}</DialogTitle>
        <DialogContent>
          <Alert severity="warning" role="note">
            The change window is closed
            {window?.reason ? ` (${window.reason})` : ''}
            {window?.nextOpenAt
              ? `; it opens ${describeTime(window.nextOpenAt)}`
              : ''}
            . An override changes the release now anyway: it is recorded in the
            audit trail with your reason, and an approval the target requires is
            still needed.
          </Alert>
          <TextField
            label="Reason"
            value={reason}
            onChange={e => setReason(e.target.value)}
            helperText="Why this cannot wait for the window, e.g. the incident it fixes"
            multiline
            minRows={3}
            fullWidth
            margin="normal"
            required
            inputProps={{ maxLength: 1000, 'data-testid': 'override-reason' }}
          />
          <Typography variant="caption" color="textSecondary">
            Needs the deployments.change-window.override permission; the backend
            refuses otherwise.
          </Typography>
          {error && (
            <Alert severity="error" role="alert">
              {error}
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="secondary"
            variant="contained"
            disabled={busy || !reason.trim()}
          >
            {busy ? 'Starting…' : 'Override and start'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
