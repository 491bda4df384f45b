/**
 * Backstage backend plugin that deploys Helm charts to Kubernetes through
 * audited release plans.
 *
 * @packageDocumentation
 */

export { deploymentsPlugin as default } from './plugin';
export {
  planConditions,
  createPlanConditionalDecision,
  planPermissionRules,
} from './permissions/planPermissionRules';
export {
  targetConditions,
  createTargetConditionalDecision,
} from './permissions/targetPermissionRules';
export type { StoredPlan, PlanFilter } from './plans/DatabasePlanStore';
export type { StoredTarget, TargetFilter } from './targets/DatabaseTargetStore';
