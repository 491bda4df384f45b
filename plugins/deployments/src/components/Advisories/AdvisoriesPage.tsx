import { AdvisoriesOverviewCard } from './AdvisoriesOverviewCard';

/** The advisories section of /deployments: every release the user may read. */
export function AdvisoriesPage() {
  return <AdvisoriesOverviewCard title="Patch advisories of all releases" />;
}
