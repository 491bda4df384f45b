import {
  ChangeWindowSettings,
  NamespaceOwnership,
  Target,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import IconButton from '@material-ui/core/IconButton';
import Switch from '@material-ui/core/Switch';
import TextField from '@material-ui/core/TextField';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import AddIcon from '@material-ui/icons/Add';
import DeleteIcon from '@material-ui/icons/Delete';
import { ReactNode } from 'react';
import { parseList } from '../shared';

/** One namespace-owners row as typed: owners as a comma-separated list. */
export interface NamespaceOwnerRow {
  namespace: string;
  owners: string;
}

/** One change-window row as typed. */
export interface WindowRow {
  cron: string;
  durationMinutes: string;
}

/** One freeze row as typed (ISO 8601 instants). */
export interface FreezeRow {
  start: string;
  end: string;
  reason: string;
}

/** The change-control part of the target form. */
export interface ChangeControlForm {
  production: boolean;
  requireApproval: boolean;
  namespaceOwners: NamespaceOwnerRow[];
  /** Whether changes are limited to windows (absent: at any time). */
  useChangeWindows: boolean;
  timeZone: string;
  windows: WindowRow[];
  freezes: FreezeRow[];
}

function browserTimeZone(): string {
  try {
    return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The form's change-control fields for a target (or a new one). */
export function changeControlForm(target?: Target): ChangeControlForm {
  const windows = target?.changeWindows;
  return {
    production: target?.production ?? false,
    requireApproval: target?.requireApproval ?? false,
    namespaceOwners: (target?.namespaceOwners ?? []).map(entry => ({
      namespace: entry.namespace,
      owners: entry.owners.join(', '),
    })),
    useChangeWindows: windows !== undefined,
    timeZone: windows?.timeZone ?? browserTimeZone(),
    windows: (windows?.windows ?? []).map(window => ({
      cron: window.cron,
      durationMinutes: String(window.durationMinutes),
    })),
    freezes: (windows?.freezes ?? []).map(freeze => ({ ...freeze })),
  };
}

const isBlank = (...values: string[]) => values.every(value => !value.trim());

/**
 * The request fields of the change-control form. Rows left entirely empty
 * are dropped; anything else goes to the backend, which says what is wrong.
 * Windows switched off: `null` when the target had some (removes them),
 * nothing otherwise.
 */
export function changeControlSettings(
  form: ChangeControlForm,
  target?: Target,
): {
  production: boolean;
  requireApproval: boolean;
  namespaceOwners: NamespaceOwnership[];
  changeWindows?: ChangeWindowSettings | null;
} {
  const namespaceOwners = form.namespaceOwners
    .filter(row => !isBlank(row.namespace, row.owners))
    .map(row => ({
      namespace: row.namespace.trim(),
      owners: parseList(row.owners),
    }));
  let changeWindows: ChangeWindowSettings | null | undefined;
  if (form.useChangeWindows) {
    changeWindows = {
      timeZone: form.timeZone.trim(),
      windows: form.windows
        .filter(row => !isBlank(row.cron, row.durationMinutes))
        .map(row => ({
          cron: row.cron.trim().replace(/\s+/g, ' '),
          durationMinutes: Number(row.durationMinutes),
        })),
      freezes: form.freezes
        .filter(row => !isBlank(row.start, row.end, row.reason))
        .map(row => ({
          start: row.start.trim(),
          end: row.end.trim(),
          reason: row.reason.trim(),
        })),
    };
  } else if (target?.changeWindows) {
    changeWindows = null;
  }
  return {
    production: form.production,
    requireApproval: form.requireApproval,
    namespaceOwners,
    ...(changeWindows !== undefined ? { changeWindows } : {}),
  };
}

/** What is obviously wrong with the form before sending it, or undefined. */
export function changeControlProblem(
  form: ChangeControlForm,
): string | undefined {
  if (form.useChangeWindows && !form.timeZone.trim()) {
    return 'Change windows need a time zone';
  }
  for (const row of form.windows) {
    if (isBlank(row.cron, row.durationMinutes)) continue;
    if (row.cron.trim().split(/\s+/).length !== 5) {
      return `Window "${row.cron.trim()}": a cron expression has 5 fields (minute hour day-of-month month day-of-week)`;
    }
    const minutes = Number(row.durationMinutes);
    if (!Number.isInteger(minutes) || minutes < 1) {
      return `Window "${row.cron.trim()}": the duration is a whole number of minutes`;
    }
  }
  for (const row of form.freezes) {
    if (isBlank(row.start, row.end, row.reason)) continue;
    if (
      Number.isNaN(Date.parse(row.start)) ||
      Number.isNaN(Date.parse(row.end))
    ) {
      return 'A freeze needs a start and an end as ISO 8601 instants, e.g. 2026-12-24T00:00:00Z';
    }
  }
  return undefined;
}

function RowRemoveButton(props: { label: string; onClick: () => void }) {
  return (
    <Tooltip title={props.label}>
      <IconButton aria-label={props.label} size="small" onClick={props.onClick}>
        <DeleteIcon fontSize="small" />
      </IconButton>
    </Tooltip>
  );
}

function Section(props: {
  title: string;
  description: ReactNode;
  children: ReactNode;
}) {
  return (
    <Box mt={2}>
      <Typography variant="subtitle2">{props.title}</Typography>
      <Typography variant="caption" color="textSecondary" component="p">
        {props.description}
      </Typography>
      {props.children}
    </Box>
  );
}

function replaceAt<T>(rows: T[], index: number, patch: Partial<T>): T[] {
  return rows.map((row, i) => (i === index ? { ...row, ...patch } : row));
}

/** Props of {@link ChangeControlFields}. */
export interface ChangeControlFieldsProps {
  form: ChangeControlForm;
  onChange: (patch: Partial<ChangeControlForm>) => void;
  disabled?: boolean;
}

/**
 * Who may change what on a target, and when: production marker, four-eyes
 * approval, namespace owners and change windows with freezes.
 */
export function ChangeControlFields(props: ChangeControlFieldsProps) {
  const { form, onChange, disabled } = props;
  return (
    <Box mt={3} data-testid="change-control-fields">
      <Typography variant="h6">Change control</Typography>
      <Box display="flex" flexWrap="wrap" style={{ columnGap: 24 }}>
        <FormControlLabel
          control={
            <Switch
              checked={form.production}
              onChange={e => onChange({ production: e.target.checked })}
              disabled={disabled}
              color="primary"
            />
          }
          label="Production"
        />
        <FormControlLabel
          control={
            <Switch
              checked={form.requireApproval}
              onChange={e => onChange({ requireApproval: e.target.checked })}
              disabled={disabled}
              color="primary"
            />
          }
          label="Require approval"
        />
      </Box>
      <Typography variant="caption" color="textSecondary" component="p">
        Production marks the cluster for permission policies and the plan pages.
        With approval required, every apply, rollback and uninstall needs
        another user to approve it first.
      </Typography>

      <Section
        title="Namespace owners"
        description="Which groups or users own which namespaces (exact names or globs like team-a-*), for permission policies. The first matching row decides."
      >
        {form.namespaceOwners.map((row, index) => (
          <Box
            key={index}
            display="flex"
            alignItems="center"
            style={{ gap: 8 }}
            data-testid="namespace-owner-row"
          >
            <TextField
              label="Namespace"
              value={row.namespace}
              onChange={e =>
                onChange({
                  namespaceOwners: replaceAt(form.namespaceOwners, index, {
                    namespace: e.target.value,
                  }),
                })
              }
              placeholder="team-a-*"
              helperText="A name or a glob"
              margin="dense"
              disabled={disabled}
              style={{ flex: 1 }}
              inputProps={{ 'data-testid': 'namespace-owner-namespace' }}
            />
            <TextField
              label="Owners"
              value={row.owners}
              onChange={e =>
                onChange({
                  namespaceOwners: replaceAt(form.namespaceOwners, index, {
                    owners: e.target.value,
                  }),
                })
              }
              placeholder="group:default/team-a"
              helperText="Entity refs, separated by commas"
              margin="dense"
              disabled={disabled}
              style={{ flex: 2 }}
              inputProps={{ 'data-testid': 'namespace-owner-owners' }}
            />
            <RowRemoveButton
              label={`Remove the owners of ${row.namespace || 'this row'}`}
              onClick={() =>
                onChange({
                  namespaceOwners: form.namespaceOwners.filter(
                    (_, i) => i !== index,
                  ),
                })
              }
            />
          </Box>
        ))}
        <Button
          size="small"
          startIcon={<AddIcon />}
          disabled={disabled}
          onClick={() =>
            onChange({
              namespaceOwners: [
                ...form.namespaceOwners,
                { namespace: '', owners: '' },
              ],
            })
          }
        >
          Add namespace owners
        </Button>
      </Section>

      <Section
        title="Change windows"
        description="Limit apply, rollback and uninstall to windows and keep them out of freezes. Outside a window only an emergency override (with a reason, audited) changes anything."
      >
        <FormControlLabel
          control={
            <Switch
              checked={form.useChangeWindows}
              onChange={e => onChange({ useChangeWindows: e.target.checked })}
              disabled={disabled}
              color="primary"
            />
          }
          label="Limit changes to change windows"
        />
        {form.useChangeWindows && (
          <>
            <TextField
              label="Time zone"
              value={form.timeZone}
              onChange={e => onChange({ timeZone: e.target.value })}
              helperText="IANA time zone the cron expressions are read in, e.g. Europe/Berlin or UTC"
              margin="dense"
              fullWidth
              required
              disabled={disabled}
              inputProps={{ 'data-testid': 'change-window-time-zone' }}
            />
            <Typography variant="body2" style={{ marginTop: 8 }}>
              Windows
            </Typography>
            {form.windows.length === 0 && (
              <Typography variant="caption" color="textSecondary" component="p">
                No windows: changes may happen at any time outside freezes.
              </Typography>
            )}
            {form.windows.map((row, index) => (
              <Box
                key={index}
                display="flex"
                alignItems="center"
                style={{ gap: 8 }}
                data-testid="change-window-row"
              >
                <TextField
                  label="Opens (cron)"
                  value={row.cron}
                  onChange={e =>
                    onChange({
                      windows: replaceAt(form.windows, index, {
                        cron: e.target.value,
                      }),
                    })
                  }
                  placeholder="0 9 * * 1-4"
                  helperText="minute hour day-of-month month day-of-week"
                  margin="dense"
                  disabled={disabled}
                  style={{ flex: 2 }}
                  inputProps={{
                    'data-testid': 'change-window-cron',
                    style: { fontFamily: 'monospace' },
                  }}
                />
                <TextField
                  label="Open for (minutes)"
                  type="number"
                  value={row.durationMinutes}
                  onChange={e =>
                    onChange({
                      windows: replaceAt(form.windows, index, {
                        durationMinutes: e.target.value,
                      }),
                    })
                  }
                  helperText="1 to 10080 (a week)"
                  margin="dense"
                  disabled={disabled}
                  style={{ flex: 1 }}
                  inputProps={{
                    min: 1,
                    max: 10080,
                    'data-testid': 'change-window-duration',
                  }}
                />
                <RowRemoveButton
                  label={`Remove the window ${row.cron || ''}`.trim()}
                  onClick={() =>
                    onChange({
                      windows: form.windows.filter((_, i) => i !== index),
                    })
                  }
                />
              </Box>
            ))}
            <Button
              size="small"
              startIcon={<AddIcon />}
              disabled={disabled}
              onClick={() =>
                onChange({
                  windows: [
                    ...form.windows,
                    { cron: '', durationMinutes: '240' },
                  ],
                })
              }
            >
              Add window
            </Button>
            <Typography variant="body2" style={{ marginTop: 8 }}>
              Freezes
            </Typography>
            {form.freezes.map((row, index) => (
              <Box
                key={index}
                display="flex"
                alignItems="center"
                style={{ gap: 8 }}
                data-testid="freeze-row"
              >
                <TextField
                  label="Start"
                  value={row.start}
                  onChange={e =>
                    onChange({
                      freezes: replaceAt(form.freezes, index, {
                        start: e.target.value,
                      }),
                    })
                  }
                  placeholder="2026-12-22T00:00:00Z"
                  helperText="ISO 8601 instant"
                  margin="dense"
                  disabled={disabled}
                  style={{ flex: 3 }}
                  inputProps={{ 'data-testid': 'freeze-start' }}
                />
                <TextField
                  label="End"
                  value={row.end}
                  onChange={e =>
                    onChange({
                      freezes: replaceAt(form.freezes, index, {
                        end: e.target.value,
                      }),
                    })
                  }
                  placeholder="2027-01-02T00:00:00Z"
                  helperText="ISO 8601 instant, exclusive"
                  margin="dense"
                  disabled={disabled}
                  style={{ flex: 3 }}
                  inputProps={{ 'data-testid': 'freeze-end' }}
                />
                <TextField
                  label="Reason"
                  value={row.reason}
                  onChange={e =>
                    onChange({
                      freezes: replaceAt(form.freezes, index, {
                        reason: e.target.value,
                      }),
                    })
                  }
                  placeholder="Year-end freeze"
                  helperText="Shown while the freeze lasts"
                  margin="dense"
                  disabled={disabled}
                  style={{ flex: 4 }}
                  inputProps={{ 'data-testid': 'freeze-reason' }}
                />
                <RowRemoveButton
                  label={`Remove the freeze ${row.reason || ''}`.trim()}
                  onClick={() =>
                    onChange({
                      freezes: form.freezes.filter((_, i) => i !== index),
                    })
                  }
                />
              </Box>
            ))}
            <Button
              size="small"
              startIcon={<AddIcon />}
              disabled={disabled}
              onClick={() =>
                onChange({
                  freezes: [
                    ...form.freezes,
                    { start: '', end: '', reason: '' },
                  ],
                })
              }
            >
              Add freeze
            </Button>
          </>
        )}
      </Section>
    </Box>
  );
}
