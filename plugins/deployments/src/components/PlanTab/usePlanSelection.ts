import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import { useSearchParams } from 'react-router-dom';

/**
 * The plan chosen on an entity tab, kept in the URL (`?plan=<id>`) so the
 * Plan, Dry-run and Logs tabs open on the same plan and a link can name one.
 * Defaults to the first plan.
 */
export function usePlanSelection(
  plans: ReleasePlan[] | undefined,
): [ReleasePlan | undefined, (planId: string) => void] {
  const [params, setParams] = useSearchParams();
  const wanted = params.get('plan') ?? undefined;
  const selected =
    plans?.find(plan => plan.id === wanted) ?? plans?.[0] ?? undefined;
  const select = (planId: string) => {
    const next = new URLSearchParams(params);
    next.set('plan', planId);
    setParams(next, { replace: true });
  };
  return [selected, select];
}
