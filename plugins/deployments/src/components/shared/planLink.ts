import { parseEntityRef } from '@backstage/catalog-model';
import { useRouteRef } from '@backstage/core-plugin-api';
import { entityRouteRef } from '@backstage/plugin-catalog-react';

/**
 * Links to a plan on its component's Deployments tab
 * (`/catalog/<namespace>/<kind>/<name>/deployments?plan=<id>`), or undefined
 * in an app without the catalog's entity page.
 */
export function usePlanLink(): (
  entityRef: string | undefined,
  planId: string,
) => string | undefined {
  let entityRoute:
    | ((params: { kind: string; namespace: string; name: string }) => string)
    | undefined;
  try {
    // eslint-disable-next-line react-hooks/rules-of-hooks
    entityRoute = useRouteRef(entityRouteRef);
  } catch {
    entityRoute = undefined;
  }
  return (entityRef, planId) => {
    if (!entityRoute || !entityRef) return undefined;
    try {
      const { kind, namespace, name } = parseEntityRef(entityRef);
      return `${entityRoute({
        kind: kind.toLocaleLowerCase('en-US'),
        namespace: namespace.toLocaleLowerCase('en-US'),
        name,
      })}/deployments?plan=${encodeURIComponent(planId)}`;
    } catch {
      return undefined;
    }
  };
}
