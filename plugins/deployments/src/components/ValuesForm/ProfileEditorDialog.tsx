import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  Chart,
  ValuesProfile,
  ValuesViolation,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useCallback, useMemo, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { UnifiedDiff } from '../DryRunTab/UnifiedDiff';
import { errorMessage } from '../shared';
import {
  chartDefaults,
  diffValues,
  initialFormValues,
  maskedValues,
  profileValuesInput,
} from './profileValues';
import { ValuesDraft, ValuesForm } from './ValuesForm';
import { getAtPointer, pointerToProperty } from './values';

/** Props of {@link ProfileEditorDialog}. */
export interface ProfileEditorDialogProps {
  open: boolean;
  chart: Chart;
  /** The profile to edit (saving writes a new revision); a new one when absent. */
  profile?: ValuesProfile;
  onSaved: (profile: ValuesProfile) => void;
  onClose: () => void;
}

/**
 * Creates a values profile for a chart, or edits one (a new revision): name,
 * description, the values form, and the change against the stored revision.
 * The backend validates the values before anything is saved.
 */
export function ProfileEditorDialog(props: ProfileEditorDialogProps) {
  const { open, chart, profile, onSaved, onClose } = props;
  return (
    <Dialog
      open={open}
      onClose={onClose}
      maxWidth="md"
      fullWidth
      aria-labelledby="profile-editor-title"
    >
      {open && (
        <ProfileEditor
          chart={chart}
          profile={profile}
          onSaved={onSaved}
          onClose={onClose}
        />
      )}
    </Dialog>
  );
}

function ProfileEditor(props: Omit<ProfileEditorDialogProps, 'open'>) {
  const { chart, profile, onSaved, onClose } = props;
  const api = useApi(deploymentsApiRef);
  const defaults = useMemo(
    () => chartDefaults(chart.defaultValues),
    [chart.defaultValues],
  );
  const initialValues = useMemo(
    () => initialFormValues(defaults, profile?.values),
    [defaults, profile],
  );
  const [name, setName] = useState(profile?.name ?? '');
  const [description, setDescription] = useState(profile?.description ?? '');
  const [owner, setOwner] = useState(profile?.owner ?? '');
  const [draft, setDraft] = useState<ValuesDraft | undefined>();
  const [view, setView] = useState<'values' | 'changes'>('values');
  const [violations, setViolations] = useState<ValuesViolation[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const storedSecretPaths = profile?.secretPaths ?? [];
  const onChange = useCallback((next: ValuesDraft) => setDraft(next), []);

  // The stored revision, fetched the way any older one is, to diff against.
  const previous = useAsync(async () => {
    if (!profile) return undefined;
    return api.getProfileRevision(profile.id, profile.revision);
  }, [api, profile]);

  const changes = useMemo(() => {
    if (!draft) return '';
    const after = maskedValues(
      profileValuesInput(draft, defaults).values,
      draft.secretPaths,
      storedSecretPaths,
    );
    const before = previous.value
      ? maskedValues(
          previous.value.values,
          previous.value.secretPaths,
          previous.value.secretPaths,
        )
      : {};
    return diffValues(
      before,
      after,
      previous.value ? `revision ${previous.value.revision}` : 'chart defaults',
      profile ? `revision ${profile.revision + 1} (this draft)` : 'new profile',
    );
    // storedSecretPaths derives from profile.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draft, defaults, previous.value, profile]);

  const submitLabel = profile ? 'Save new revision' : 'Create profile';
  const nameProblem = name.trim() === '' ? 'A profile needs a name' : undefined;

  const save = async () => {
    if (!draft || draft.problem || nameProblem) return;
    setBusy(true);
    setError(undefined);
    try {
      const input = profileValuesInput(draft, defaults);
      const { violations: found } = await api.validateChartValues(chart.id, {
        values: input.values,
      });
      // A stored secret sent empty is kept, so "missing" does not apply to it.
      const relevant = found.filter(
        v =>
          !storedSecretPaths.some(
            path =>
              getAtPointer(input.values, path) === undefined &&
              v.message.includes(
                `'${pointerToProperty(path).split('.').pop()}'`,
              ),
          ),
      );
      if (relevant.length > 0) {
        setViolations(relevant);
        setView('values');
        setError(
          'The values do not match the chart schema; fix the fields marked below.',
        );
        return;
      }
      setViolations([]);
      const saved = profile
        ? await api.updateProfile(profile.id, {
            name: name.trim(),
            description: description.trim(),
            // Empty clears the owner.
            owner: owner.trim(),
            ...input,
            expectedRevision: profile.revision,
          })
        : await api.createProfile({
            chartId: chart.id,
            name: name.trim(),
            description: description.trim() || undefined,
            owner: owner.trim() || undefined,
            ...input,
          });
      onSaved(saved);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <DialogTitle id="profile-editor-title">
        {profile
          ? `Edit values profile ${profile.name} (revision ${
              profile.revision
            } → ${profile.revision + 1})`
          : `New values profile for ${chart.name} ${chart.version}`}
      </DialogTitle>
      <DialogContent dividers>
        {error && (
          <Alert severity="error" role="alert" style={{ marginBottom: 8 }}>
            {error}
          </Alert>
        )}
        <Box display="flex" style={{ gap: 16 }}>
          <TextField
            id="deployments-profile-name"
            label="Name"
            value={name}
            onChange={e => setName(e.target.value)}
            required
            error={name !== '' && nameProblem !== undefined}
            inputProps={{ 'data-testid': 'profile-name', maxLength: 100 }}
            style={{ flex: 1 }}
          />
          <TextField
            id="deployments-profile-description"
            label="Description"
            value={description}
            onChange={e => setDescription(e.target.value)}
            inputProps={{ maxLength: 2000 }}
            style={{ flex: 2 }}
          />
          <TextField
            id="deployments-profile-owner"
            label="Owner"
            value={owner}
            onChange={e => setOwner(e.target.value)}
            helperText="Entity ref of the owning group or user, e.g. group:default/team-a; policies decide who may use the profile"
            inputProps={{ 'data-testid': 'profile-owner', maxLength: 255 }}
            style={{ flex: 1 }}
          />
        </Box>
        <Tabs
          value={view}
          onChange={(_, next) => setView(next)}
          indicatorColor="primary"
          style={{ marginTop: 16 }}
        >
          <Tab value="values" label="Values" />
          <Tab
            value="changes"
            label={
              profile
                ? `Changes since revision ${profile.revision}`
                : 'Changes from the chart defaults'
            }
          />
        </Tabs>
        {/* Kept mounted so switching views keeps the edits. */}
        <Box mt={2} style={{ display: view === 'values' ? 'block' : 'none' }}>
          <ValuesForm
            chart={chart}
            initialValues={initialValues}
            initialSecretPaths={profile?.secretPaths}
            storedSecretPaths={storedSecretPaths}
            violations={violations}
            onChange={onChange}
          />
        </Box>
        {view === 'changes' && (
          <Box mt={2} data-testid="profile-changes">
            {previous.loading && <Progress />}
            {previous.error && (
              <Alert severity="warning">
                Could not read revision {profile?.revision}:{' '}
                {errorMessage(previous.error)}
              </Alert>
            )}
            {!previous.loading &&
              (changes ? (
                <UnifiedDiff diff={changes} />
              ) : (
                <Typography variant="body2" color="textSecondary">
                  No changes.
                </Typography>
              ))}
          </Box>
        )}
        {draft?.problem && (
          <Typography
            variant="caption"
            color="error"
            component="p"
            style={{ marginTop: 8 }}
          >
            {draft.problem}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} disabled={busy}>
          Cancel
        </Button>
        <Button
          color="primary"
          variant="contained"
          disabled={
            busy || !draft || draft.problem !== undefined || !!nameProblem
          }
          onClick={save}
        >
          {busy ? 'Saving…' : submitLabel}
        </Button>
      </DialogActions>
    </>
  );
}
