import { Advisory } from '@kubedeploy/plugin-deployments-common';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';

/** Props of {@link DismissAdvisoryDialog}. */
export interface DismissAdvisoryDialogProps {
  advisory: Advisory;
  busy?: boolean;
  error?: string;
  onCancel: () => void;
  onDismiss: (input: { reason: string; until?: string }) => void;
}

/** Asks why an advisory is dismissed and, optionally, until when. */
export function DismissAdvisoryDialog(props: DismissAdvisoryDialogProps) {
  const { advisory, busy, error, onCancel, onDismiss } = props;
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  const trimmed = reason.trim();
  return (
    <Dialog open onClose={onCancel} maxWidth="sm" fullWidth>
      <DialogTitle>Dismiss this advisory</DialogTitle>
      <DialogContent>
        <Typography variant="body2" paragraph>
          {advisory.running} → {advisory.available ?? 'unknown'} (
          {advisory.kind}). The dismissal is recorded in the audit trail with
          your reason.
        </Typography>
        <TextField
          id="advisory-dismiss-reason"
          label="Reason"
          required
          fullWidth
          multiline
          minRows={2}
          value={reason}
          onChange={e => setReason(e.target.value)}
          inputProps={{ maxLength: 2000 }}
          margin="normal"
        />
        <TextField
          id="advisory-dismiss-until"
          label="Until (optional)"
          type="date"
          value={until}
          onChange={e => setUntil(e.target.value)}
          InputLabelProps={{ shrink: true }}
          helperText="After this day the advisory shows again"
          margin="normal"
        />
        {error && (
          <Typography color="error" variant="body2" role="alert">
            {error}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onCancel}>Cancel</Button>
        <Button
          color="primary"
          variant="contained"
          disabled={!trimmed || busy}
          onClick={() =>
            onDismiss({
              reason: trimmed,
              ...(until
                ? { until: new Date(`${until}T23:59:59Z`).toISOString() }
                : {}),
            })
          }
        >
          Dismiss
        </Button>
      </DialogActions>
    </Dialog>
  );
}
