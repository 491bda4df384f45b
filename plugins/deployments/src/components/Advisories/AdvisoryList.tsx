import { CopyTextButton } from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  Advisory,
  AdvisoryRemedy,
  AdvisoryWithRelease,
  deploymentsAdvisoryDismissPermission,
  deploymentsPlanUpdatePermission,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Link from '@material-ui/core/Link';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import {
  errorMessage,
  formatTime,
  PermissionButton,
  usePlanLink,
} from '../shared';
import { DismissAdvisoryDialog } from './DismissAdvisoryDialog';

const KIND_LABELS: Record<Advisory['kind'], string> = {
  patch: 'Patch',
  minor: 'Minor',
  major: 'Major',
  digest: 'Tag moved',
  unknown: 'Unknown',
};

function KindChip(props: { advisory: Advisory }) {
  const { kind } = props.advisory;
  return (
    <Chip
      size="small"
      label={KIND_LABELS[kind]}
      color={kind === 'patch' || kind === 'digest' ? 'secondary' : 'default'}
      variant={kind === 'unknown' ? 'outlined' : 'default'}
    />
  );
}

function CodeBlock(props: { text: string; copyLabel: string }) {
  return (
    <Box display="flex" alignItems="flex-start">
      <Box
        component="pre"
        m={0}
        p={1}
        flex={1}
        bgcolor="action.hover"
        style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 12 }}
      >
        {props.text}
      </Box>
      <CopyTextButton text={props.text} tooltipText={props.copyLabel} />
    </Box>
  );
}

/** The exact way to act; a chart version becomes a plan revision on click. */
function Remedy(props: {
  advisory: Advisory;
  remedy: AdvisoryRemedy | undefined;
  onRevised: (plan: ReleasePlan) => void;
}) {
  const { advisory, remedy, onRevised } = props;
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const [busy, setBusy] = useState(false);
  if (!remedy) {
    return (
      <Typography variant="body2" color="textSecondary">
        {advisory.detail ?? 'Nothing to compare with.'}
      </Typography>
    );
  }
  if (remedy.type === 'chart-version') {
    return (
      <PermissionButton
        permission={deploymentsPlanUpdatePermission}
        resourceRef={advisory.planId}
        size="small"
        variant="outlined"
        color="primary"
        busy={busy}
        disabledReason={
          advisory.state === 'resolved' ? 'Already resolved' : undefined
        }
        onClick={async () => {
          setBusy(true);
          try {
            const plan = await api.createAdvisoryPlanRevision(
              advisory.planId,
              advisory.id,
            );
            alertApi.post({
              message: `Plan revision ${plan.revision} uses ${plan.chart.name} ${plan.chart.version}: run its dry-run, preflight and apply`,
              severity: 'success',
              display: 'transient',
            });
            onRevised(plan);
          } catch (error) {
            alertApi.post({ message: errorMessage(error), severity: 'error' });
          } finally {
            setBusy(false);
          }
        }}
      >
        Create plan revision with {remedy.version}
      </PermissionButton>
    );
  }
  if (remedy.type === 'values') {
    return (
      <>
        <Typography variant="body2">
          Set <code>{remedy.valuesPath}</code> to <code>{remedy.to}</code> in
          the plan's values:
        </Typography>
        <CodeBlock text={remedy.valuesYaml} copyLabel="Values copied" />
      </>
    );
  }
  return (
    <>
      {advisory.detail && (
        <Typography variant="body2">{advisory.detail}</Typography>
      )}
      <Typography variant="caption" color="textSecondary">
        The chart's values do not expose it; the equivalent command, for copying
        (the portal never runs it, and the next apply of the plan puts the
        chart's image back):
      </Typography>
      <CodeBlock text={remedy.command} copyLabel="Command copied" />
    </>
  );
}

function StateCell(props: {
  advisory: Advisory;
  onDismiss: (advisory: Advisory) => void;
}) {
  const { advisory, onDismiss } = props;
  if (advisory.state === 'resolved') {
    return (
      <Typography variant="body2" color="textSecondary">
        Resolved {formatTime(advisory.resolvedAt!)}: {advisory.resolvedReason}
      </Typography>
    );
  }
  if (advisory.state === 'dismissed') {
    return (
      <Typography variant="body2" color="textSecondary">
        Dismissed by {advisory.dismissedBy}: {advisory.dismissReason}
        {advisory.dismissedUntil
          ? ` (until ${formatTime(advisory.dismissedUntil)})`
          : ''}
      </Typography>
    );
  }
  return (
    <>
      <Typography variant="caption" color="textSecondary" component="p">
        First seen {formatTime(advisory.firstSeenAt)}
      </Typography>
      <PermissionButton
        permission={deploymentsAdvisoryDismissPermission}
        resourceRef={advisory.planId}
        size="small"
        onClick={() => onDismiss(advisory)}
      >
        Dismiss
      </PermissionButton>
    </>
  );
}

/** Props of {@link AdvisoryList}. */
export interface AdvisoryListProps {
  advisories: Array<Advisory | AdvisoryWithRelease>;
  /** Shows which release each advisory belongs to, linked to its plan. */
  showRelease?: boolean;
  /** After a dismissal or a new plan revision. */
  onChanged: () => void;
  onRevised?: (plan: ReleasePlan) => void;
}

/**
 * Advisories with what runs, what is available and the exact way to act:
 * a plan revision for a chart version, the values change for an image where
 * the chart exposes it, else the kubectl command for copying.
 */
export function AdvisoryList(props: AdvisoryListProps) {
  const { advisories, showRelease, onChanged, onRevised } = props;
  const api = useApi(deploymentsApiRef);
  const planLink = usePlanLink();
  const [dismissing, setDismissing] = useState<Advisory>();
  const [busy, setBusy] = useState(false);
  const [dismissError, setDismissError] = useState<string>();

  return (
    <>
      <Table size="small" aria-label="Patch advisories">
        <TableHead>
          <TableRow>
            {showRelease && <TableCell>Release</TableCell>}
            <TableCell>What</TableCell>
            <TableCell>Runs</TableCell>
            <TableCell>Available</TableCell>
            <TableCell>How to act</TableCell>
            <TableCell>State</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {advisories.map(advisory => {
            const release =
              'release' in advisory ? advisory.release : undefined;
            const link = release
              ? planLink(release.entityRef, advisory.planId)
              : undefined;
            return (
              <TableRow key={advisory.id} data-testid="advisory-row">
                {showRelease && (
                  <TableCell>
                    {link ? (
                      <Link href={link}>{release?.releaseName}</Link>
                    ) : (
                      release?.releaseName
                    )}
                    <Typography
                      variant="caption"
                      color="textSecondary"
                      component="p"
                    >
                      {release?.target}/{release?.namespace}
                    </Typography>
                  </TableCell>
                )}
                <TableCell>
                  <Typography variant="body2">
                    {advisory.subjectKind === 'chart'
                      ? 'Chart'
                      : `${advisory.container}${
                          advisory.initContainer ? ' (init)' : ''
                        }`}
                  </Typography>
                  <Typography variant="caption" color="textSecondary">
                    {advisory.subjectKind === 'chart'
                      ? advisory.source
                      : advisory.workload}
                  </Typography>
                </TableCell>
                <TableCell style={{ wordBreak: 'break-all' }}>
                  {advisory.running}
                </TableCell>
                <TableCell>
                  <KindChip advisory={advisory} />{' '}
                  {advisory.available && <strong>{advisory.available}</strong>}
                </TableCell>
                <TableCell style={{ maxWidth: 480 }}>
                  <Remedy
                    advisory={advisory}
                    remedy={advisory.remedy}
                    onRevised={plan => {
                      onChanged();
                      onRevised?.(plan);
                    }}
                  />
                </TableCell>
                <TableCell>
                  <StateCell advisory={advisory} onDismiss={setDismissing} />
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
      {dismissing && (
        <DismissAdvisoryDialog
          advisory={dismissing}
          busy={busy}
          error={dismissError}
          onCancel={() => {
            setDismissing(undefined);
            setDismissError(undefined);
          }}
          onDismiss={async input => {
            setBusy(true);
            setDismissError(undefined);
            try {
              await api.dismissPlanAdvisory(
                dismissing.planId,
                dismissing.id,
                input,
              );
              setDismissing(undefined);
              onChanged();
            } catch (error) {
              setDismissError(errorMessage(error));
            } finally {
              setBusy(false);
            }
          }}
        />
      )}
    </>
  );
}
