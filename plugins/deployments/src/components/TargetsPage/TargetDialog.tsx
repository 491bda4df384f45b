import {
  Target,
  TargetAuthKind,
  TargetCredentialsInput,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormLabel from '@material-ui/core/FormLabel';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { FormEvent, useEffect, useState } from 'react';
import {
  CreateTargetRequest,
  UpdateTargetRequest,
} from '../../api/DeploymentsApi';
import { errorMessage, parseList } from '../shared';
import {
  ChangeControlFields,
  ChangeControlForm,
  changeControlForm,
  changeControlProblem,
  changeControlSettings,
} from './ChangeControlFields';

const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const AUTH_KIND_HELP: Record<TargetAuthKind, string> = {
  kubeconfig:
    'Paste a kubeconfig with exactly one cluster, user and context. It is data only: exec plugins, auth providers, file paths and insecure TLS are refused. The API server and CA come from it.',
  token:
    "A bearer token (for example a ServiceAccount's), with the API server URL and the CA bundle that verifies it.",
  inCluster:
    "The backend's own ServiceAccount, read from its pod at operation time; nothing is stored.",
};

interface FormState {
  name: string;
  displayName: string;
  description: string;
  owner: string;
  authKind: TargetAuthKind;
  kubeconfig: string;
  token: string;
  apiServerUrl: string;
  caData: string;
  allowedNamespaces: string;
  allowedClusterScopedKinds: string;
  allowObjectsInOtherAllowedNamespaces: boolean;
  impersonateUser: string;
  impersonateGroups: string;
  allowInsecureTls: boolean;
}

function initialState(target?: Target): FormState {
  return {
    name: target?.name ?? '',
    displayName: target?.displayName ?? '',
    description: target?.description ?? '',
    owner: target?.owner ?? '',
    authKind: target?.authKind ?? 'token',
    kubeconfig: '',
    token: '',
    apiServerUrl: target?.apiServerUrl ?? '',
    caData: target?.caData ?? '',
    allowedNamespaces: target?.allowedNamespaces.join(', ') ?? '',
    allowedClusterScopedKinds:
      target?.allowedClusterScopedKinds.join(', ') ?? '',
    allowObjectsInOtherAllowedNamespaces:
      target?.allowObjectsInOtherAllowedNamespaces ?? false,
    impersonateUser: target?.impersonate?.user ?? '',
    impersonateGroups: target?.impersonate?.groups?.join(', ') ?? '',
    allowInsecureTls: target?.allowInsecureTls ?? false,
  };
}

/** The credential input of an auth kind, from the form's fields. */
export function credentialsFrom(form: {
  authKind: TargetAuthKind;
  kubeconfig: string;
  token: string;
}): TargetCredentialsInput {
  switch (form.authKind) {
    case 'kubeconfig':
      return { authKind: 'kubeconfig', kubeconfig: form.kubeconfig };
    case 'token':
      return { authKind: 'token', token: form.token.trim() };
    default:
      return { authKind: 'inCluster' };
  }
}

/** The fields of one auth kind's credentials. Secrets are never prefilled. */
export function CredentialFields(props: {
  authKind: TargetAuthKind;
  kubeconfig: string;
  token: string;
  onChange: (change: Partial<FormState>) => void;
  disabled?: boolean;
}) {
  const { authKind, kubeconfig, token, onChange, disabled } = props;
  return (
    <>
      <Box mt={2}>
        <FormLabel component="legend">Authentication</FormLabel>
        <RadioGroup
          row
          value={authKind}
          onChange={e =>
            onChange({ authKind: e.target.value as TargetAuthKind })
          }
        >
          <FormControlLabel
            value="kubeconfig"
            control={<Radio disabled={disabled} />}
            label="Kubeconfig"
          />
          <FormControlLabel
            value="token"
            control={<Radio disabled={disabled} />}
            label="Token"
          />
          <FormControlLabel
            value="inCluster"
            control={<Radio disabled={disabled} />}
            label="In-cluster ServiceAccount"
          />
        </RadioGroup>
        <Typography variant="caption" color="textSecondary">
          {AUTH_KIND_HELP[authKind]}
        </Typography>
      </Box>
      {authKind === 'kubeconfig' && (
        <TextField
          id="deployments-kubeconfig"
          label="Kubeconfig"
          value={kubeconfig}
          onChange={e => onChange({ kubeconfig: e.target.value })}
          multiline
          minRows={6}
          maxRows={16}
          fullWidth
          margin="normal"
          required
          disabled={disabled}
          inputProps={{
            spellCheck: false,
            style: { fontFamily: 'monospace', fontSize: 12 },
            'data-testid': 'kubeconfig',
          }}
        />
      )}
      {authKind === 'token' && (
        <TextField
          id="deployments-bearer-token"
          label="Bearer token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={e => onChange({ token: e.target.value })}
          fullWidth
          margin="normal"
          required
          disabled={disabled}
          inputProps={{ 'data-testid': 'token' }}
        />
      )}
    </>
  );
}

/** Props of {@link TargetDialog}. */
export interface TargetDialogProps {
  open: boolean;
  /** The target to edit; registering a new one when absent. */
  target?: Target;
  onCreate: (request: CreateTargetRequest) => Promise<void>;
  onUpdate: (name: string, request: UpdateTargetRequest) => Promise<void>;
  onClose: () => void;
}

/** Registers a target, or edits its settings and allowlist. */
export function TargetDialog(props: TargetDialogProps) {
  const { open, target } = props;
  const editing = target !== undefined;
  const [form, setForm] = useState<FormState>(() => initialState(target));
  const [controls, setControls] = useState<ChangeControlForm>(() =>
    changeControlForm(target),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (open) {
      setForm(initialState(target));
      setControls(changeControlForm(target));
      setError(undefined);
    }
  }, [open, target]);

  const change = (patch: Partial<FormState>) =>
    setForm(current => ({ ...current, ...patch }));
  const changeControls = (patch: Partial<ChangeControlForm>) =>
    setControls(current => ({ ...current, ...patch }));
  const controlsProblem = changeControlProblem(controls);

  const nameProblem =
    !editing && form.name && !NAME_PATTERN.test(form.name)
      ? 'Lower-case letters, digits and dashes; starts and ends with a letter or digit'
      : undefined;
  // Only token targets carry their own server and CA; a kubeconfig brings
  // them, and an in-cluster target uses the pod's.
  const showServer = form.authKind === 'token';
  // Where the credential goes and as whom: changing it needs the credential again.
  const connectionChanged =
    editing &&
    ((showServer &&
      (form.apiServerUrl.trim() !== target!.apiServerUrl ||
        form.caData.trim() !== (target!.caData ?? '').trim())) ||
      form.allowInsecureTls !== target!.allowInsecureTls ||
      form.impersonateUser.trim() !== (target!.impersonate?.user ?? '') ||
      parseList(form.impersonateGroups).join(',') !==
        (target!.impersonate?.groups ?? []).join(','));
  const needsCredentials = !editing || connectionChanged;
  const missing =
    (!editing && !form.name) ||
    (needsCredentials &&
      form.authKind === 'kubeconfig' &&
      !form.kubeconfig.trim()) ||
    (needsCredentials && form.authKind === 'token' && !form.token.trim()) ||
    (showServer && !form.apiServerUrl.trim());

  const settings = () => {
    const user = form.impersonateUser.trim();
    const groups = parseList(form.impersonateGroups);
    return {
      displayName:
        form.displayName.trim() || (editing ? target!.name : form.name),
      description: form.description.trim(),
      owner: form.owner.trim(),
      ...(showServer
        ? { apiServerUrl: form.apiServerUrl.trim(), caData: form.caData.trim() }
        : {}),
      allowedNamespaces: parseList(form.allowedNamespaces),
      allowedClusterScopedKinds: parseList(form.allowedClusterScopedKinds),
      allowObjectsInOtherAllowedNamespaces:
        form.allowObjectsInOtherAllowedNamespaces,
      ...(user || groups.length || target?.impersonate
        ? { impersonate: { user: user || undefined, groups } }
        : {}),
      allowInsecureTls: form.allowInsecureTls,
      ...changeControlSettings(controls, target),
    };
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (missing || nameProblem || busy) return;
    if (controlsProblem) {
      setError(controlsProblem);
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      if (editing) {
        await props.onUpdate(target!.name, {
          ...settings(),
          expectedRevision: target!.revision,
          ...(connectionChanged && { credentials: credentialsFrom(form) }),
        });
      } else {
        await props.onCreate({
          name: form.name,
          credentials: credentialsFrom(form),
          ...settings(),
        });
      }
      props.onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  let submitLabel = editing ? 'Save' : 'Register';
  if (busy) submitLabel = 'Saving…';

  return (
    <Dialog
      open={open}
      onClose={busy ? undefined : props.onClose}
      maxWidth="md"
      fullWidth
    >
      <form onSubmit={submit}>
        <DialogTitle>
          {editing ? `Edit target ${target!.name}` : 'Register a target'}
        </DialogTitle>
        <DialogContent>
          {target?.warnings?.map(warning => (
            <Alert key={warning} severity="warning">
              {warning}
            </Alert>
          ))}
          {!editing && (
            <TextField
              id="deployments-name"
              label="Name"
              value={form.name}
              onChange={e => change({ name: e.target.value })}
              error={!!nameProblem}
              helperText={
                nameProblem ??
                'Permanent; used in release plans, e.g. prod-eu-1'
              }
              fullWidth
              margin="normal"
              required
              inputProps={{ 'data-testid': 'target-name' }}
            />
          )}
          <TextField
            id="deployments-display-name"
            label="Display name"
            value={form.displayName}
            onChange={e => change({ displayName: e.target.value })}
            fullWidth
            margin="normal"
          />
          <TextField
            id="deployments-description"
            label="Description"
            value={form.description}
            onChange={e => change({ description: e.target.value })}
            fullWidth
            margin="normal"
          />
          <TextField
            id="deployments-owner"
            label="Owner"
            value={form.owner}
            onChange={e => change({ owner: e.target.value })}
            helperText="Entity ref of the owning group or user, e.g. group:default/platform"
            fullWidth
            margin="normal"
          />
          {editing && connectionChanged && (
            <Alert severity="info">
              Changing the API server, CA, insecure TLS or impersonation changes
              where the credential is sent or as whom: enter the credential
              again.
            </Alert>
          )}
          {needsCredentials && (
            <CredentialFields
              authKind={form.authKind}
              kubeconfig={form.kubeconfig}
              token={form.token}
              onChange={change}
            />
          )}
          {showServer && (
            <>
              <TextField
                id="deployments-api-server-url"
                label="API server URL"
                value={form.apiServerUrl}
                onChange={e => change({ apiServerUrl: e.target.value })}
                placeholder="https://cluster.example.com:6443"
                fullWidth
                margin="normal"
                required
                inputProps={{ 'data-testid': 'api-server-url' }}
              />
              <TextField
                id="deployments-ca-bundle-pem"
                label="CA bundle (PEM)"
                value={form.caData}
                onChange={e => change({ caData: e.target.value })}
                placeholder="-----BEGIN CERTIFICATE-----"
                helperText="Verifies the API server; required unless insecure TLS is allowed"
                multiline
                minRows={3}
                maxRows={10}
                fullWidth
                margin="normal"
                inputProps={{
                  spellCheck: false,
                  style: { fontFamily: 'monospace', fontSize: 12 },
                  'data-testid': 'ca-data',
                }}
              />
            </>
          )}
          <TextField
            id="deployments-allowed-namespaces"
            label="Allowed namespaces"
            value={form.allowedNamespaces}
            onChange={e => change({ allowedNamespaces: e.target.value })}
            helperText="Exact names or globs like team-*, separated by commas. Empty allows nothing. Enforced on every rendered manifest."
            fullWidth
            margin="normal"
            inputProps={{ 'data-testid': 'allowed-namespaces' }}
          />
          <TextField
            id="deployments-allowed-cluster-scoped-kinds"
            label="Allowed cluster-scoped kinds"
            value={form.allowedClusterScopedKinds}
            onChange={e =>
              change({ allowedClusterScopedKinds: e.target.value })
            }
            helperText="Kind for core kinds (Namespace, Node, PersistentVolume), group/Kind for the others, e.g. rbac.authorization.k8s.io/ClusterRole. Empty allows none."
            fullWidth
            margin="normal"
            inputProps={{ 'data-testid': 'allowed-cluster-scoped-kinds' }}
          />
          <FormControlLabel
            control={
              <Checkbox
                checked={form.allowObjectsInOtherAllowedNamespaces}
                onChange={e =>
                  change({
                    allowObjectsInOtherAllowedNamespaces: e.target.checked,
                  })
                }
              />
            }
            label="Allow objects in other allowed namespaces (a chart may put, e.g., a Role into kube-system when the allowlist allows it; dry-runs list each such object)"
          />
          <Box display="flex" style={{ gap: 16 }}>
            <TextField
              id="deployments-impersonate-user"
              label="Impersonate user"
              value={form.impersonateUser}
              onChange={e => change({ impersonateUser: e.target.value })}
              margin="normal"
              style={{ flex: 1 }}
            />
            <TextField
              id="deployments-impersonate-groups"
              label="Impersonate groups"
              value={form.impersonateGroups}
              onChange={e => change({ impersonateGroups: e.target.value })}
              margin="normal"
              style={{ flex: 1 }}
            />
          </Box>
          <FormControlLabel
            control={
              <Checkbox
                checked={form.allowInsecureTls}
                onChange={e => change({ allowInsecureTls: e.target.checked })}
              />
            }
            label="Allow insecure TLS (skip verifying the API server; development clusters only)"
          />
          <ChangeControlFields
            form={controls}
            onChange={changeControls}
            disabled={busy}
          />
        </DialogContent>
        {/* Outside the scrolling content: visible wherever the user scrolled to. */}
        {error && (
          <Box px={3} pt={1}>
            <Alert severity="error" role="alert">
              {error}
            </Alert>
          </Box>
        )}
        <DialogActions>
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={busy || missing || !!nameProblem}
          >
            {submitLabel}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
