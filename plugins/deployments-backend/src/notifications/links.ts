import { parseEntityRef } from '@backstage/catalog-model';

/** A plan's place in the app: its entity's tab, with the plan selected. */
export interface PlanLocation {
  id: string;
  entityRef: string;
}

/** The tabs of an entity page a notification may send a user to. */
export type PlanTab = 'deployments' | 'dry-run';

/** The plan on its entity's Deployments (or Dry-run) tab, as the frontend links it. */
export function planLink(plan: PlanLocation, tab: PlanTab): string {
  const { kind, namespace, name } = parseEntityRef(plan.entityRef);
  return `/catalog/${encodeURIComponent(
    namespace.toLocaleLowerCase('en-US'),
  )}/${encodeURIComponent(
    kind.toLocaleLowerCase('en-US'),
  )}/${encodeURIComponent(name)}/${tab}?plan=${encodeURIComponent(plan.id)}`;
}

/** The pages of /deployments where platform work is done. */
export type DeploymentsPage = 'keyring' | 'targets' | 'operations';

export function deploymentsPageLink(page: DeploymentsPage): string {
  return `/deployments/${page}`;
}
