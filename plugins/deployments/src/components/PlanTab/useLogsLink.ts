import { useLocation } from 'react-router-dom';

/**
 * Links to the entity's Logs tab (a sibling of the current tab) for one
 * container: `…/logs?plan=&pod=&container=`.
 */
export function useLogsLink(): (
  planId: string,
  pod: string,
  container?: string,
) => string {
  const { pathname } = useLocation();
  const base = pathname.replace(/\/[^/]*\/?$/, '');
  return (planId, pod, container) => {
    const query = new URLSearchParams({ plan: planId, pod });
    if (container) query.set('container', container);
    return `${base}/logs?${query}`;
  };
}
