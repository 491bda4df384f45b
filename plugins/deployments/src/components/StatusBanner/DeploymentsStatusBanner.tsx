import { Link, WarningPanel } from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import {
  DeploymentsHealth,
  DeploymentsReleaseAttention,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import { useCallback, useEffect, useRef, useState } from 'react';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { rootRouteRef } from '../../routes';
import {
  errorMessage,
  errorStatus,
  formatTime,
  useDeploymentsChanged,
  usePlanLink,
} from '../shared';

/**
 * Props of {@link DeploymentsStatusBanner}.
 * @public
 */
export interface DeploymentsStatusBannerProps {
  /** Where "unlock the keyring" points; defaults to the deployments page's keyring tab. */
  keyringLink?: string;
  /** Render nothing, instead of a one-line note, when everything is healthy. */
  hideWhenHealthy?: boolean;
  /** How often to refresh the summary; 10 seconds by default. */
  refreshIntervalMs?: number;
}

type BannerState =
  | { kind: 'loading' }
  | { kind: 'loaded'; health: DeploymentsHealth }
  | { kind: 'unavailable' }
  | { kind: 'failed'; message: string };

/**
 * The deployments health at a glance, from `GET /health/summary`, refreshed
 * every 10 seconds: a sealed keyring is an error with a link to unlock it;
 * unreachable targets and failed or pending releases are a warning naming
 * them; when all is well, a small note (or nothing).
 * @public
 */
export function DeploymentsStatusBanner(props: DeploymentsStatusBannerProps) {
  const { hideWhenHealthy = false, refreshIntervalMs = 10_000 } = props;
  const api = useApi(deploymentsApiRef);
  const defaultKeyringLink = useKeyringLink();
  const keyringLink = props.keyringLink ?? defaultKeyringLink;
  const planLink = usePlanLink();
  const [state, setState] = useState<BannerState>({ kind: 'loading' });
  const mounted = useRef(true);

  const load = useCallback(async () => {
    try {
      const health = await api.getHealthSummary();
      if (mounted.current) setState({ kind: 'loaded', health });
    } catch (error) {
      if (!mounted.current) return;
      const status = errorStatus(error);
      // 404: a backend without the summary route; 403: not allowed to read
      // it. Neither is something this user can act on.
      if (status === 404 || status === 403) {
        setState({ kind: 'unavailable' });
      } else {
        setState({ kind: 'failed', message: errorMessage(error) });
      }
    }
  }, [api]);

  useEffect(() => {
    mounted.current = true;
    load();
    const timer = setInterval(load, refreshIntervalMs);
    return () => {
      mounted.current = false;
      clearInterval(timer);
    };
  }, [load, refreshIntervalMs]);
  useDeploymentsChanged(load);

  if (state.kind === 'loading' || state.kind === 'unavailable') return null;
  if (state.kind === 'failed') {
    return (
      <Typography
        variant="caption"
        color="textSecondary"
        component="p"
        data-testid="deployments-status-banner"
      >
        Deployment health could not be checked: {state.message}
      </Typography>
    );
  }

  const { health } = state;
  const unlock = keyringLink ? (
    <Link to={keyringLink}>Open the keyring</Link>
  ) : undefined;

  // Checked first: the summary's status is 'sealed' for any keyring that
  // is not unlocked, a missing one included.
  if (health.keyring === 'uninitialized') {
    return (
      <Box mb={2} data-testid="deployments-status-banner">
        <WarningPanel
          severity="info"
          title="Deployments are not set up yet"
          defaultExpanded
          message={
            <>
              There is no keyring to protect cluster credentials.{' '}
              {unlock && <>{unlock} to bootstrap one.</>}
            </>
          }
        />
      </Box>
    );
  }

  if (health.keyring === 'sealed' || health.status === 'sealed') {
    return (
      <Box mb={2} data-testid="deployments-status-banner">
        <WarningPanel
          severity="error"
          title="The deployments keyring is sealed"
          defaultExpanded
          message={
            <>
              Nothing that needs a cluster credential can run (dry-runs,
              applies, connection tests) until an administrator unlocks the
              keyring. {unlock && <>{unlock} to unlock it.</>}
            </>
          }
        />
      </Box>
    );
  }
  const problems = describeProblems(health, planLink);
  if (problems.length > 0) {
    return (
      <Box mb={2} data-testid="deployments-status-banner">
        <WarningPanel
          severity="warning"
          title={problems.map(p => p.headline).join(', ')}
        >
          <Box display="flex" flexDirection="column">
            {problems.flatMap(p =>
              p.lines.map(line => (
                <Typography key={line.text} variant="body2">
                  {line.href ? (
                    <Link to={line.href} data-testid="banner-plan-link">
                      {line.text}
                    </Link>
                  ) : (
                    line.text
                  )}
                </Typography>
              )),
            )}
          </Box>
        </WarningPanel>
      </Box>
    );
  }

  if (hideWhenHealthy) return null;
  return (
    <Box
      mb={1}
      display="flex"
      alignItems="center"
      data-testid="deployments-status-banner"
    >
      <CheckCircleIcon
        fontSize="small"
        style={{ color: '#2e7d32', marginRight: 4 }}
      />
      <Typography variant="caption" color="textSecondary">
        All deployments healthy
        {health.operations.running > 0 &&
          ` · ${health.operations.running} operation(s) running`}
        {` · checked ${formatTime(health.checkedAt)}`}
      </Typography>
    </Box>
  );
}

function useKeyringLink(): string | undefined {
  // The banner also renders on entity pages, possibly in apps that did not
  // mount the deployments page; then it simply has no link.
  try {
    // eslint-disable-next-line react-hooks/rules-of-hooks
    return `${useRouteRef(rootRouteRef)()}/keyring`;
  } catch {
    return undefined;
  }
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function releaseLine(release: DeploymentsReleaseAttention): string {
  const where = `${release.releaseName} in ${release.target}/${release.namespace}`;
  const why = release.message ? `: ${release.message}` : '';
  return `${where} (${release.status}${why}), since ${formatTime(
    release.since,
  )}`;
}

/** One line of the banner; a release's line links to its plan. */
type ProblemLine = { text: string; href?: string };

function describeProblems(
  health: DeploymentsHealth,
  planLink: (entityRef: string, planId: string) => string | undefined,
) {
  const problems: Array<{ headline: string; lines: ProblemLine[] }> = [];
  const releaseEntry = (
    prefix: string,
    release: DeploymentsReleaseAttention,
  ) => ({
    text: `${prefix}: ${releaseLine(release)}`,
    href: planLink(release.entityRef, release.planId),
  });
  const { unreachable } = health.targets;
  if (unreachable.length > 0) {
    problems.push({
      headline: `${plural(
        unreachable.length,
        'target',
        'targets',
      )} unreachable (${unreachable.map(t => t.name).join(', ')})`,
      lines: unreachable.map(t => ({
        text: `Target ${t.name}: ${t.error} (checked ${formatTime(
          t.checkedAt,
        )})`,
      })),
    });
  }
  const { failed, pending } = health.releases;
  if (failed.length > 0) {
    problems.push({
      headline: `${plural(
        failed.length,
        'release',
        'releases',
      )} failed (${failed.map(r => r.releaseName).join(', ')})`,
      lines: failed.map(r => releaseEntry('Failed', r)),
    });
  }
  if (pending.length > 0) {
    problems.push({
      headline: `${plural(
        pending.length,
        'release',
        'releases',
      )} pending (${pending.map(r => r.releaseName).join(', ')})`,
      lines: pending.map(r => releaseEntry('Pending', r)),
    });
  }
  return problems;
}
