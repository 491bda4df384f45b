import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import { ReactNode } from 'react';
import { DryRunTab } from '../DryRunTab';
import { LogsTab } from '../LogsTab';
import { DeploymentsStatusBanner } from '../StatusBanner';
import { PlanTab } from './PlanTab';

function EntityTab(props: { children: ReactNode }) {
  return (
    <Box>
      <DeploymentsStatusBanner />
      {props.children}
    </Box>
  );
}

/**
 * The Plan tab of the current catalog entity (inside an `EntityProvider`).
 * @public
 */
export function EntityPlanContent() {
  const { entity } = useEntity();
  return (
    <EntityTab>
      <PlanTab entityRef={stringifyEntityRef(entity)} />
    </EntityTab>
  );
}

/**
 * The Dry-run tab of the current catalog entity.
 * @public
 */
export function EntityDryRunContent() {
  const { entity } = useEntity();
  return (
    <EntityTab>
      <DryRunTab entityRef={stringifyEntityRef(entity)} />
    </EntityTab>
  );
}

/**
 * The Logs tab of the current catalog entity.
 * @public
 */
export function EntityLogsContent() {
  const { entity } = useEntity();
  return (
    <EntityTab>
      <LogsTab entityRef={stringifyEntityRef(entity)} />
    </EntityTab>
  );
}
