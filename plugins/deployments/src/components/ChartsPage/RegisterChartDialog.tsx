import { Chart } from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { FormEvent, useEffect, useState } from 'react';
import { errorMessage } from '../shared';

/** Props of {@link RegisterChartDialog}. */
export interface RegisterChartDialogProps {
  open: boolean;
  listVersions: (reference: string) => Promise<{ versions: string[] }>;
  onRegister: (request: {
    reference: string;
    version: string;
  }) => Promise<{ chart: Chart; created: boolean }>;
  onClose: () => void;
}

/** Registers an OCI chart version, pinned by digest from then on. */
export function RegisterChartDialog(props: RegisterChartDialogProps) {
  const { open, listVersions } = props;
  const [reference, setReference] = useState('');
  const [version, setVersion] = useState('');
  const [versions, setVersions] = useState<string[] | undefined>();
  const [listing, setListing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (open) {
      setReference('');
      setVersion('');
      setVersions(undefined);
      setError(undefined);
    }
  }, [open]);

  const referenceProblem =
    reference && !reference.startsWith('oci://')
      ? 'Use an OCI reference: oci://host[:port]/path/name'
      : undefined;

  const list = async () => {
    setListing(true);
    setError(undefined);
    setVersions(undefined);
    try {
      const result = await listVersions(reference.trim());
      // Newest-looking first: registries list tags in no useful order.
      setVersions(
        [...result.versions].sort((a, b) =>
          b.localeCompare(a, undefined, { numeric: true }),
        ),
      );
    } catch (e) {
      setError(`Could not list versions: ${errorMessage(e)}`);
    } finally {
      setListing(false);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!reference || !version || referenceProblem || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.onRegister({
        reference: reference.trim(),
        version: version.trim(),
      });
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
        <DialogTitle>Register a chart version</DialogTitle>
        <DialogContent>
          <Typography variant="body2">
            The chart is downloaded once, its digest verified and recorded;
            every later Helm run uses exactly these bytes. A registered version
            never changes.
          </Typography>
          {error && (
            <Alert severity="error" role="alert" style={{ marginTop: 8 }}>
              {error}
            </Alert>
          )}
          <TextField
            id="deployments-oci-reference"
            label="OCI reference"
            placeholder="oci://registry.example.com/charts/hello"
            value={reference}
            onChange={e => {
              setReference(e.target.value);
              setVersions(undefined);
            }}
            error={!!referenceProblem}
            helperText={referenceProblem ?? 'Without tag or digest'}
            fullWidth
            margin="normal"
            required
            inputProps={{ 'data-testid': 'chart-reference' }}
          />
          <Box display="flex" alignItems="center" style={{ gap: 8 }}>
            <TextField
              id="deployments-version"
              label="Version"
              placeholder="0.1.0"
              value={version}
              onChange={e => setVersion(e.target.value)}
              margin="normal"
              required
              style={{ flex: 1 }}
              inputProps={{ 'data-testid': 'chart-version' }}
            />
            <Button
              variant="outlined"
              onClick={list}
              disabled={!reference || !!referenceProblem || listing}
            >
              {listing ? 'Listing…' : 'List versions'}
            </Button>
          </Box>
          {versions && versions.length === 0 && (
            <Typography variant="body2" color="textSecondary">
              The repository has no tags.
            </Typography>
          )}
          {versions && versions.length > 0 && (
            <Box display="flex" flexWrap="wrap" style={{ gap: 4 }}>
              {versions.slice(0, 50).map(v => (
                <Chip
                  key={v}
                  label={v}
                  size="small"
                  clickable
                  color={v === version ? 'primary' : 'default'}
                  onClick={() => setVersion(v)}
                />
              ))}
            </Box>
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
            disabled={busy || !reference || !version || !!referenceProblem}
          >
            {busy ? 'Registering…' : 'Register'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
