import { useLocation } from 'react-router-dom';

/** The deployment tabs of an entity page, by the path they are mounted at. */
export type DeploymentsEntityTab = 'deployments' | 'dry-run' | 'logs';

const TABS: DeploymentsEntityTab[] = ['deployments', 'dry-run', 'logs'];

/**
 * The link to a sibling deployment tab of the entity page, on `planId`. The
 * tabs are mounted side by side (`…/deployments`, `…/dry-run`, `…/logs`), so
 * the link swaps the last path segment; from elsewhere (the Overview) it
 * appends the tab.
 */
export function entityTabHref(
  pathname: string,
  tab: DeploymentsEntityTab,
  planId?: string,
): string {
  const trimmed = pathname.replace(/\/+$/, '');
  const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  const base = (TABS as string[]).includes(last)
    ? trimmed.slice(0, trimmed.lastIndexOf('/'))
    : trimmed;
  const query = planId ? `?plan=${encodeURIComponent(planId)}` : '';
  return `${base}/${tab}${query}`;
}

/** {@link entityTabHref} from the current location. */
export function useEntityTabHref(): (
  tab: DeploymentsEntityTab,
  planId?: string,
) => string {
  const { pathname } = useLocation();
  return (tab, planId) => entityTabHref(pathname, tab, planId);
}
