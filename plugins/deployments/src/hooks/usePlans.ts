import { useApi } from '@backstage/core-plugin-api';
import { useSignal } from '@backstage/plugin-signals-react';
import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import { useCallback, useEffect, useRef, useState } from 'react';
import { deploymentsApiRef } from '../api/DeploymentsApi';
import { useDeploymentsChanged } from '../components/shared';
import { OPERATIONS_CHANNEL, OperationSignal } from './useOperationProgress';

/** What {@link usePlans} reports. */
export interface PlansState {
  plans?: ReleasePlan[];
  loading: boolean;
  error?: Error;
  /** Reloads at once (after a mutation). */
  reload: () => void;
}

const BUSY_POLL_MS = 5000;

function isBusy(plan: ReleasePlan): boolean {
  return plan.status === 'applying' || plan.runningOperationId !== undefined;
}

/**
 * The release plans of one catalog entity, kept current: reloaded when an
 * operation of one of them signals a change, and polled while one is busy.
 */
export function usePlans(entityRef: string): PlansState {
  const api = useApi(deploymentsApiRef);
  const { lastSignal } = useSignal<OperationSignal>(OPERATIONS_CHANNEL);
  const [state, setState] = useState<Omit<PlansState, 'reload'>>({
    loading: true,
  });
  const generation = useRef(0);

  const load = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const page = await api.listPlans({ entityRef, limit: 200 });
      if (mine === generation.current) {
        setState({ plans: page.items, loading: false });
      }
    } catch (error) {
      if (mine === generation.current) {
        setState(previous => ({
          ...previous,
          loading: false,
          error: error as Error,
        }));
      }
    }
  }, [api, entityRef]);

  useEffect(() => {
    const current = generation;
    setState({ loading: true });
    load();
    // Answers still in flight for the previous entity are dropped.
    return () => {
      current.current++;
    };
  }, [load]);
  useDeploymentsChanged(load);

  const busy = state.plans?.some(isBusy) ?? false;
  useEffect(() => {
    if (!busy) return undefined;
    const timer = setInterval(load, BUSY_POLL_MS);
    return () => clearInterval(timer);
  }, [busy, load]);

  const planIds = state.plans?.map(p => p.id).join(',') ?? '';
  useEffect(() => {
    if (lastSignal && planIds.split(',').includes(lastSignal.planId)) load();
    // Only a new signal should reload, not a new list.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastSignal]);

  return { ...state, reload: load };
}
