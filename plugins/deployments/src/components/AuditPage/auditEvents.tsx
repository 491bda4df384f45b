import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { DeploymentsAuditEntry } from '../../api/DeploymentsApi';

const EVENT_LABELS: Record<string, string> = {
  'keyring-bootstrap': 'Keyring created',
  'keyring-unlock': 'Keyring unlocked',
  'keyring-seal': 'Keyring sealed',
  'keyring-self-test': 'Keyring self-test',
  'keyring-backup-export': 'Keyring backup exported',
  'keyring-backup-verify': 'Keyring backup verified',
  'keyring-restore': 'Keyring restored',
  'keyring-rotate': 'Keyring key rotated',
  'target-create': 'Target created',
  'target-update': 'Target changed',
  'target-credentials-replace': 'Target credentials replaced',
  'target-delete': 'Target deleted',
  'target-test-connection': 'Target connection tested',
  'chart-register': 'Chart registered',
  'chart-delete': 'Chart deleted',
  'registry-credentials-put': 'Registry credentials set',
  'registry-credentials-delete': 'Registry credentials removed',
  'profile-create': 'Values profile created',
  'profile-update': 'Values profile changed',
  'profile-delete': 'Values profile deleted',
  'plan-create': 'Plan created',
  'plan-update': 'Plan edited',
  'plan-delete': 'Plan deleted',
  'plan-dry-run': 'Dry-run started',
  'plan-preflight': 'Preflight started',
  'plan-apply': 'Apply started',
  'plan-rollback': 'Rollback started',
  'plan-uninstall': 'Uninstall started',
  'plan-dry-run-finished': 'Dry-run finished',
  'plan-preflight-finished': 'Preflight finished',
  'plan-apply-finished': 'Apply finished',
  'plan-rollback-finished': 'Rollback finished',
  'plan-uninstall-finished': 'Uninstall finished',
  'plan-logs': 'Logs read',
  'operation-cancel': 'Operation cancelled',
};

/** An audit event id in words ("plan-apply" → "Apply started"). */
export function describeAuditEvent(eventId: string): string {
  const known = EVENT_LABELS[eventId];
  if (known) return known;
  const words = eventId.replace(/-/g, ' ');
  return words.charAt(0).toLocaleUpperCase('en-US') + words.slice(1);
}

/**
 * What an entry is about, by name where the entry says it: plans and
 * operations are recorded by id, with the release name in their details.
 */
export function auditSubject(entry: DeploymentsAuditEntry): string {
  const releaseName = entry.meta?.releaseName;
  if (typeof releaseName === 'string' && releaseName) return releaseName;
  return entry.subject ?? '—';
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.map(formatValue).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, inner]) => `${key}: ${formatValue(inner)}`)
      .join('; ');
  }
  return String(value);
}

// Ids and hashes are long single words; shown shortened, whole on hover.
const LONG_WORD = 24;

function shorten(text: string): string {
  return text.length > LONG_WORD && !/\s/.test(text)
    ? `${text.slice(0, 16)}…`
    : text;
}

/** An entry's message, and its recorded details as rows on demand. */
export function AuditDetails(props: { entry: DeploymentsAuditEntry }) {
  const { entry } = props;
  const [open, setOpen] = useState(false);
  const details = Object.entries(entry.meta ?? {});
  return (
    <Box>
      {entry.message && (
        <Typography variant="body2">{entry.message}</Typography>
      )}
      {details.length > 0 && (
        <Button
          size="small"
          onClick={() => setOpen(!open)}
          aria-expanded={open}
          style={{ padding: 0, minWidth: 0, textTransform: 'none' }}
        >
          {open ? 'Hide details' : `Details (${details.length})`}
        </Button>
      )}
      {open && (
        <Box
          component="dl"
          m={0}
          display="grid"
          style={{ gridTemplateColumns: 'max-content 1fr', columnGap: 12 }}
          data-testid="audit-details"
        >
          {details.map(([key, value]) => {
            const text = formatValue(value);
            return (
              <Box key={key} display="contents">
                <Typography
                  component="dt"
                  variant="caption"
                  color="textSecondary"
                >
                  {key}
                </Typography>
                <Typography
                  component="dd"
                  variant="caption"
                  title={text}
                  style={{ margin: 0, wordBreak: 'break-word' }}
                >
                  {shorten(text)}
                </Typography>
              </Box>
            );
          })}
        </Box>
      )}
    </Box>
  );
}
