import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';

// The deployment tabs of a Component's page; each loads its code on first use.

/**
 * The Deployments tab: release plans, gates, operations, resources and
 * history. Named for what it holds; the extension keeps its id (`plan`) so
 * app configuration that names it still applies.
 */
export const entityPlanContent = EntityContentBlueprint.make({
  name: 'plan',
  params: {
    path: 'deployments',
    title: 'Deployments',
    filter: 'kind:component',
    loader: () =>
      import('../components/PlanTab/EntityTabs').then(m => (
        <m.EntityPlanContent />
      )),
  },
});

/** The Dry-run tab: rendered manifests, diff and guardrail findings. */
export const entityDryRunContent = EntityContentBlueprint.make({
  name: 'dry-run',
  params: {
    path: 'dry-run',
    title: 'Dry-run',
    filter: 'kind:component',
    loader: () =>
      import('../components/PlanTab/EntityTabs').then(m => (
        <m.EntityDryRunContent />
      )),
  },
});

/** The Logs tab: container logs of a plan's release. */
export const entityLogsContent = EntityContentBlueprint.make({
  name: 'logs',
  params: {
    path: 'logs',
    title: 'Logs',
    filter: 'kind:component',
    loader: () =>
      import('../components/PlanTab/EntityTabs').then(m => (
        <m.EntityLogsContent />
      )),
  },
});

/** An overview card: patch advisories of the entity's deployed releases. */
export const entityAdvisoriesCard = EntityCardBlueprint.make({
  name: 'advisories',
  params: {
    filter: 'kind:component',
    loader: () =>
      import('../components/Advisories').then(m => <m.EntityAdvisoriesCard />),
  },
});

/** An Overview card: each release plan by target with sync, health, last apply and pending approvals. */
export const entityDeploymentsCard = EntityCardBlueprint.make({
  name: 'deployments',
  params: {
    filter: { kind: 'component' },
    loader: () =>
      import('../components/DeploymentsCard').then(m => (
        <m.EntityDeploymentsCard />
      )),
  },
});
