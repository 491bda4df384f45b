import { identityApiRef, useApi } from '@backstage/core-plugin-api';
import {
  ApprovalRequest,
  ChangeWindowStatus,
  ReleasePlan,
  Target,
} from '@kubedeploy/plugin-deployments-common';
import { useCallback, useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';

/** How many approval requests the plan page shows (newest first). */
export const APPROVALS_SHOWN = 20;

/** A load's outcome, as the change-control views need it. */
export interface Loaded<T> {
  value?: T;
  loading: boolean;
  error?: Error;
}

/** What the plan page knows about a plan's change control. */
export interface ChangeControlState {
  /** The plan's target: production marker, whether approval is required. */
  target: Loaded<Target>;
  /** Whether the target accepts changes now. */
  window: Loaded<ChangeWindowStatus>;
  approvals: Loaded<{ items: ApprovalRequest[]; totalCount: number }>;
  /** The signed-in user's entity ref. */
  userEntityRef?: string;
  /** Reads the window and the approvals again. */
  reload: () => void;
}

// Re-read the window when it opens or closes, but not more often than this
// and not for a change further away than a day (the page is reloaded by then).
const MIN_REFRESH_MS = 5_000;
const MAX_REFRESH_MS = 24 * 60 * 60 * 1000;

/** The target, change window and approvals of a plan, kept current. */
export function useChangeControl(plan: ReleasePlan): ChangeControlState {
  const api = useApi(deploymentsApiRef);
  const identityApi = useApi(identityApiRef);
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion(v => v + 1), []);

  const target = useAsync(
    () => api.getTarget(plan.target),
    [api, plan.target, version],
  );
  // The plan's revision and status are dependencies: an edit voids
  // approvals and an operation uses one.
  const window = useAsync(
    () => api.getPlanChangeWindow(plan.id),
    [api, plan.id, plan.revision, plan.status, version],
  );
  const approvals = useAsync(
    () => api.listPlanApprovals(plan.id, { limit: APPROVALS_SHOWN }),
    [api, plan.id, plan.revision, plan.status, version],
  );
  const identity = useAsync(
    () => identityApi.getBackstageIdentity(),
    [identityApi],
  );

  const changesAt = window.value?.open
    ? window.value.closesAt
    : window.value?.nextOpenAt;
  useEffect(() => {
    if (!changesAt) return undefined;
    const delay = Date.parse(changesAt) - Date.now();
    if (Number.isNaN(delay) || delay > MAX_REFRESH_MS) return undefined;
    const timer = setTimeout(reload, Math.max(delay + 1000, MIN_REFRESH_MS));
    return () => clearTimeout(timer);
  }, [changesAt, reload]);

  return {
    target,
    window,
    approvals,
    userEntityRef: identity.value?.userEntityRef,
    reload,
  };
}
