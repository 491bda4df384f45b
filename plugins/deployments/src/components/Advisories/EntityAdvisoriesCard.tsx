import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { AdvisoriesOverviewCard } from './AdvisoriesOverviewCard';

/**
 * The patch advisories of the current catalog entity's releases, for its
 * overview page (inside an `EntityProvider`).
 * @public
 */
export function EntityAdvisoriesCard() {
  const { entity } = useEntity();
  return <AdvisoriesOverviewCard entityRef={stringifyEntityRef(entity)} />;
}
