import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { ReactNode, useState } from 'react';

/** Props of {@link ConfirmDialog}. */
export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** When set, the user must type this word to confirm. */
  confirmationText?: string;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}

/** Asks before an action that cannot be undone. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const { open, title, children, confirmLabel, confirmationText, busy } = props;
  const [typed, setTyped] = useState('');
  const confirmed = !confirmationText || typed === confirmationText;
  const close = () => {
    setTyped('');
    props.onClose();
  };
  return (
    <Dialog open={open} onClose={close} maxWidth="sm" fullWidth>
      <DialogTitle>{title}</DialogTitle>
      <DialogContent>
        {children}
        {confirmationText && (
          <>
            <Typography variant="body2" style={{ marginTop: 16 }}>
              Type <strong>{confirmationText}</strong> to confirm.
            </Typography>
            <TextField
              id="deployments-confirmation"
              label="Confirmation"
              value={typed}
              onChange={e => setTyped(e.target.value)}
              fullWidth
              margin="dense"
            />
          </>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={close}>Cancel</Button>
        <Button
          color="secondary"
          variant="contained"
          disabled={!confirmed || busy}
          onClick={() => {
            setTyped('');
            props.onConfirm();
          }}
        >
          {confirmLabel}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
