import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import { useEffect } from 'react';
import { useSearchParams } from 'react-router-dom';

const STORAGE_PREFIX = 'deployments:selected-plan:';

function lastChange(plan: ReleasePlan): number {
  return Math.max(
    Date.parse(plan.statusChangedAt) || 0,
    Date.parse(plan.updatedAt) || 0,
  );
}

/**
 * The plan a user most likely came for: one with an operation running, else
 * the one changed (edited, run or applied) most recently.
 */
export function mostRelevantPlan(
  plans: ReleasePlan[],
): ReleasePlan | undefined {
  const running = plans.find(plan => plan.runningOperationId);
  if (running) return running;
  return [...plans].sort((a, b) => lastChange(b) - lastChange(a))[0];
}

function remembered(entityRef: string | undefined): string | undefined {
  if (!entityRef) return undefined;
  try {
    return (
      window.sessionStorage.getItem(STORAGE_PREFIX + entityRef) ?? undefined
    );
  } catch {
    return undefined;
  }
}

function remember(entityRef: string | undefined, planId: string) {
  if (!entityRef) return;
  try {
    window.sessionStorage.setItem(STORAGE_PREFIX + entityRef, planId);
  } catch {
    // Storage may be unavailable (private windows); the URL still holds it.
  }
}

/**
 * The plan chosen on an entity tab, kept in the URL (`?plan=<id>`) so a link
 * names it. The entity page's tab links drop the query, so the choice is
 * also remembered for the browser tab's session: the Plan, Dry-run and Logs
 * tabs open on the same plan and put it back in the URL. Without either,
 * the most relevant plan ({@link mostRelevantPlan}).
 */
export function usePlanSelection(
  plans: ReleasePlan[] | undefined,
): [ReleasePlan | undefined, (planId: string) => void] {
  const [params, setParams] = useSearchParams();
  const wanted = params.get('plan') ?? undefined;
  const entityRef = plans?.[0]?.entityRef;
  const fromUrl = plans?.find(plan => plan.id === wanted);
  const fromSession = plans?.find(plan => plan.id === remembered(entityRef));
  const selected =
    fromUrl ?? fromSession ?? (plans ? mostRelevantPlan(plans) : undefined);

  // The selection shows in the URL, so the address can be shared. A plan
  // the URL names but the list lacks may be one just created, before the
  // list reloads: the URL keeps it rather than falling back.
  const selectedId = selected?.id;
  useEffect(() => {
    if (!selectedId || (wanted && wanted !== selectedId)) return;
    remember(entityRef, selectedId);
    if (!wanted) {
      setParams(
        current => {
          const next = new URLSearchParams(current);
          next.set('plan', selectedId);
          return next;
        },
        { replace: true },
      );
    }
  }, [selectedId, wanted, entityRef, setParams]);

  const select = (planId: string) => {
    remember(entityRef, planId);
    const next = new URLSearchParams(params);
    next.set('plan', planId);
    setParams(next, { replace: true });
  };
  return [selected, select];
}
